"""Scores and crowd aggregates for binary questions, vectorised with numpy (no Django).

Units and ranges
----------------
Times are float seconds on any common epoch (e.g. Unix seconds). Probabilities are P(YES) in
[0, 1]; wherever a logarithm is taken they are clipped to [0.001, 0.999]. Outcomes are 1 (YES) or
0 (NO). ``p_outcome`` is the (clipped) probability given to what happened.

Instantaneous scores of one forecast
------------------------------------
- Brier: (p - o)^2, in [0, 1], lower is better (unclipped p).
- Log: ln(p_outcome), in [ln 0.001, ln 0.999] ~ [-6.91, -0.001], higher is better.
- Baseline (Metaculus): 100 * (log2(p_outcome) + 1), in ~[-897, 99.86]; 0 at 50 %.
- Peer (Metaculus): 100 * N/(N-1) * ln(p_outcome / GM), GM the geometric mean of the p_outcome of
  the N forecasts standing in the field at that moment (the scored one included when it belongs
  to the field); 0 when N <= 1. Across the field the instantaneous peer scores sum to 0.

Time averaging (``score_questions``)
------------------------------------
Interval i stands on [start, end); ``end`` NaN or +inf means "still standing". The open period
of a question is [opens_at, closes_at] (closes_at = the actual close) and intervals are clipped
to it. Per (question, user):

- ``coverage`` = covered time / period length, in [0, 1].
- ``log``, ``baseline``, ``peer`` = integral of the instantaneous score / period length: time
  without a standing forecast scores 0 (Metaculus convention), so absence is neither punished
  nor rewarded and ``coverage`` tells how much of the period the number stands for.
- ``brier`` = integral / covered time, i.e. the mean Brier over covered time only, NaN when
  coverage is 0. Dividing by the whole period would count absence as a perfect Brier of 0.
- The peer field changes at every start and end. A stretch in which the field is empty scores
  nobody (Metaculus lets the last geometric mean run on across such a gap; we do not).
- ``*_at_close``: the same scores for the user's forecast standing at close, the last one with
  start < closes_at <= end; NaN when there is none. The at-close peer field is the set of
  field forecasts standing at close by the same rule.

Field and the crowd as a pseudo-forecaster
------------------------------------------
``field`` defaults to the scored intervals. Pass another field to score intervals that are not
forecasters, e.g. the community prediction's history (``AggregateHistory.as_intervals``): the
scored intervals then count in N only if they also belong to ``field``, so the crowd is never
part of its own field. As in Metaculus's code, its peer score keeps the factor N/(N-1) of the
field's N.

Each user's intervals on one question must not overlap (a chain); a ValueError says otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


def peer_scores(p: ArrayLike, outcome: int) -> FloatArray:
    """Instantaneous Metaculus peer scores of N forecasts standing together on one question.

    ``p`` holds the N probabilities of YES; the result (same length) sums to 0; all 0 when N = 1.
    """
    ln_p = np.log(probability_of_outcome(np.atleast_1d(p), outcome))
    n = ln_p.size
    if n <= 1:
        return np.zeros(n)
    return 100.0 * n / (n - 1) * (ln_p - ln_p.mean())


def _as_float(values: ArrayLike) -> FloatArray:
    return np.atleast_1d(np.asarray(values, dtype=np.float64))


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
        fields = {
            "question": np.atleast_1d(np.asarray(self.question, dtype=np.int64)),
            "user": np.atleast_1d(np.asarray(self.user, dtype=np.int64)),
            "start": _as_float(self.start),
            "end": np.where(np.isnan(end), np.inf, end),
            "prob": _as_float(self.prob),
        }
        for name, value in fields.items():
            object.__setattr__(self, name, value)
        if len({v.shape for v in fields.values()}) != 1 or fields["start"].ndim != 1:
            raise ValueError("interval arrays must be 1-D and of equal length")
        if not np.all(np.isfinite(self.start)) or np.any(self.end < self.start):
            raise ValueError("starts must be finite and ends must not precede starts")
        if np.any((self.prob < 0) | (self.prob > 1)) or np.any(np.isnan(self.prob)):
            raise ValueError("probabilities must lie in [0, 1]")
        if np.any(self.question < 0) or np.any(self.user < 0):
            raise ValueError("question and user indices must be non-negative")

    @classmethod
    def of_question(
        cls, user: ArrayLike, start: ArrayLike, end: ArrayLike, prob: ArrayLike
    ) -> Intervals:
        """Intervals of a single question (question index 0)."""
        user_arr = np.atleast_1d(np.asarray(user, dtype=np.int64))
        return cls(np.zeros_like(user_arr), user_arr, start, end, prob)

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
        object.__setattr__(self, "opens_at", _as_float(self.opens_at))
        object.__setattr__(self, "closes_at", _as_float(self.closes_at))
        object.__setattr__(self, "outcome", np.atleast_1d(np.asarray(self.outcome, np.int64)))
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


def _chain_order(intervals: Intervals) -> IntArray:
    """Order by (question, user, start); raise if one user's intervals overlap."""
    order = np.lexsort((intervals.start, intervals.user, intervals.question))
    q, u = intervals.question[order], intervals.user[order]
    same = (q[1:] == q[:-1]) & (u[1:] == u[:-1])
    if np.any(same & (intervals.end[order][:-1] > intervals.start[order][1:])):
        raise ValueError("a user's intervals on one question overlap")
    return order


