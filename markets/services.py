"""Writes on markets: accounts, trades and settlement. See ``markets.models`` for the ledger.

Locking: every service that touches a market locks the market's row first (after its question's,
for the services that read the question's resolution or create its market), then the accounts
it moves money on, in ascending id order; services that touch no market lock just the account.
One order everywhere, so two transactions never wait on each other in a cycle (PostgreSQL).
SQLite serialises writers through its IMMEDIATE transactions.

Services take ids and typed values (``Decimal``, ``markets.money.Order``) parsed at the edge;
they check what depends on the state of the rows they lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from forecasts.models import Question, Resolution
from markets import lmsr
from markets.models import (
    SETTLEMENT_KINDS,
    Account,
    EntryKind,
    LedgerEntry,
    Market,
    MarketStatus,
    Trade,
    takes_a_market,
)
from markets.money import Order, parse_money, positive
from markets.pricing import order_shares, price_trade

DEFAULT_STARTING_GRANT = Decimal("1000")
MAX_LIQUIDITY = Decimal("1e6")
ZERO = Decimal("0.0000")
# What a resolution that names no outcome settles a market as: every trade unwound.
UNWINDING_RESOLUTIONS = (Resolution.ANNULLED, Resolution.AMBIGUOUS)


def starting_grant() -> Decimal:
    return parse_money(getattr(settings, "MARKET_STARTING_GRANT", DEFAULT_STARTING_GRANT), "grant")


# --- accounts ---------------------------------------------------------------------------------


@transaction.atomic
def account_open(*, user: User, now: dt.datetime | None = None) -> Account:
    """The user's account, opened with the starting grant if they have none; safe to repeat."""
    now = now or timezone.now()
    account, created = Account.objects.get_or_create(user=user, defaults={"created_at": now})
    if created:
        _post(account=account, market=None, kind=EntryKind.GRANT, amount=starting_grant(), now=now)
        account.refresh_from_db(fields=["balance"])
    return account


@transaction.atomic
def account_grant(*, user: User, amount: Decimal, now: dt.datetime | None = None) -> Account:
    """Give ``user`` more play money (staff top-ups); opens their account if need be."""
    now = now or timezone.now()
    value = positive(amount, "amount", lmsr.MONEY_QUANTUM)
    account = Account.objects.select_for_update().get(pk=account_open(user=user, now=now).pk)
    _post(account=account, market=None, kind=EntryKind.GRANT, amount=value, now=now)
    account.refresh_from_db(fields=["balance"])
    return account


# --- markets ----------------------------------------------------------------------------------


@transaction.atomic
def market_create(
    *,
    question_id: int,
    b: Decimal,
    now: dt.datetime | None = None,
) -> Market:
    """Open a market on the question with liquidity ``b``, one outcome per outcome of the
    question (YES and NO, or each option of a multiple-choice question: fixed from now on), no
    shares outstanding; its maker's pot gets the subsidy, b ln n.

    Refusals name ``question`` (the question cannot get a market) or ``b``, as the API's and
    the admin's forms name what they send.
    """
    now = now or timezone.now()
    liquidity = positive(b, "b", lmsr.MONEY_QUANTUM)
    if liquidity > MAX_LIQUIDITY:
        raise ValidationError({"b": f"The liquidity may be at most {MAX_LIQUIDITY:,f}."})
    question = Question.objects.select_for_update().filter(pk=question_id).first()
    if question is None:
        raise ValidationError({"question": "No such question."})
    if question.is_continuous:
        raise ValidationError({"question": "Numeric and date questions have no market."})
    n_outcomes = len(question.option_labels)
    if question.resolution:
        raise ValidationError({"question": "This question is resolved: it cannot get a market."})
    if not takes_a_market(question, now):
        raise ValidationError(
            {"question": "This question is closed to forecasts: it cannot get a market."}
        )
    if Market.objects.filter(question=question).exists():
        raise ValidationError({"question": "This question has a market already."})
    market = Market.objects.create(
        question=question, b=liquidity, q=(ZERO,) * n_outcomes, created_at=now
    )
    _post(
        account=None,
        market=market,
        kind=EntryKind.SUBSIDY,
        amount=subsidy(liquidity, n_outcomes),
        now=now,
    )
    market.refresh_from_db(fields=["maker_balance"])
    return market


def subsidy(b: Decimal, n_outcomes: int = 2) -> Decimal:
    """b ln n rounded up to the money grid: the most the maker can lose, paid in up front."""
    return lmsr.worst_case_loss_money(b, n_outcomes)


# --- trading ----------------------------------------------------------------------------------


