"""Crowd aggregates of a question, vectorised with numpy (no Django).

Probabilities are P(YES) in [0, 1] on a binary question, pmfs over the n options of a
multiple-choice one (``*_pmf_*``: rows of a forecasts x options matrix); times are float
seconds on a common epoch. Two aggregates of the N forecasts standing at a moment, each user's
latest:

- the recency-weighted median (Metaculus community prediction): ordered oldest first, the
  n-th (1-based) weighs exp(sqrt(n) - sqrt(N)), so the newest weighs 1; the
  ``weighted_median`` of those, or numpy's unweighted median when N <= 2;
- the geometric mean of odds, GMO/(1 + GMO) as a probability, of the forecasts clipped to
  [0.001, 0.999], so in [0.001, 0.999].

On a multiple-choice question each option gets both, with the same weights, and each vector is
renormalised to a pmf. The medians by Metaculus's rule (``renormalise_medians``): each raised
to at least 0.001, the excess over 0.001 rescaled to sum to 1 - 0.001 n, so every option
keeps at least 0.001, as a forecast must. The geometric means, each of the options clipped to
at least 0.001, by dividing by their sum (at most 1, so no option falls below 0.001); on two
options that is the geometric mean of odds above.

Both are NaN while nobody forecasts. ``aggregate_now`` (``aggregate_pmf_now``) gives them for
the standing forecasts (the web app calls it on each forecast write); ``aggregate_history``
(``aggregate_pmf_history``) gives them over time, and ``as_intervals`` of the history turns
that into a pseudo-forecaster for ``forecasts.maths.scoring.score_question``.

Every aggregate, now or in the history, comes from one function over a boolean matrix
(moments x forecasts), so a history row is ``aggregate_now`` of the forecasts then standing,
up to rounding (a row's weights share a common factor there; see ``_crowd``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecasts.maths.intervals import Intervals, as_pmfs
from forecasts.maths.scoring import P_MIN, clip_probability

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# Cells (moments x forecasts) per block of aggregate_history: ~10 arrays of this many
# elements live at once, a few MB, and numpy's per-call overhead is spread over many cells.
BLOCK_CELLS = 2**17


def _as_float(values: ArrayLike) -> FloatArray:
    return np.atleast_1d(np.asarray(values, dtype=np.float64))


class Scratch:
    """Matrices kept from block to block of ``aggregate_history``: fresh multi-megabyte arrays
    for every block cost page faults, which took some 40 % of the time."""

    def __init__(self) -> None:
        self._flat: dict[str, NDArray[np.generic]] = {}

    def get(self, name: str, shape: tuple[int, int], dtype: type[np.generic]) -> NDArray[Any]:
        size = shape[0] * shape[1]
        flat = self._flat.get(name)
        if flat is None or flat.size < size:
            flat = self._flat[name] = np.empty(size, dtype=dtype)
        return flat[:size].reshape(shape)


def _medians_by_value(weight: FloatArray, value: FloatArray, scratch: Scratch) -> FloatArray:
    """Per row of ``weight`` (rows x ``value``, which is sorted ascending; weights >= 0, 0 for
    absent) the ``weighted_median`` of the values present; NaN for a row without weight.

    Absent values add 0 to the cumulative weights, which leaves every sum as it would be
    without them, so each row gets what ``weighted_median`` gives its present values.
    """
    rows, cols = weight.shape
    if cols == 0:
        return np.full(rows, np.nan)
    cum = np.cumsum(weight, axis=1, out=scratch.get("cum", weight.shape, np.float64))
    half, tol = cum[:, -1] / 2.0, 1e-12 * cum[:, -1]
    below = np.less(cum, (half - tol)[:, None], out=scratch.get("below", cum.shape, np.bool_))
    k = np.minimum(np.count_nonzero(below, axis=1), cols - 1)
    median: FloatArray = value[k]
    tie = np.flatnonzero(np.abs(cum[np.arange(rows), k] - half) <= tol)
    if tie.size:
        # Average with the next present value: the first column after k that has weight.
        later = (weight[tie] > 0) & (np.arange(cols) > k[tie, None])
        after = np.argmax(later, axis=1)
        has = later[np.arange(tie.size), after]
        median[tie[has]] = (value[k[tie[has]]] + value[after[has]]) / 2.0
    median[cum[:, -1] <= 0] = np.nan
    return median


def weighted_median(values: ArrayLike, weights: ArrayLike) -> float:
    """Weighted median with the midpoint convention; NaN for no values.

    Sort the values; with cumulative weights C_k and total W, take the first value whose
    C_k >= W/2; if that C_k equals W/2 (relative tolerance 1e-12), average it with the next
    value. With equal weights this is numpy's median (even N averages the two middle values).
    Weights must be positive.
    """
    v = _as_float(values)
    w = _as_float(weights)
    if v.shape != w.shape or v.ndim != 1 or np.any(w <= 0):
        raise ValueError("weights must be positive and match the values")
    order = np.argsort(v, kind="stable")
    return float(_medians_by_value(w[order][None, :], v[order], Scratch())[0])


def recency_ranks(
    standing: BoolArray, scratch: Scratch
) -> tuple[NDArray[np.intp], IntArray, FloatArray]:
    """Per row of ``standing`` (moments x forecasts, oldest first): each standing forecast's
    1-based rank among the row's (0 where absent), the row's count, and the weight of each
    rank, ``table[rank]`` (``table[0]`` = 0); see ``_crowd``."""
    rows, cols = standing.shape
    rank = scratch.get("rank", standing.shape, np.intp)
    np.copyto(rank, standing)
    np.cumsum(rank, axis=1, out=rank)
    n = rank[:, -1].astype(np.int64) if cols else np.zeros(rows, dtype=np.int64)
    np.multiply(rank, standing, out=rank)
    table = np.exp(np.sqrt(np.arange(cols + 1)) - math.sqrt(cols))
    table[0] = 0.0
    return rank, n, table


def _crowd(
    standing: BoolArray, probs: FloatArray, scratch: Scratch
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Per row of ``standing`` (moments x forecasts, columns oldest first, P(YES) ``probs``):
    the recency-weighted median and geometric mean of odds of the row's standing forecasts,
    both in [0, 1] (NaN for none), and their number.

    A row's weights are exp(sqrt(rank) - sqrt(C)), C the number of columns: the module's
    exp(sqrt(rank) - sqrt(N)) times a factor common to the row, which no median sees (the
    tolerance is relative too). One lookup table then serves every row; exp would cost more
    than the rest. With C = N, as for ``aggregate_now``, the two are the same numbers.
    """
    rank, n, table = recency_ranks(standing, scratch)
    by_value = np.argsort(probs, kind="stable")
    by_rank = np.take(rank, by_value, axis=1, out=scratch.get("index", rank.shape, np.intp))
    weight = np.take(table, by_rank, out=rank.view(np.float64))
    median = _medians_by_value(weight, probs[by_value], scratch)
    # numpy's median of two averages them, whatever their weights.
    two = np.flatnonzero(n == 2)
    if two.size:
        low = np.where(standing[two], probs, np.inf).min(axis=1)
        high = np.where(standing[two], probs, -np.inf).max(axis=1)
        median[two] = (low + high) / 2.0
    p = clip_probability(probs)
    as_float = scratch.get("cum", standing.shape, np.float64)
    np.copyto(as_float, standing)
    log_odds = as_float @ (np.log(p) - np.log1p(-p))
    with np.errstate(invalid="ignore", divide="ignore"):
        gmo = 1.0 / (1.0 + np.exp(-log_odds / n))
    return median, gmo, n


