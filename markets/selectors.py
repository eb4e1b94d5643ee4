"""Reads the markets API needs beyond ``markets.selectors``: each returns its rows in a fixed
number of queries, whatever their count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, overload

from django.contrib.auth.models import User
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    OuterRef,
    QuerySet,
    RowRange,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Abs, Coalesce

from forecasts import selectors as forecast_selectors
from forecasts.models import PRACTICE_SOURCE_KEY, Question
from markets import lmsr, selectors
from markets.models import (
    SETTLEMENT_KINDS,
    Account,
    EntryKind,
    LedgerEntry,
    Market,
    MarketStatus,
    Outcome,
    Trade,
)

ZERO = Decimal("0.0000")

_MONEY = DecimalField(max_digits=20, decimal_places=4)
_SHARES = DecimalField(max_digits=20, decimal_places=4)


@dataclass(frozen=True)
class PricePoint:
    at: dt.datetime
    prices: tuple[float, ...]  # every outcome's, by index, from ``at`` until the next point
    trade: int | None

    @property
    def yes_price(self) -> float | None:
        """P(YES) on a binary market; None on one with more outcomes."""
        return self.prices[0] if len(self.prices) == 2 else None


class PriceHistory:
    """The opening prices at the market's creation, then every outcome's price after each
    trade, in order.

    A sequence the paginator can count and slice: a page costs a count and one ranged query.
    """

    def __init__(self, market: Market) -> None:
        self.market = market
        self.trades = selectors.price_history(market=market)

    def count(self) -> int:
        return 1 + self.trades.count()

    def __len__(self) -> int:
        return self.count()

    @overload
    def __getitem__(self, index: int) -> PricePoint: ...
    @overload
    def __getitem__(self, index: slice) -> list[PricePoint]: ...
    def __getitem__(self, index: int | slice) -> PricePoint | list[PricePoint]:
        if isinstance(index, int):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        points = []
        b, n = float(self.market.b), self.market.n_outcomes
        if start == 0:
            # Every market opens with no shares outstanding: every outcome at 1/n.
            points.append(PricePoint(self.market.created_at, lmsr.prices((0,) * n, b), None))
        first = max(start - 1, 0)
        last = None if stop is None else max(stop - 1, first)
        rows = with_shares_after(self.trades, n_outcomes=n)[first:last]
        points += [PricePoint(t.created_at, lmsr.prices(shares_after(t, n), b), t.pk) for t in rows]
        return points

    def __iter__(self) -> Iterator[PricePoint]:
        return iter(self[0:None])


def position_rows(*, account: Account | None) -> QuerySet[Any]:
    """``selectors.positions`` for the account; nothing for a user with no account yet."""
    if account is None:
        return Trade.objects.none().values("market")
    return selectors.positions(account=account)


def positions_valued(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each position with its market's status, the outcome's label, current price and value.

    One query for the page's markets. The value is shares x price while the market is open;
    once it has paid out or refunded, the money is in the balance and the position is worth 0.
    """
    markets = Market.objects.select_related("question").in_bulk({row["market"] for row in rows})
    valued = []
    for row in rows:
        market = markets[row["market"]]
        price = market.prices()[row["outcome"]]
        value = row["shares"] * Decimal(price) if market.status == MarketStatus.OPEN else ZERO
        valued.append(
            {
                "market": market.pk,
                "question_title": row["market__question__title"],
                "settled": market.status != MarketStatus.OPEN,
                "outcome": market.labels[row["outcome"]],
                "shares": row["shares"],
                "net_cost": row["net_cost"],
                "trades": row["trades"],
                "price": price,
                "value": value.quantize(lmsr.MONEY_QUANTUM),
            }
        )
    return valued


# What a settled market paid an account, net of any reversal of an earlier settlement.
_SETTLEMENT_KINDS = (EntryKind.PAYOUT, EntryKind.REFUND, EntryKind.REVERSAL)


@dataclass(frozen=True)
class Holding:
    """An account's shares of each outcome on one market, what they cost net, what they're worth."""

    market: Market
    shares: tuple[Decimal, ...]  # of each outcome, by index
    net_cost: Decimal  # paid for buys less received for sales
    trades: int
    settled: Decimal | None  # what settlement paid (net of reversals); None while open

    @property
    def yes_shares(self) -> Decimal | None:
        return self.shares[Outcome.YES] if self.market.is_binary else None

    @property
    def no_shares(self) -> Decimal | None:
        return self.shares[Outcome.NO] if self.market.is_binary else None

    def outcomes(self) -> list[tuple[str, Decimal, float]]:
        """(name, shares held, current price) of each of the market's outcomes."""
        return [
            (self.market.outcome_name(i), held, price)
            for i, (held, price) in enumerate(zip(self.shares, self.market.prices(), strict=True))
        ]

    @property
    def is_settled(self) -> bool:
        return self.market.status != MarketStatus.OPEN

    @property
    def value(self) -> Decimal:
        """Paid on settlement, or marked to market: each share at its outcome's price now.

        Exact in Decimal: each price (a float) is taken as the Decimal it is, and the sum is
        rounded once, half-even, to the ledger's 0.0001."""
        if self.is_settled:
            return self.settled or ZERO
        return mark_to_market(self.shares, self.market.prices())

    @property
    def profit(self) -> Decimal:
        """What the market brought in, less what it cost: the position's value now (or what
        settlement paid) plus what sales received, less what buys paid (``net_cost`` is buys
        less sales)."""
        return self.value - self.net_cost

    @property
    def has_shares(self) -> bool:
        return any(self.shares)


