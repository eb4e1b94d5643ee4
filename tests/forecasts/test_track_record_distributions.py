"""The track record's section on distributions: coverage of the 50% and 80% central intervals
for the forecaster and the crowd, the PIT histogram and coverage charts, or a short note when
there are no resolved numeric or date forecasts."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from forecasts.lifecycle import question_resolve
from forecasts.services import forecast_submit
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
NOW = T0 + 400 * DAY
UNIFORM = [j / 200 for j in range(201)]
NO_DISTRIBUTIONS = "No resolved numeric or date questions with forecasts yet."


@pytest.fixture(autouse=True)
def _now() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def _numeric_forecast(user: Any, value: float, *, resolves_in: int = 100) -> None:
    """``user`` forecast uniform on [0, 100]; the question resolved to ``value``."""
    question = QuestionFactory(
        kind="numeric",
        range_min=0.0,
        range_max=100.0,
        closes_at=T0 + 100 * DAY,
        resolves_at=T0 + resolves_in * DAY,
    )
    forecast_submit(user=user, question_id=question.pk, cdf=UNIFORM, now=T0)
    question_resolve(
        question_id=question.pk,
        resolution="value",
        value=value,
        resolved_by=None,
        effective_at=T0 + 100 * DAY,
    )


def _section(username: str) -> str:
    response = Client().get(reverse("forecasts:track_record", args=[username]))
    assert response.status_code == 200
    return response.text.split('id="distributions"', 1)[1]


def test_the_coverage_table_counts_outcomes_inside_each_interval() -> None:
    ada = UserFactory(username="ada")
    for value in (5.0, 20.0, 50.0):  # outside both, inside 80 % only, inside both
        _numeric_forecast(ada, value)

    section = _section("ada")

    mine = re.findall(r'data-level="([\d.]+)" data-inside="(\d+)" data-n="(\d+)"', section)
    crowd = re.findall(r'data-crowd-inside="(\d+)"', section)
    assert mine == [("0.5", "1", "3"), ("0.8", "2", "3")]
    assert crowd == ["1", "2"]
    assert "3 numeric or date questions resolved" in section
    assert "33%" in section and "67%" in section


def test_both_charts_and_their_tables_are_linked() -> None:
    ada = UserFactory(username="ada")
    _numeric_forecast(ada, 50.0)

    section = _section("ada")

    charts = re.findall(r'data-chart="([\w-]+)"', section)
    assert charts == ["pit-histogram", "interval-coverage"]
    for name in charts:
        for fmt in ("png", "svg", "csv"):
            assert f"/charts/users/ada/{name}.{fmt}" in section


def test_without_resolved_distributions_the_section_says_so() -> None:
    ada = UserFactory(username="ada")
    _numeric_forecast(ada, 50.0, resolves_in=500)  # resolved, but not due until after NOW
    binary = QuestionFactory(closes_at=T0 + DAY, resolves_at=T0 + DAY)
    forecast_submit(user=ada, question_id=binary.pk, probability=0.6, now=T0)
    question_resolve(question_id=binary.pk, resolution="yes", resolved_by=None)

    section = _section("ada")

    assert NO_DISTRIBUTIONS in section
    assert "data-chart" not in section and "data-coverage" not in section
