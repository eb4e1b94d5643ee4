"""Rendered charts in the cache, keyed on the data they draw.

A chart's key includes its data's version (the scores' version, or the question's latest
crowd point), so a cached image is never stale; rendering happens once per version. After a
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


def chart_key(name: str, subject: str, chart: chart_data.ChartData, fmt: str) -> str:
    digest = hashlib.sha256(f"{chart.version}:{chart.title}".encode()).hexdigest()[:24]
    return f"chart:{name}:{subject}:{fmt}:{digest}"


def chart_bytes(name: str, subject: str, chart: chart_data.ChartData, fmt: str) -> bytes:
    """The rendered chart, from the cache or rendered now and cached."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    key = chart_key(name, subject, chart, fmt)
    body = cache.get(key)
    if body is None:
        body = RENDERERS[name](chart.data, fmt, title=chart.title)
        cache.set(key, body, CACHE_SECONDS)
    return body


def question_charts_refresh(*, question_id: int, now: dt.datetime | None = None) -> int:
    """Render a (resolved) question's public chart in every format; returns how many."""
    now = now or timezone.now()
    question = Question.objects.filter(pk=question_id).first()
    if question is None:
        return 0
    chart = chart_data.question_history_chart(question=question, user=None, now=now)
    for fmt in FORMATS:
        chart_bytes("history", f"q{question.pk}-public", chart, fmt)
    return len(FORMATS)
