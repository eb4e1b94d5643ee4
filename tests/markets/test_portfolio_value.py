"""The portfolio's total value and each market's profit, computed by hand for a small case."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from forecasts.lifecycle import question_resolve
from markets.models import Market
from markets.services import market_create
from tests.factories import QuestionFactory, buy, sell

pytestmark = pytest.mark.django_db

CENT = Decimal("0.0001")


@pytest.fixture
def two_markets(now: dt.datetime) -> tuple[Market, Market]:
    """Market A stays open; market B will resolve NO."""
    a = market_create(question_id=QuestionFactory(title="Market A?").pk, b=Decimal(100), now=now)
    b = market_create(question_id=QuestionFactory(title="Market B?").pk, b=Decimal(100), now=now)
    return a, b


def _traded(trader, a: Market, b: Market, now: dt.datetime) -> tuple[Decimal, Decimal, Decimal]:
    """Buy 10 YES on A and sell 4 of them; buy 5 NO on B, which resolves NO and pays 5."""
    bought = buy(trader, a, outcome="yes", shares=10, now=now).cost
    sold = sell(trader, a, outcome="yes", shares=4, now=now).cost  # negative: money received
    on_b = buy(trader, b, outcome="no", shares=5, now=now).cost
    question_resolve(question_id=b.question_id, resolution="no", resolved_by=None, now=now)
    return bought, sold, on_b


def test_total_value_and_each_markets_profit_are_exact(two_markets, trader, now) -> None:
    a, b = two_markets
    bought, sold, on_b = _traded(trader, a, b, now)

    page = Client()
    page.force_login(trader)
    response = page.get(reverse("markets:portfolio"))

    # By hand: A holds 6 YES at P(YES) = 1 / (1 + e^(-6/100)); B paid 1 per NO share.
    price_a = 1 / (1 + math.exp(-6 / 100))
    value_a = (6 * Decimal(price_a)).quantize(CENT)
    cash = Decimal(1000) - bought - sold - on_b + 5
    folio = response.context["portfolio"]
    profits = {h.market.pk: h.profit for h in folio.holdings}
    assert folio.balance == cash
    assert folio.positions_value == value_a
    assert folio.total_value == cash + value_a
    assert folio.profit == cash + value_a - 1000
    assert profits == {a.pk: value_a - sold - bought, b.pk: 5 - on_b}


def test_the_page_shows_the_total_and_each_profit(two_markets, trader, now) -> None:
    a, b = two_markets
    bought, sold, on_b = _traded(trader, a, b, now)

    page = Client()
    page.force_login(trader)
    text = page.get(reverse("markets:portfolio")).text

    folio_total = (
        Decimal(1000)
        - bought
        - sold
        - on_b
        + 5
        + (6 * Decimal(1 / (1 + math.exp(-6 / 100)))).quantize(CENT)
    )
    assert f"<strong>{folio_total:,.2f}</strong>" in text
    row_b = text[text.index(f'data-market="{b.pk}"') :].split("</tr>")[0]
    assert f"data-profit>{5 - on_b:,.2f}<" in row_b
