"""Formatting for the market pages: money, shares, and the YES price after a trade."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from django import template

from crux.formatting import fixed
from markets import selectors
from markets.models import Market, Trade
from markets.panel import plain_shares

register = template.Library()


@register.filter
def money(value: Decimal | float | None) -> str:
    """1234.5 -> "1,234.50"; None -> an em dash."""
    if value is None:
        return "—"
    return fixed(value, 2, grouping=True)


@register.filter
def shares(value: Decimal | None) -> str:
    """Exact, without trailing zeros or separators, so that it can be typed back to sell."""
    return "—" if value is None else plain_shares(value)


_Number = TypeVar("_Number", Decimal, float)


@register.filter
def absolute(value: _Number | None) -> _Number | None:
    return None if value is None else abs(value)


@register.filter
def yes_after(trade: Trade) -> float:
    return selectors.yes_price_after(trade)


@register.filter
def trade_verb(trade: Trade) -> str:
    return "Bought" if trade.shares > 0 else "Sold"


@register.filter
def gap_points(market: Market, median: float | None) -> str:
    """The market's P(YES) less the crowd's median ``median`` (as shown beside it), in
    percentage points: "+12.5 pts"; an em dash without a median."""
    if median is None:
        return "—"
    return f"{fixed((market.price_yes - median) * 100, 1, sign=True)} pts"