class Aggregate(NamedTuple):
    """The crowd at one moment: recency-weighted ``median`` and geometric mean of odds
    ``gmo`` (P(YES) in [0, 1], NaN for nobody) of ``n_forecasters`` standing forecasts."""

    median: float
    gmo: float
    n_forecasters: int


def aggregate_now(probs_sorted_by_start: ArrayLike) -> Aggregate:
    """The crowd of the standing forecasts' P(YES) in [0, 1], given oldest first.

    O(N log N) for N forecasts (a sort by value): about 0.3 ms at N = 1,000, 2 ms at 10,000.
    """
    p = _as_float(probs_sorted_by_start)
    if p.ndim != 1 or not np.all((p >= 0) & (p <= 1)):
        raise ValueError("probabilities must be a 1-D sequence in [0, 1]")
    median, gmo, n = _crowd(np.ones((1, p.size), dtype=bool), p, Scratch())
    return Aggregate(float(median[0]), float(gmo[0]), int(n[0]))


def recency_weighted_median(probs_sorted_by_start: ArrayLike) -> float:
    """Metaculus community prediction of N standing P(YES), oldest first; NaN for none."""
    return aggregate_now(probs_sorted_by_start).median


def geometric_mean_of_odds(probs: ArrayLike) -> float:
    """Geometric mean of odds as a probability GMO/(1+GMO), in [0.001, 0.999]; NaN for none."""
    return aggregate_now(probs).gmo