@transaction.atomic
def market_trade(
    *, user: User, market_id: int, order: Order, now: dt.datetime | None = None
) -> Trade:
    """Make ``order`` for ``user``: buy a number of shares, as many as an amount pays for, or
    enough to move the outcome's price to a target; or sell shares the user holds back to the
    maker. Refuses what the market's state forbids: an overdraft, a sale of shares not held, a
    target the price is past already, a trade too large for the market."""
    market, account, now = _lock(user=user, market_id=market_id, now=now)
    shares = order_shares(market=market, order=order)
    if order.action == "sell":
        held = holding(account=account, market=market, outcome=order.outcome)
        if order.value > held:
            # normalize: the same text whether the database sums to "3" or to "3.0000"
            message = f"You hold {held.normalize():f} shares of this outcome."
            raise ValidationError({"shares": message})
    return _trade(
        market=market,
        account=account,
        outcome=order.outcome,
        shares=shares,
        field=order.by,
        now=now,
    )


def holding(*, account: Account, market: Market, outcome: int) -> Decimal:
    """Shares of ``outcome`` the account holds: the sum of its trades (positions are derived)."""
    total = Trade.objects.filter(account=account, market=market, outcome=outcome).aggregate(
        s=Sum("shares")
    )["s"]
    return total if total is not None else ZERO


def _lock(
    *, user: User, market_id: int, now: dt.datetime | None
) -> tuple[Market, Account, dt.datetime]:
    """Lock the market, then the account (the one order); refuse a market not trading now."""
    market = Market.objects.select_for_update().filter(pk=market_id).first()
    if market is None:
        raise ValidationError({"market": "No such market."})
    # Read after the lock: a resolution that committed meanwhile is seen here.
    question = Question.objects.get(pk=market.question_id)
    now = now or timezone.now()
    if not market.is_trading(now, question=question):
        raise ValidationError({"market": "This market is not open for trading."})
    account = Account.objects.select_for_update().filter(user=user).first()
    if account is None:  # the first trade opens the account
        account = Account.objects.select_for_update().get(pk=account_open(user=user, now=now).pk)
    return market, account, now


def _trade(
    *, market: Market, account: Account, outcome: int, shares: Decimal, field: str, now: dt.datetime
) -> Trade:
    quote = price_trade(market=market, outcome=outcome, shares=shares, field=field)
    charge = quote.cost
    # Only a buy can overdraw: a sale always brings money in, even to an account below zero.
    if charge > 0 and charge > account.balance:
        raise ValidationError({field: f"That costs {charge}; your balance is {account.balance}."})
    trade = Trade.objects.create(
        market=market,
        account=account,
        outcome=outcome,
        shares=shares,
        cost=charge,
        price_before=quote.price_before,
        price_after=quote.price_after,
        created_at=now,
    )
    # ``market`` was read under its row lock (``_lock``): no trade can have moved q since.
    shares_out = list(market.q)
    shares_out[outcome] += shares
    _pair(
        account=account,
        market=market,
        kind=EntryKind.TRADE,
        to_maker=charge,
        trade=trade,
        now=now,
        market_update={"q": tuple(shares_out)},
    )
    return trade


# --- settlement -------------------------------------------------------------------------------


@transaction.atomic
def market_settle(*, question_id: int, now: dt.datetime | None = None) -> Market | None:
    """Pay out (a resolution to one of its outcomes: YES/NO on a binary market) or unwind
    (annulled/ambiguous) the question's market, once.

    Paying out: each share of the winning outcome bought by the effective resolution time pays
    1, and trades made after that time are unwound first (scoring ignores forecasts made after
    it too). Annulled or ambiguous: every trade is unwound. Unwinding a trader's trades is one
    ``refund`` pair of their net cost: money back when they paid in net, profit taken back when
    their sales brought in more than their buys cost; so each account ends where it would be
    without those trades, and an annulled market's maker is left with exactly its subsidy.
    Taking a profit back can leave a balance below zero (see ``markets.models``).

    Called by ``question_resolve`` in its transaction. Does nothing if there is no market, the
    question is not resolved, or the market is settled already.
    """
    now = now or timezone.now()
    # The question first, then its market: the order ``question_resolve`` locks them in.
    question = Question.objects.select_for_update().get(pk=question_id)
    market = Market.objects.select_for_update().filter(question_id=question_id).first()
    if market is None or market.status != MarketStatus.OPEN or not question.resolution:
        return market
    trades = Trade.objects.filter(market=market)
    payouts: dict[int, Decimal] = {}
    winner = (
        question.outcome_index
        if question.resolution == Resolution.OPTION
        else winning_outcome(resolution=question.resolution, labels=market.labels)
    )
    if winner is not None:
        cutoff = question.resolved_at or now
        unwound = trades.filter(created_at__gt=cutoff)
        kept = trades.filter(created_at__lte=cutoff, outcome=winner)
        payouts = _sums(kept.values("account").annotate(v=Sum("shares")))
        status = MarketStatus.RESOLVED
    else:
        unwound = trades
        status = MarketStatus.ANNULLED
    refunds = _sums(unwound.values("account").annotate(v=Sum("cost")))
    owed = ((EntryKind.REFUND, refunds), (EntryKind.PAYOUT, payouts))  # unwind, then pay
    for account in _lock_accounts([*payouts, *refunds]):
        for kind, amounts in owed:
            if account.pk in amounts:
                _pair(
                    account=account,
                    market=market,
                    kind=kind,
                    to_maker=-amounts[account.pk],
                    now=now,
                )
    Market.objects.filter(pk=market.pk).update(status=status)
    market.refresh_from_db()
    return market


