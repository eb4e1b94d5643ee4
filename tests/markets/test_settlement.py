"""Payouts and refunds happen inside question_resolve's transaction; unresolve reverses them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from forecasts.lifecycle import question_resolve, question_unresolve
from forecasts.models import Question
from markets.models import EntryKind, LedgerEntry, Market, MarketStatus
from markets.services import market_settle, market_unsettle
from tests.factories import UserFactory, buy, sell
from tests.markets.conftest import assert_ledger_balanced, balance, snapshot

pytestmark = pytest.mark.django_db


def resolve(market: Market, resolution: str, now: dt.datetime) -> None:
    question_resolve(
        question_id=market.question_id, resolution=resolution, resolved_by=None, now=now
    )


def test_yes_pays_one_per_winning_share_once(market, trader, now) -> None:
    loser = UserFactory()
    buy(trader, market, outcome="yes", shares=30, now=now)
    buy(loser, market, outcome="no", shares=10, now=now)
    before = balance(trader)

    resolve(market, "yes", now)
    resolve(market, "yes", now)  # the repeat changes nothing

    market.refresh_from_db()
    assert balance(trader) == before + 30
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYOUT, account__isnull=False).count() == 1
    assert market.status == MarketStatus.RESOLVED
    assert market.maker_balance >= 0  # the subsidy covers the maker's worst case
    assert_ledger_balanced()


def test_a_second_settle_call_writes_nothing(market, trader, now) -> None:
    buy(trader, market, outcome="no", shares=5, now=now)
    resolve(market, "no", now)
    before = snapshot()

    market_settle(question_id=market.question_id, now=now)

    assert snapshot() == before


def test_annulment_refunds_each_traders_net_cost(market, trader, now) -> None:
    other = UserFactory()
    buy(trader, market, outcome="yes", shares=40, now=now)
    sell(trader, market, outcome="yes", shares=15, now=now)
    buy(other, market, outcome="no", amount=50, now=now)

    resolve(market, "annulled", now)

    market.refresh_from_db()
    assert balance(trader) == balance(other) == Decimal(1000)
    assert market.status == MarketStatus.ANNULLED
    assert market.maker_balance == Decimal("69.3148")  # back to the bare subsidy
    assert_ledger_balanced()


def test_unresolve_reverses_the_payouts_and_reopens_the_market(market, trader, now) -> None:
    buy(trader, market, outcome="yes", shares=30, now=now)
    before = (balance(trader), Market.objects.get(pk=market.pk).maker_balance)
    resolve(market, "yes", now)

    question_unresolve(question_id=market.question_id, now=now)

    market.refresh_from_db()
    assert (balance(trader), market.maker_balance) == before
    assert market.status == MarketStatus.OPEN
    assert LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 2
    assert_ledger_balanced()


def test_resolving_differently_after_an_unresolve_pays_the_new_winners(market, trader, now) -> None:
    buy(trader, market, outcome="no", shares=30, now=now)
    start = balance(trader)
    resolve(market, "yes", now)
    question_unresolve(question_id=market.question_id, now=now)

    resolve(market, "no", now)

    assert balance(trader) == start + 30
    assert_ledger_balanced()


def test_no_trading_on_a_settled_market(market, trader, now) -> None:
    resolve(market, "yes", now)
    before = snapshot()

    with pytest.raises(Exception, match="not open"):
        buy(trader, market, outcome="yes", shares=1, now=now)

    assert snapshot() == before


def test_resolution_and_payout_commit_together(market, trader, now) -> None:
    buy(trader, market, outcome="yes", shares=30, now=now)
    before = snapshot()

    with (
        mock.patch(
            "forecasts.notices.question_followups_task.delay_on_commit",
            side_effect=RuntimeError("boom"),
        ),
        pytest.raises(RuntimeError),
    ):
        resolve(market, "yes", now)

    assert Question.objects.get(pk=market.question_id).resolution == ""
    assert snapshot() == before


def test_annulment_takes_back_profits_so_nobody_gains_by_trading_in_circles(market, now) -> None:
    # Two accounts alternate; A always sells into B's buying, at a profit.
    a, b = UserFactory(), UserFactory()
    for _ in range(10):
        buy(a, market, outcome="yes", shares=300, now=now)
        buy(b, market, outcome="yes", shares=300, now=now)
        sell(a, market, outcome="yes", shares=300, now=now)
        sell(b, market, outcome="yes", shares=300, now=now)
    assert balance(a) > 1000 > balance(b)

    resolve(market, "annulled", now)

    market.refresh_from_db()
    assert balance(a) == balance(b) == Decimal(1000)
    assert market.maker_balance == Decimal("69.3148")  # its subsidy, b ln 2 rounded up
    assert_ledger_balanced()


def test_annulment_may_leave_a_balance_below_zero_that_can_sell_but_not_buy(
    market, trader, now
) -> None:
    from markets.services import market_create
    from tests.factories import QuestionFactory

    other_market = market_create(question_id=QuestionFactory().pk, b=Decimal(100), now=now)
    buyer = UserFactory()
    buy(trader, market, outcome="yes", shares=300, now=now)
    buy(buyer, market, outcome="yes", shares=300, now=now)
    sell(trader, market, outcome="yes", shares=300, now=now)
    # The profit is spent on the other market before the annulment.
    buy(trader, other_market, outcome="no", amount=balance(trader), now=now)

    resolve(market, "annulled", now)

    assert balance(trader) < 0
    with pytest.raises(ValidationError, match="your balance is -"):
        buy(trader, other_market, outcome="no", shares=1, now=now)
    sell(trader, other_market, outcome="no", shares=1, now=now)
    assert_ledger_balanced()


def test_trades_after_the_effective_time_are_unwound_before_the_payout(market, now) -> None:
    early, late = UserFactory(), UserFactory()
    buy(early, market, outcome="yes", shares=30, now=now)
    known = now + dt.timedelta(hours=1)  # the outcome became known here
    buy(
        late,
        market,
        outcome="yes",
        shares=200,
        now=known + dt.timedelta(minutes=5),
    )
    sell(
        early,
        market,
        outcome="yes",
        shares=10,
        now=known + dt.timedelta(minutes=6),
    )
    spent_early = Decimal(1000) - balance(early)

    question_resolve(
        question_id=market.question_id,
        resolution="yes",
        resolved_by=None,
        effective_at=known,
        now=known + dt.timedelta(hours=1),
    )

    market.refresh_from_db()
    assert balance(late) == Decimal(1000)  # the late buy is unwound, nothing paid on it
    # 30 shares held at the effective time pay out; the later sale of 10 is unwound.
    first_cost = market.trades.order_by("created_at").first().cost
    assert balance(early) == Decimal(1000) - first_cost + 30
    assert spent_early != first_cost
    assert market.maker_balance >= 0
    assert_ledger_balanced()


def test_unresolving_a_back_dated_resolution_restores_the_late_trades(market, now) -> None:
    trader = UserFactory()
    buy(trader, market, outcome="yes", shares=20, now=now)
    later = now + dt.timedelta(hours=2)
    buy(trader, market, outcome="no", shares=20, now=later)
    before = balance(trader)
    question_resolve(
        question_id=market.question_id,
        resolution="no",
        resolved_by=None,
        effective_at=now + dt.timedelta(hours=1),
        now=later,
    )

    question_unresolve(question_id=market.question_id, now=later)

    assert balance(trader) == before
    assert_ledger_balanced()


def test_market_settle_settles_the_market_of_the_question_of_that_id(market, trader, now) -> None:
    buy(trader, market, outcome="yes", shares=10, now=now)
    # Resolved in the database only: the service reads the question itself, under its lock.
    Question.objects.filter(pk=market.question_id).update(resolution="yes", resolved_at=now)
    before = balance(trader)

    settled = market_settle(question_id=market.question_id, now=now)

    assert settled is not None and settled.status == MarketStatus.RESOLVED
    assert balance(trader) == before + 10
    assert_ledger_balanced()


def test_market_unsettle_reopens_the_market_of_the_question_of_that_id(market, trader, now) -> None:
    buy(trader, market, outcome="yes", shares=10, now=now)
    before = balance(trader)
    resolve(market, "yes", now)

    reopened = market_unsettle(question_id=market.question_id, now=now)

    assert reopened is not None and reopened.status == MarketStatus.OPEN
    assert balance(trader) == before
    assert_ledger_balanced()
