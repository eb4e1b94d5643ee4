"""Reads on markets: balances, positions, price history, the profit leaderboard, the audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.auth.models import User
from django.db.models import (
    Case,
    Count,
    DecimalField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Abs, Coalesce

from forecasts.models import PRACTICE_SOURCE_KEY
from markets import lmsr
from markets.models import (
    SETTLEMENT_KINDS,
    SOURCE_KINDS,
    Account,
    EntryKind,
    LedgerEntry,
    Market,
    MarketStatus,
    Outcome,
    Trade,
)

ZERO = Decimal("0.0000")
SETTLED = (MarketStatus.RESOLVED, MarketStatus.ANNULLED)
_MONEY = DecimalField(max_digits=20, decimal_places=4)


def account_for(*, user: User) -> Account | None:
    return Account.objects.filter(user=user).select_related("user").first()


def market_list() -> QuerySet[Market]:
    return Market.objects.select_related("question").order_by("-created_at", "-id")


def positions(
    *, account: Account, market: Market | None = None
) -> QuerySet[Trade, Mapping[str, Any]]:
    """Rows (market, outcome, shares, net_cost) per market and outcome the account traded.

    Derived from trades (no position table: nothing to keep in step). Net cost is what the
    account paid for the outcome, less what selling it brought in.
    """
    trades = Trade.objects.filter(account=account)
    if market is not None:
        trades = trades.filter(market=market)
    return (
        trades.values("market", "market__question__title", "outcome")
        .annotate(shares=Sum("shares"), net_cost=Sum("cost"), trades=Count("id"))
        .order_by("market", "outcome")
    )


def price_history(*, market: Market) -> QuerySet[Trade]:
    """Trades in order with the YES price after each: what a price chart draws."""
    return Trade.objects.filter(market=market).order_by("created_at", "id")


def market_tape(*, market: Market) -> QuerySet[Trade]:
    """The market's trades, newest first (shown without their traders)."""
    return price_history(market=market).reverse()


def account_trades(*, account: Account | None, market_id: int | None = None) -> QuerySet[Trade]:
    """An account's trades (on one market, if given), newest first, with market and question."""
    if account is None:
        return Trade.objects.none()
    trades = Trade.objects.filter(account=account).select_related("market__question")
    if market_id is not None:
        trades = trades.filter(market_id=market_id)
    return trades.order_by("-created_at", "-id")


class Standing(TypedDict):
    """What ``leaderboard`` adds to each account."""

    granted: Decimal
    profit: Decimal
    settled_markets: int


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    RankedAccount = WithAnnotations[Account, Standing]


def account_standing(*, user: User) -> RankedAccount | None:
    """The user's account with ``granted`` and ``profit`` as the leaderboard computes them
    (practice traders included); None before the first trade opens it."""
    return leaderboard(include_practice=True).filter(user=user).first()


def market_rows() -> QuerySet[Market]:
    """Markets with their question, trade count and volume (the sum of |cost|)."""
    return market_list().annotate(
        trade_count=Count("trades"),
        volume=Coalesce(Sum(Abs("trades__cost")), Value(ZERO), output_field=_MONEY),
    )


def yes_price_after(trade: Trade) -> float:
    """P(YES) after ``trade``, whichever outcome it traded."""
    return trade.price_after if trade.outcome == Outcome.YES else 1.0 - trade.price_after


