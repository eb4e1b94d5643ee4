"""Pricing trades without making them, and reading what a trade request says.

``market_quote`` prices a buy or a sale at a market's current state with the same parsing and
rounding as ``markets.services.market_buy``/``market_sell``, which use ``price_trade`` and
``BuyRequest`` to make the trade itself. Every refusal is a ``ValidationError`` naming the field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from markets import lmsr
from markets.models import Market, Outcome

# Far beyond what any play-money balance buys, and well inside DecimalField(20, 4).
MAX_QUANTITY = Decimal("1e9")


@dataclass(frozen=True)
class Quote:
    """What a trade would do at the market's current state: nothing is written."""

    outcome: int
    shares: Decimal  # > 0 buys, < 0 sells
    cost: Decimal  # > 0: the trader pays; < 0: the trader is paid
    price_before: float  # of the traded outcome
    price_after: float

    @property
    def average_price(self) -> Decimal:
        return (self.cost / self.shares).quantize(lmsr.MONEY_QUANTUM)

    @property
    def yes_price_after(self) -> float:
        return self.price_after if self.outcome == lmsr.YES else 1.0 - self.price_after


def market_quote(
    *,
    market: Market,
    outcome: object,
    action: str = "buy",
    shares: object = None,
    amount: object = None,
    target_price: object = None,
) -> Quote:
    """Price a buy (by shares, amount or target price) or a sale (by shares) without trading.

    The same parsing and rounding as ``market_buy``/``market_sell``, so the preview is what the
    trade costs unless someone trades first. Holdings and balance are not checked here.
    """
    side = parse_outcome(outcome)
    if action == "buy":
        request = BuyRequest.parse(shares=shares, amount=amount, target_price=target_price)
        field, quantity = request.field, request.quantity(market, side)
    elif action == "sell":
        if amount is not None or target_price is not None:
            raise ValidationError({"shares": "A sale is given in shares."})
        field, quantity = "shares", -parse_positive(shares, "shares", lmsr.SHARE_QUANTUM)
    else:
        raise ValidationError({"action": "The action must be buy or sell."})
    return price_trade(market=market, outcome=side, shares=quantity, field=field)


def price_trade(*, market: Market, outcome: int, shares: Decimal, field: str) -> Quote:
    """The charge and prices of trading ``shares`` of ``outcome`` now; refuses absurd sizes."""
    b = float(market.b)
    q_after = list(market.q)
    q_after[outcome] += shares
    if any(abs(v) >= Decimal("1e15") for v in q_after):
        raise ValidationError({field: "That trade is too large for this market."})
    return Quote(
        outcome=outcome,
        shares=shares,
        cost=lmsr.charge_for(market.q, b, outcome, shares),
        price_before=lmsr.prices(market.q, b)[outcome],
        price_after=lmsr.prices(q_after, b)[outcome],
    )


@dataclass(frozen=True)
class BuyRequest:
    """A buy's size as given (exactly one of shares, amount or target price), parsed."""

    field: str
    value: Decimal | float

    @classmethod
    def parse(cls, *, shares: object, amount: object, target_price: object) -> BuyRequest:
        choices = {"shares": shares, "amount": amount, "target_price": target_price}
        given = [name for name, value in choices.items() if value is not None]
        if len(given) != 1:
            field = given[-1] if given else "shares"
            raise ValidationError({field: "Give exactly one of shares, amount or target price."})
        # Parse before locking: bad input costs no lock.
        if shares is not None:
            return cls("shares", parse_positive(shares, "shares", lmsr.SHARE_QUANTUM))
        if amount is not None:
            return cls("amount", parse_positive(amount, "amount", lmsr.MONEY_QUANTUM))
        return cls("target_price", parse_price(target_price))

    def quantity(self, market: Market, side: int) -> Decimal:
        """Shares to buy at the market's current state."""
        b = float(market.b)
        if isinstance(self.value, float):  # a target price, the one size that is a float
            quantity = lmsr.to_shares(lmsr.shares_to_price(market.q, b, side, self.value))
            if quantity <= 0:
                message = "The price is at or above that already: buying cannot lower it."
                raise ValidationError({"target_price": message})
            return quantity
        if self.field == "shares":
            return self.value
        quantity = lmsr.shares_for_amount(market.q, b, side, self.value)
        if quantity <= 0:
            raise ValidationError({"amount": "That amount buys less than 0.0001 shares."})
        return quantity


# --- input ------------------------------------------------------------------------------------


# Digits with an optional sign and decimal point. Decimal() itself also takes "1_000", "1e3",
# "NaN" and "Infinity"; none of them is how a person writes an amount.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def parse_decimal(raw: object, field: str) -> Decimal:
    if isinstance(raw, bool) or raw is None:
        raise ValidationError({field: "A number is required."})
    try:
        if isinstance(raw, float):
            if not math.isfinite(raw):
                raise ValidationError({field: "The number must be finite."})
            value = Decimal(repr(raw))
        elif isinstance(raw, str):
            if not _PLAIN_NUMBER.fullmatch(raw.strip()):
                raise ValidationError(
                    {field: "Write the number with digits and at most one decimal point."}
                )
            value = Decimal(raw.strip())
        elif isinstance(raw, Decimal | int):
            value = Decimal(raw)
        else:
            raise ValidationError({field: "A number is required."})
    except InvalidOperation:
        raise ValidationError({field: "The value must be a number."}) from None
    if not value.is_finite():
        raise ValidationError({field: "The number must be finite."})
    return value


def parse_positive(raw: object, field: str, quantum: Decimal) -> Decimal:
    """A positive number on the grid of ``quantum`` (0.0001), at most ``MAX_QUANTITY``."""
    value = parse_decimal(raw, field)
    if value <= 0:
        raise ValidationError({field: "The number must be greater than 0."})
    if value > MAX_QUANTITY:
        raise ValidationError({field: f"The number may be at most {MAX_QUANTITY:,f}."})
    if value != value.quantize(quantum):
        raise ValidationError({field: f"Use at most 4 decimal places ({quantum})."})
    return value.quantize(quantum)


def parse_money(raw: object, field: str) -> Decimal:
    return parse_positive(raw, field, lmsr.MONEY_QUANTUM)


def parse_price(raw: object) -> float:
    value = float(parse_decimal(raw, "target_price"))
    if not 0.001 <= value <= 0.999:
        raise ValidationError({"target_price": "Give a target price between 0.001 and 0.999."})
    return value


def parse_outcome(raw: object) -> int:
    """``"yes"``/``"no"`` (any case) or the outcome's index 0/1."""
    if isinstance(raw, str) and raw.strip().lower() in ("yes", "no"):
        return Outcome.YES if raw.strip().lower() == "yes" else Outcome.NO
    if isinstance(raw, int) and not isinstance(raw, bool) and raw in Outcome.values:
        return int(raw)
    raise ValidationError({"outcome": "Choose yes or no."})
