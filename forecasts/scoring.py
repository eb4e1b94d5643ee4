"""Scores and crowd aggregates for binary questions, vectorised with numpy (no Django).

Times are float seconds on a common epoch (e.g. Unix seconds). Probabilities are P(YES) in
[0, 1], clipped to [0.001, 0.999] wherever a log is taken; outcomes are 1 (YES) or 0 (NO);
p_outcome is the (clipped) probability given to what happened.

Instantaneous scores: Brier (p - o)^2 in [0, 1], lower is better (unclipped p). Log
ln(p_outcome) in [-6.91, -0.001]. Baseline (Metaculus) 100 * (log2(p_outcome) + 1) in
[-897, 99.86], 0 at 50 %. Peer (Metaculus) 100 * N/(N-1) * ln(p_outcome / GM), GM the
geometric mean of the p_outcome of the N field forecasts standing at that moment; 0 when
N <= 1; across the field the peer scores sum to 0.

Time averaging (``score_questions``), per (question, user). Interval i stands on [start, end)
(end NaN/+inf: still standing) and is clipped to the open period [opens_at, closes_at], the
latter being the actual close.

- ``coverage``: covered time / period length, in [0, 1].
- ``log``, ``baseline``, ``peer``: integral / period length, so time without a standing
  forecast scores 0 (Metaculus convention); ``coverage`` says how much of the period counted.
- ``brier``: integral / covered time, the mean over covered time only (NaN when coverage is
  0): over the whole period, absence would count as a perfect Brier of 0.
- The field changes at every start and end; a stretch in which it is empty scores nobody
  (Metaculus's code lets the last geometric mean run on across such a gap; we do not).
- ``*_at_close``: the scores of the user's forecast standing at close, the last one with
  start < closes_at <= end (NaN if none), peer against the field standing at close.

``field`` defaults to the scored intervals. To score a pseudo-forecaster such as the crowd
(``AggregateHistory.as_intervals``), pass the users' intervals as ``field``: scored intervals
count in N only if they belong to ``field``, so the crowd is never part of its own field; as
in Metaculus's code it keeps the factor N/(N-1) of the field's N.

A user's intervals on one question must not overlap (a chain); ValueError otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

P_MIN = 0.001
P_MAX = 0.999

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def clip_probability(p: ArrayLike) -> FloatArray:
    """Clip probabilities to [0.001, 0.999] so that logs stay finite."""
    return np.clip(np.asarray(p, dtype=np.float64), P_MIN, P_MAX)


def probability_of_outcome(p: ArrayLike, outcome: ArrayLike) -> FloatArray:
    """Clipped probability in [0.001, 0.999] given to the outcome (1 YES, 0 NO) that happened."""
    clipped = clip_probability(p)
    return np.where(np.asarray(outcome) == 1, clipped, 1.0 - clipped)


def brier_score(p: ArrayLike, outcome: ArrayLike) -> FloatArray:
    """Brier score (p - o)^2 in [0, 1] of P(YES) ``p`` in [0, 1]; broadcasts like numpy."""
    return (np.asarray(p, dtype=np.float64) - np.asarray(outcome, dtype=np.float64)) ** 2


def log_score(p: ArrayLike, outcome: ArrayLike) -> FloatArray:
    """Natural-log score ln(p_outcome) in [-6.91, -0.001]; broadcasts like numpy."""
    return np.log(probability_of_outcome(p, outcome))


def baseline_score(p: ArrayLike, outcome: ArrayLike) -> FloatArray:
    """Metaculus baseline score 100 * (log2(p_outcome) + 1): 0 at 50 %, 99.86 at 99.9 %."""
    return 100.0 * (np.log2(probability_of_outcome(p, outcome)) + 1.0)


def _as_float(values: ArrayLike) -> FloatArray:
    return np.atleast_1d(np.asarray(values, dtype=np.float64))


def _as_int(values: ArrayLike) -> IntArray:
    return np.atleast_1d(np.asarray(values, dtype=np.int64))


def _set(frozen: object, **arrays: NDArray[np.generic]) -> None:
    """Store normalised arrays on a frozen dataclass from its __post_init__."""
    for name, value in arrays.items():
        object.__setattr__(frozen, name, value)


@dataclass(frozen=True, eq=False)
class Intervals:
    """Forecast intervals: user ``user[i]`` said P(YES) = ``prob[i]`` on [start[i], end[i]).

    ``question`` and ``user`` are non-negative int indices, ``start``/``end`` float seconds
    (``end`` NaN is stored as +inf, "still standing"), ``prob`` in [0, 1].
    """

    question: IntArray
    user: IntArray
    start: FloatArray
    end: FloatArray
    prob: FloatArray

    def __post_init__(self) -> None:
        end = _as_float(self.end)
        _set(self, question=_as_int(self.question), user=_as_int(self.user))
        _set(self, start=_as_float(self.start), end=np.where(np.isnan(end), np.inf, end))
        _set(self, prob=_as_float(self.prob))
        arrays = (self.question, self.user, self.start, self.end, self.prob)
        if len({a.shape for a in arrays}) != 1 or self.start.ndim != 1:
            raise ValueError("interval arrays must be 1-D and of equal length")
        if not np.all(np.isfinite(self.start)) or np.any(self.end < self.start):
            raise ValueError("starts must be finite and ends must not precede starts")
        if not np.all((self.prob >= 0) & (self.prob <= 1)):
            raise ValueError("probabilities must lie in [0, 1]")
        if np.any(self.question < 0) or np.any(self.user < 0):
            raise ValueError("question and user indices must be non-negative")

    @classmethod
    def of_question(
        cls, user: ArrayLike, start: ArrayLike, end: ArrayLike, prob: ArrayLike
    ) -> Intervals:
        """Intervals of a single question (question index 0)."""
        return cls(np.zeros_like(_as_int(user)), user, start, end, prob)

    def __len__(self) -> int:
        return int(self.start.size)


@dataclass(frozen=True, eq=False)
class Questions:
    """Per question index: ``opens_at`` and actual ``closes_at`` (float seconds, closes > opens)
    and ``outcome`` (1 YES, 0 NO)."""

    opens_at: FloatArray
    closes_at: FloatArray
    outcome: IntArray

    def __post_init__(self) -> None:
        _set(self, opens_at=_as_float(self.opens_at), closes_at=_as_float(self.closes_at))
        _set(self, outcome=_as_int(self.outcome))
        if not self.opens_at.shape == self.closes_at.shape == self.outcome.shape:
            raise ValueError("question arrays must be of equal length")
        if not np.all(self.closes_at > self.opens_at):
            raise ValueError("every question must close after it opens")
        if not np.all((self.outcome == 0) | (self.outcome == 1)):
            raise ValueError("outcomes must be 0 or 1")

    def __len__(self) -> int:
        return int(self.outcome.size)


@dataclass(frozen=True, eq=False)
class ScoreTable:
    """One row per (question, user) having at least one interval, sorted by question, user.

    Time-averaged ``brier`` (over covered time, NaN if coverage is 0), ``log``, ``baseline`` and
    ``peer`` (over the whole period), ``coverage`` in [0, 1], and the ``*_at_close`` scores of
    the forecast standing at close (NaN without one). See the module docstring.
    """

    question: IntArray
    user: IntArray
    coverage: FloatArray
    brier: FloatArray
    log: FloatArray
    baseline: FloatArray
    peer: FloatArray
    brier_at_close: FloatArray
    log_at_close: FloatArray
    baseline_at_close: FloatArray
    peer_at_close: FloatArray

    def __len__(self) -> int:
        return int(self.question.size)


def _argsort_by(minor: FloatArray, *majors: IntArray) -> IntArray:
    """Indices sorting by majors[-1], ..., majors[0], then ``minor``, like np.lexsort.

    np.lexsort is several times slower than one float argsort followed by stable passes over
    the integer keys, which numpy runs as radix sorts when the keys fit in 16 bits.
    """
    order = np.argsort(minor)
    for key in majors:
        k = key[order]
        if k.size and k.max() < 2**16:
            k = k.astype(np.uint16)
        order = order[np.argsort(k, kind="stable")]
    return order


def _chain_order(intervals: Intervals) -> IntArray:
    """Order by (question, user, start); raise if one user's intervals overlap."""
    order = _argsort_by(intervals.start, intervals.user, intervals.question)
    # Zero-length intervals stand nowhere, so they cannot overlap (and may tie in start).
    o = order[intervals.end[order] > intervals.start[order]]
    q, u = intervals.question[o], intervals.user[o]
    start, end = intervals.start[o], intervals.end[o]
    if np.any((q[1:] == q[:-1]) & (u[1:] == u[:-1]) & (end[:-1] > start[1:])):
        raise ValueError("a user's intervals on one question overlap")
    return order


