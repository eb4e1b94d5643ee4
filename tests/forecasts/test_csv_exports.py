"""The web's CSV downloads (the numbers beside each chart): no cell runs as a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from forecasts.lifecycle import question_resolve
from forecasts.services import forecast_submit
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache():
    cache.clear()
    yield
    cache.clear()


def _rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_a_users_score_csv_keeps_negative_scores_as_plain_numbers() -> None:
    user = UserFactory(username="ada")
    question = QuestionFactory(closes_at=T0 + dt.timedelta(days=5))
    question.resolves_at = question.closes_at
    question.save()
    forecast_submit(user=user, question_id=question.pk, probability=0.2, now=T0)
    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None)

    response = Client().get(
        reverse("forecasts:user_chart", args=["ada", "scores", "csv"]), {"score": "baseline"}
    )

    [row] = _rows(response)
    assert row["score"].startswith("-")
    assert float(row["score"]) == pytest.approx(100 * (-2.321928 + 1), abs=1e-4)


def test_a_users_calibration_csv_quotes_a_name_that_reads_as_a_formula() -> None:
    user = UserFactory(username="-1+1")
    question = QuestionFactory(closes_at=T0 + dt.timedelta(days=5))
    question.resolves_at = question.closes_at
    question.save()
    forecast_submit(user=user, question_id=question.pk, probability=0.2, now=T0)
    question_resolve(question_id=question.pk, resolution="no", resolved_by=None)

    response = Client().get(reverse("forecasts:user_chart", args=["-1+1", "calibration", "csv"]))

    series = {row["series"] for row in _rows(response)}
    assert "'-1+1" in series and "-1+1" not in series
