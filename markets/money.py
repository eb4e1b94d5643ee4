"""Reading money, shares, prices and trade orders from what a person or a client sent.

The edge (forms, serializers, the admin, the importer, the demo) parses here, once; the services
take the typed values (``Decimal``, ``Order``) and parse nothing. The checks a value must pass
however it was built (``positive``, ``target_price``, an ``Order``'s own) are shared by both, so
a refusal reads the same from the web, the API and the code. Every refusal is a
``ValidationError`` naming the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from django.core.exceptions import ValidationError

from markets import lmsr
from markets.models import BINARY_LABELS

# Far beyond what any play-money balance buys, and well inside DecimalField(20, 4).
MAX_QUANTITY = Decimal("1e9")
TARGET_MIN, TARGET_MAX = Decimal("0.001"), Decimal("0.999")

# Digits with an optional sign and decimal point. Decimal() itself also takes "1_000", "1e3",
# "NaN" and "Infinity"; none of them is how a person writes an amount.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")

Action = Literal["buy", "sell"]
SizeBy = Literal["shares", "amount", "target_price"]
_QUANTUM: dict[SizeBy, Decimal] = {"shares": lmsr.SHARE_QUANTUM, "amount": lmsr.MONEY_QUANTUM}


def parse_decimal(raw: object, field: str) -> Decimal:
    """A finite number from a string of plain digits, an int, a float or a Decimal."""
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


def positive(value: Decimal, field: str, quantum: Decimal) -> Decimal:
    """``value`` on the grid of ``quantum`` (0.0001), greater than 0 and at most
    ``MAX_QUANTITY``; refused otherwise. The check of every amount of money or shares."""
    if not value.is_finite():
        raise ValidationError({field: "The number must be finite."})
    if value <= 0:
        raise ValidationError({field: "The number must be greater than 0."})
    if value > MAX_QUANTITY:
        raise ValidationError({field: f"The number may be at most {MAX_QUANTITY:,f}."})
    if value != value.quantize(quantum):
        raise ValidationError({field: f"Use at most 4 decimal places ({quantum})."})
    return value.quantize(quantum)


def parse_positive(raw: object, field: str, quantum: Decimal) -> Decimal:
    return positive(parse_decimal(raw, field), field, quantum)


def parse_money(raw: object, field: str) -> Decimal:
    return parse_positive(raw, field, lmsr.MONEY_QUANTUM)


def target_price(value: Decimal) -> Decimal:
    """A price to buy up to, in [0.001, 0.999]; refused otherwise."""
    if not value.is_finite():
        raise ValidationError({"target_price": "The number must be finite."})
    if not TARGET_MIN <= value <= TARGET_MAX:
        raise ValidationError({"target_price": "Give a target price between 0.001 and 0.999."})
    return value


def parse_price(raw: object) -> Decimal:
    return target_price(parse_decimal(raw, "target_price"))


def choice_text(labels: Sequence[str]) -> str:
    """The outcomes as a refusal offers them: "yes or no"; "a, b or c"."""
    return f"{', '.join(labels[:-1])} or {labels[-1]}"


def parse_outcome(raw: object, labels: Sequence[str] = BINARY_LABELS) -> int:
    """The index of the outcome ``raw`` names: one of ``labels`` (any case; binary: "yes",
    "no"), or its index 0..n-1 as an integer, or as a string of digits that is no label (a
    query string carries only strings; a label that reads as a number is the label)."""
    if isinstance(raw, str):
        text = raw.strip().casefold()
        for index, label in enumerate(labels):
            if label.casefold() == text:
                return index
        if text.isascii() and text.isdigit() and len(text) <= 3:
            raw = int(text)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < len(labels):
        return int(raw)
    raise ValidationError({"outcome": f"Choose {choice_text(labels)}."})


@dataclass(frozen=True)
class Order:
    """A trade as asked for: buy ``outcome`` by a number of shares, by an amount of money to
    spend or up to a target price; or sell a number of its shares.

    Built at the edge by ``Order.parse``; an order is checked however it is built, so a service
    never meets a negative size or a sale given in money. What depends on the market's state
    (the balance, the shares held, a price already past the target) is the services' to check.
    ``labels`` are the outcomes of the market the order was made for (binary unless given).
    """

    outcome: int
    action: Action
    by: SizeBy
    value: Decimal  # shares or money on the 0.0001 grid; a target price in [0.001, 0.999]
    labels: tuple[str, ...] = BINARY_LABELS

    def __post_init__(self) -> None:
        if (
            isinstance(self.outcome, bool)
            or not isinstance(self.outcome, int)
            or not 0 <= self.outcome < len(self.labels)
        ):
            raise ValidationError({"outcome": f"Choose {choice_text(self.labels)}."})
        if self.action not in ("buy", "sell"):
            raise ValidationError({"action": "The action must be buy or sell."})
        if self.action == "sell" and self.by != "shares":
            raise ValidationError({"shares": "A sale is given in shares."})
        if self.by == "target_price":
            value = target_price(self.value)
        elif self.by in _QUANTUM:
            value = positive(self.value, self.by, _QUANTUM[self.by])
        else:
            raise ValidationError({"shares": "Give exactly one of shares, amount or target price."})
        object.__setattr__(self, "value", value)  # on the grid, as the ledger stores it

    @classmethod
    def parse(
        cls,
        *,
        outcome: object,
        action: object,
        shares: object = None,
        amount: object = None,
        target_price: object = None,
        labels: Sequence[str] = BINARY_LABELS,
    ) -> Order:
        """The order a request gives: an outcome (by its label or index among the market's
        ``labels``), buy or sell, and its size; a buy gives exactly one of ``shares``,
        ``amount`` or ``target_price``, a sale gives ``shares``."""
        names = tuple(labels)
        side = parse_outcome(outcome, names)
        if action == "sell":
            if amount is not None or target_price is not None:
                raise ValidationError({"shares": "A sale is given in shares."})
            return cls(side, "sell", "shares", parse_decimal(shares, "shares"), names)
        if action != "buy":
            raise ValidationError({"action": "The action must be buy or sell."})
        sizes: dict[SizeBy, object] = {
            "shares": shares,
            "amount": amount,
            "target_price": target_price,
        }
        given = [name for name, value in sizes.items() if value is not None]
        if len(given) != 1:
            field = given[-1] if given else "shares"
            raise ValidationError({field: "Give exactly one of shares, amount or target price."})
        by = given[0]
        return cls(side, "buy", by, parse_decimal(sizes[by], by), names)