def winning_outcome(*, resolution: str, labels: Sequence[str]) -> int | None:
    """The index of the outcome a resolution names (by its label, in any case), or None for a
    resolution that unwinds the market (annulled, ambiguous). A resolution that names none of
    the market's outcomes is refused, naming ``resolution``: settling runs in the resolution's
    transaction, so nothing is written."""
    # A multiple-choice question's resolution names its option by index (``market_settle``
    # reads it from the question); this reads a binary one's by label.
    if resolution in UNWINDING_RESOLUTIONS:
        return None
    named = [i for i, label in enumerate(labels) if label.casefold() == resolution.casefold()]
    if not named:
        raise ValidationError(
            {"resolution": f"This question's market has no outcome {resolution!r}."}
        )
    return named[0]


def _sums(rows: Iterable[Mapping[str, Any]]) -> dict[int, Decimal]:
    """{account id: v} for the non-zero sums of a ``values("account").annotate(v=...)``."""
    return {int(row["account"]): row["v"] for row in rows if row["v"]}


@transaction.atomic
def market_unsettle(*, question_id: int, now: dt.datetime | None = None) -> Market | None:
    """Undo the market's settlement with reversal entries, and reopen it; safe to repeat."""
    now = now or timezone.now()
    market = Market.objects.select_for_update().filter(question_id=question_id).first()
    if market is None or market.status == MarketStatus.OPEN:
        return market
    standing = list(
        LedgerEntry.objects.filter(
            market=market, kind__in=SETTLEMENT_KINDS, reversal__isnull=True
        ).order_by("id")
    )
    # Keyed by account_id, None being the maker's side (no account).
    accounts: dict[int | None, Account] = {
        a.pk: a for a in _lock_accounts(e.account_id for e in standing if e.account_id)
    }
    reversals = [
        LedgerEntry(
            account=accounts.get(entry.account_id),
            market=market,
            kind=EntryKind.REVERSAL,
            reverses=entry,
            amount=-entry.amount,
            created_at=now,
        )
        for entry in standing
    ]
    LedgerEntry.objects.bulk_create(reversals)
    for entry in reversals:
        _apply(account=entry.account, market=None if entry.account else market, amount=entry.amount)
    Market.objects.filter(pk=market.pk).update(status=MarketStatus.OPEN)
    market.refresh_from_db()
    return market


# --- the ledger -------------------------------------------------------------------------------


def _pair(
    *,
    account: Account,
    market: Market,
    kind: str,
    to_maker: Decimal,
    now: dt.datetime,
    trade: Trade | None = None,
    market_update: Mapping[str, object] | None = None,
) -> None:
    """Move ``to_maker`` from the account to the market's maker (negative: the other way);
    ``market_update`` changes more of the market's row in the same statement."""
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                account=side, market=market, trade=trade, kind=kind, amount=amount, created_at=now
            )
            for side, amount in ((account, -to_maker), (None, to_maker))
        ]
    )
    _apply(account=account, market=None, amount=-to_maker)
    Market.objects.filter(pk=market.pk).update(
        maker_balance=F("maker_balance") + to_maker, **(market_update or {})
    )


def _post(
    *, account: Account | None, market: Market | None, kind: str, amount: Decimal, now: dt.datetime
) -> None:
    """A single entry: only grants and subsidies, the two ways money enters."""
    LedgerEntry.objects.create(
        account=account, market=market, kind=kind, amount=amount, created_at=now
    )
    _apply(account=account, market=None if account else market, amount=amount)


def _apply(*, account: Account | None, market: Market | None, amount: Decimal) -> None:
    """Keep the cached balance equal to the ledger: an F() update, on a row this holds locked."""
    if account is not None:
        Account.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
    elif market is not None:
        Market.objects.filter(pk=market.pk).update(maker_balance=F("maker_balance") + amount)


def _lock_accounts(ids: Iterable[int]) -> list[Account]:
    return list(Account.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk"))
