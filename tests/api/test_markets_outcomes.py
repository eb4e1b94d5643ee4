"""The markets API on a market of three outcomes: each outcome listed with its price, trades
named by label, prices as vectors; and a binary market's ``outcomes`` beside its old fields."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from forecasts.services import api_token_create
from markets.models import Market
from markets.services import market_create
from tests.factories import MultipleChoiceQuestionFactory, QuestionFactory, UserFactory, buy
from tests.markets.conftest import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def market3() -> Market:
    now = dt.datetime.now(tz=dt.UTC)
    question = MultipleChoiceQuestionFactory(opens_at=now - dt.timedelta(days=1))
    return market_create(question_id=question.pk, b=Decimal(100), now=now)


def client_for(username: str) -> APIClient:
    client = APIClient()
    _, secret = api_token_create(user=UserFactory(username=username), name="script")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_a_market_lists_each_outcome_with_its_price(market3) -> None:
    buy(UserFactory(), market3, outcome="Narrowed", shares=25)

    body = APIClient().get(f"/api/v1/markets/{market3.pk}/").json()

    prices = Market.objects.get(pk=market3.pk).prices()
    assert [(o["index"], o["label"]) for o in body["outcomes"]] == [
        (0, "Lifted"),
        (1, "Narrowed"),
        (2, "Still in force"),
    ]
    assert [o["price"] for o in body["outcomes"]] == pytest.approx(prices)
    assert sum(o["price"] for o in body["outcomes"]) == pytest.approx(1)
    assert [o["shares"] for o in body["outcomes"]] == ["0.0000", "25.0000", "0.0000"]
    assert [body[f] for f in ("price_yes", "price_no", "q_yes", "q_no")] == [None] * 4


def test_a_binary_market_keeps_its_fields_and_lists_yes_and_no(now) -> None:
    market = market_create(question_id=QuestionFactory().pk, b=Decimal(100), now=now)

    body = APIClient().get(f"/api/v1/markets/{market.pk}/").json()

    assert (body["price_yes"], body["price_no"], body["q_yes"]) == (0.5, 0.5, "0.0000")
    assert body["outcomes"] == [
        {"index": 0, "label": "yes", "price": 0.5, "shares": "0.0000"},
        {"index": 1, "label": "no", "price": 0.5, "shares": "0.0000"},
    ]


def test_a_trade_names_its_outcome_by_label_and_shows_it(market3) -> None:
    client = client_for("ada")

    done = client.post(
        f"/api/v1/markets/{market3.pk}/trades/",
        {"outcome": "Still in force", "action": "buy", "target_price": "0.5"},
        format="json",
    )
    tape = APIClient().get(f"/api/v1/markets/{market3.pk}/trades/").json()["results"]
    positions = client.get("/api/v1/me/positions/").json()["results"]

    assert done.status_code == 201, done.json()
    trade = done.json()["trade"]
    assert (trade["outcome"], trade["yes_price_after"]) == ("Still in force", None)
    assert trade["price_after"] == pytest.approx(0.5, abs=1e-4)
    assert [t["outcome"] for t in tape] == ["Still in force"]
    assert [(p["outcome"], p["shares"]) for p in positions] == [("Still in force", trade["shares"])]
    assert Market.objects.get(pk=market3.pk).q[2] == Decimal(trade["shares"])


@pytest.mark.parametrize("outcome", [2, "2", " still IN force "])
def test_a_trade_names_its_outcome_by_index_as_well_as_label(market3, outcome) -> None:
    done = client_for("cy").post(
        f"/api/v1/markets/{market3.pk}/trades/",
        {"outcome": outcome, "action": "buy", "shares": "5"},
        format="json",
    )

    assert done.status_code == 201, done.json()
    assert done.json()["trade"]["outcome"] == "Still in force"
    assert Market.objects.get(pk=market3.pk).q == (Decimal(0), Decimal(0), Decimal(5))


def test_a_quote_names_its_outcome_by_index_in_the_query_string(market3) -> None:
    quote = client_for("cy").get(
        f"/api/v1/markets/{market3.pk}/quote/", {"outcome": "1", "action": "buy", "shares": "5"}
    )

    assert quote.status_code == 200, quote.json()
    assert quote.json()["outcome"] == "Narrowed"


def test_a_label_that_reads_as_a_number_is_the_label_not_an_index(now) -> None:
    question = MultipleChoiceQuestionFactory(options=["2", "1", "0"], opens_at=now)
    market = market_create(question_id=question.pk, b=Decimal(100), now=now)

    done = client_for("cy").post(
        f"/api/v1/markets/{market.pk}/trades/",
        {"outcome": "0", "action": "buy", "shares": "5"},
        format="json",
    )
    by_index = client_for("cy").post(
        f"/api/v1/markets/{market.pk}/trades/",
        {"outcome": 0, "action": "buy", "shares": "5"},
        format="json",
    )

    assert (done.status_code, by_index.status_code) == (201, 201)
    assert (done.json()["trade"]["outcome"], by_index.json()["trade"]["outcome"]) == ("0", "2")


@pytest.mark.parametrize(
    "outcome", ["option 4", "yes", 3, "3", -1, "-1", True, "1.0", [1], {"a": 1}]
)
def test_a_trade_on_an_outcome_the_market_lacks_is_refused_naming_it(market3, outcome) -> None:
    client = client_for("bob")
    before = snapshot()

    refused = client.post(
        f"/api/v1/markets/{market3.pk}/trades/",
        {"outcome": outcome, "action": "buy", "shares": "1"},
        format="json",
    )

    assert refused.status_code == 400
    assert refused.json()["errors"] == {"outcome": ["Choose Lifted, Narrowed or Still in force."]}
    assert snapshot() == before


def test_a_quote_gives_every_outcomes_price_after(market3) -> None:
    query = {"outcome": "Lifted", "action": "buy", "amount": "30"}

    body = APIClient().get(f"/api/v1/markets/{market3.pk}/quote/", query).json()

    assert body["outcome"] == "Lifted" and body["yes_price_after"] is None
    assert body["prices_after"][0] == body["price_after"] > 1 / 3
    assert body["prices_after"][1] == pytest.approx(body["prices_after"][2])
    assert sum(body["prices_after"]) == pytest.approx(1)


def test_the_price_history_is_a_vector_per_step(market3) -> None:
    trade = buy(UserFactory(), market3, outcome="Narrowed", shares=30)

    body = APIClient().get(f"/api/v1/markets/{market3.pk}/price-history/").json()

    opening, after = body["results"]
    assert opening["prices"] == pytest.approx([1 / 3] * 3) and opening["yes_price"] is None
    assert after["trade"] == trade.pk
    assert after["prices"][1] == pytest.approx(trade.price_after)
    assert after["prices"] == pytest.approx(Market.objects.get(pk=market3.pk).prices())


def test_the_price_history_of_a_market_of_three_costs_what_a_binary_ones_does(market3, now) -> None:
    binary = market_create(question_id=QuestionFactory().pk, b=Decimal(100), now=now)
    for i in range(6):
        buy(UserFactory(), market3, outcome=i % 3, shares=2)
        buy(UserFactory(), binary, outcome=i % 2, shares=2, now=now)

    counts = []
    for market in (binary, market3):
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            APIClient().get(f"/api/v1/markets/{market.pk}/price-history/?page_size=3&page=2")
        counts.append(len(captured))

    assert counts[0] == counts[1]
