"""The trade preview: ``market_quote`` prices what the trade then charges, writing nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from markets.money import Order
from markets.pricing import market_quote
from tests.factories import buy, sell
from tests.markets.conftest import snapshot

pytestmark = pytest.mark.django_db

BUYS = [
    {"outcome": "yes", "shares": "12.5"},
    {"outcome": "no", "amount": "40"},
    {"outcome": "yes", "target_price": "0.73"},
    {"outcome": "no", "target_price": "0.6"},
]


@pytest.mark.parametrize("size", BUYS)
def test_a_buy_quote_is_what_the_buy_charges(market, trader, now, size) -> None:
    buy(trader, market, outcome="no", shares=7, now=now)
    market.refresh_from_db()
    before = snapshot()

    quote = market_quote(market=market, order=Order.parse(action="buy", **size))

    assert snapshot() == before
    trade = buy(trader, market, now=now, **size)
    assert (quote.shares, quote.cost) == (trade.shares, trade.cost)
    assert (quote.price_before, quote.price_after) == (trade.price_before, trade.price_after)
    assert quote.average_price == (trade.cost / trade.shares).quantize(quote.average_price)


def test_a_sell_quote_is_what_the_sale_pays(market, trader, now) -> None:
    buy(trader, market, outcome="yes", shares=30, now=now)
    market.refresh_from_db()

    quote = market_quote(market=market, order=Order.parse(outcome="yes", action="sell", shares=10))
    trade = sell(trader, market, outcome="yes", shares=10, now=now)

    assert quote.cost == trade.cost < 0
    assert quote.price_after == trade.price_after < quote.price_before
    market.refresh_from_db()
    assert quote.yes_price_after == pytest.approx(market.price_yes, abs=1e-12)
    no_quote = market_quote(market=market, order=Order.parse(outcome="no", action="buy", shares=5))
    assert no_quote.yes_price_after == pytest.approx(1 - no_quote.price_after, abs=1e-12)


def test_a_quote_refuses_a_target_the_price_is_past_already(market, trader, now) -> None:
    buy(trader, market, outcome="yes", target_price="0.7", now=now)
    market.refresh_from_db()
    order = Order.parse(outcome="yes", action="buy", target_price="0.6")

    with pytest.raises(ValidationError) as refused:
        market_quote(market=market, order=order)

    assert refused.value.message_dict == {
        "target_price": ["The price is at or above that already: buying cannot lower it."]
    }