def _segmented_cumsum(x: FloatArray, starts: IntArray, exclusive: bool = False) -> FloatArray:
    """Cumulative sum of x restarting at each index of ``starts`` (starts[0] == 0); element k
    includes x[k] unless ``exclusive``.

    One global cumsum would carry every earlier question's running total, costing precision
    when later differences are taken; subtracting the previous totals keeps magnitudes local.
    """
    y = x.copy()
    y[starts[1:]] -= np.add.reduceat(x, starts)[:-1]
    c = np.cumsum(y)
    c -= np.repeat(c[starts] - x[starts], np.diff(np.append(starts, x.size)))
    return c - x if exclusive else c


@dataclass(frozen=True, eq=False)
class _Clipped:
    """Intervals clipped to their question's open period, with ln p_outcome."""

    question: IntArray
    start: FloatArray
    end: FloatArray
    ln_p: FloatArray

    @classmethod
    def of(cls, iv: Intervals, questions: Questions) -> _Clipped:
        q = iv.question
        return cls(
            q,
            np.maximum(iv.start, questions.opens_at[q]),
            np.minimum(iv.end, questions.closes_at[q]),
            np.log(probability_of_outcome(iv.prob, questions.outcome[q])),
        )


def _peer_integrals(
    scored: _Clipped, field: _Clipped, length: FloatArray, same: bool
) -> FloatArray:
    """Integral of each scored interval's peer score over its clipped interval / period length.

    Events (clipped starts and ends) are sorted per question; after each event, a cumulative
    sum gives the field size N and the sum S of ln p_outcome on the elementary segment up to
    the next event. Per segment of relative width w, a forecast earns
    w * 100/(N-1) * (N ln p - S), so two cumulative sums A = sum w*100N/(N-1) and
    B = sum w*100S/(N-1) give any interval's integral as ln p * dA - dB.
    """
    f_on = np.flatnonzero(field.end > field.start)
    s_on = f_on if same else np.flatnonzero(scored.end > scored.start)
    nf, ns = f_on.size, s_on.size
    out = np.zeros(scored.start.size)
    if ns == 0:
        return out
    # Event k < 2nf is a field start (k < nf) or end; later ones are scored starts and ends.
    parts = [(field, f_on)] if same else [(field, f_on), (scored, s_on)]
    t = np.concatenate([np.r_[iv.start[on], iv.end[on]] for iv, on in parts])
    q = np.concatenate([np.tile(iv.question[on], 2) for iv, on in parts])
    order = _argsort_by(t, q)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    t, q = t[order], q[order]
    sign = np.where(order < nf, 1.0, np.where(order < 2 * nf, -1.0, 0.0))
    f_ln = field.ln_p[f_on]
    d_ln = sign * f_ln[np.where(order < 2 * nf, order % max(nf, 1), 0)] if nf else sign
    starts = np.flatnonzero(np.r_[True, q[1:] != q[:-1]])
    # Starts and ends balance within a question, so the integer count resets by itself.
    n = np.cumsum(sign)
    s_ln = _segmented_cumsum(d_ln, starts)
    width = np.zeros(t.size)
    width[:-1] = np.where(q[1:] == q[:-1], (t[1:] - t[:-1]) / length[q[:-1]], 0.0)
    # Zero-width segments between tied events may see a transient N; they weigh nothing.
    per = np.where(n >= 2, 100.0 * width / np.maximum(n - 1.0, 1.0), 0.0)
    cum_a = _segmented_cumsum(per * n, starts, exclusive=True)
    cum_b = _segmented_cumsum(per * s_ln, starts, exclusive=True)
    first = 0 if same else 2 * nf
    i0 = rank[first + np.arange(ns)]
    i1 = rank[first + ns + np.arange(ns)]
    out[s_on] = scored.ln_p[s_on] * (cum_a[i1] - cum_a[i0]) - (cum_b[i1] - cum_b[i0])
    return out


