"""Calibration tables, Wilson intervals and the Murphy decomposition of the Brier score.

Pure numpy; no Django. Probabilities are P(YES) in [0, 1] (forecasts are stored in
[0.001, 0.999]); outcomes are 1 (YES) or 0 (NO); times are float seconds.

Bins
----
``DEFAULT_EDGES`` are 10 bins of width 0.1 on [0, 1]. Bin k is [edges[k], edges[k + 1]) except
the last, which also holds its upper edge (1.0 by default). Probabilities outside
[edges[0], edges[-1]] raise ValueError. Empty bins have n = 0 and NaN means and interval.

Each default edge is the float nearest the decimal k/10, the very float that "0.3" typed into a
form is stored as (``np.linspace`` would give 0.30000000000000004, putting 0.3 in the bin
below). Converting a decimal to the nearest float never reverses an order, and two decimals of
at most 15 significant digits never share a float, so a probability entered as such a decimal
lands in the bin its exact decimal value belongs to: 0.3 opens bin 3, 0.2999 stays in bin 2.

Murphy decomposition (Stephenson, Coelho & Jolliffe 2008)
---------------------------------------------------------
With N forecasts f, outcomes o, bin sizes n_k, bin mean forecasts f_k, bin frequencies o_k and
base rate o_bar:

- reliability = sum_k n_k (f_k - o_k)^2 / N (0 is perfect),
- resolution = sum_k n_k (o_k - o_bar)^2 / N,
- uncertainty = o_bar (1 - o_bar),
- wbv = sum (f - f_k)^2 / N, the within-bin variance of the forecasts,
- wbc = 2 sum (o - o_k)(f - f_k) / N, the within-bin covariance,

so that brier = reliability - resolution + uncertainty + wbv - wbc holds exactly (up to
rounding); wbv and wbc vanish when the forecasts within each bin are identical.

Which forecast stands for a user on a question is the caller's choice; see
``time_weighted_probability`` for the time-weighted mean over the covered open period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecasts.maths.intervals import Intervals, Questions

Z_95 = 1.959963984540054
# k / 10 is correctly rounded: the float nearest the decimal k/10, as float("0.k") is.
DEFAULT_EDGES: NDArray[np.float64] = np.arange(11) / 10
DEFAULT_EDGES.flags.writeable = False

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _as_float(values: ArrayLike) -> FloatArray:
    return np.atleast_1d(np.asarray(values, dtype=np.float64))


def _check(probs: ArrayLike, outcomes: ArrayLike) -> tuple[FloatArray, FloatArray]:
    p, o = _as_float(probs), _as_float(outcomes)
    if p.shape != o.shape or p.ndim != 1:
        raise ValueError("probs and outcomes must be 1-D and of equal length")
    if not np.all((o == 0) | (o == 1)):
        raise ValueError("outcomes must be 0 or 1")
    return p, o


def bin_indices(probs: ArrayLike, edges: ArrayLike = DEFAULT_EDGES) -> IntArray:
    """Bin index in [0, len(edges) - 2] of each probability; the last bin is closed above."""
    p, e = _as_float(probs), _as_float(edges)
    if e.size < 2 or np.any(np.diff(e) <= 0):
        raise ValueError("edges must be increasing with at least two values")
    if np.any((p < e[0]) | (p > e[-1])) or np.any(np.isnan(p)):
        raise ValueError("probabilities must lie within the edges")
    return np.minimum(np.searchsorted(e, p, side="right") - 1, e.size - 2).astype(np.int64)


def wilson_interval(k: ArrayLike, n: ArrayLike, z: float = Z_95) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval (low, high) in [0, 1] for k successes out of n, elementwise.

    ``z`` is the normal quantile (default 95 %); NaN where n = 0. The bounds are nudged to
    contain k/n when rounding would put it a hair outside.
    """
    k_arr, n_arr = np.broadcast_arrays(_as_float(k), _as_float(n))
    with np.errstate(invalid="ignore", divide="ignore"):
        phat = k_arr / n_arr
        denom = 1.0 + z * z / n_arr
        centre = (phat + z * z / (2 * n_arr)) / denom
        half = z * np.sqrt(phat * (1 - phat) / n_arr + z * z / (4 * n_arr * n_arr)) / denom
    low = np.clip(np.minimum(centre - half, phat), 0.0, 1.0)
    high = np.clip(np.maximum(centre + half, phat), 0.0, 1.0)
    empty = n_arr <= 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


