"""Rendered charts in the cache, keyed on the data they draw.

A chart's key includes its data's version (the scores' version, or the question's latest
crowd point), read before any data is gathered: a hit costs a query or two, a cached image is
never stale, and gathering and drawing happen once per version. After a
resolution the follow-up task renders the question's chart ahead of the first visitor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

from django.core.cache import cache
from django.utils import timezone

from forecasts import chart_data, charts
from forecasts.models import Question

FORMATS = ("png", "svg")
CACHE_SECONDS = 7 * 24 * 3600

Renderer = Callable[..., bytes]
RENDERERS: dict[str, Renderer] = {
    "calibration": charts.render_reliability,
    "calibration-over-time": charts.render_calibration_over_time,
    "scores": charts.render_score_over_time,
    "history": charts.render_question_history,
}


def chart_key(name: str, subject: str, version: str, fmt: str) -> str:
    digest = hashlib.sha256(version.encode()).hexdigest()[:24]
    return f"chart:{name}:{subject}:{fmt}:{digest}"


def chart_bytes(
    name: str,
    subject: str,
    version: str,
    fmt: str,
    build: Callable[[], chart_data.ChartData],
) -> bytes:
    """The rendered chart: from the cache, or gathered, drawn and cached now."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    key = chart_key(name, subject, version, fmt)
    body = cache.get(key)
    if body is None:
        chart = build()
        body = RENDERERS[name](chart.data, fmt, title=chart.title)
        cache.set(key, body, CACHE_SECONDS)
    return body


def question_charts_refresh(*, question_id: int, now: dt.datetime | None = None) -> int:
    """Render a (resolved) question's public chart in every format; returns how many."""
    now = now or timezone.now()
    question = Question.objects.filter(pk=question_id).first()
    if question is None:
        return 0
    version = chart_data.question_chart_version(question=question, user=None, now=now)
    chart = chart_data.question_history_chart(question=question, user=None, now=now)
    for fmt in FORMATS:
        chart_bytes("history", f"q{question.pk}-public", version, fmt, lambda: chart)
    return len(FORMATS)
