"""Pricing trades without making them.

``market_quote`` prices an order at a market's current state with the same sizing and rounding
as ``markets.services.market_trade``, which uses ``order_shares`` and ``price_trade`` to make
the trade itself. Every refusal is a ``ValidationError`` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from markets import lmsr
from markets.models import Market
from markets.money import Order, choice_text


@dataclass(frozen=True)
class Quote:
    """What a trade would do at the market's current state: nothing is written."""

    outcome: int
    shares: Decimal  # > 0 buys, < 0 sells
    cost: Decimal  # > 0: the trader pays; < 0: the trader is paid
    price_before: float  # of the traded outcome
    price_after: float
    prices_after: tuple[float, ...]  # of every outcome, by index

    @property
    def average_price(self) -> Decimal:
        return (self.cost / self.shares).quantize(lmsr.MONEY_QUANTUM)

    @property
    def yes_price_after(self) -> float | None:
        """P(YES) after the trade on a binary market; None on one with more outcomes."""
        if len(self.prices_after) != 2:
            return None
        return self.price_after if self.outcome == lmsr.YES else 1.0 - self.price_after


def market_quote(*, market: Market, order: Order) -> Quote:
    """Price ``order`` at the market's current state without trading.

    The same sizing and rounding as ``market_trade``, so the preview is what the trade costs
    unless someone trades first. Holdings and balance are not checked here.
    """
    shares = order_shares(market=market, order=order)
    return price_trade(market=market, outcome=order.outcome, shares=shares, field=order.by)


def check_outcome(*, market: Market, outcome: int) -> None:
    """Refuse, naming ``outcome``, an outcome the market does not have (an order parsed against
    another market's labels)."""
    if not 0 <= outcome < market.n_outcomes:
        raise ValidationError({"outcome": f"Choose {choice_text(market.labels)}."})


def price_trade(*, market: Market, outcome: int, shares: Decimal, field: str) -> Quote:
    """The charge and prices of trading ``shares`` of ``outcome`` now; refuses absurd sizes."""
    b = float(market.b)
    q_after = list(market.q)
    q_after[outcome] += shares
    if any(abs(v) >= Decimal("1e15") for v in q_after):
        raise ValidationError({field: "That trade is too large for this market."})
    prices_after = lmsr.prices(q_after, b)
    return Quote(
        outcome=outcome,
        shares=shares,
        cost=lmsr.charge_for(market.q, b, outcome, shares),
        price_before=lmsr.prices(market.q, b)[outcome],
        price_after=prices_after[outcome],
        prices_after=prices_after,
    )


def order_shares(*, market: Market, order: Order) -> Decimal:
    """The shares ``order`` trades at the market's current state: > 0 buys, < 0 sells.

    A target price for one outcome is reached by buying that outcome alone: the others' shares
    stay put, so their prices scale down together, keeping their ratios.
    """
    check_outcome(market=market, outcome=order.outcome)
    if order.action == "sell":
        return -order.value
    if order.by == "shares":
        return order.value
    b = float(market.b)
    if order.by == "target_price":
        target = float(order.value)
        quantity = lmsr.to_shares(lmsr.shares_to_price(market.q, b, order.outcome, target))
        if quantity <= 0:
            message = "The price is at or above that already: buying cannot lower it."
            raise ValidationError({"target_price": message})
        return quantity
    quantity = lmsr.shares_for_amount(market.q, b, order.outcome, order.value)
    if quantity <= 0:
        raise ValidationError({"amount": "That amount buys less than 0.0001 shares."})
    return quantity
