"""A market with three outcomes: opening, trading every way, settling, unwinding, the books.

Binary is the case n = 2 of the same code (the rest of tests/markets); here n = 3, whose
outcomes are labelled "Lifted" to "Still in force" until questions give their options.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from forecasts.models import Question, Resolution
from markets import lmsr
from markets.audit import ledger_audit
from markets.models import Market, MarketStatus, Trade
from markets.money import Order
from markets.selectors import (
    PriceHistory,
    holdings,
    price_steps,
    price_vector_steps,
)
from markets.services import (
    account_open,
    market_create,
    market_settle,
    market_trade,
    market_unsettle,
    subsidy,
)
from tests.factories import (
    OPTIONS3,
    MultipleChoiceQuestionFactory,
    UserFactory,
    buy,
    options_question,
    sell,
)
from tests.markets.conftest import assert_ledger_balanced, balance, snapshot

pytestmark = pytest.mark.django_db

LABELS = OPTIONS3


@pytest.fixture
def market3(now: dt.datetime) -> Market:
    """An open market with b = 100 and three outcomes on an open question."""
    return market_create(question_id=MultipleChoiceQuestionFactory().pk, b=Decimal(100), now=now)


def fresh(market: Market) -> Market:
    return Market.objects.get(pk=market.pk)


def resolve_to(market: Market, resolution: str, now: dt.datetime) -> Market | None:
    """What resolving the question to ``resolution`` (an option's label, "annulled" or
    "ambiguous") does to its market."""
    if resolution in LABELS:
        named = {"resolution": Resolution.OPTION, "resolved_option": LABELS.index(resolution)}
    else:
        named = {"resolution": resolution}
    Question.objects.filter(pk=market.question_id).update(**named, resolved_at=now)
    return market_settle(question_id=market.question_id, now=now)


# --- opening ----------------------------------------------------------------------------------


def test_a_market_of_three_opens_even_with_a_subsidy_of_b_ln_3(market3) -> None:
    assert market3.q == (Decimal(0),) * 3 and market3.labels == LABELS
    assert market3.prices() == pytest.approx((1 / 3,) * 3)
    assert market3.maker_balance == subsidy(Decimal(100), 3) == Decimal("109.8613")
    assert subsidy(Decimal(100), 3) >= Decimal(100 * math.log(3))
    assert market3.price_yes is None and market3.q_yes is None
    assert_ledger_balanced()


@pytest.mark.parametrize("n", [2, 3, 20])
def test_a_market_has_one_outcome_per_option_of_its_question(now, n) -> None:
    question = options_question(n)

    market = market_create(question_id=question.pk, b=Decimal(10), now=now)

    assert market.n_outcomes == n and market.q == (Decimal(0),) * n
    assert market.labels == (("yes", "no") if n == 2 else tuple(question.options))
    assert market.is_binary == (n == 2)
    assert market.maker_balance == subsidy(Decimal(10), n)
    assert_ledger_balanced()


def test_a_two_option_question_gets_a_market_of_its_options_not_yes_and_no(now) -> None:
    question = MultipleChoiceQuestionFactory(options=["Fable", "Mythos"])

    market = market_create(question_id=question.pk, b=Decimal(10), now=now)

    assert market.labels == ("Fable", "Mythos") and not market.is_binary
    assert market.price_yes is None


# --- trading ----------------------------------------------------------------------------------


def test_buying_shares_of_one_outcome_charges_the_lmsr_cost_and_moves_only_its_shares(
    market3, trader, now
) -> None:
    expected = lmsr.charge_for((0, 0, 0), 100.0, 2, Decimal(10))

    trade = buy(trader, market3, outcome="Still in force", shares=10, now=now)

    market = fresh(market3)
    assert trade.outcome == 2 and trade.cost == expected
    assert market.q == (Decimal(0), Decimal(0), Decimal(10))
    assert trade.price_after == market.prices()[2] > 1 / 3
    assert sum(market.prices()) == pytest.approx(1, abs=1e-15)
    assert balance(trader) == Decimal(1000) - expected
    assert_ledger_balanced()


def test_buying_by_amount_spends_at_most_the_amount(market3, trader, now) -> None:
    trade = buy(trader, market3, outcome=1, amount="25", now=now)

    assert Decimal(25) - Decimal("0.001") < trade.cost <= Decimal(25)
    assert fresh(market3).q[1] == trade.shares > 0


def test_a_target_price_for_one_outcome_moves_the_others_in_proportion(
    market3, trader, now
) -> None:
    buy(trader, market3, outcome="Lifted", shares=40, now=now)
    before = fresh(market3).prices()

    buy(trader, market3, outcome="Narrowed", target_price="0.6", now=now)

    after = fresh(market3).prices()
    assert after[1] == pytest.approx(0.6, abs=1e-5)
    assert after[0] / after[2] == pytest.approx(before[0] / before[2], rel=1e-12)
    scale = (1 - after[1]) / (1 - before[1])
    assert (after[0], after[2]) == pytest.approx((before[0] * scale, before[2] * scale), rel=1e-12)
    assert sum(after) == pytest.approx(1, abs=1e-15)


def test_selling_back_returns_the_market_to_where_it_was(market3, trader, now) -> None:
    bought = buy(trader, market3, outcome="Narrowed", shares=30, now=now)

    sold = sell(trader, market3, outcome="Narrowed", shares=30, now=now)

    assert fresh(market3).q == (Decimal(0),) * 3
    assert -bought.cost <= sold.cost < 0  # the round trip never makes the trader money
    assert_ledger_balanced()


def test_selling_shares_not_held_is_refused(market3, trader, now) -> None:
    buy(trader, market3, outcome="Narrowed", shares=3, now=now)

    with pytest.raises(ValidationError, match="You hold 0"):
        sell(trader, market3, outcome="Still in force", shares=1, now=now)


@pytest.mark.parametrize("outcome", ["option 4", "yes", 3, -1, "3", "-1", None])
def test_an_outcome_the_market_lacks_is_refused_naming_outcome(market3, trader, now, outcome):
    before = snapshot()

    with pytest.raises(ValidationError) as refused:
        buy(trader, market3, outcome=outcome, shares=1, now=now)

    assert refused.value.message_dict == {"outcome": ["Choose Lifted, Narrowed or Still in force."]}
    assert snapshot() == before


def test_labels_are_read_in_any_case(market3, trader, now) -> None:
    trade = buy(trader, market3, outcome="  NARROWED ", shares=1, now=now)

    assert trade.outcome == 1


def test_an_order_for_an_outcome_a_binary_market_lacks_is_refused_by_the_service(
    market, trader, now
) -> None:
    order = Order.parse(outcome="Still in force", action="buy", shares=1, labels=LABELS)
    before = snapshot()

    with pytest.raises(ValidationError) as refused:
        market_trade(user=trader, market_id=market.pk, order=order, now=now)

    assert refused.value.message_dict == {"outcome": ["Choose yes or no."]}
    assert snapshot() == before


# --- holdings and prices over time ----------------------------------------------------------


def test_a_holding_has_shares_of_each_outcome_marked_at_their_prices(market3, trader, now) -> None:
    buy(trader, market3, outcome="Lifted", shares=5, now=now)
    buy(trader, market3, outcome="Still in force", shares=7, now=now)

    [holding] = holdings(account=account_open(user=trader), market=fresh(market3))

    prices = holding.market.prices()
    assert holding.shares == (Decimal(5), Decimal(0), Decimal(7))
    assert float(holding.value) == pytest.approx(5 * prices[0] + 7 * prices[2], abs=1e-4)
    assert [name for name, _, _ in holding.outcomes()] == ["Lifted", "Narrowed", "Still in force"]
    assert holding.yes_shares is None


def test_price_steps_are_a_vector_per_step(market3, market, trader, now) -> None:
    first = buy(trader, market3, outcome="Narrowed", shares=20, now=now)
    second = buy(trader, market3, outcome="Lifted", shares=10, now=now + dt.timedelta(hours=1))

    steps = price_vector_steps(question_ids=[market3.question_id, market.question_id])

    mine = [s for s in steps if s[0] == market3.question_id]
    assert [(s[1], s[2]) for s in mine] == [
        (market3.created_at, now),
        (now, now + dt.timedelta(hours=1)),
        (now + dt.timedelta(hours=1), None),
    ]
    assert mine[0][3] == pytest.approx((1 / 3,) * 3)
    assert mine[1][3][1] == pytest.approx(first.price_after, abs=1e-15)
    assert mine[2][3] == pytest.approx(fresh(market3).prices(), abs=1e-15)
    assert mine[2][3][0] == pytest.approx(second.price_after, abs=1e-15)
    assert {s[0] for s in price_steps(question_ids=[market3.question_id, market.question_id])} == {
        market.question_id
    }  # P(YES) steps: binary markets only


def test_every_page_of_the_price_history_prices_all_outcomes_as_the_trades_left_them(
    market3, trader, now
) -> None:
    outcomes = ["Lifted", "Still in force", "Narrowed", "Still in force", "Lifted"]
    trades = [
        buy(trader, market3, outcome=o, shares=5 + i, now=now + dt.timedelta(minutes=i))
        for i, o in enumerate(outcomes)
    ]
    history = PriceHistory(fresh(market3))

    pages = [history[0:2], history[2:4], history[4:6]]

    points = [p for page in pages for p in page]
    assert len(history) == len(points) == 6
    assert points[0].prices == pytest.approx((1 / 3,) * 3) and points[0].trade is None
    for point, trade in zip(points[1:], trades, strict=True):
        assert point.trade == trade.pk and point.yes_price is None
        assert point.prices[trade.outcome] == pytest.approx(trade.price_after, abs=1e-12)
        assert sum(point.prices) == pytest.approx(1, abs=1e-15)
    assert points[-1].prices == pytest.approx(fresh(market3).prices(), abs=1e-15)


# --- settlement ---------------------------------------------------------------------------------


def test_settlement_pays_one_per_share_of_the_winner_only(market3, trader, now) -> None:
    other, third = UserFactory(), UserFactory()
    buy(trader, market3, outcome="Narrowed", shares=30, now=now)
    buy(other, market3, outcome="Lifted", shares=50, now=now)
    buy(third, market3, outcome="Still in force", amount=20, now=now)
    before = {u: balance(u) for u in (trader, other, third)}

    settled = resolve_to(market3, "Narrowed", now)
    resolve_to(market3, "Narrowed", now)  # the repeat changes nothing

    assert settled is not None and settled.status == MarketStatus.RESOLVED
    assert balance(trader) == before[trader] + 30
    assert (balance(other), balance(third)) == (before[other], before[third])
    assert settled.maker_balance >= 0
    assert_ledger_balanced()


def test_the_maker_loses_at_most_b_ln_3_when_the_favourite_wins(market3, now) -> None:
    buy(UserFactory(), market3, outcome="Lifted", target_price="0.99", now=now)
    for _ in range(3):
        buy(UserFactory(), market3, outcome="Lifted", amount=900, now=now)

    settled = resolve_to(market3, "Lifted", now)

    assert settled is not None
    loss = subsidy(Decimal(100), 3) - settled.maker_balance
    assert Decimal(0) < loss <= lmsr.worst_case_loss_money(Decimal(100), 3)
    assert ledger_audit().ok


def test_annulment_unwinds_every_trade(market3, trader, now) -> None:
    other = UserFactory()
    buy(trader, market3, outcome="Still in force", shares=40, now=now)
    sell(trader, market3, outcome="Still in force", shares=15, now=now)
    buy(other, market3, outcome="Lifted", amount=50, now=now)

    settled = resolve_to(market3, "annulled", now)

    assert settled is not None and settled.status == MarketStatus.ANNULLED
    assert balance(trader) == balance(other) == Decimal(1000)
    assert settled.maker_balance == subsidy(Decimal(100), 3)  # back to the bare subsidy
    assert_ledger_balanced()


def test_unsettling_reverses_the_payout_and_reopens_the_market(market3, trader, now) -> None:
    buy(trader, market3, outcome="Still in force", shares=30, now=now)
    before = (balance(trader), fresh(market3).maker_balance)
    resolve_to(market3, "Still in force", now)
    Question.objects.filter(pk=market3.question_id).update(
        resolution="", resolved_option=None, resolved_at=None
    )

    reopened = market_unsettle(question_id=market3.question_id, now=now)

    assert reopened is not None and reopened.status == MarketStatus.OPEN
    assert (balance(trader), reopened.maker_balance) == before
    assert_ledger_balanced()


def test_a_resolution_naming_no_outcome_of_the_market_is_refused(market3, trader, now) -> None:
    buy(trader, market3, outcome="Still in force", shares=30, now=now)
    Question.objects.filter(pk=market3.question_id).update(resolution="yes", resolved_at=now)
    before = snapshot()

    with pytest.raises(ValidationError) as refused:
        market_settle(question_id=market3.question_id, now=now)

    assert refused.value.message_dict == {
        "resolution": ["This question's market has no outcome 'yes'."]
    }
    assert snapshot() == before


def test_trades_after_the_effective_time_are_unwound_before_the_payout(market3, now) -> None:
    early, late = UserFactory(), UserFactory()
    buy(early, market3, outcome="Lifted", shares=10, now=now)
    buy(late, market3, outcome="Lifted", shares=10, now=now + dt.timedelta(hours=2))

    resolve_to(market3, "Lifted", now + dt.timedelta(hours=1))

    assert balance(late) == Decimal(1000)
    assert Trade.objects.filter(account__user=early).get().cost + balance(early) == 1010
    assert_ledger_balanced()


# --- the audit --------------------------------------------------------------------------------


def test_the_audit_reports_shares_that_differ_from_the_trades(market3, trader, now) -> None:
    buy(trader, market3, outcome="Narrowed", shares=4, now=now)
    Market.objects.filter(pk=market3.pk).update(q=(Decimal(0), Decimal(4), Decimal(1)))

    audit = ledger_audit()

    zero = Decimal(0)
    assert audit.share_mismatches == {
        market3.pk: ((zero, Decimal(4), Decimal(1)), (zero, Decimal(4), zero))
    }
    assert not audit.ok