def score_questions(
    intervals: Intervals, questions: Questions, field: Intervals | None = None
) -> ScoreTable:
    """Time-averaged and at-close scores per (question, user) for many questions at once.

    ``intervals.question`` indexes ``questions``. ``field`` (default: ``intervals``) is the set
    of forecasts whose geometric mean peer scores compare against; see the module docstring.
    """
    same = field is None or field is intervals
    field = intervals if field is None else field
    for iv in (intervals, field):
        if len(iv) and iv.question.max() >= len(questions):
            raise ValueError("question index out of range")
    order = _chain_order(intervals)
    if not same:
        _chain_order(field)

    length = questions.closes_at - questions.opens_at
    mine = _Clipped.of(intervals, questions)
    others = mine if same else _Clipped.of(field, questions)
    q, ln_p = mine.question, mine.ln_p
    weight = np.maximum(mine.end - mine.start, 0.0) / length[q]
    brier = brier_score(intervals.prob, questions.outcome[q])
    baseline = 100.0 * (ln_p / math.log(2) + 1.0)
    peer = _peer_integrals(mine, others, length, same)

    qs, us = q[order], intervals.user[order]
    new_group = np.r_[True, (qs[1:] != qs[:-1]) | (us[1:] != us[:-1])][: order.size]
    first = np.flatnonzero(new_group)
    gid = np.cumsum(new_group) - 1

    def per_group(values: FloatArray) -> FloatArray:
        if order.size == 0:
            return np.zeros(0)
        return np.add.reduceat(values[order], first)

    coverage = per_group(weight)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_brier = np.where(coverage > 0, per_group(weight * brier) / coverage, np.nan)

    # Standing at close (start < close <= end) survives clipping as start < close == end.
    # Without overlaps a (question, user) has at most one such interval.
    close = questions.closes_at
    field_on = (others.start < close[others.question]) & (others.end >= close[others.question])
    n_close = np.bincount(others.question[field_on], minlength=len(questions)).astype(float)
    s_close = np.bincount(others.question[field_on], others.ln_p[field_on], len(questions))
    on = ((mine.start < close[q]) & (mine.end >= close[q]))[order]
    groups, rows = gid[on], order[on]
    n_q, s_q = n_close[q[rows]], s_close[q[rows]]
    with np.errstate(invalid="ignore", divide="ignore"):
        peer_close = np.where(n_q >= 2, 100 * n_q / (n_q - 1) * (ln_p[rows] - s_q / n_q), 0.0)

    def at_close(values: FloatArray) -> FloatArray:
        out = np.full(first.size, np.nan)
        out[groups] = values
        return out

    return ScoreTable(
        question=qs[first],
        user=us[first],
        coverage=coverage,
        brier=mean_brier,
        log=per_group(weight * ln_p),
        baseline=per_group(weight * baseline),
        peer=per_group(peer),
        brier_at_close=at_close(brier[rows]),
        log_at_close=at_close(ln_p[rows]),
        baseline_at_close=at_close(baseline[rows]),
        peer_at_close=at_close(peer_close),
    )