@dataclass(frozen=True)
class CalibrationBin:
    """One bin [lower, upper) of forecasts: their count ``n`` and ``yes_count``, the mean
    forecast and observed YES frequency (both in [0, 1]) and the Wilson interval of the
    latter; NaN for the means and interval when n = 0."""

    lower: float
    upper: float
    n: int
    yes_count: int
    mean_forecast: float
    observed_frequency: float
    ci_low: float
    ci_high: float


def _bin_stats(
    p: FloatArray, o: FloatArray, edges: FloatArray
) -> tuple[NDArray[np.intp], FloatArray, FloatArray, IntArray]:
    """Per bin: count, sum of forecasts, sum of outcomes; and each forecast's bin."""
    idx = bin_indices(p, edges)
    size = edges.size - 1
    count = np.bincount(idx, minlength=size)
    # numpy's stubs type every bincount as integers; with weights it sums in float64.
    f_sum = cast(FloatArray, np.bincount(idx, p, size))
    o_sum = cast(FloatArray, np.bincount(idx, o, size))
    return count, f_sum, o_sum, idx


def calibration_table(
    probs: ArrayLike, outcomes: ArrayLike, edges: ArrayLike = DEFAULT_EDGES, z: float = Z_95
) -> tuple[CalibrationBin, ...]:
    """Calibration bins of forecasts ``probs`` (P(YES)) against ``outcomes`` (0/1)."""
    p, o = _check(probs, outcomes)
    e = _as_float(edges)
    count, f_sum, o_sum, _ = _bin_stats(p, o, e)
    low, high = wilson_interval(o_sum, count, z)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_f, freq = f_sum / count, o_sum / count
    return tuple(
        CalibrationBin(
            lower=float(e[k]),
            upper=float(e[k + 1]),
            n=int(count[k]),
            yes_count=int(o_sum[k]),  # a sum of 0/1 floats is exact
            mean_forecast=float(mean_f[k]),
            observed_frequency=float(freq[k]),
            ci_low=float(low[k]),
            ci_high=float(high[k]),
        )
        for k in range(e.size - 1)
    )


@dataclass(frozen=True)
class MurphyDecomposition:
    """Brier score (in [0, 1]) of ``n`` forecasts and its generalised decomposition
    brier = reliability - resolution + uncertainty + wbv - wbc; all NaN when n = 0."""

    brier: float
    reliability: float
    resolution: float
    uncertainty: float
    wbv: float
    wbc: float
    n: int


def murphy_decomposition(
    probs: ArrayLike, outcomes: ArrayLike, edges: ArrayLike = DEFAULT_EDGES
) -> MurphyDecomposition:
    """Stephenson et al. (2008) decomposition of the Brier score over the bins ``edges``."""
    p, o = _check(probs, outcomes)
    n = p.size
    if n == 0:
        nan = math.nan
        return MurphyDecomposition(nan, nan, nan, nan, nan, nan, n=0)
    count, f_sum, o_sum, idx = _bin_stats(p, o, _as_float(edges))
    filled = np.maximum(count, 1)
    f_bin, o_bin = f_sum / filled, o_sum / filled
    base_rate = float(o.mean())
    df, do = p - f_bin[idx], o - o_bin[idx]
    return MurphyDecomposition(
        brier=float(np.mean((p - o) ** 2)),
        reliability=float(np.sum(count * (f_bin - o_bin) ** 2) / n),
        resolution=float(np.sum(count * (o_bin - base_rate) ** 2) / n),
        uncertainty=base_rate * (1.0 - base_rate),
        wbv=float(np.sum(df * df) / n),
        wbc=float(2.0 * np.sum(do * df) / n),
        n=n,
    )


def calendar_windows(edges: ArrayLike) -> FloatArray:
    """Consecutive windows [edges[i], edges[i + 1]) as a (W, 2) array of float seconds."""
    e = _as_float(edges)
    if e.size < 2 or np.any(np.diff(e) <= 0):
        raise ValueError("window edges must be increasing with at least two values")
    return np.column_stack([e[:-1], e[1:]])