def _segmented_cumsum(x: FloatArray, starts: IntArray) -> FloatArray:
    """Inclusive cumulative sum restarting at each index of ``starts`` (starts[0] == 0).

    One global cumsum would carry every earlier question's running total, costing precision
    when later differences are taken; subtracting the previous totals keeps magnitudes local.
    """
    y = x.copy()
    y[starts[1:]] -= np.add.reduceat(x, starts)[:-1]
    c = np.cumsum(y)
    offset = c[starts] - x[starts]
    return c - np.repeat(offset, np.diff(np.append(starts, x.size)))


def _peer_integrals(
    scored: Intervals, field: Intervals, questions: Questions, same: bool
) -> FloatArray:
    """Integral of each scored interval's peer score over its clipped interval / period length.

    Events (clipped starts and ends) are sorted per question; after each event, a cumulative
    sum gives the field size N and the sum S of ln p_outcome on the elementary segment up to
    the next event. Per segment of relative width w, a forecast earns
    w * 100/(N-1) * (N ln p - S), so two cumulative sums A = sum w*100N/(N-1) and
    B = sum w*100S/(N-1) give any interval's integral as ln p * dA - dB.
    """
    length = questions.closes_at - questions.opens_at

    def clipped(iv: Intervals) -> tuple[FloatArray, FloatArray, FloatArray]:
        s = np.maximum(iv.start, questions.opens_at[iv.question])
        e = np.minimum(iv.end, questions.closes_at[iv.question])
        ln_p = np.log(probability_of_outcome(iv.prob, questions.outcome[iv.question]))
        return s, e, ln_p

    fs, fe, f_ln = clipped(field)
    f_on = np.flatnonzero(fe > fs)
    nf = f_on.size
    times = [fs[f_on], fe[f_on]]
    qs = [field.question[f_on]] * 2
    d_n = [np.ones(nf), -np.ones(nf)]
    d_s = [f_ln[f_on], -f_ln[f_on]]
    if same:
        s_on, ln_p = f_on, f_ln
        first_start, first_end = 0, nf
    else:
        ss, se, ln_p = clipped(scored)
        s_on = np.flatnonzero(se > ss)
        ns = s_on.size
        times += [ss[s_on], se[s_on]]
        qs += [scored.question[s_on]] * 2
        d_n += [np.zeros(2 * ns)]
        d_s += [np.zeros(2 * ns)]
        first_start, first_end = 2 * nf, 2 * nf + ns
    out = np.zeros(len(scored))
    if s_on.size == 0:
        return out

    t_all, q_all = np.concatenate(times), np.concatenate(qs)
    order = np.lexsort((t_all, q_all))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    t, q = t_all[order], q_all[order]
    starts = np.flatnonzero(np.r_[True, q[1:] != q[:-1]])
    # Starts and ends balance within a question, so the integer count resets by itself.
    n = np.cumsum(np.concatenate(d_n)[order])
    s_ln = _segmented_cumsum(np.concatenate(d_s)[order], starts)
    width = np.zeros(t.size)
    width[:-1] = np.where(q[1:] == q[:-1], (t[1:] - t[:-1]) / length[q[:-1]], 0.0)
    # Zero-width segments between tied events may see a transient N; they weigh nothing.
    per = np.where(n >= 2, 100.0 * width / np.maximum(n - 1.0, 1.0), 0.0)
    cum_a = _exclusive(_segmented_cumsum(per * n, starts), starts)
    cum_b = _exclusive(_segmented_cumsum(per * s_ln, starts), starts)
    i0 = rank[first_start + np.arange(s_on.size)]
    i1 = rank[first_end + np.arange(s_on.size)]
    out[s_on] = ln_p[s_on] * (cum_a[i1] - cum_a[i0]) - (cum_b[i1] - cum_b[i0])
    return out