def score_question(
    intervals: Intervals,
    opens_at: float,
    closes_at: float,
    outcome: int,
    field: Intervals | None = None,
) -> ScoreTable:
    """``score_questions`` for one question; the intervals' question indices are ignored."""

    def single(iv: Intervals) -> Intervals:
        return Intervals.of_question(iv.user, iv.start, iv.end, iv.prob)

    others = None if field is None or field is intervals else single(field)
    return score_questions(single(intervals), Questions([opens_at], [closes_at], [outcome]), others)


def weighted_median(values: ArrayLike, weights: ArrayLike) -> float:
    """Weighted median with the midpoint convention; NaN for no values.

    Sort the values; with cumulative weights C_k and total W, take the first value whose
    C_k >= W/2; if that C_k equals W/2 (relative tolerance 1e-12), average it with the next
    value. With equal weights this is numpy's median (even N averages the two middle values).
    Weights must be positive.
    """
    v = _as_float(values)
    w = _as_float(weights)
    if v.shape != w.shape or np.any(w <= 0):
        raise ValueError("weights must be positive and match the values")
    if v.size == 0:
        return math.nan
    order = np.argsort(v, kind="stable")
    v, cum = v[order], np.cumsum(w[order])
    half = cum[-1] / 2.0
    tol = 1e-12 * cum[-1]
    k = int(np.count_nonzero(cum < half - tol))
    if abs(cum[k] - half) <= tol and k + 1 < v.size:
        return float((v[k] + v[k + 1]) / 2.0)
    return float(v[k])


