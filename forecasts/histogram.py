"""The crowd's histogram on the question page: how many standing forecasts lie in each tenth
of the probability (binary) or of the range (numeric and date: each forecast's median).

It obeys the crowd's privacy rule (README, "Forecasts are private until scored"): it is drawn
exactly when the crowd's median is shown, from the forecasts that stood at the moment that
median is of (the end of the last whole hour, or the end of the history once scored), so it
changes no more often than the median does."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import numpy as np
from django.db.models import Q

from forecasts.maths.calibration import DEFAULT_EDGES, bin_indices
from forecasts.maths.continuous import cdf_quantile
from forecasts.models import Question, QuestionKind, outcome_value_text
from forecasts.selectors import CrowdNow

BINS = len(DEFAULT_EDGES) - 1


@dataclass(frozen=True)
class Bar:
    """One bin: what it covers, as the page words it, and how many forecasts lie in it."""

    label: str
    count: int


@dataclass(frozen=True)
class Histogram:
    """The bins, in order, of ``total`` forecasts standing at ``at``; ``of`` names what is
    counted ("probability of YES", "median")."""

    bars: tuple[Bar, ...]
    total: int
    tallest: int
    at: dt.datetime
    of: str


def bin_counts(positions: list[float]) -> list[int]:
    """How many of ``positions`` (each in [0, 1]) lie in each tenth: [0, 0.1), ... [0.9, 1]."""
    counts = [0] * BINS
    if positions:
        for index in bin_indices(np.clip(positions, 0.0, 1.0)):
            counts[int(index)] += 1
    return counts


def _moment(question: Question, crowd: CrowdNow) -> dt.datetime | None:
    if crowd.as_of is not None:
        return crowd.as_of
    at: dt.datetime | None = (
        question.aggregates.order_by("-at").values_list("at", flat=True).first()
    )
    return at


def _standing_at(question: Question, at: dt.datetime) -> Q:
    return Q(question=question, starts_at__lte=at) & (Q(ends_at__isnull=True) | Q(ends_at__gt=at))


def question_histogram(*, question: Question, crowd: CrowdNow) -> Histogram | None:
    """The histogram of ``question``'s standing forecasts where its crowd's median is shown
    (``crowd``, from ``selectors.question_crowd_now``), else None. Multiple-choice questions
    have none: a histogram per option would repeat their table of medians ten times over."""
    if question.is_multiple_choice:
        return None
    shown = crowd.cdf is not None if question.is_continuous else crowd.median is not None
    at = _moment(question, crowd) if shown else None
    if at is None:
        return None
    forecasts = question.forecasts.filter(_standing_at(question, at))
    if question.is_continuous:
        cdfs = [f for f in forecasts.values_list("cdf", flat=True) if f]
        positions = [float(u) for u in cdf_quantile(cdfs, 0.5)] if cdfs else []
        labels = _range_labels(question)
        of = "median"
    else:
        positions = [p for p in forecasts.values_list("probability", flat=True) if p is not None]
        labels = [f"{lo:.0%} to {hi:.0%}" for lo, hi in itertools.pairwise(DEFAULT_EDGES)]
        of = "probability of YES"
    counts = bin_counts(positions)
    return Histogram(
        bars=tuple(Bar(label, n) for label, n in zip(labels, counts, strict=True)),
        total=sum(counts),
        tallest=max(counts),
        at=at,
        of=of,
    )


def _range_labels(question: Question) -> list[str]:
    """Each tenth of a numeric or date question's range, from its low end to its high end,
    in the question's units (a date's to the day; a value to 3 significant digits)."""
    edges = question.scale.value(np.linspace(0.0, 1.0, BINS + 1))
    texts = [_edge_text(question, float(v)) for v in edges]
    return [f"{lo} to {hi}" for lo, hi in itertools.pairwise(texts)]


def _edge_text(question: Question, value: float) -> str:
    if question.kind == QuestionKind.DATE:
        return outcome_value_text(kind=question.kind, value=value // 86400 * 86400)
    return outcome_value_text(kind=question.kind, value=float(f"{value:.3g}"), unit=question.unit)
