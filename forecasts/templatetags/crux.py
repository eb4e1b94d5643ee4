from __future__ import annotations

from django import template

from crux.formatting import fixed
from forecasts.maths import score_types

register = template.Library()


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """0.725 -> '72.5%'; None -> an em dash."""
    if value is None:
        return "—"
    return f"{fixed(value * 100, digits)}%"


@register.filter
def get(mapping: dict, key: object) -> object:
    """Dictionary lookup in templates: ``scores|get:type``."""
    return mapping.get(key) if mapping else None


@register.filter
def score(value: float | None, score_type: str = "") -> str:
    """To the score type's digits (Brier and log 3, baseline and peer points 1; 1 for a name
    that is no score type's); None or NaN -> an em dash."""
    if value is None or value != value:  # None or NaN
        return "—"
    spec = score_types.BY_NAME.get(str(score_type))
    digits = spec.digits if spec is not None else 1
    return fixed(value, digits)


@register.filter
def number(value: float | None, digits: int = 3) -> str:
    """A float to ``digits`` places; "—" for no value (None, NaN, or a missing attribute's "")."""
    if not isinstance(value, int | float) or value != value:
        return "—"
    return fixed(value, digits)
