from __future__ import annotations

from django import template

from forecasts.formatting import fixed

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
    """Brier and log to 3 decimals, baseline and peer (points) to 1; None -> an em dash."""
    if value is None or value != value:  # None or NaN
        return "—"
    digits = 3 if str(score_type).startswith(("brier", "log")) else 1
    return fixed(value, digits)


@register.filter
def number(value: float | None, digits: int = 3) -> str:
    """A float to ``digits`` places; "—" for no value (None, NaN, or a missing attribute's "")."""
    if not isinstance(value, int | float) or value != value:
        return "—"
    return fixed(value, digits)