def recency_weighted_median(probs_sorted_by_start: ArrayLike) -> float:
    """Metaculus community prediction of N standing P(YES), oldest first; NaN for none.

    The n-th (1-based) weighs exp(sqrt(n) - sqrt(N)), so the newest weighs 1; the result is the
    ``weighted_median``, or numpy's unweighted median when N <= 2.
    """
    p = _as_float(probs_sorted_by_start)
    if p.size == 0:
        return math.nan
    if p.size <= 2:
        return float(np.median(p))
    rank = np.arange(1, p.size + 1, dtype=np.float64)
    return weighted_median(p, np.exp(np.sqrt(rank) - math.sqrt(p.size)))


def geometric_mean_of_odds(probs: ArrayLike) -> float:
    """Geometric mean of odds as a probability GMO/(1+GMO), in [0.001, 0.999]; NaN for none."""
    p = clip_probability(_as_float(probs))
    if p.size == 0:
        return math.nan
    mean_log_odds = float(np.mean(np.log(p) - np.log1p(-p)))
    return 1.0 / (1.0 + math.exp(-mean_log_odds))


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

    Forecasts that start together are ordered as given. Each row recomputes its aggregates
    from the standing set: the weighted median needs the whole sorted set anyway.
    """
    iv = Intervals.of_question(np.zeros(np.size(start)), start, end, prob)
    keep = iv.end > iv.start
    order = np.argsort(iv.start[keep], kind="stable")
    s, e, p = iv.start[keep][order], iv.end[keep][order], iv.prob[keep][order]
    times = np.unique(np.concatenate([s, e[np.isfinite(e)]]))
    median = np.full(times.size, np.nan)
    gmo = np.full(times.size, np.nan)
    count = np.zeros(times.size, dtype=np.int64)
    for k, t in enumerate(times):
        standing = p[(s <= t) & (e > t)]
        count[k] = standing.size
        if standing.size:
            median[k] = recency_weighted_median(standing)
            gmo[k] = geometric_mean_of_odds(standing)
    return AggregateHistory(times, median, gmo, count)
