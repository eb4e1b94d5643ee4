"""Play-money LMSR markets: markets, accounts, the ledger and trades.

Money
-----
Every movement of money is a ``LedgerEntry``; balances are caches of ledger sums.

- A *user account* (``Account``) holds a user's play money. ``Account.balance`` always equals
  the sum of the account's entries.
- The *market maker* of each market has no account: its entries carry ``account=None`` and the
  ``market``. ``Market.maker_balance`` (the maker's pot) always equals the sum of those entries.

Money enters the system in two ways only: a ``grant`` to an account (the starting grant) and a
``subsidy`` to a maker's pot when its market is created (b ln n rounded up, n the number of
outcomes: the most the maker can lose whichever wins; b ln 2 on a YES/NO market). Every other
movement (``trade``, ``payout``, ``refund``, ``reversal``) is written as a pair of entries that
sum to zero: the account's side and the maker's side. Hence the accounting identity, exact in
Decimal:

    sum(account balances) + sum(maker pots) == sum(grant entries) + sum(subsidy entries)

equivalently, the entries of kinds trade/payout/refund/reversal sum to exactly 0.
``markets.audit.ledger_audit`` checks it, along with every cache against its entries.

Outcomes
--------
A market has n >= 2 outcomes, numbered 0..n-1 as in ``markets.lmsr`` (binary: YES = 0, NO = 1),
fixed when it opens: a binary question's market has YES and NO, a multiple-choice question's
has one outcome per option, labelled as the option. Its outstanding shares ``Market.q`` are one
column holding the vector: a JSON list of n decimal strings, read as a tuple of ``Decimal``
(``SharesField``). Strings keep the 0.0001 grid exact on SQLite and PostgreSQL alike (a JSON
number would pass through a float), and one column keeps a market one row: a trade rewrites the
vector under the market's row lock, and a list of markets costs no extra query for their
outcomes. A trade records its outcome by index; the labels (``Market.labels``, read from the
question: load it with the market) name them at the edges.

Positions
---------
Positions are not stored: a position is the sum of the account's trades on a market per outcome
(shares, and net cost = sum of charges). There is nothing to drift, and the queries are small
(one account on one market, under that account's row lock).

Settlement
----------
A resolution to one of the market's outcomes (YES or NO on a binary market) pays 1 per share of
that outcome bought by the effective resolution time (``payout`` pairs). Trades made after that
time, and every trade of an annulled or ambiguous market, are *unwound*: one ``refund`` pair per
trader of their net cost in those trades, in either direction. A trader who paid in net gets it
back; one whose sales brought in more than their buys cost gives the profit back. Each account
thus ends exactly where it would be had it never made those trades, and an annulled market's
maker pot returns to its subsidy.
Unresolving writes a ``reversal`` pair against every settlement entry (linked by ``reverses``):
the history is never rewritten.

Balances below zero
-------------------
Taking a profit back, or reversing a payout that was spent meanwhile, can take an account below
zero. Such an account can still sell what it holds on other markets (a sale always brings money
in) and receives the payouts of its other markets as usual; it cannot buy until its balance
covers the charge. Nothing else is taken from it.

Invariants (``markets.audit.ledger_audit`` checks each): the caches equal their entries, the
transfers sum to zero, no maker pot is ever negative, a settled maker has lost at most b ln n of
its subsidy, and on an annulled market every account's entries net to zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q
from django.db.models.expressions import Expression

from forecasts.models import Question, QuestionStatus
from markets import lmsr


class _Digits(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: _Digits = {"max_digits": 20, "decimal_places": 4}
SHARES: _Digits = {"max_digits": 20, "decimal_places": 4}


class Outcome(models.IntegerChoices):
    """The binary outcomes, numbered as in ``markets.lmsr``."""

    YES = lmsr.YES, "Yes"
    NO = lmsr.NO, "No"


BINARY_LABELS = ("yes", "no")
MAX_OUTCOMES = 20


def market_labels(question: Question) -> tuple[str, ...]:
    """The labels of the outcomes of a market on ``question``, by index: what a trade may name
    its outcome by and what the API shows. Binary: ("yes", "no"); multiple choice: the
    question's options, as written."""
    return tuple(question.options) if question.is_multiple_choice else BINARY_LABELS


def outcome_name(labels: Sequence[str], index: int) -> str:
    """How a page names an outcome: YES and NO in capitals on a binary market, as ever; any
    other label with a capital first letter."""
    label = labels[index]
    if tuple(labels) == BINARY_LABELS:
        return label.upper()
    return label[:1].upper() + label[1:]


def shares_vector(values: Sequence[object]) -> tuple[Decimal, ...]:
    """Decimal strings (or Decimals) as the share vector a market holds, on the 0.0001 grid."""
    return tuple(Decimal(str(v)).quantize(lmsr.SHARE_QUANTUM) for v in values)