def _exclusive(inclusive: FloatArray, starts: IntArray) -> FloatArray:
    """Shift a segmented inclusive cumsum to exclusive: element k = sum of x[start..k-1]."""
    out = np.empty_like(inclusive)
    out[0] = 0.0
    out[1:] = inclusive[:-1]
    out[starts] = 0.0
    return out


def _at_close_field(field: Intervals, questions: Questions) -> tuple[FloatArray, FloatArray]:
    """Per question: size N and sum of ln p_outcome of the field standing at close."""
    close = questions.closes_at[field.question]
    on = (field.start < close) & (field.end >= close)
    ln_p = np.log(probability_of_outcome(field.prob, questions.outcome[field.question]))
    nq = len(questions)
    count = np.bincount(field.question[on], minlength=nq).astype(np.float64)
    total = np.bincount(field.question[on], weights=ln_p[on], minlength=nq)
    return count, total


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

    q = intervals.question
    opens, close, outcome = questions.opens_at[q], questions.closes_at[q], questions.outcome[q]
    length = close - opens
    covered = np.maximum(np.minimum(intervals.end, close) - np.maximum(intervals.start, opens), 0)
    weight = covered / length
    ln_p = np.log(probability_of_outcome(intervals.prob, outcome))
    brier = brier_score(intervals.prob, outcome)
    baseline = 100.0 * (ln_p / math.log(2) + 1.0)
    peer = _peer_integrals(intervals, field, questions, same)

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

    # In (question, user, start) order the last standing row of a group is its at-close one.
    on = (intervals.start[order] < close[order]) & (intervals.end[order] >= close[order])
    g_on = gid[on]
    last = np.r_[g_on[1:] != g_on[:-1], True][: g_on.size]
    groups, rows = g_on[last], order[on][last]

    field_n, field_ln = _at_close_field(field, questions)
    n_close, s_close = field_n[q[rows]], field_ln[q[rows]]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_ln = s_close / n_close
        peer_close = np.where(
            n_close >= 2, 100 * n_close / (n_close - 1) * (ln_p[rows] - mean_ln), 0
        )

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

    def as_single(iv: Intervals) -> Intervals:
        return Intervals.of_question(iv.user, iv.start, iv.end, iv.prob)

    single = as_single(intervals)
    return score_questions(
        single,
        Questions([opens_at], [closes_at], [outcome]),
        None if field is None or field is intervals else as_single(field),
    )


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

    def as_intervals(self, which: str = "median", user: int = 0) -> Intervals:
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
