"""A question created over HTTP gets its market, as a question file's does: liquidity
``market_liquidity`` (the site's default if not given; 0 for none), one outcome per option,
written with the question or not at all."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from forecasts.models import Question
from markets.models import Market
from tests.api.conftest import World

pytestmark = [pytest.mark.django_db(transaction=True)]

OPTIONS = ["Lifted", "Narrowed", "Set aside", "In force"]
DAY = dt.timedelta(days=1)
NOW = dt.datetime.now(tz=dt.UTC)


def _new_question(world: World, **changes: Any) -> dict[str, Any]:
    return {
        "title": "How does the control on Fable 5 end?",
        "resolution_criteria": "The first of these reported by two major outlets.",
        "source": world.open_question.source.key,
        "passage": "Other labs may be next.",
        "kind": "multiple_choice",
        "options": OPTIONS,
        "opens_at": (NOW - DAY).isoformat(),
        "closes_at": (NOW + 300 * DAY).isoformat(),
        "resolves_at": (NOW + 301 * DAY).isoformat(),
        **changes,
    }


def _written() -> tuple[list[int], list[tuple[Any, ...]]]:
    questions = list(Question.objects.order_by("pk").values_list("pk", flat=True))
    markets = list(Market.objects.order_by("pk").values_list("pk", "question_id", "b"))
    return questions, markets


def _market_of(response: Any) -> Market:
    assert response.status_code == 201, response.json()
    return Market.objects.get(question_id=response.json()["id"])


@pytest.mark.parametrize(
    ("changes", "outcomes"),
    [({}, 4), ({"kind": "binary", "options": []}, 2)],
    ids=["multiple choice", "binary"],
)
def test_a_created_question_gets_a_market_of_its_outcomes(
    world: World, api, changes: dict[str, Any], outcomes: int
) -> None:
    given = _new_question(world, market_liquidity="250.5", **changes)

    market = _market_of(api("staff", world).post("/questions/", given))

    assert (market.b, market.n_outcomes) == (Decimal("250.5"), outcomes)


def test_without_a_liquidity_the_market_gets_the_sites_default(world: World, api, settings) -> None:
    settings.MARKET_DEFAULT_LIQUIDITY = 40

    market = _market_of(api("staff", world).post("/questions/", _new_question(world)))

    assert market.b == Decimal(40)


def test_a_liquidity_of_zero_opens_no_market(world: World, api) -> None:
    response = api("staff", world).post("/questions/", _new_question(world, market_liquidity=0))

    assert response.status_code == 201, response.json()
    assert not Market.objects.filter(question_id=response.json()["id"]).exists()


def test_a_question_already_closed_to_forecasts_gets_no_market(world: World, api) -> None:
    closed = {"opens_at": (NOW - 3 * DAY).isoformat(), "closes_at": (NOW - DAY).isoformat()}

    response = api("staff", world).post("/questions/", _new_question(world, **closed))

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "closed"
    assert not Market.objects.filter(question_id=response.json()["id"]).exists()


@pytest.mark.parametrize("liquidity", [-1, "-0.5", "abc", "NaN", "1e7", "10.00001", None, True])
def test_a_bad_liquidity_is_refused_naming_it_and_nothing_is_written(
    world: World, api, liquidity: object
) -> None:
    before = _written()

    response = api("staff", world).post(
        "/questions/", _new_question(world, market_liquidity=liquidity)
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["market_liquidity"], response.json()
    assert _written() == before


def test_a_market_refused_after_the_checks_leaves_no_question(world: World, api, settings) -> None:
    settings.MARKET_DEFAULT_LIQUIDITY = 10**7  # more than a market may have
    before = _written()

    response = api("staff", world).post("/questions/", _new_question(world))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["market_liquidity"], response.json()
    assert _written() == before