def mark_to_market(shares: Iterable[Decimal], prices: Iterable[float]) -> Decimal:
    """Shares of each outcome at its price, summed exactly, rounded once to 0.0001."""
    exact = sum((held * Decimal(p) for held, p in zip(shares, prices, strict=True)), ZERO)
    return exact.quantize(lmsr.MONEY_QUANTUM)


@dataclass(frozen=True)
class Portfolio:
    """An account's money: its cash, its open positions at today's prices, and what it has
    made. Exact Decimals on the ledger's 0.0001."""

    balance: Decimal  # cash: the sum of the account's ledger entries
    positions_value: Decimal  # open positions marked to market
    granted: Decimal  # play money given to the account
    holdings: tuple[Holding, ...]

    @property
    def total_value(self) -> Decimal:
        return self.balance + self.positions_value

    @property
    def profit(self) -> Decimal:
        """All it has made, realised or not: what it is worth now, less what it was given."""
        return self.total_value - self.granted

    @property
    def open_holdings(self) -> list[Holding]:
        return [h for h in self.holdings if not h.is_settled]

    @property
    def settled_holdings(self) -> list[Holding]:
        return [h for h in self.holdings if h.is_settled]


def portfolio(*, account: Account) -> Portfolio:
    """``account``'s portfolio: ``holdings`` on every market it traded, newest market first."""
    held = tuple(holdings(account=account))
    granted = LedgerEntry.objects.filter(account=account, kind=EntryKind.GRANT).aggregate(
        total=Coalesce(Sum("amount"), Value(ZERO), output_field=_MONEY)
    )["total"]
    return Portfolio(
        balance=account.balance,
        positions_value=sum((h.value for h in held if not h.is_settled), ZERO),
        granted=granted,
        holdings=held,
    )


def public_crowd_median(market: Market) -> float | None:
    """The crowd's median beside a market annotated by ``forecasts.selectors.with_public_crowd``
    (nothing without the annotations, never the private current value)."""
    question = market.question
    return forecast_selectors.public_crowd_median(
        resolution=question.resolution,
        crowd_median=question.crowd_median,
        step_median=getattr(market, "crowd_step_median", None),
        step_forecasters=getattr(market, "crowd_step_forecasters", None),
    )


def market_for_question(*, question: Question) -> Market | None:
    return Market.objects.filter(question=question).first()


def market_get(*, market_id: int) -> Market | None:
    return Market.objects.select_related("question").filter(pk=market_id).first()


@dataclass
class _Tally:
    """One market's position rows (one per outcome) added up."""

    shares: list[Decimal]
    cost: Decimal = ZERO
    trades: int = 0


def holdings(*, account: Account, market: Market | None = None) -> list[Holding]:
    """The account's holding on every market it traded (or on ``market``), newest market first."""
    rows = list(selectors.positions(account=account, market=market))
    if not rows:
        return []
    ids = {row["market"] for row in rows}
    markets = (
        {market.pk: market}
        if market is not None
        else Market.objects.select_related("question").in_bulk(ids)
    )
    settled = dict(
        LedgerEntry.objects.filter(account=account, market__in=ids, kind__in=_SETTLEMENT_KINDS)
        .values("market")
        .annotate(total=Sum("amount"))
        .values_list("market", "total")
    )
    per_market: dict[int, _Tally] = {}
    for row in rows:
        n = markets[row["market"]].n_outcomes
        tally = per_market.setdefault(row["market"], _Tally(shares=[ZERO] * n))
        tally.shares[row["outcome"]] = row["shares"]
        tally.cost += row["net_cost"]
        tally.trades += row["trades"]
    result = [
        Holding(
            market=markets[pk],
            shares=tuple(tally.shares),
            net_cost=tally.cost,
            trades=tally.trades,
            settled=(settled.get(pk, ZERO) if markets[pk].status != MarketStatus.OPEN else None),
        )
        for pk, tally in per_market.items()
    ]
    return sorted(result, key=lambda h: (h.market.created_at, h.market.pk), reverse=True)