@dataclass(frozen=True, eq=False)
class AggregateHistory:
    """The crowd's forecast of one question: from ``times[k]`` (float seconds) until
    ``times[k + 1]`` (the last row: indefinitely) the ``median`` (recency-weighted) and ``gmo``
    (geometric mean of odds), both P(YES), were in force among ``n_forecasters`` standing
    forecasts; NaN while nobody forecasts."""

    times: FloatArray
    median: FloatArray
    gmo: FloatArray
    n_forecasters: IntArray

    def as_intervals(self, which: Literal["median", "gmo"] = "median", user: int = 0) -> Intervals:
        """The aggregate ``which`` ("median" or "gmo") as intervals of a pseudo-user, for
        ``score_question(..., field=<the users' intervals>)``; empty stretches are left out."""
        values = {"median": self.median, "gmo": self.gmo}[which]
        ends = np.append(self.times[1:], np.inf)
        on = self.n_forecasters > 0
        return Intervals.of_question(
            np.full(int(on.sum()), user), self.times[on], ends[on], values[on]
        )


def aggregate_history(start: ArrayLike, end: ArrayLike, prob: ArrayLike) -> AggregateHistory:
    """Aggregate history of one question from its forecast intervals [start, end) (float
    seconds, end NaN/inf when standing) and P(YES) ``prob``: one row per distinct event time.

    Forecasts that start together are ordered as given. The weighted median needs each row's
    whole standing set (a new forecast changes every older one's weight), so rows are done in
    blocks of event times: a boolean matrix of which forecasts stand at each time of the
    block, over the forecasts standing at any of them. Work is O(times x standing): 10,000
    forecasts by 100 users take about 0.1 s, by 1,000 users 0.25 s (bench/scoring.py).
    """
    iv = Intervals.of_question(np.zeros(np.size(start)), start, end, prob)
    rows, times = timeline(iv)
    p = iv.prob[rows]
    median, gmo = np.full(times.size, np.nan), np.full(times.size, np.nan)
    count = np.zeros(times.size, dtype=np.int64)
    scratch = Scratch()
    for block, cols, standing in blocks(iv.start[rows], iv.end[rows], times, scratch):
        median[block], gmo[block], count[block] = _crowd(standing, p[cols], scratch)
    return AggregateHistory(times, median, gmo, count)


def timeline(iv: Intervals) -> tuple[IntArray, FloatArray]:
    """The rows of ``iv`` that stand for some time, by start (ties as given), and the distinct
    times at which what stands changes."""
    keep = np.flatnonzero(iv.end > iv.start)
    rows = keep[np.argsort(iv.start[keep], kind="stable")]
    end = iv.end[rows]
    return rows, np.unique(np.concatenate([iv.start[rows], end[np.isfinite(end)]]))


