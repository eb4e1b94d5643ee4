"""Buying by shares, by amount and to a target price; selling; and the refusals."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from markets import lmsr
from markets.models import Market
from markets.money import Order
from markets.services import account_open, market_create, market_trade, subsidy
from tests.factories import QuestionFactory, UserFactory, buy, sell
from tests.markets.conftest import assert_ledger_balanced, balance, snapshot

pytestmark = pytest.mark.django_db


def test_account_open_grants_once(now: dt.datetime) -> None:
    user = UserFactory()

    account_open(user=user, now=now)
    account_open(user=user, now=now)

    assert balance(user) == Decimal(1000)
    assert_ledger_balanced()


def test_market_create_funds_the_maker_with_b_ln_2(market: Market) -> None:
    assert market.maker_balance == subsidy(Decimal(100)) == Decimal("69.3148")
    assert market.prices() == (0.5, 0.5)
    assert_ledger_balanced()


def test_buy_shares_charges_the_lmsr_cost_rounded_up(market, trader, now) -> None:
    expected = lmsr.charge_for((0, 0), 100.0, lmsr.YES, Decimal(10))

    trade = buy(trader, market, outcome="yes", shares=10, now=now)

    market.refresh_from_db()
    assert trade.cost == expected > Decimal(5)
    assert balance(trader) == Decimal(1000) - expected
    assert (market.q_yes, market.q_no) == (Decimal(10), Decimal(0))
    assert trade.price_before == 0.5 < trade.price_after == market.prices()[lmsr.YES]
    assert_ledger_balanced()


def test_buy_by_amount_spends_at_most_the_amount(market, trader, now) -> None:
    trade = buy(trader, market, outcome="no", amount="25", now=now)

    assert Decimal(25) - Decimal("0.001") < trade.cost <= Decimal(25)
    assert trade.outcome == lmsr.NO
    assert_ledger_balanced()


def test_buy_to_target_price_moves_the_price_there(market, trader, now) -> None:
    buy(trader, market, outcome="yes", target_price="0.8", now=now)

    market.refresh_from_db()
    assert market.price_yes == pytest.approx(0.8, abs=1e-5)
    assert market.q_yes == lmsr.to_shares(100 * math.log(4))


def test_sell_returns_the_proceeds_rounded_down(market, trader, now) -> None:
    bought = buy(trader, market, outcome="yes", shares=20, now=now)

    sold = sell(trader, market, outcome="yes", shares=20, now=now)

    market.refresh_from_db()
    assert market.q == (Decimal(0), Decimal(0))
    assert -bought.cost <= sold.cost < 0  # the round trip never makes the trader money
    assert balance(trader) <= Decimal(1000)
    assert_ledger_balanced()


def test_a_trade_opens_the_traders_account(market, now) -> None:
    user = UserFactory()

    trade = buy(user, market, outcome=0, shares=1, now=now)

    assert balance(user) == Decimal(1000) - trade.cost


# Refusals that depend on the market's state or the account's; bad input is refused earlier,
# by ``Order.parse`` (tests/markets/test_money.py).
REFUSED_BUYS = [
    ({"shares": 5000}, "shares"),  # overdraft: costs more than 1000
    ({"amount": 5000}, "amount"),  # overdraft: the balance is 1000
    ({"target_price": "0.3"}, "target_price"),  # below the price: not a buy
]


@pytest.mark.parametrize(("size", "field"), REFUSED_BUYS)
def test_buys_the_market_refuses_name_the_field_and_write_nothing(
    market, trader, now, size, field
) -> None:
    before = snapshot()

    with pytest.raises(ValidationError) as refused:
        buy(trader, market, outcome="yes", now=now, **size)

    assert field in refused.value.message_dict
    assert snapshot() == before


def test_selling_more_than_is_held_is_refused_and_writes_nothing(market, trader, now) -> None:
    buy(trader, market, outcome="yes", shares=10, now=now)
    before = snapshot()

    with pytest.raises(ValidationError) as refused:
        sell(trader, market, outcome="yes", shares=11, now=now)

    assert refused.value.message_dict == {"shares": ["You hold 10 shares of this outcome."]}
    assert snapshot() == before


def test_selling_an_outcome_not_held_is_refused(market, trader, now) -> None:
    buy(trader, market, outcome="yes", shares=10, now=now)

    with pytest.raises(ValidationError, match="You hold 0"):
        sell(trader, market, outcome="no", shares=1, now=now)


def test_unknown_market_is_refused(trader, now) -> None:
    order = Order(outcome=lmsr.YES, action="buy", by="shares", value=Decimal(1))

    with pytest.raises(ValidationError) as refused:
        market_trade(user=trader, market_id=987654, order=order, now=now)

    assert "market" in refused.value.message_dict


def test_no_trading_once_the_question_closes(market, trader) -> None:
    after_close = market.question.closes_at + dt.timedelta(seconds=1)
    before = snapshot()

    with pytest.raises(ValidationError) as refused:
        buy(trader, market, outcome="yes", shares=1, now=after_close)

    assert "market" in refused.value.message_dict
    assert snapshot() == before


def test_no_trading_before_the_question_opens(market, trader) -> None:
    before_open = market.question.opens_at - dt.timedelta(seconds=1)

    with pytest.raises(ValidationError, match="not open"):
        buy(trader, market, outcome="yes", shares=1, now=before_open)


@pytest.mark.parametrize("b", ["0", "-1", "nan", "1e9", "0.00001"])
def test_bad_liquidity_is_refused(now, b) -> None:
    with pytest.raises(ValidationError) as refused:
        market_create(question_id=QuestionFactory().pk, b=Decimal(b), now=now)

    assert "b" in refused.value.message_dict


def test_a_market_is_opened_on_the_question_of_that_id(now) -> None:
    question = QuestionFactory()

    market = market_create(question_id=question.pk, b=Decimal(10), now=now)

    assert market.question_id == question.pk


def test_a_market_on_an_unknown_question_is_refused_naming_the_question(now) -> None:
    with pytest.raises(ValidationError) as refused:
        market_create(question_id=987654, b=Decimal(10), now=now)

    assert refused.value.message_dict == {"question": ["No such question."]}


def test_one_market_per_question(market, now) -> None:
    with pytest.raises(ValidationError) as refused:
        market_create(question_id=market.question_id, b=Decimal(10), now=now)

    assert refused.value.message_dict == {"question": ["This question has a market already."]}


def test_no_market_on_a_question_closed_to_forecasts(now) -> None:
    closed = QuestionFactory(closes_at=now - dt.timedelta(days=1))
    swept = QuestionFactory(closed_at=now - dt.timedelta(hours=1))  # closed early by the sweep
    before = snapshot()

    for question in (closed, swept):
        with pytest.raises(ValidationError, match="closed to forecasts") as refused:
            market_create(question_id=question.pk, b=Decimal(10), now=now)
        assert "question" in refused.value.message_dict

    assert snapshot() == before


def test_an_upcoming_question_may_get_a_market(now) -> None:
    upcoming = QuestionFactory(opens_at=now + dt.timedelta(days=1))

    market = market_create(question_id=upcoming.pk, b=Decimal(10), now=now)

    assert market.pk is not None