class SharesField(models.JSONField):
    """A vector of shares, one per outcome: stored as a JSON list of decimal strings with 4
    places (exact), read as a tuple of ``Decimal``."""

    _pyi_private_set_type: Sequence[Decimal]
    _pyi_private_get_type: tuple[Decimal, ...]

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> Any:
        loaded = super().from_db_value(value, expression, connection)
        return shares_vector(loaded) if isinstance(loaded, list) else loaded

    def to_python(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            try:
                return shares_vector(value)
            except ArithmeticError:
                raise ValidationError("Give each outcome's shares as a number.") from None
        return value

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [f"{v:f}" for v in shares_vector(value)]
        return super().get_prep_value(value)


class MarketStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved (paid out)"
    ANNULLED = "annulled", "Annulled (refunded)"


class Market(models.Model):
    """An LMSR market on a question: liquidity ``b`` and the outstanding shares of each of its
    n outcomes (``q``, n fixed when it opens)."""

    question = models.OneToOneField(Question, on_delete=models.PROTECT, related_name="market")
    b = models.DecimalField(max_digits=14, decimal_places=4, help_text="Liquidity, in money.")
    q = SharesField(help_text="Outstanding shares of each outcome, by index.")
    maker_balance = models.DecimalField(
        default=Decimal(0), help_text="The maker's pot: the sum of its ledger entries.", **MONEY
    )
    status = models.CharField(max_length=10, choices=MarketStatus, default=MarketStatus.OPEN)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(b__gt=0), name="market_b_positive")]

    def __str__(self) -> str:
        return f"Market on {self.question_id}"

    @property
    def n_outcomes(self) -> int:
        return len(self.q)

    @property
    def is_binary(self) -> bool:
        """A YES/NO market (a multiple-choice question of two options is not one)."""
        return not self.question.is_multiple_choice

    @property
    def labels(self) -> tuple[str, ...]:
        """Its outcomes' labels, by index (its question's: load it with the market)."""
        return market_labels(self.question)

    def outcome_name(self, index: int) -> str:
        return outcome_name(self.labels, index)

    def prices(self) -> tuple[float, ...]:
        """Each outcome's price at the current outstanding shares, by index; they sum to 1.
        Binary: (P(YES), P(NO))."""
        return lmsr.prices(self.q, float(self.b))

    def outcomes(self) -> list[tuple[int, str, float]]:
        """(index, label, price) of each outcome."""
        return [
            (i, label, p)
            for i, (label, p) in enumerate(zip(self.labels, self.prices(), strict=True))
        ]

    @property
    def price_yes(self) -> float | None:
        """P(YES) on a binary market; None on one with more outcomes."""
        return self.prices()[lmsr.YES] if self.is_binary else None

    @property
    def q_yes(self) -> Decimal | None:
        return self.q[lmsr.YES] if self.is_binary else None

    @property
    def q_no(self) -> Decimal | None:
        return self.q[lmsr.NO] if self.is_binary else None

    def is_trading(self, now: dt.datetime, *, question: Question | None = None) -> bool:
        """Open, and its question still taking forecasts: a trade now would be accepted.

        ``question``: a copy read under the market's lock, when the caller has one.
        """
        question = question or self.question
        return self.status == MarketStatus.OPEN and question.is_open_for_forecasts(now)


def takes_a_market(question: Question, now: dt.datetime) -> bool:
    """Whether a market may open on ``question`` now: only while it can still take forecasts
    (upcoming or open, not resolved), so no one trades on an outcome already known."""
    return question.status(now) in (QuestionStatus.UPCOMING, QuestionStatus.OPEN)


class Account(models.Model):
    """A user's play money; ``balance`` caches the sum of its ledger entries."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="market_account"
    )
    balance = models.DecimalField(default=Decimal(0), **MONEY)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Account of {self.user_id}: {self.balance}"


class Trade(models.Model):
    """Shares bought (> 0) or sold (< 0) of one outcome, and the charge (> 0: the trader paid)."""

    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="trades")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="trades")
    outcome = models.PositiveSmallIntegerField(
        help_text="The outcome's index in its market (binary: 0 YES, 1 NO)."
    )
    shares = models.DecimalField(**SHARES)
    cost = models.DecimalField(**MONEY)
    price_before = models.FloatField(help_text="Price of the traded outcome before the trade.")
    price_after = models.FloatField(help_text="Price of the traded outcome after the trade.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["market_id", "created_at", "id"]
        indexes = [
            models.Index(fields=["market", "account", "outcome"]),
            models.Index(fields=["market", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(shares=0), name="trade_shares_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.shares} of outcome {self.outcome} for {self.cost}"


class EntryKind(models.TextChoices):
    GRANT = "grant", "Grant"
    SUBSIDY = "subsidy", "Subsidy"
    TRADE = "trade", "Trade"
    PAYOUT = "payout", "Payout"
    REFUND = "refund", "Refund"
    REVERSAL = "reversal", "Reversal of a payout or refund"


# Money enters only through these; every other kind is written as a zero-sum pair.
SOURCE_KINDS = (EntryKind.GRANT, EntryKind.SUBSIDY)
SETTLEMENT_KINDS = (EntryKind.PAYOUT, EntryKind.REFUND)


class LedgerEntry(models.Model):
    """One signed movement of money on an account, or on a market's maker (``account=None``)."""

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    market = models.ForeignKey(
        Market, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    trade = models.ForeignKey(
        Trade, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversal"
    )
    kind = models.CharField(max_length=10, choices=EntryKind)
    amount = models.DecimalField(**MONEY)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["account", "kind"]),
            models.Index(fields=["market", "kind"]),
        ]
        constraints = [
            # A maker's entry is the one without an account; it must say whose maker it is.
            models.CheckConstraint(
                condition=Q(account__isnull=False) | Q(market__isnull=False),
                name="ledger_entry_has_a_side",
            ),
            models.CheckConstraint(
                condition=Q(trade__isnull=True) | Q(kind="trade"),
                name="ledger_entry_trade_only_for_trades",
            ),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | Q(kind="reversal"),
                name="ledger_entry_reverses_only_for_reversals",
            ),
        ]

    def __str__(self) -> str:
        side = f"account {self.account_id}" if self.account_id else f"maker {self.market_id}"
        return f"{self.kind} {self.amount} on {side}"