def leaderboard(*, include_practice: bool = False) -> QuerySet[RankedAccount]:
    """Accounts by realised profit: on the markets that have settled, what settlement paid them
    less what they spent there (``profit``), with how many such markets they traded
    (``settled_markets``) and the play money granted to them (``granted``).

    Live balances are not part of it: a public ranking that moved with every trade would tie the
    anonymous tape to a name. Open markets count only once they settle.

    Practice markets (the demo's, settled as they are made) are traded only by the demo's
    simulated forecasters; like the scores' leaderboard, this one leaves them out unless asked.
    """
    granted = (
        LedgerEntry.objects.filter(account=OuterRef("pk"), kind=EntryKind.GRANT)
        .values("account")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    # Trades, payouts, refunds and their reversals on settled markets: the account's net gain.
    settled_entries = LedgerEntry.objects.filter(
        account=OuterRef("pk"), market__status__in=SETTLED
    ).values("account")
    realised = settled_entries.annotate(total=Sum("amount")).values("total")
    settled_count = settled_entries.annotate(n=Count("market", distinct=True)).values("n")
    accounts = Account.objects.select_related("user")
    if not include_practice:
        accounts = accounts.exclude(
            pk__in=Trade.objects.filter(market__question__source__key=PRACTICE_SOURCE_KEY).values(
                "account"
            )
        )
    return accounts.annotate(
        granted=Coalesce(Subquery(granted, output_field=_MONEY), Value(ZERO)),
        profit=Coalesce(Subquery(realised, output_field=_MONEY), Value(ZERO)),
        settled_markets=Coalesce(Subquery(settled_count), Value(0)),
    ).order_by("-profit", "id")


@dataclass(frozen=True)
class LedgerAudit:
    """The accounting identity, every cache against the ledger, and the market invariants;
    ``ok`` when all hold."""

    money_in: Decimal  # grants + subsidies
    held: Decimal  # sum of account balances + sum of maker pots
    transfers: Decimal  # sum of trade/payout/refund/reversal entries: must be exactly 0
    account_mismatches: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)
    maker_mismatches: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)
    share_mismatches: dict[int, tuple[Decimal, Decimal, Decimal, Decimal]] = field(
        default_factory=dict
    )
    # market -> its maker's pot (from the ledger), where it is below zero
    negative_pots: dict[int, Decimal] = field(default_factory=dict)
    # settled market -> (what its maker lost of its subsidy, b ln n on the money grid)
    maker_overdrawn: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)
    # (annulled market, account) -> the account's net entries there, where not zero
    annulled_residues: dict[tuple[int, int], Decimal] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.held == self.money_in
            and self.transfers == 0
            and not self.account_mismatches
            and not self.maker_mismatches
            and not self.share_mismatches
            and not self.negative_pots
            and not self.maker_overdrawn
            and not self.annulled_residues
        )


def ledger_audit() -> LedgerAudit:
    """Recompute every balance from the ledger, in Python Decimal sums (exact on the grid)."""
    per_account: dict[int, Decimal] = {}
    per_maker: dict[int, Decimal] = {}
    subsidies: dict[int, Decimal] = {}
    per_account_market: dict[tuple[int, int], Decimal] = {}
    money_in = transfers = ZERO
    for account_id, market_id, kind, amount in LedgerEntry.objects.values_list(
        "account", "market", "kind", "amount"
    ):
        if account_id is not None:
            per_account[account_id] = per_account.get(account_id, ZERO) + amount
            if market_id is not None:
                key = (market_id, account_id)
                per_account_market[key] = per_account_market.get(key, ZERO) + amount
        else:
            per_maker[market_id] = per_maker.get(market_id, ZERO) + amount
            if kind == EntryKind.SUBSIDY:
                subsidies[market_id] = subsidies.get(market_id, ZERO) + amount
        if kind in SOURCE_KINDS:
            money_in += amount
        else:
            transfers += amount
    balances = dict(Account.objects.values_list("pk", "balance"))
    rows = Market.objects.values_list("pk", "maker_balance", "q_yes", "q_no", "b", "status")
    markets = {pk: (pot, (q_yes, q_no), b, status) for pk, pot, q_yes, q_no, b, status in rows}
    traded = {pk: [ZERO, ZERO] for pk in markets}
    for market_id, outcome, s in Trade.objects.values_list("market", "outcome", "shares"):
        traded[market_id][outcome] += s
    overdrawn = {}
    for pk, (_, _, b, status) in markets.items():
        loss = subsidies.get(pk, ZERO) - per_maker.get(pk, ZERO)
        bound = lmsr.worst_case_loss_money(b, len(Outcome))
        if status in SETTLED and loss > bound:
            overdrawn[pk] = (loss, bound)
    annulled = {pk for pk, m in markets.items() if m[3] == MarketStatus.ANNULLED}
    return LedgerAudit(
        money_in=money_in,
        held=sum(balances.values(), ZERO) + sum((m[0] for m in markets.values()), ZERO),
        transfers=transfers,
        account_mismatches={
            pk: (cached, per_account.get(pk, ZERO))
            for pk, cached in balances.items()
            if cached != per_account.get(pk, ZERO)
        },
        maker_mismatches={
            pk: (m[0], per_maker.get(pk, ZERO))
            for pk, m in markets.items()
            if m[0] != per_maker.get(pk, ZERO)
        },
        share_mismatches={
            pk: (*m[1], traded[pk][0], traded[pk][1])
            for pk, m in markets.items()
            if m[1] != tuple(traded[pk])
        },
        negative_pots={pk: pot for pk, pot in per_maker.items() if pot < 0},
        maker_overdrawn=overdrawn,
        annulled_residues={
            key: net for key, net in per_account_market.items() if key[0] in annulled and net
        },
    )


