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
from typing import Any

from django.core.cache import cache
from django.http import QueryDict
from django.utils import timezone

from forecasts.charts import data as chart_data
from forecasts.charts import registry
from forecasts.models import Question

FORMATS = ("png", "svg")
CACHE_SECONDS = 7 * 24 * 3600


def chart_key(name: str, subject: str, version: str, fmt: str) -> str:
    digest = hashlib.sha256(version.encode()).hexdigest()[:24]
    return f"chart:{name}:{subject}:{fmt}:{digest}"


def chart_bytes(
    chart: registry.Chart[Any],
    subject: str,
    version: str,
    fmt: str,
    build: Callable[[], chart_data.ChartData],
) -> bytes:
    """The rendered ``chart``: from the cache, or gathered, drawn and cached now."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    key = chart_key(chart.name, subject, version, fmt)
    body = cache.get(key)
    if body is None:
        drawn = build()
        body = chart.render(drawn.data, fmt, title=drawn.title)
        cache.set(key, body, CACHE_SECONDS)
    return body


def question_charts_refresh(*, question_id: int, now: dt.datetime | None = None) -> int:
    """Render a (resolved) question's public chart in every format; returns how many."""
    now = now or timezone.now()
    question = Question.objects.filter(pk=question_id).first()
    if question is None:
        return 0
    history = registry.chart(registry.Kind.QUESTION, "history")
    public = registry.QuestionSubject(question=question, viewer=None, now=now, params=QueryDict())
    version = history.version(public)
    drawn = history.gather(public)
    for fmt in FORMATS:
        chart_bytes(history, history.cache_subject(public), version, fmt, lambda: drawn)
    return len(FORMATS)