SETTLED = (MarketStatus.RESOLVED, MarketStatus.ANNULLED)


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
    """The market's trades in order: what a price chart steps through (see
    ``with_shares_after`` for the prices after each)."""
    return Trade.objects.filter(market=market).order_by("created_at", "id")


def with_shares_after(trades: QuerySet[Trade], *, n_outcomes: int) -> QuerySet[Trade]:
    """``trades`` (one market's, in order) each with ``q_0``..``q_{n-1}``: the outstanding shares
    of every outcome just after it, running sums the database keeps over the market's trades,
    so that any slice of them is priced without reading the trades before it. ``shares_after``
    gives them as a tuple."""
    running = {
        f"q_{i}": Window(
            Sum(Case(When(outcome=i, then=F("shares")), default=Value(ZERO)), output_field=_SHARES),
            partition_by=[F("market_id")],
            order_by=[F("created_at").asc(), F("id").asc()],
            frame=RowRange(start=None, end=0),
        )
        for i in range(n_outcomes)
    }
    return trades.annotate(**running)


def shares_after(trade: Trade, n_outcomes: int) -> tuple[Decimal, ...]:
    """The vector ``with_shares_after`` annotated on ``trade``."""
    return tuple(getattr(trade, f"q_{i}") for i in range(n_outcomes))


def market_tape(*, market: Market) -> QuerySet[Trade]:
    """The market's trades, newest first (shown without their traders), with their market."""
    return price_history(market=market).select_related("market__question").reverse()


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


def yes_price_after(trade: Trade) -> float | None:
    """P(YES) after ``trade``, whichever outcome it traded, on a binary market (its market
    loaded: ``market_tape`` and ``account_trades`` load it); None on one with more outcomes."""
    if not trade.market.is_binary:
        return None
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


PriceStep = tuple[int, dt.datetime, dt.datetime | None, tuple[float, ...]]


def price_vector_steps(*, question_ids: Iterable[int]) -> list[PriceStep]:
    """Each market's prices as steps (question_id, start, end, prices of every outcome by
    index), ordered by question and time.

    A market opens at 1/n each (LMSR with no shares out) and moves after each trade; the last
    step is open-ended (``end`` None). The prices after a trade are the softmax of the shares
    outstanding then, replayed from the trades. Two queries.
    """
    rows = list(
        Market.objects.filter(question_id__in=list(question_ids)).values_list(
            "pk", "question_id", "created_at", "b", "q"
        )
    )
    opened = {pk: question_id for pk, question_id, *_ in rows}
    shape = {pk: (float(b), len(q)) for pk, _, _, b, q in rows}
    trades = (
        Trade.objects.filter(market_id__in=list(opened))
        .order_by("market_id", "created_at", "id")
        .values_list("market_id", "created_at", "outcome", "shares")
    )
    points: dict[int, list[tuple[dt.datetime, tuple[float, ...]]]] = {}
    outstanding: dict[int, list[Decimal]] = {}
    for pk, _, created_at, _, _ in sorted(rows, key=lambda row: row[1]):
        b, n = shape[pk]
        outstanding[pk] = [ZERO] * n
        points[pk] = [(created_at, lmsr.prices(outstanding[pk], b))]
    for market_id, at, outcome, shares in trades:
        q = outstanding[market_id]
        q[outcome] += shares
        points[market_id].append((at, lmsr.prices(q, shape[market_id][0])))
    steps: list[PriceStep] = []
    for market_id, series in points.items():
        ends = [at for at, _ in series[1:]] + [None]
        steps.extend(
            (opened[market_id], at, end, p) for (at, p), end in zip(series, ends, strict=True)
        )
    return steps


def price_steps(
    *, question_ids: Iterable[int]
) -> list[tuple[int, dt.datetime, dt.datetime | None, float]]:
    """Each binary market's P(YES) as steps (question_id, start, end, p), ordered by question
    and time: ``price_vector_steps`` of the markets with two outcomes.

    The same shape as the crowd's history, so the two can be time-weighted, charted and
    compared alike. Two queries.
    """
    return [
        (question_id, start, end, prices[lmsr.YES])
        for question_id, start, end, prices in price_vector_steps(question_ids=question_ids)
        if len(prices) == 2
    ]


def market_overview(*, include_practice: bool = False) -> QuerySet[Market]:
    """Every market with its question, number of trades and volume (money that changed hands);
    open markets first, by closing date. One query per page. The demo's practice markets only
    with ``include_practice``, as on the leaderboards."""
    markets = market_rows()
    if not include_practice:
        markets = markets.exclude(question__source__key=PRACTICE_SOURCE_KEY)
    return markets.annotate(
        open_first=Case(When(status=MarketStatus.OPEN, then=Value(0)), default=Value(1))
    ).order_by("open_first", "question__closes_at", "id")


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