def blocks(
    s: FloatArray, e: FloatArray, times: FloatArray, scratch: Scratch
) -> Iterator[tuple[slice, IntArray, BoolArray]]:
    """Blocks of consecutive ``times``: their slice, the forecasts (starts ``s`` sorted, ends
    ``e``) standing at any of them, and which stand at each (times x those forecasts)."""
    begun = np.searchsorted(s, times, side="right")
    standing_now = begun - np.searchsorted(np.sort(e), times, side="right")
    k0 = 0
    while k0 < times.size:
        # b rows over about n + b columns: b (n + b) = BLOCK_CELLS.
        n = int(standing_now[k0])
        k1 = min(times.size, k0 + max(1, int((math.sqrt(n * n + 4 * BLOCK_CELLS) - n) / 2)))
        t = times[k0:k1, None]
        # Standing at some time of the block: begun by its last time, not ended by its first.
        cols = np.flatnonzero(e[: begun[k1 - 1]] > t[0])
        shape = (k1 - k0, cols.size)
        standing = np.less_equal(s[cols], t, out=scratch.get("standing", shape, np.bool_))
        standing &= np.greater(e[cols], t, out=scratch.get("below", shape, np.bool_))
        yield slice(k0, k1), cols, standing
        k0 = k1


def renormalise_medians(medians: ArrayLike) -> FloatArray:
    """Metaculus's rule turning per-option medians (last axis: the n options) into a pmf: each
    median raised to at least 0.001, the excess over 0.001 rescaled to sum to 1 - 0.001 n, then
    0.001 added back, so every option keeps at least 0.001 and the whole sums to 1. Medians all
    at 0.001 give the uniform pmf; a row of NaN (nobody) stays NaN."""
    m = np.asarray(medians, dtype=np.float64)
    n = m.shape[-1]
    excess = np.maximum(m, P_MIN) - P_MIN
    total = excess.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share: FloatArray = np.where(total == 0, 1.0 / n, excess / total)
    share *= 1.0 - n * P_MIN
    share += P_MIN
    return share