def sliding_windows(first: float, last: float, width: float, step: float) -> FloatArray:
    """Windows [s, s + width) for s = first, first + step, ... while s + width <= last, as a
    (W, 2) array of float seconds; windows overlap when step < width."""
    if width <= 0 or step <= 0:
        raise ValueError("width and step must be positive")
    # A ratio computed as 2.9999999 must still count as 3 steps.
    count = max(math.floor((last - first - width) / step + 1e-9) + 1, 0)
    starts = first + step * np.arange(count, dtype=np.float64)
    return np.column_stack([starts, starts + width])


@dataclass(frozen=True)
class CalibrationWindow:
    """Calibration of the ``n`` forecasts whose question resolved in [start, end) (float
    seconds); ``enough_data`` is False when n < the caller's ``min_n``."""

    start: float
    end: float
    n: int
    enough_data: bool
    table: tuple[CalibrationBin, ...]
    decomposition: MurphyDecomposition


def calibration_over_time(
    probs: ArrayLike,
    outcomes: ArrayLike,
    resolve_times: ArrayLike,
    windows: ArrayLike,
    *,
    edges: ArrayLike = DEFAULT_EDGES,
    min_n: int = 10,
    z: float = Z_95,
) -> tuple[CalibrationWindow, ...]:
    """Calibration table and Murphy decomposition per window of resolution time.

    ``windows`` is either 1-D calendar edges (see ``calendar_windows``) or a (W, 2) array of
    [start, end) such as ``sliding_windows`` makes. Every window is returned, sparse ones
    flagged ``enough_data=False`` rather than dropped.
    """
    p, o = _check(probs, outcomes)
    t = _as_float(resolve_times)
    if t.shape != p.shape:
        raise ValueError("resolve_times must match probs")
    w = _as_float(windows)
    bounds = calendar_windows(w) if w.ndim == 1 else w
    if bounds.ndim != 2 or bounds.shape[1] != 2:
        raise ValueError("windows must be 1-D edges or a (W, 2) array")
    result = []
    for start, end in bounds:
        inside = (t >= start) & (t < end)
        n = int(inside.sum())
        result.append(
            CalibrationWindow(
                start=float(start),
                end=float(end),
                n=n,
                enough_data=n >= min_n,
                table=calibration_table(p[inside], o[inside], edges, z),
                decomposition=murphy_decomposition(p[inside], o[inside], edges),
            )
        )
    return tuple(result)


@dataclass(frozen=True, eq=False)
class TimeWeightedProbability:
    """Per (question, user), sorted: the time-weighted mean P(YES) over the covered part of
    the open period (NaN when coverage is 0) and the coverage in [0, 1]."""

    question: IntArray
    user: IntArray
    prob: FloatArray
    coverage: FloatArray


def time_weighted_probability(
    intervals: Intervals, questions: Questions
) -> TimeWeightedProbability:
    """Time-weighted mean probability of each user's intervals on each question, clipped to
    [opens_at, closes_at]; one row per (question, user) having at least one interval.

    The mean is kept within the least and greatest probability of the covered intervals: in
    floats, (0.7 * 0.1) / 0.7 is 0.09999999999999999, which would move a steady forecast of
    0.1 into the bin below. So a steady forecast comes back exactly as entered, and a mean of
    forecasts from one calibration bin stays in that bin."""
    q = intervals.question
    opens, closes = questions.opens_at[q], questions.closes_at[q]
    covered = np.minimum(intervals.end, closes) - np.maximum(intervals.start, opens)
    weight = np.maximum(covered, 0.0) / (closes - opens)
    order = np.lexsort((intervals.user, q))
    qs, us = q[order], intervals.user[order]
    first = np.flatnonzero(np.r_[True, (qs[1:] != qs[:-1]) | (us[1:] != us[:-1])])
    first = first[first < order.size]
    if order.size == 0:
        empty = np.zeros(0)
        return TimeWeightedProbability(qs, us, empty, empty)
    coverage = np.add.reduceat(weight[order], first)
    weighted = np.add.reduceat((weight * intervals.prob)[order], first)
    counted = weight[order] > 0
    low = np.minimum.reduceat(np.where(counted, intervals.prob[order], np.inf), first)
    high = np.maximum.reduceat(np.where(counted, intervals.prob[order], -np.inf), first)
    with np.errstate(invalid="ignore", divide="ignore"):
        prob = np.where(coverage > 0, np.clip(weighted / coverage, low, high), np.nan)
    return TimeWeightedProbability(qs[first], us[first], prob, coverage)
