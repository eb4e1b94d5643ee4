"""Numbers as people read them: fixed decimals, never a negative zero (no Django).

Every page, e-mail and chart table writes its numbers through ``fixed`` (the template filters
of both apps call it), so "-0.0" cannot appear anywhere: -0.0001 shown to one place is "0.0",
and a score of exactly -0.0 is "0.000". CSV and JSON cells take ``unsigned_zero``.
"""

from __future__ import annotations

from decimal import Decimal

_NONZERO_DIGITS = frozenset("123456789")


def fixed(
    value: float | Decimal, places: int, *, sign: bool = False, grouping: bool = False
) -> str:
    """``value`` to ``places`` decimal places: "1234.50" ("1,234.50" with ``grouping``,
    "+1.5" with ``sign``). A value that rounds to zero is written as zero, without a minus
    ("0.00", or "+0.00" with ``sign``); infinities and NaN keep their sign."""
    text = format(value, f"{'+' if sign else ''}{',' if grouping else ''}.{int(places)}f")
    if text[:1] == "-" and text[1:2].isdigit() and not _NONZERO_DIGITS.intersection(text):
        return ("+" if sign else "") + text[1:]
    return text


def unsigned_zero(value: float) -> float:
    """``value`` with a negative zero made positive (-0.0 + 0.0 is 0.0), for CSV and JSON."""
    return value + 0.0
