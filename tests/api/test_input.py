"""Bad input over HTTP: 4xx with the field named, one error shape, and nothing written."""

from __future__ import annotations

import datetime as dt

import pytest

from forecasts.models import Forecast, Question
from tests.api.conftest import World
from tests.factories import T0, QuestionFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def _snapshot() -> list[tuple]:
    return list(Forecast.objects.order_by("pk").values_list("pk", "probability", "ends_at"))


@pytest.mark.parametrize(
    "probability", [0, 1, -0.1, 1.5, "NaN", "nan", "Infinity", "abc", "", None, True, [0.5], {}]
)
def test_bad_probabilities_are_refused_naming_the_field(world: World, api, probability) -> None:
    before = _snapshot()

    response = api("user", world).post(
        "/forecasts/", {"question": world.open_question.pk, "probability": probability}
    )

    body = response.json()
    assert response.status_code == 400
    assert "probability" in body["errors"] and "probability" in body["message"]
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"probability": 0.5}, "question"),
        ({"question": "first", "probability": 0.5}, "question"),
        ({"question": 10**9, "probability": 0.5}, "question"),
        ({"question": None, "probability": 0.5}, "question"),
        ({"question": 1, "probability": 0.5, "user": 2}, "user"),
        ({"question": 1, "probability": 0.5, "rationale": ["a"]}, "rationale"),
    ],
)
def test_wrong_types_missing_and_unknown_fields_are_named(
    world: World, api, payload: dict, field: str
) -> None:
    before = _snapshot()

    response = api("user", world).post("/forecasts/", payload)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert _snapshot() == before


def test_a_literal_nan_is_not_json_and_is_refused(world: World, api) -> None:
    body = f'{{"question": {world.open_question.pk}, "probability": NaN}}'

    response = api("user", world).post(
        "/forecasts/", data=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert set(response.json()) == {"message", "errors"}
    assert Forecast.objects.count() == 3


def test_a_forecast_on_a_closed_question_is_refused(world: World, api) -> None:
    closed = QuestionFactory(opens_at=T0, closes_at=T0 + dt.timedelta(days=1))
    before = _snapshot()

    response = api("user", world).post("/forecasts/", {"question": closed.pk, "probability": 0.5})

    assert response.status_code == 400
    assert "does not accept forecasts" in response.json()["errors"]["question"][0]
    assert _snapshot() == before


def test_a_huge_body_is_refused_with_413(world: World, api) -> None:
    before = _snapshot()
    payload = {"question": world.open_question.pk, "probability": 0.5, "rationale": "x" * 400_000}

    response = api("user", world).post("/forecasts/", payload)

    assert response.status_code == 413
    assert response.json()["message"] == "The request body is too large."
    assert _snapshot() == before


def test_a_body_that_is_not_an_object_is_refused(world: World, api) -> None:
    response = api("user", world).post("/forecasts/", [1, 2, 3])

    assert response.status_code == 400
    assert set(response.json()) == {"message", "errors"}


def test_bad_query_parameters_are_named(world: World, api) -> None:
    client = api(None, world)

    status = client.get("/questions/", params={"status": "sideways"})
    date = client.get("/scores/", params={"resolved_after": "yesterday"})
    unknown = client.get("/leaderboard/", params={"scoretype": "brier"})

    assert (status.status_code, date.status_code, unknown.status_code) == (400, 400, 400)
    assert "status" in status.json()["errors"]
    assert "resolved_after" in date.json()["errors"]
    assert "scoretype" in unknown.json()["errors"]


def test_a_resolution_with_a_bad_outcome_or_time_writes_nothing(world: World, api) -> None:
    staff = api("staff", world)
    path = f"/questions/{world.open_question.pk}/resolve/"

    outcome = staff.post(path, {"resolution": "maybe"})
    future = staff.post(path, {"resolution": "yes", "effective_at": "2999-01-01T00:00:00Z"})

    assert "resolution" in outcome.json()["errors"]
    assert "effective_at" in future.json()["errors"]
    assert Question.objects.get(pk=world.open_question.pk).resolution == ""


def test_times_are_iso_8601_with_a_zone(world: World, api) -> None:
    question = api(None, world).get(f"/questions/{world.open_question.pk}/").json()

    assert question["opens_at"] == "2026-06-12T12:00:00Z"
    assert dt.datetime.fromisoformat(question["closes_at"]).tzinfo is not None
