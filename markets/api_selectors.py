"""Reads the markets API needs beyond ``markets.selectors``: each returns its rows in a fixed
number of queries, whatever their count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, overload

from django.db.models import DecimalField, QuerySet

from markets import lmsr, selectors
from markets.models import Account, Market, MarketStatus, Trade

ZERO = Decimal("0.0000")
_MONEY = DecimalField(max_digits=20, decimal_places=4)


@dataclass(frozen=True)
class PricePoint:
    at: dt.datetime
    yes_price: float
    trade: int | None


class PriceHistory:
    """The opening price at the market's creation, then P(YES) after each trade, in order.

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
        if start == 0:
            # Every market opens with no shares outstanding: both outcomes at 1/2.
            opening = lmsr.prices((0, 0), float(self.market.b))[lmsr.YES]
            points.append(PricePoint(self.market.created_at, opening, None))
        first = max(start - 1, 0)
        last = None if stop is None else max(stop - 1, first)
        points += [
            PricePoint(t.created_at, selectors.yes_price_after(t), t.pk)
            for t in self.trades[first:last]
        ]
        return points

    def __iter__(self) -> Iterator[PricePoint]:
        return iter(self[0:None])


def position_rows(*, account: Account | None) -> QuerySet[Any]:
    """``selectors.positions`` for the account; nothing for a user with no account yet."""
    if account is None:
        return Trade.objects.none().values("market")
    return selectors.positions(account=account)


def positions_valued(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each position with its market's status, the outcome's current price and its value.

    One query for the page's markets. The value is shares x price while the market is open;
    once it has paid out or refunded, the money is in the balance and the position is worth 0.
    """
    markets = Market.objects.in_bulk({row["market"] for row in rows})
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
                "outcome": row["outcome"],
                "shares": row["shares"],
                "net_cost": row["net_cost"],
                "trades": row["trades"],
                "price": price,
                "value": value.quantize(lmsr.MONEY_QUANTUM),
            }
        )
    return valued
