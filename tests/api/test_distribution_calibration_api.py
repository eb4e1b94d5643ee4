"""A user's calibration in the API carries the calibration of their distributions: the PIT
histogram, the coverage of the 50% and 80% central intervals, and both per quarter, for the
forecaster and the crowd; described in the schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from forecasts.lifecycle import question_resolve
from forecasts.services import forecast_submit
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
NOW = T0 + 20 * DAY  # 2026-07-02
UNIFORM = [j / 200 for j in range(201)]


@pytest.fixture(autouse=True)
def _now() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def _numeric_forecast(user: Any, value: float) -> None:
    """``user`` forecast uniform on [0, 100]; the question resolved to ``value`` (its PIT)."""
    question = QuestionFactory(
        kind="numeric",
        range_min=0.0,
        range_max=100.0,
        closes_at=T0 + 10 * DAY,
        resolves_at=T0 + 10 * DAY,
    )
    forecast_submit(user=user, question_id=question.pk, cdf=UNIFORM, now=T0)
    question_resolve(question_id=question.pk, resolution="value", value=value, resolved_by=None)


def _distributions(username: str, **params: str) -> dict[str, Any]:
    response = APIClient().get(f"/api/v1/users/{username}/calibration/", params)
    assert response.status_code == 200
    return response.json()["distributions"]


def test_the_histogram_and_coverage_of_the_forecaster_and_the_crowd() -> None:
    ada = UserFactory(username="ada")
    for value in (5.0, 20.0, 50.0, 55.0):
        _numeric_forecast(ada, value)

    mine = _distributions("ada")["forecaster"]

    assert mine["n"] == 4
    assert mine["histogram"] == {
        "bins": 10,
        "counts": [1, 0, 1, 0, 0, 2, 0, 0, 0, 0],
        "n": 4,
        "expected": 0.4,
    }
    assert [(c["level"], c["inside"], c["n"], c["share"]) for c in mine["coverage"]] == [
        (0.5, 2, 4, 0.5),
        (0.8, 3, 4, 0.75),
    ]
    assert all(c["ci_low"] < c["share"] < c["ci_high"] for c in mine["coverage"])
    assert _distributions("ada")["crowd"]["histogram"]["counts"] == mine["histogram"]["counts"]


def test_windows_are_quarters_with_their_own_histogram_and_coverage() -> None:
    ada = UserFactory(username="ada")
    _numeric_forecast(ada, 50.0)

    (window,) = _distributions("ada")["forecaster"]["windows"]

    assert (window["label"], window["n"], window["enough_data"]) == ("2026 Q3", 1, False)
    assert window["start"] == "2026-07-01T00:00:00Z" and window["end"] == "2026-10-01T00:00:00Z"
    assert window["histogram"]["counts"][5] == 1
    assert [c["inside"] for c in window["coverage"]] == [1, 1]


def test_a_forecaster_without_distributions_gets_empty_ones_whatever_the_kinds() -> None:
    UserFactory(username="bob")

    empty = _distributions("bob", kinds="binary")

    assert empty["forecaster"]["n"] == empty["crowd"]["n"] == 0
    assert empty["forecaster"]["windows"] == []
    assert [c["share"] for c in empty["forecaster"]["coverage"]] == [None, None]


def test_the_schema_describes_the_distributions() -> None:
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()

    components = schema["components"]["schemas"]
    distributions = components["Calibration"]["properties"]["distributions"]
    assert "PIT" in distributions["description"]
    assert set(components["DistributionCalibration"]["properties"]) == {
        "n",
        "histogram",
        "coverage",
        "windows",
    }
    assert "ci_low" in components["IntervalCoverage"]["properties"]
