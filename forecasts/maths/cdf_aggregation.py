"""The crowd of a numeric or date question, vectorised with numpy (no Django).

A forecast is a CDF on the 201 points of the question's scaled range
(``forecasts.maths.continuous``). The crowd is Metaculus's for continuous questions: the
recency-weighted mean of the standing CDFs, with the weights of the binary median
(``forecasts.maths.aggregation``: the n-th oldest of N weighs exp(sqrt(n) - sqrt(N))). A mean
of valid CDFs is a valid CDF (each rule is a bound on a value or a step, kept by any mean).

``aggregate_cdf_now`` gives it for the standing forecasts (the web app calls it on each
forecast write), ``aggregate_cdf_history`` over time, one CDF per event time, in blocks as the
binary history is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from forecasts.maths.aggregation import Scratch, blocks, recency_ranks, timeline
from forecasts.maths.continuous import CDF_POINTS
from forecasts.maths.intervals import BoolArray, FloatArray, IntArray, Intervals


def _as_cdf_rows(cdfs: ArrayLike) -> FloatArray:
    c = np.asarray(cdfs, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != CDF_POINTS:
        raise ValueError(f"cdfs must be a forecasts x {CDF_POINTS} matrix")
    if c.size and not (np.isfinite(c).all() and c.min() >= 0 and c.max() <= 1):
        raise ValueError("a CDF's values must lie in [0, 1]")
    return c


def _crowd_cdf(
    standing: BoolArray, cdfs: FloatArray, scratch: Scratch
) -> tuple[FloatArray, IntArray]:
    """Per row of ``standing`` (moments x forecasts, columns oldest first): the
    recency-weighted mean of the standing CDFs (rows x 201, NaN for none) and their number.
    A row's weights share a factor that its mean divides out, as ``aggregation._crowd``'s."""
    rank, n, table = recency_ranks(standing, scratch)
    weight = np.take(table, rank, out=scratch.get("weight", rank.shape, np.float64))
    total = weight.sum(axis=1)
    mean = weight @ cdfs
    with np.errstate(invalid="ignore", divide="ignore"):
        mean /= total[:, None]
    mean[n == 0] = np.nan
    return mean, n


class CdfAggregate(NamedTuple):
    """The crowd of a numeric or date question at one moment: the recency-weighted mean
    ``cdf`` (201 values, NaN for nobody) of ``n_forecasters`` standing forecasts."""

    cdf: FloatArray
    n_forecasters: int


def aggregate_cdf_now(cdfs_sorted_by_start: ArrayLike) -> CdfAggregate:
    """The crowd of the standing CDFs (forecasts x 201), oldest first. No forecast at all is a
    0 x 201 matrix."""
    c = _as_cdf_rows(cdfs_sorted_by_start)
    mean, n = _crowd_cdf(np.ones((1, c.shape[0]), dtype=bool), c, Scratch())
    row: FloatArray = mean[0]
    return CdfAggregate(row, int(n[0]))


@dataclass(frozen=True, eq=False)
class CdfAggregateHistory:
    """The crowd's forecast of one numeric or date question: from ``times[k]`` (float seconds)
    until ``times[k + 1]`` (the last row: indefinitely) the mean CDF ``cdf[k]`` (times x 201)
    was in force among ``n_forecasters[k]`` standing forecasts; NaN rows while nobody
    forecasts."""

    times: FloatArray
    cdf: FloatArray
    n_forecasters: IntArray

    def as_intervals(self, *, p_outcome: FloatArray, loss: FloatArray, user: int = 0) -> Intervals:
        """The crowd as continuous intervals of a pseudo-user, given what each row scores:
        ``p_outcome`` (the mass its CDF gave the outcome's bucket) and ``loss`` (its CRPS), one
        per row of the history; empty stretches are left out."""
        ends = np.append(self.times[1:], np.inf)
        on = self.n_forecasters > 0
        size = int(on.sum())
        return Intervals.of_question(
            np.full(size, user),
            self.times[on],
            ends[on],
            p_outcome=np.asarray(p_outcome, dtype=np.float64)[on],
            sum_sq=np.full(size, np.nan),
            loss=np.asarray(loss, dtype=np.float64)[on],
        )


def aggregate_cdf_history(start: ArrayLike, end: ArrayLike, cdfs: ArrayLike) -> CdfAggregateHistory:
    """The crowd's history of one numeric or date question from its forecast intervals
    [start, end) (float seconds, end NaN/inf when standing) and their CDFs (forecasts x 201):
    one row per distinct event time. Work is O(times x standing x 201), one matrix product
    per block."""
    c = _as_cdf_rows(cdfs)
    # The times are checked as any intervals' are; the CDFs were checked above.
    iv = Intervals.of_question(np.zeros(c.shape[0]), start, end, np.zeros(c.shape[0]))
    rows, times = timeline(iv)
    c = c[rows]
    mean = np.full((times.size, CDF_POINTS), np.nan)
    count = np.zeros(times.size, dtype=np.int64)
    scratch = Scratch()
    for block, cols, standing in blocks(iv.start[rows], iv.end[rows], times, scratch):
        mean[block], count[block] = _crowd_cdf(standing, c[cols], scratch)
    return CdfAggregateHistory(times, mean, count)
