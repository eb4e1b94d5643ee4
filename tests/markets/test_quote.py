"""The trade preview: ``market_quote`` prices what the trade then charges, writing nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from markets.pricing import market_quote
from markets.services import market_buy, market_sell
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
    market_buy(user=trader, market_id=market.pk, outcome="no", shares=7, now=now)
    market.refresh_from_db()
    before = snapshot()

    quote = market_quote(market=market, **size)

    assert snapshot() == before
    trade = market_buy(user=trader, market_id=market.pk, now=now, **size)
    assert (quote.shares, quote.cost) == (trade.shares, trade.cost)
    assert (quote.price_before, quote.price_after) == (trade.price_before, trade.price_after)
    assert quote.average_price == (trade.cost / trade.shares).quantize(quote.average_price)


def test_a_sell_quote_is_what_the_sale_pays(market, trader, now) -> None:
    market_buy(user=trader, market_id=market.pk, outcome="yes", shares=30, now=now)
    market.refresh_from_db()

    quote = market_quote(market=market, outcome="yes", action="sell", shares=10)
    trade = market_sell(user=trader, market_id=market.pk, outcome="yes", shares=10, now=now)

    assert quote.cost == trade.cost < 0
    assert quote.price_after == trade.price_after < quote.price_before
    market.refresh_from_db()
    assert quote.yes_price_after == pytest.approx(market.price_yes, abs=1e-12)
    no_quote = market_quote(market=market, outcome="no", shares=5)
    assert no_quote.yes_price_after == pytest.approx(1 - no_quote.price_after, abs=1e-12)


@pytest.mark.parametrize(
    ("size", "field"),
    [
        ({"outcome": "maybe", "shares": 1}, "outcome"),
        ({"outcome": "yes", "shares": "abc"}, "shares"),
        ({"outcome": "yes", "shares": 1, "amount": 2}, "amount"),
        ({"outcome": "yes", "target_price": "1.5"}, "target_price"),
        ({"outcome": "yes", "action": "sell", "amount": 5}, "shares"),
        ({"outcome": "yes", "action": "hold", "shares": 5}, "action"),
    ],
)
def test_a_bad_quote_names_the_field(market, size, field) -> None:
    with pytest.raises(ValidationError) as refused:
        market_quote(market=market, **size)

    assert field in refused.value.message_dict