def price_steps(
    *, question_ids: Iterable[int]
) -> list[tuple[int, dt.datetime, dt.datetime | None, float]]:
    """Each market's P(YES) as steps (question_id, start, end, p), ordered by question and time.

    A market opens at 0.5 (LMSR with no shares out) and moves after each trade; the last step is
    open-ended (``end`` None). The same shape as the crowd's history, so the two can be
    time-weighted, charted and compared alike. Two queries.
    """
    rows = list(
        Market.objects.filter(question_id__in=list(question_ids)).values_list(
            "pk", "question_id", "created_at"
        )
    )
    opened = {pk: question_id for pk, question_id, _ in rows}
    starts = {pk: created_at for pk, _, created_at in rows}
    trades = (
        Trade.objects.filter(market_id__in=list(opened))
        .order_by("market_id", "created_at", "id")
        .values_list("market_id", "created_at", "outcome", "price_after")
    )
    points: dict[int, list[tuple[dt.datetime, float]]] = {
        pk: [(starts[pk], 0.5)] for pk in sorted(opened, key=lambda pk: opened[pk])
    }
    for market_id, at, outcome, after in trades:
        points[market_id].append((at, after if outcome == Outcome.YES else 1.0 - after))
    steps: list[tuple[int, dt.datetime, dt.datetime | None, float]] = []
    for market_id, series in points.items():
        ends = [at for at, _ in series[1:]] + [None]
        steps.extend(
            (opened[market_id], at, end, p) for (at, p), end in zip(series, ends, strict=True)
        )
    return steps


def market_overview() -> QuerySet[Market]:
    """Every market with its question, number of trades and volume (money that changed hands);
    open markets first, by closing date. One query per page."""
    return (
        market_rows()
        .annotate(open_first=Case(When(status=MarketStatus.OPEN, then=Value(0)), default=Value(1)))
        .order_by("open_first", "question__closes_at", "id")
    )


def market_results(*, question_id: int) -> dict[int, tuple[Decimal, Decimal]]:
    """Each trader on the question's market, by user id: (what its settlement paid them, the
    net cost of their trades). Reversed settlements do not count. Two queries."""
    costs = (
        Trade.objects.filter(market__question_id=question_id)
        .values_list("account__user")
        .annotate(net=Sum("cost"))
    )
    paid = dict(
        LedgerEntry.objects.filter(
            market__question_id=question_id,
            kind__in=SETTLEMENT_KINDS,
            account__isnull=False,
            reversal__isnull=True,
        )
        .values_list("account__user")
        .annotate(total=Sum("amount"))
    )
    return {user_id: (paid.get(user_id, ZERO), net) for user_id, net in costs}
