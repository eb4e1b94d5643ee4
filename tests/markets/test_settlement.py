"""Payouts and refunds happen inside question_resolve's transaction; unresolve reverses them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest

from forecasts.models import Question
from forecasts.resolution import question_resolve, question_unresolve
from markets.models import EntryKind, LedgerEntry, Market, MarketStatus
from markets.services import market_buy, market_sell, market_settle
from tests.factories import UserFactory
from tests.markets.conftest import assert_ledger_balanced, balance, snapshot

pytestmark = pytest.mark.django_db


def resolve(market: Market, resolution: str, now: dt.datetime) -> None:
    question_resolve(
        question_id=market.question_id, resolution=resolution, resolved_by=None, now=now
    )


def test_yes_pays_one_per_winning_share_once(market, trader, now) -> None:
    loser = UserFactory()
    market_buy(user=trader, market_id=market.pk, outcome="yes", shares=30, now=now)
    market_buy(user=loser, market_id=market.pk, outcome="no", shares=10, now=now)
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
    market_buy(user=trader, market_id=market.pk, outcome="no", shares=5, now=now)
    resolve(market, "no", now)
    before = snapshot()

    market_settle(question=Question.objects.get(pk=market.question_id), now=now)

    assert snapshot() == before


def test_annulment_refunds_each_traders_net_cost(market, trader, now) -> None:
    other = UserFactory()
    market_buy(user=trader, market_id=market.pk, outcome="yes", shares=40, now=now)
    market_sell(user=trader, market_id=market.pk, outcome="yes", shares=15, now=now)
    market_buy(user=other, market_id=market.pk, outcome="no", amount=50, now=now)

    resolve(market, "annulled", now)

    market.refresh_from_db()
    assert balance(trader) == balance(other) == Decimal(1000)
    assert market.status == MarketStatus.ANNULLED
    assert market.maker_balance == Decimal("69.3148")  # back to the bare subsidy
    assert_ledger_balanced()


def test_unresolve_reverses_the_payouts_and_reopens_the_market(market, trader, now) -> None:
    market_buy(user=trader, market_id=market.pk, outcome="yes", shares=30, now=now)
    before = (balance(trader), Market.objects.get(pk=market.pk).maker_balance)
    resolve(market, "yes", now)

    question_unresolve(question_id=market.question_id, now=now)

    market.refresh_from_db()
    assert (balance(trader), market.maker_balance) == before
    assert market.status == MarketStatus.OPEN
    assert LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 2
    assert_ledger_balanced()


def test_resolving_differently_after_an_unresolve_pays_the_new_winners(market, trader, now) -> None:
    market_buy(user=trader, market_id=market.pk, outcome="no", shares=30, now=now)
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
        market_buy(user=trader, market_id=market.pk, outcome="yes", shares=1, now=now)

    assert snapshot() == before


def test_resolution_and_payout_commit_together(market, trader, now) -> None:
    market_buy(user=trader, market_id=market.pk, outcome="yes", shares=30, now=now)
    before = snapshot()

    with (
        mock.patch("forecasts.resolution.enqueue_on_commit", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        resolve(market, "yes", now)

    assert Question.objects.get(pk=market.question_id).resolution == ""
    assert snapshot() == before
