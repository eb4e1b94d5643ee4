"""Reads of the calibration of distributions: numeric and date questions' PITs, as plain numbers.

A forecaster's PIT on a question (``forecasts.maths.pit``) is the time-weighted mean of its
forecasts' PITs over the covered part of the question's open period, which is the PIT of the
time-weighted mixture of its CDFs; the crowd's is the same over the crowd's history
(``AggregatePoint.cdf``, rebuilt from every forecast at resolution). One PIT per question, so
a forecaster's updates do not fill the histogram with correlated copies.

Questions count as binary calibration's do (``selectors.counted_questions``): resolved to a
value or beyond an open bound, and only once their scheduled resolve time has passed.
Windows are the quarters of resolution time, as binary calibration's.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from django.contrib.auth.models import User

from forecasts.maths import calibration, continuous, pit
from forecasts.maths.intervals import Intervals, Questions
from forecasts.models import CONTINUOUS_KINDS, AggregatePoint, Forecast, Question, Resolution
from forecasts.scores.selectors import CALIBRATION_MIN_N, counted_questions, quarter_edges

# What a numeric or date question resolves to when it names an outcome.
COUNTED_RESOLUTIONS = (Resolution.VALUE, Resolution.BELOW, Resolution.ABOVE)
_QUESTION_FIELDS = (
    "opens_at",
    "closes_at",
    "resolved_at",
    "resolution",
    "resolved_value",
    "kind",
    "range_min",
    "range_max",
    "log_scale",
    "open_lower_bound",
    "open_upper_bound",
)


@dataclass(frozen=True)
class DistributionCalibration:
    """Calibration of one forecaster's distributions: its PIT per question (``pits``, by
    question id, in order of resolution), their histogram over tenths, the share of outcomes
    inside its 50% and 80% central intervals with Wilson intervals, and the same per window
    of resolution time (``windows``, named by ``window_labels``)."""

    pits: dict[int, float]
    histogram: pit.PitHistogram
    coverage: tuple[pit.IntervalCoverage, ...]
    windows: tuple[pit.PitWindow, ...]
    window_labels: tuple[str, ...]

    @property
    def n(self) -> int:
        return self.histogram.n


def _calibration(
    pits: dict[int, float], resolved: dict[int, float], edges: list[float], labels: list[str]
) -> DistributionCalibration:
    values = np.fromiter(pits.values(), dtype=np.float64, count=len(pits))
    times = np.array([resolved[q] for q in pits], dtype=np.float64)
    windows = (
        pit.pit_over_time(values, times, np.asarray(edges), min_n=CALIBRATION_MIN_N)
        if len(edges) > 1
        else ()
    )
    return DistributionCalibration(
        pits=pits,
        histogram=pit.pit_histogram(values),
        coverage=pit.interval_coverage(values),
        windows=windows,
        window_labels=tuple(labels),
    )


def _time_weighted_pits(
    rows: list[tuple[int, float, float, list[float]]], questions: dict[int, Question]
) -> dict[int, float]:
    """rows: (question_id, start, end, cdf), start and end in float seconds (end NaN while
    standing); the time-weighted PIT per question, over the covered part of its open period
    (a question without coverage has none), in the order of ``questions``."""
    order = list(questions)
    index = {q: i for i, q in enumerate(order)}
    if not rows:
        return {}
    cdfs = np.array([r[3] for r in rows], dtype=np.float64)
    positions = np.array([questions[r[0]].outcome_position for r in rows], dtype=np.float64)
    weighted = calibration.time_weighted_probability(
        Intervals(
            question=[index[r[0]] for r in rows],
            user=np.zeros(len(rows), dtype=np.int64),
            start=[r[1] for r in rows],
            end=[r[2] for r in rows],
            prob=continuous.pit(cdfs, positions),
        ),
        Questions(
            opens_at=[questions[q].opens_at.timestamp() for q in order],
            closes_at=[questions[q].scoring_closes_at.timestamp() for q in order],
            outcome=np.zeros(len(order), dtype=np.int64),
        ),
    )
    found = {
        order[i]: float(p)
        for i, p in zip(weighted.question.tolist(), weighted.prob, strict=True)
        if not math.isnan(p)
    }
    return {q: found[q] for q in order if q in found}


def _seconds(moment: dt.datetime | None) -> float:
    return math.nan if moment is None else moment.timestamp()


def _crowd_rows(question_ids: list[int]) -> list[tuple[int, float, float, list[float]]]:
    """The crowd's mean CDF over time as (question_id, start, end, cdf) intervals, each point
    in force until the question's next (a point without a CDF is a stretch without forecasts)."""
    points = list(
        AggregatePoint.objects.filter(question_id__in=question_ids)
        .order_by("question_id", "at")
        .values_list("question_id", "at", "cdf")
    )
    rows = []
    for i, (question_id, at, cdf) in enumerate(points):
        following = points[i + 1] if i + 1 < len(points) else None
        end = following[1] if following and following[0] == question_id else None
        if cdf is not None:
            rows.append((question_id, at.timestamp(), _seconds(end), cdf))
    return rows


def user_distribution_calibration(
    *, user: User, now: dt.datetime
) -> tuple[DistributionCalibration, DistributionCalibration]:
    """The calibration of the user's distributions and the crowd's on the same questions, in
    the same quarters of resolution time (2 queries)."""
    forecasts = list(
        Forecast.objects.filter(
            counted_questions(now, COUNTED_RESOLUTIONS),
            question__kind__in=CONTINUOUS_KINDS,
            user=user,
        )
        .select_related("question")
        .only(
            "question_id",
            "starts_at",
            "ends_at",
            "cdf",
            *(f"question__{f}" for f in _QUESTION_FIELDS),
        )
        .order_by("question__resolved_at", "question_id", "starts_at", "id")
    )
    questions = {f.question_id: f.question for f in forecasts}
    rows = [
        (f.question_id, f.starts_at.timestamp(), _seconds(f.ends_at), f.cdf)
        for f in forecasts
        if f.cdf is not None
    ]
    mine = _time_weighted_pits(rows, questions)
    resolved = {q: _seconds(questions[q].resolved_at) for q in mine}
    edges, labels = quarter_edges(np.array(list(resolved.values()))) if mine else ([], [])
    crowd = _time_weighted_pits(_crowd_rows(list(mine)), {q: questions[q] for q in mine})
    return (
        _calibration(mine, resolved, edges, labels),
        _calibration(crowd, resolved, edges, labels),
    )
