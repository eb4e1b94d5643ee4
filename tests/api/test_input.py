"""Bad input over HTTP: 4xx with the field named, one error shape, and nothing written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from forecasts.models import ApiToken, Forecast, Question
from markets.models import Market, Trade
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


def _nested(depth: int) -> str:
    return '{"question": ' + "[" * depth + "]" * depth + "}"


WRITES: list[tuple[str, str, Callable[[World], str]]] = [
    ("submit a forecast", "user", lambda w: "/forecasts/"),
    ("withdraw", "user", lambda w: "/forecasts/withdraw/"),
    ("create a token", "user", lambda w: "/tokens/"),
    ("resolve", "staff", lambda w: f"/questions/{w.open_question.pk}/resolve/"),
    ("unresolve", "staff", lambda w: f"/questions/{w.resolved_question.pk}/unresolve/"),
    ("open a market", "staff", lambda w: "/markets/"),
    ("trade", "user", lambda w: f"/markets/{w.market.pk}/trades/"),
]


def _written() -> tuple:
    return (
        _snapshot(),
        list(ApiToken.objects.values_list("pk", "revoked_at")),
        list(Question.objects.values_list("pk", "resolution")),
        list(Market.objects.values_list("pk", "q")),
        Trade.objects.count(),
    )


@pytest.mark.parametrize("depth", [32, 1_000, 100_000])
@pytest.mark.parametrize(("name", "role", "path"), WRITES, ids=[name for name, *_ in WRITES])
def test_deeply_nested_json_is_refused_on_every_write(
    world: World, api, name: str, role: str, path: Callable[[World], str], depth: int
) -> None:
    before = _written()

    response = api(role, world).post(
        path(world), data=_nested(depth), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400, response.text
    assert response.json() == {
        "message": "JSON parse error - nested more than 32 levels deep.",
        "errors": {},
    }
    assert _written() == before


def test_json_nested_a_little_is_still_an_ordinary_field_error(world: World, api) -> None:
    response = api("user", world).post(
        "/forecasts/", data=_nested(31), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert "question" in response.json()["errors"]
