"""Numeric and date questions over HTTP: created by staff with Metaculus's names for the range,
read back with it, resolved to a value; every bad input refused naming its field, with nothing
written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from forecasts.models import Question
from markets.models import Market
from tests.api.conftest import World
from tests.factories import QuestionFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

DAY = dt.timedelta(days=1)
NOW = dt.datetime.now(tz=dt.UTC)
OPENS, CLOSES = NOW - DAY, NOW + 300 * DAY
JULY_10 = dt.datetime(2026, 7, 10, tzinfo=dt.UTC).timestamp()
JUNE_30_2027 = dt.datetime(2027, 6, 30, tzinfo=dt.UTC).timestamp()


def _new_question(world: World, **changes: Any) -> dict[str, Any]:
    """A date question as staff would send it."""
    return {
        "title": "When will the control on Fable 5 be lifted?",
        "resolution_criteria": "The day the control is lifted, as reported officially.",
        "source": world.open_question.source.key,
        "passage": "Other labs may be next.",
        "kind": "date",
        "range_min": "2026-07-10",
        "range_max": "2027-06-30T00:00:00Z",
        "open_upper_bound": True,
        "opens_at": OPENS.isoformat(),
        "closes_at": CLOSES.isoformat(),
        "resolves_at": (CLOSES + DAY).isoformat(),
        "auto_outcome": "above_upper_bound",
        **changes,
    }


def _written() -> tuple[list[tuple[Any, ...]], int]:
    questions = Question.objects.order_by("pk").values_list(
        "pk", "range_min", "resolution", "resolved_value"
    )
    return list(questions), Market.objects.count()


def _question(world: World, **fields: Any) -> Question:
    return QuestionFactory(
        source=world.open_question.source,
        closes_at=world.open_question.closes_at,
        **{"kind": "numeric", "range_min": 0.0, "range_max": 500.0, "unit": "$bn", **fields},
    )


# --- creating ----------------------------------------------------------------------------------


def test_staff_create_a_date_question_by_iso_dates_and_read_its_range_both_ways(
    world: World, api
) -> None:
    response = api("staff", world).post("/questions/", _new_question(world))

    body = response.json()
    assert response.status_code == 201, body
    assert (body["kind"], body["range_min"], body["range_max"]) == ("date", JULY_10, JUNE_30_2027)
    assert (body["range_min_date"], body["range_max_date"]) == (
        "2026-07-10T00:00:00Z",
        "2027-06-30T00:00:00Z",
    )
    assert (body["open_lower_bound"], body["open_upper_bound"], body["log_scale"]) == (
        False,
        True,
        False,
    )
    assert (body["auto_outcome"], body["resolved_value"]) == ("above_upper_bound", None)
    assert not Market.objects.filter(question_id=body["id"]).exists()


def test_staff_create_a_numeric_question_which_gets_no_market(world: World, api) -> None:
    given = _new_question(
        world,
        kind="numeric",
        range_min=1,
        range_max="1000",
        log_scale=True,
        unit="$bn",
        market_liquidity="0",
        auto_outcome="",
    )

    body = api("staff", world).post("/questions/", given).json()

    assert (body["kind"], body["range_min"], body["range_max"], body["unit"]) == (
        "numeric",
        1.0,
        1000.0,
        "$bn",
    )
    assert (body["log_scale"], body["range_min_date"]) == (True, None)
    assert not Market.objects.filter(question_id=body["id"]).exists()


def test_other_kinds_show_no_range(world: World, api) -> None:
    body = api(None, world).get(f"/questions/{world.open_question.pk}/").json()
    listed = api(None, world).get("/questions/").json()["results"][0]

    for shown in (body, listed):
        assert [shown[f] for f in ("range_min", "range_max_date", "unit", "log_scale")] == [
            None
        ] * 4


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"market_liquidity": "10"}, "market_liquidity"),
        ({"range_min": "2027-07-01"}, "range_max"),  # after the high end
        ({"range_min": "early July"}, "range_min"),
        ({"range_min": None}, "range_min"),
        ({"range_min": [2026, 7, 10]}, "range_min"),
        ({"range_max": "NaN"}, "range_max"),
        ({"log_scale": True}, "log_scale"),
        ({"unit": "days"}, "unit"),
        ({"open_upper_bound": False}, "auto_outcome"),  # above a closed bound
        ({"auto_outcome": "yes"}, "auto_outcome"),
        ({"options": ["Soon", "Late"]}, "options"),
        ({"kind": "numeric", "range_min": 0, "range_max": 10, "log_scale": True}, "range_min"),
        ({"kind": "numeric", "range_min": 0, "range_max": 10, "unit": "x" * 31}, "unit"),
        ({"kind": "binary", "auto_outcome": ""}, "range_min"),
        (
            {"kind": "binary", "range_min": None, "range_max": None, "auto_outcome": ""},
            "open_upper_bound",
        ),
        ({"scaling": "log"}, "scaling"),
    ],
)
def test_a_bad_question_is_refused_naming_the_field(
    world: World, api, changes: dict[str, Any], field: str
) -> None:
    before = _written()

    response = api("staff", world).post("/questions/", _new_question(world, **changes))

    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert _written() == before


def test_a_bad_option_label_is_named_in_the_one_error_shape(world: World, api) -> None:
    given = _new_question(
        world, kind="multiple_choice", options=["Soon", None, ["Late"]], auto_outcome=""
    )

    response = api("staff", world).post(
        "/questions/", {**given, "range_min": None, "range_max": None}
    )

    assert response.status_code == 400
    assert response.json()["errors"]["options"] == [
        "Option 2: This field may not be null.",
        "Option 3: Not a valid string.",
    ]


# --- resolving ---------------------------------------------------------------------------------


def _resolve(world: World, api, question: Question, body: dict[str, Any]) -> Any:
    return api("staff", world).post(f"/questions/{question.pk}/resolve/", body)


def test_staff_resolve_a_numeric_question_to_a_value(world: World, api) -> None:
    question = _question(world)

    response = _resolve(world, api, question, {"resolution": "value", "value": 312.5})

    body = response.json()
    assert response.status_code == 200, body
    assert (body["resolution"], body["resolved_value"], body["resolved_option"]) == (
        "value",
        312.5,
        None,
    )
    assert Question.objects.get(pk=question.pk).resolved_value == 312.5


def test_staff_resolve_a_date_question_by_an_iso_date(world: World, api) -> None:
    question = _question(world, kind="date", range_min=JULY_10, range_max=JUNE_30_2027, unit="")

    body = _resolve(world, api, question, {"resolution": "value", "value": "2026-09-01"}).json()

    assert body["resolved_value"] == dt.datetime(2026, 9, 1, tzinfo=dt.UTC).timestamp()
    assert body["resolved_value_date"] == "2026-09-01T00:00:00Z"


def test_staff_resolve_above_an_open_upper_bound(world: World, api) -> None:
    question = _question(world, open_upper_bound=True)

    body = _resolve(world, api, question, {"resolution": "above_upper_bound"}).json()

    assert (body["resolution"], body["resolved_value"]) == ("above_upper_bound", None)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"resolution": "value", "value": 500.5}, "value"),  # past the closed bound
        ({"resolution": "value", "value": "NaN"}, "value"),
        ({"resolution": "value", "value": "2026-09-01"}, "value"),  # not a number
        ({"resolution": "value", "value": True}, "value"),
        ({"resolution": "value"}, "value"),
        ({"resolution": "annulled", "value": 12}, "value"),
        ({"resolution": "above_upper_bound"}, "resolution"),  # the bound is closed
        ({"resolution": "yes"}, "resolution"),
        ({"resolution": "value", "value": 12, "option": 0}, "option"),
    ],
)
def test_a_bad_resolution_is_refused_naming_the_field(
    world: World, api, payload: dict[str, Any], field: str
) -> None:
    question = _question(world)
    before = _written()

    response = _resolve(world, api, question, payload)

    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert _written() == before


def test_a_date_question_refuses_a_value_that_is_no_date(world: World, api) -> None:
    question = _question(world, kind="date", range_min=JULY_10, range_max=JUNE_30_2027, unit="")
    before = _written()

    response = _resolve(world, api, question, {"resolution": "value", "value": "September"})

    assert "value" in response.json()["errors"]
    assert _written() == before


def test_a_value_on_a_binary_question_is_refused_naming_it(world: World, api) -> None:
    before = _written()

    response = _resolve(world, api, world.bare_question, {"resolution": "yes", "value": 1})

    assert response.status_code == 400
    assert "value" in response.json()["errors"]
    assert _written() == before


# --- the schema --------------------------------------------------------------------------------


def test_the_schema_describes_the_range_when_creating_reading_and_resolving(
    world: World, api
) -> None:
    schemas = api(None, world).get("/schema/", params={"format": "json"}).json()
    schemas = schemas["components"]["schemas"]
    names = {"range_min", "range_max", "open_lower_bound", "open_upper_bound", "log_scale", "unit"}

    created, shown = schemas["QuestionCreateRequest"], schemas["Question"]["properties"]

    assert names <= set(created["properties"])
    assert all(created["properties"][name].get("description") for name in names)
    assert names | {"range_min_date", "resolved_value", "resolved_value_date"} <= set(shown)
    assert {"numeric", "date"} <= set(schemas["KindEnum"]["enum"])
    assert "value" in schemas["ResolveRequest"]["properties"]
