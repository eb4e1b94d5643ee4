"""Formatting for the market pages: money, shares, a trade's outcome and the price after it."""

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
def yes_after(trade: Trade) -> float | None:
    """P(YES) after the trade on a binary market; None (an em dash) on others."""
    return selectors.yes_price_after(trade)


@register.filter
def outcome_of(trade: Trade) -> str:
    """The traded outcome as the pages name it: YES, NO; or an option's label."""
    return trade.market.outcome_name(trade.outcome)


@register.filter
def price_after(trade: Trade) -> float:
    """The "after" column of a trade: P(YES) on a binary market, as ever; on others the price
    of the outcome traded (the trade's row names it)."""
    yes = selectors.yes_price_after(trade)
    return trade.price_after if yes is None else yes


@register.filter
def trade_verb(trade: Trade) -> str:
    return "Bought" if trade.shares > 0 else "Sold"


@register.filter
def gap_points(market: Market, median: float | None) -> str:
    """The market's P(YES) less the crowd's median ``median`` (as shown beside it), in
    percentage points: "+12.5 pts"; an em dash without a median."""
    if median is None or market.price_yes is None:
        return "—"
    return f"{fixed((market.price_yes - median) * 100, 1, sign=True)} pts"


@register.filter
def outcome_name(market: Market, index: int) -> str:
    """``market|outcome_name:index``: the outcome as the pages name it."""
    return market.outcome_name(index)