def _crowd_pmf(
    standing: BoolArray, pmfs: FloatArray, scratch: Scratch
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Per row of ``standing`` (moments x forecasts, columns oldest first, ``pmfs`` forecasts x
    options): each option's recency-weighted median, not renormalised, and the renormalised
    geometric means (rows x options, NaN for none), and the row's count. Each option's median
    is ``_crowd``'s of that option's column: the same weights, the same numbers."""
    rank, n, table = recency_ranks(standing, scratch)
    rows, options = standing.shape[0], pmfs.shape[1]
    median = np.empty((rows, options))
    two = np.flatnonzero(n == 2)
    for option in range(options):
        values = pmfs[:, option]
        by_value = np.argsort(values, kind="stable")
        by_rank = np.take(rank, by_value, axis=1, out=scratch.get("index", rank.shape, np.intp))
        weight = np.take(table, by_rank, out=scratch.get("weight", rank.shape, np.float64))
        median[:, option] = _medians_by_value(weight, values[by_value], scratch)
        if two.size:
            low = np.where(standing[two], values, np.inf).min(axis=1)
            high = np.where(standing[two], values, -np.inf).max(axis=1)
            median[two, option] = (low + high) / 2.0
    as_float = scratch.get("cum", standing.shape, np.float64)
    np.copyto(as_float, standing)
    mean_log = as_float @ np.log(np.maximum(pmfs, P_MIN))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_log /= n[:, None]
        # Shifting each row by its largest keeps exp in range and leaves the ratios alone.
        mean_log -= mean_log.max(axis=1, initial=-np.inf, keepdims=True)
        geometric = np.exp(mean_log)
        geometric /= geometric.sum(axis=1, keepdims=True)
    return median, geometric, n


def _as_pmf_rows(pmfs: ArrayLike) -> FloatArray:
    p = as_pmfs(pmfs)
    if p.ndim != 2:
        raise ValueError("pmfs must be a forecasts x options matrix")
    return p


class PmfAggregate(NamedTuple):
    """The crowd of a multiple-choice question at one moment: the recency-weighted ``median``
    and the geometric mean ``gmo`` of each option, each renormalised to a pmf (arrays of the n
    options, NaN for nobody), of ``n_forecasters`` standing forecasts."""

    median: FloatArray
    gmo: FloatArray
    n_forecasters: int


def recency_weighted_medians(pmfs_sorted_by_start: ArrayLike) -> FloatArray:
    """Each option's recency-weighted median of N standing pmfs (forecasts x options, oldest
    first), not renormalised (``renormalise_medians`` does that); NaN for none."""
    p = _as_pmf_rows(pmfs_sorted_by_start)
    median, _, _ = _crowd_pmf(np.ones((1, p.shape[0]), dtype=bool), p, Scratch())
    row: FloatArray = median[0]
    return row


def aggregate_pmf_now(pmfs_sorted_by_start: ArrayLike) -> PmfAggregate:
    """The crowd of the standing pmfs (forecasts x options, each as ``as_pmfs``), oldest first.
    No forecast at all is a 0 x n matrix."""
    p = _as_pmf_rows(pmfs_sorted_by_start)
    median, gmo, n = _crowd_pmf(np.ones((1, p.shape[0]), dtype=bool), p, Scratch())
    return PmfAggregate(renormalise_medians(median[0]), gmo[0], int(n[0]))


@dataclass(frozen=True, eq=False)
class PmfAggregateHistory:
    """The crowd's forecast of one multiple-choice question: from ``times[k]`` (float seconds)
    until ``times[k + 1]`` (the last row: indefinitely) the renormalised ``median``
    (recency-weighted) and ``gmo`` (geometric mean), row k of each (times x options), were in
    force among ``n_forecasters`` standing forecasts; NaN rows while nobody forecasts."""

    times: FloatArray
    median: FloatArray
    gmo: FloatArray
    n_forecasters: IntArray

    def as_intervals(
        self, which: Literal["median", "gmo"] = "median", *, outcome: int, user: int = 0
    ) -> Intervals:
        """The aggregate ``which`` as multiple-choice intervals of a pseudo-user, scored for the
        option of index ``outcome`` having happened, for ``score_question(..., field=<the
        users' intervals>, n_options=n)``; empty stretches are left out."""
        values = {"median": self.median, "gmo": self.gmo}[which]
        ends = np.append(self.times[1:], np.inf)
        on = self.n_forecasters > 0
        size = int(on.sum())
        return Intervals.of_pmfs(
            np.zeros(size), np.full(size, user), self.times[on], ends[on], values[on], outcome
        )


def aggregate_pmf_history(start: ArrayLike, end: ArrayLike, pmfs: ArrayLike) -> PmfAggregateHistory:
    """``aggregate_history`` of a multiple-choice question: its forecast intervals [start, end)
    (float seconds, end NaN/inf when standing) and their pmfs (forecasts x options, as
    ``as_pmfs``); one row per distinct event time, a pmf per row. Work is that of the binary
    history per option."""
    p = _as_pmf_rows(pmfs)
    # The times are checked as any intervals' are; the pmfs were checked above.
    iv = Intervals.of_question(np.zeros(p.shape[0]), start, end, np.zeros(p.shape[0]))
    rows, times = timeline(iv)
    p = p[rows]
    median = np.full((times.size, p.shape[1]), np.nan)
    gmo = np.full((times.size, p.shape[1]), np.nan)
    count = np.zeros(times.size, dtype=np.int64)
    scratch = Scratch()
    for block, cols, standing in blocks(iv.start[rows], iv.end[rows], times, scratch):
        median[block], gmo[block], count[block] = _crowd_pmf(standing, p[cols], scratch)
    return PmfAggregateHistory(times, renormalise_medians(median), gmo, count)
