"""Random grants, trades, resolutions (some back-dated), annulments and unresolves never break
the books, on two binary markets and one of three outcomes.

After every step: the accounting identity holds exactly, every cached balance equals its
recomputation from the ledger, outstanding shares equal the sum of trades, a refused operation
(a trade on an outcome the market lacks among them) wrote nothing, no maker pot is negative, a
settled maker lost at most b ln n, on an annulled market every account's entries net to zero,
no account is below zero except by reversals and unwound profits, and an open market's maker
can pay every share of whichever outcome wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from forecasts.lifecycle import question_resolve, question_unresolve
from forecasts.models import Question
from markets.audit import ledger_audit
from markets.models import Account, EntryKind, Market, MarketStatus, Trade
from markets.services import account_grant, account_open, holding, market_create, market_settle
from tests.factories import T0, QuestionFactory, UserFactory, buy, options_question, sell
from tests.markets.conftest import snapshot

NOW = T0 + dt.timedelta(days=30)
USERS = 3
# Outcomes of each market: two binary ones and one of three (until questions have options, its
# question resolves to an outcome by naming its label, "option 1" to "option 3").
OUTCOMES = (2, 2, 3)
MARKETS = len(OUTCOMES)
THREE = OUTCOMES.index(3)

money = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(3000), places=4)
shares = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(2000), places=4)
users = st.integers(0, USERS - 1)
markets = st.integers(0, MARKETS - 1)
# An index up to the widest market's: a binary market refuses outcome 2.
outcomes = st.integers(0, max(OUTCOMES) - 1)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each example runs in a savepoint of the test's transaction, rolled back at teardown.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.users = [UserFactory() for _ in range(USERS)]
        self.markets: list[Market] = []
        # The clock moves a minute per step, so a back-dated resolution has trades after it.
        self.now = NOW

    @initialize(bs=st.lists(st.decimals(1, 500, places=4), min_size=MARKETS, max_size=MARKETS))
    def open_markets(self, bs: list[Decimal]) -> None:
        for user in self.users:
            account_open(user=user, now=NOW)
        self.markets = [
            market_create(question_id=options_question(n).pk, b=b, now=NOW)
            for b, n in zip(bs, OUTCOMES, strict=True)
        ]

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def outcome(self, market: int, index: int) -> object:
        """The outcome as a request names it: its label, or the index past the market's last."""
        labels = self.markets[market].labels
        return labels[index] if index < len(labels) else index

    def attempt(self, operation: Callable[..., object], *args: object, **kwargs: object) -> None:
        """Run a service; a refusal must leave every row as it was."""
        self.now += dt.timedelta(minutes=1)
        before = snapshot()
        try:
            operation(*args, now=self.now, **kwargs)
        except ValidationError:
            assert snapshot() == before

    @rule(user=users, amount=money)
    def grant(self, user: int, amount: Decimal) -> None:
        account_grant(user=self.users[user], amount=amount, now=self.now)

    @rule(user=users, market=markets, outcome=outcomes, quantity=shares)
    def buy_shares(self, user: int, market: int, outcome: int, quantity: Decimal) -> None:
        self.attempt(
            buy,
            self.users[user],
            self.markets[market],
            outcome=self.outcome(market, outcome),
            shares=quantity,
        )

    @rule(user=users, market=markets, outcome=outcomes, amount=money)
    def buy_amount(self, user: int, market: int, outcome: int, amount: Decimal) -> None:
        self.attempt(
            buy,
            self.users[user],
            self.markets[market],
            outcome=self.outcome(market, outcome),
            amount=amount,
        )

    @rule(user=users, market=markets, outcome=outcomes, price=st.floats(0.01, 0.99))
    def buy_to_price(self, user: int, market: int, outcome: int, price: float) -> None:
        self.attempt(
            buy,
            self.users[user],
            self.markets[market],
            outcome=self.outcome(market, outcome),
            target_price=price,
        )

    @rule(user=users, market=markets, outcome=outcomes, part=st.fractions(0, 1.5))
    def sell(self, user: int, market: int, outcome: int, part: Fraction) -> None:
        account = Account.objects.get(user=self.users[user])
        held = holding(account=account, market=self.markets[market], outcome=outcome)
        # Up to half again what is held, so that over-selling is tried too.
        quantity = (held * Decimal(part.numerator) / part.denominator).quantize(Decimal("0.0001"))
        self.attempt(
            sell,
            self.users[user],
            self.markets[market],
            outcome=self.outcome(market, outcome),
            shares=quantity,
        )

    @rule(
        market=markets,
        resolution=st.sampled_from(["yes", "no", "annulled", "ambiguous"]),
        back=st.integers(0, 20),
    )
    def resolve(self, market: int, resolution: str, back: int) -> None:
        self.attempt(
            question_resolve,
            question_id=self.markets[market].question_id,
            resolution=resolution,
            resolved_by=None,
            effective_at=self.now - dt.timedelta(minutes=back),
        )

    # Once it has trades, so that a settlement has something to pay or unwind.
    @precondition(lambda self: Trade.objects.filter(market=self.markets[THREE]).exists())
    @rule(option=st.integers(0, OUTCOMES[THREE] - 1), back=st.integers(0, 20))
    def resolve_to_an_option(self, option: int, back: int) -> None:
        """The market of three settles when its question resolves to one of its outcomes."""
        market = self.markets[THREE]
        self.now += dt.timedelta(minutes=1)
        resolved = Question.objects.filter(pk=market.question_id, resolution="").update(
            resolution=market.labels[option], resolved_at=self.now - dt.timedelta(minutes=back)
        )
        if resolved:
            market_settle(question_id=market.question_id, now=self.now)

    @rule(market=markets)
    def unresolve(self, market: int) -> None:
        self.now += dt.timedelta(minutes=1)
        question_unresolve(question_id=self.markets[market].question_id, now=self.now)

    @invariant()
    def books_balance(self) -> None:
        audit = ledger_audit()
        assert audit.ok, audit

    @invariant()
    def no_balance_below_zero_but_by_reversals_and_unwinding(self) -> None:
        for account in Account.objects.all():
            # Reversals and unwound profits are the only debits that skip the overdraft check.
            unchecked = account.entries.filter(
                Q(kind=EntryKind.REVERSAL) | Q(kind=EntryKind.REFUND, amount__lt=0)
            ).aggregate(s=Sum("amount"))["s"] or Decimal(0)
            assert account.balance - unchecked >= 0

    @invariant()
    def markets_match_their_questions(self) -> None:
        for market in Market.objects.select_related("question"):
            settled = market.status != MarketStatus.OPEN
            assert settled == bool(market.question.resolution)
            if market.status == MarketStatus.OPEN:
                # Solvency: the pot covers every outstanding share of whichever outcome wins.
                assert market.maker_balance >= max(market.q)
            elif market.status == MarketStatus.RESOLVED:
                assert market.maker_balance >= 0


@pytest.mark.django_db
def test_random_operations_keep_the_books_balanced() -> None:
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_the_questions_are_open_at_the_machines_clock() -> None:
    assert QuestionFactory.build().is_open_for_forecasts(NOW)
