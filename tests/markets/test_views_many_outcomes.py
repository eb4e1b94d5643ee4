"""The market pages on a market of three outcomes: every outcome's price is listed, the trade
form offers each, and trades name the outcome they moved."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from forecasts.models import Question, Resolution
from markets.models import Market, Trade
from markets.services import market_create, market_settle
from tests.factories import OPTIONS3, MultipleChoiceQuestionFactory, buy
from tests.markets.conftest import assert_ledger_balanced, balance

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
BUY_10 = {"outcome": "Narrowed", "action": "buy", "size_by": "shares", "size": "10"}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def market3() -> Market:
    return market_create(question_id=MultipleChoiceQuestionFactory().pk, b=Decimal(100))


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(market: Market) -> str:
    return reverse("forecasts:question_detail", args=[market.question_id])


def _prices(html: str) -> list[str]:
    return re.findall(r"data-market-price(?=[\s>])[^>]*>([^<]+)<", html)


def test_the_panel_lists_each_outcomes_price_and_offers_each_outcome(market3, trader) -> None:
    buy(trader, market3, outcome="Still in force", shares=30)
    prices = Market.objects.get(pk=market3.pk).prices()

    page = _client(trader).get(_page(market3)).text

    assert _prices(page) == [f"{p * 100:.1f}%" for p in prices]
    assert "Market price of YES" not in page
    assert [f'value="{label}"' in page for label in OPTIONS3] == [True] * 3
    assert re.search(r"<dt>Still in force shares</dt><dd data-shares>30</dd>", page)
    assert "Bought Still in force" in page


def test_a_trade_posted_from_the_panel_buys_the_chosen_outcome(market3, trader) -> None:
    before = balance(trader)

    response = _client(trader).post(
        reverse("markets:trade", args=[market3.pk]), {**BUY_10, "trade": "1"}, follow=True
    )

    trade = Trade.objects.get()
    assert (trade.outcome, trade.shares) == (1, Decimal(10))
    assert balance(trader) == before - trade.cost
    assert f"Bought 10 Narrowed shares for {trade.cost:,.2f}; Narrowed is now" in response.text
    assert_ledger_balanced()


def test_the_preview_says_how_the_chosen_outcome_moves(market3, trader) -> None:
    response = _client(trader).post(
        reverse("markets:trade", args=[market3.pk]), {**BUY_10, "preview": "1"}, follow=True
    )

    assert "Buy 10 Narrowed shares for" in response.text
    assert "Narrowed moves from 33.3% to" in response.text
    assert not Trade.objects.exists()


def test_an_outcome_the_market_lacks_is_refused_in_the_form(market3, trader) -> None:
    response = _client(trader).post(
        reverse("markets:trade", args=[market3.pk]),
        {**BUY_10, "outcome": "yes", "trade": "1"},
        follow=True,
    )

    assert "Outcome:</strong>" in response.text
    assert not Trade.objects.exists()


def test_the_market_page_lists_each_price_and_the_trades(market3, trader) -> None:
    trade = buy(trader, market3, outcome="Lifted", shares=12)

    page = Client().get(reverse("markets:market_detail", args=[market3.pk])).text

    prices = Market.objects.get(pk=market3.pk).prices()
    assert _prices(page) == [f"{p * 100:.1f}%" for p in prices]
    assert "Price of Lifted" in page and "Price of YES" not in page
    assert "Bought Lifted</td>" in page
    assert f'<td class="num">{trade.price_after * 100:.1f}%</td>' in page


def test_the_market_list_and_portfolio_show_each_outcome(market3, trader) -> None:
    buy(trader, market3, outcome="Narrowed", shares=5)
    prices = Market.objects.get(pk=market3.pk).prices()

    listed = Client().get(reverse("markets:market_list")).text
    portfolio = _client(trader).get(reverse("markets:portfolio")).text

    row = listed[listed.index(f'data-market="{market3.pk}"') :].split("</tr>")[0]
    assert all(f"{OPTIONS3[i]} {p * 100:.1f}%" in row for i, p in enumerate(prices))
    assert "Narrowed: 5" in portfolio and f"Narrowed: {prices[1] * 100:.1f}%" in portfolio


def test_a_settled_market_names_the_outcome_that_won(market3, trader) -> None:
    buy(trader, market3, outcome="Still in force", shares=10)
    Question.objects.filter(pk=market3.question_id).update(
        resolution=Resolution.OPTION, resolved_option=2, resolved_at=TODAY
    )
    market_settle(question_id=market3.question_id)

    page = _client(trader).get(_page(market3)).text

    assert "Resolved Still in force: each winning share bought by the effective time paid 1" in page
    assert "data-position-value>10.00<" in page


def test_a_binary_panel_still_lists_no_outcome_table(market, trader) -> None:
    page = _client(trader).get(_page(market)).text

    assert "Market price of YES" in page and "data-market-prices" not in page
    assert _prices(page) == ["50.0%"]
