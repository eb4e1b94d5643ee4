"""Reads the market web pages need beyond ``markets.selectors``: holdings priced for display.

A holding is one account's position on one market (both outcomes), priced at the market's
current prices, or at what settlement paid when the market is settled. Everything is fetched in
a fixed number of queries (positions, their markets, the settlement entries), then computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from forecasts import selectors as forecast_selectors
from forecasts.models import Question
from markets import selectors
from markets.models import Account, EntryKind, LedgerEntry, Market, MarketStatus, Outcome

ZERO = Decimal("0.0000")
# What a settled market paid an account, net of any reversal of an earlier settlement.
_SETTLEMENT_KINDS = (EntryKind.PAYOUT, EntryKind.REFUND, EntryKind.REVERSAL)


@dataclass(frozen=True)
class Holding:
    """An account's shares of each outcome on one market, what they cost net, what they're worth."""

    market: Market
    yes_shares: Decimal
    no_shares: Decimal
    net_cost: Decimal  # paid for buys less received for sales
    trades: int
    settled: Decimal | None  # what settlement paid (net of reversals); None while open

    @property
    def is_settled(self) -> bool:
        return self.market.status != MarketStatus.OPEN

    @property
    def value(self) -> float:
        """Paid on settlement, or marked to market: each share at its outcome's price now."""
        if self.is_settled:
            return float(self.settled or ZERO)
        yes, no = self.market.prices()
        return float(self.yes_shares) * yes + float(self.no_shares) * no

    @property
    def profit(self) -> float:
        return self.value - float(self.net_cost)

    @property
    def has_shares(self) -> bool:
        return bool(self.yes_shares or self.no_shares)


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

    yes: Decimal = ZERO
    no: Decimal = ZERO
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
        tally = per_market.setdefault(row["market"], _Tally())
        if row["outcome"] == Outcome.YES:
            tally.yes = row["shares"]
        else:
            tally.no = row["shares"]
        tally.cost += row["net_cost"]
        tally.trades += row["trades"]
    result = [
        Holding(
            market=markets[pk],
            yes_shares=tally.yes,
            no_shares=tally.no,
            net_cost=tally.cost,
            trades=tally.trades,
            settled=(settled.get(pk, ZERO) if markets[pk].status != MarketStatus.OPEN else None),
        )
        for pk, tally in per_market.items()
    ]
    return sorted(result, key=lambda h: (h.market.created_at, h.market.pk), reverse=True)
