"""Calibration of distributions: the PIT histogram and central-interval coverage (no Django).

A numeric or date forecast is a CDF F; its probability integral transform at the outcome y is
PIT = F(y) (``forecasts.maths.continuous.pit``). For a forecaster whose distributions are
calibrated, PITs are uniform on [0, 1]: the histogram is flat, and the outcome falls inside
the central c interval of the forecast (between its (1 - c)/2 and (1 + c)/2 quantiles) a share
c of the time. A histogram heavy at both ends means intervals too narrow (overconfidence), a
hump in the middle too wide, a slope a bias.

Which PIT stands for a forecaster on a question is the caller's choice; Crux takes the
time-weighted mean of its forecasts' PITs over the covered open period
(``calibration.time_weighted_probability`` with the PIT as the probability), which is exactly
the PIT of the time-weighted mixture of its CDFs, as a binary forecaster's calibration takes
the time-weighted mean P(YES).

Coverage counts come with Wilson intervals (``calibration.wilson_interval``), so "80% of
outcomes inside my 80% intervals" can be told from chance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from forecasts.maths.calibration import Z_95, calendar_windows, wilson_interval
from forecasts.maths.intervals import FloatArray, IntArray

# The central intervals whose coverage is shown: 50 % and 80 %, as the issue asks.
COVERAGE_LEVELS = (0.5, 0.8)
PIT_BINS = 10


def _pits(values: ArrayLike) -> FloatArray:
    p = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if p.ndim != 1 or (p.size and not (p.min() >= 0 and p.max() <= 1)):
        raise ValueError("PITs must be a 1-D sequence in [0, 1]")
    return p


@dataclass(frozen=True)
class PitHistogram:
    """``counts[k]`` PITs in bin k of ``bins`` equal bins of [0, 1] (the last holds 1.0), of
    ``n`` in all; a calibrated forecaster expects n / bins in each."""

    bins: int
    counts: tuple[int, ...]
    n: int

    @property
    def expected(self) -> float:
        return self.n / self.bins


def pit_histogram(pits: ArrayLike, bins: int = PIT_BINS) -> PitHistogram:
    p = _pits(pits)
    if bins < 1:
        raise ValueError("a histogram needs at least one bin")
    index = np.minimum((p * bins).astype(np.int64), bins - 1)
    counts: IntArray = np.bincount(index, minlength=bins)
    return PitHistogram(bins, tuple(int(c) for c in counts), int(p.size))


@dataclass(frozen=True)
class IntervalCoverage:
    """How many of ``n`` outcomes fell inside the forecasts' central ``level`` interval:
    ``inside``, the share (NaN for none) and its Wilson interval [low, high]."""

    level: float
    inside: int
    n: int
    share: float
    low: float
    high: float


def inside_central(pits: ArrayLike, level: float) -> np.ndarray:
    """Which outcomes fall inside their forecast's central ``level`` interval: its PIT lies
    between (1 - level) / 2 and (1 + level) / 2, both included."""
    if not 0 < level < 1:
        raise ValueError("an interval's level lies in (0, 1)")
    p = _pits(pits)
    return (p >= (1 - level) / 2) & (p <= (1 + level) / 2)


def interval_coverage(
    pits: ArrayLike, levels: tuple[float, ...] = COVERAGE_LEVELS, z: float = Z_95
) -> tuple[IntervalCoverage, ...]:
    p = _pits(pits)
    result = []
    for level in levels:
        inside = int(inside_central(p, level).sum())
        low, high = wilson_interval(inside, p.size, z)
        share = inside / p.size if p.size else float("nan")
        result.append(
            IntervalCoverage(level, inside, int(p.size), share, float(low[0]), float(high[0]))
        )
    return tuple(result)


@dataclass(frozen=True)
class PitWindow:
    """The calibration of the ``n`` distributions whose question resolved in [start, end)
    (float seconds); ``enough_data`` is False when n < the caller's ``min_n``."""

    start: float
    end: float
    n: int
    enough_data: bool
    histogram: PitHistogram
    coverage: tuple[IntervalCoverage, ...]


def pit_over_time(
    pits: ArrayLike,
    resolve_times: ArrayLike,
    windows: ArrayLike,
    *,
    min_n: int = 10,
    levels: tuple[float, ...] = COVERAGE_LEVELS,
) -> tuple[PitWindow, ...]:
    """PIT histogram and coverage per window of resolution time; ``windows`` as
    ``calibration.calibration_over_time`` takes them (1-D edges or a (W, 2) array). Every
    window is returned, sparse ones flagged rather than dropped."""
    p = _pits(pits)
    t = np.atleast_1d(np.asarray(resolve_times, dtype=np.float64))
    if t.shape != p.shape:
        raise ValueError("resolve_times must match the PITs")
    w = np.asarray(windows, dtype=np.float64)
    bounds = calendar_windows(w) if w.ndim == 1 else w
    if bounds.ndim != 2 or bounds.shape[1] != 2:
        raise ValueError("windows must be 1-D edges or a (W, 2) array")
    result = []
    for start, end in bounds:
        chosen = p[(t >= start) & (t < end)]
        result.append(
            PitWindow(
                float(start),
                float(end),
                int(chosen.size),
                chosen.size >= min_n,
                pit_histogram(chosen),
                interval_coverage(chosen, levels),
            )
        )
    return tuple(result)
