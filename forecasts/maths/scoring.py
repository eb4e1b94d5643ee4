"""Scores of binary questions, vectorised with numpy (no Django). Crowd aggregates live in
``forecasts.maths.aggregation``.

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
(``forecasts.maths.aggregation.AggregateHistory.as_intervals``), pass the users' intervals as
``field``: scored intervals count in N only if they belong to ``field``, so the crowd is never
part of its own field; as in Metaculus's code it keeps the factor N/(N-1) of the field's N.

A user's intervals on one question must not overlap (a chain); ValueError otherwise.

Input order: any. Rows already ordered by (question, user, start), as the database returns
them through its (question, user, starts_at) index, are verified in O(n) and scored without
sorting; other rows are sorted first (about twice the time at a million rows, same result).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

P_MIN = 0.001
P_MAX = 0.999

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


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


@dataclass(frozen=True, eq=False, init=False)
class Intervals:
    """Forecast intervals: user ``user[i]`` said P(YES) = ``prob[i]`` on [start[i], end[i]).

    ``question`` and ``user`` are non-negative int indices, ``start``/``end`` float seconds
    (``end`` NaN is stored as +inf, "still standing"), ``prob`` in [0, 1]. Any array-like is
    taken and stored as a 1-D array of its field's type.
    """

    question: IntArray
    user: IntArray
    start: FloatArray
    end: FloatArray
    prob: FloatArray

    def __init__(
        self,
        question: ArrayLike,
        user: ArrayLike,
        start: ArrayLike,
        end: ArrayLike,
        prob: ArrayLike,
    ) -> None:
        _set(self, question=_as_int(question), user=_as_int(user))
        _set(self, start=_as_float(start), end=np.fmin(_as_float(end), np.inf))  # NaN -> inf
        _set(self, prob=_as_float(prob))
        arrays = (self.question, self.user, self.start, self.end, self.prob)
        if len({a.shape for a in arrays}) != 1 or self.start.ndim != 1:
            raise ValueError("interval arrays must be 1-D and of equal length")
        if not len(self):
            return
        # min and max propagate NaN, so single reductions check ranges and NaN alike.
        finite = np.isfinite(self.start.min()) and np.isfinite(self.start.max())
        if not finite or np.any(self.end < self.start):
            raise ValueError("starts must be finite and ends must not precede starts")
        if not (self.prob.min() >= 0 and self.prob.max() <= 1):
            raise ValueError("probabilities must lie in [0, 1]")
        if self.question.min() < 0 or self.user.min() < 0:
            raise ValueError("question and user indices must be non-negative")

    @classmethod
    def of_question(
        cls, user: ArrayLike, start: ArrayLike, end: ArrayLike, prob: ArrayLike
    ) -> Intervals:
        """Intervals of a single question (question index 0)."""
        return cls(np.zeros_like(_as_int(user)), user, start, end, prob)

    def __len__(self) -> int:
        return int(self.start.size)


@dataclass(frozen=True, eq=False, init=False)
class Questions:
    """Per question index: ``opens_at`` and actual ``closes_at`` (float seconds, closes > opens)
    and ``outcome`` (1 YES, 0 NO), from any array-likes."""

    opens_at: FloatArray
    closes_at: FloatArray
    outcome: IntArray

    def __init__(self, opens_at: ArrayLike, closes_at: ArrayLike, outcome: ArrayLike) -> None:
        _set(self, opens_at=_as_float(opens_at), closes_at=_as_float(closes_at))
        _set(self, outcome=_as_int(outcome))
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


def _argsort_by(minor: FloatArray, *majors: IntArray, stable: bool = False) -> IntArray:
    """Indices sorting by majors[-1], ..., majors[0], then ``minor``, like np.lexsort but
    several times faster: numpy sorts integer keys that fit in 16 bits by radix."""
    order = np.argsort(minor, kind="stable" if stable else None)
    for key in majors:
        k = key[order]
        if k.size and k.max() < 2**16:
            k = k.astype(np.uint16)
        order = order[np.argsort(k, kind="stable")]
    return order


def in_chain_order(intervals: Intervals) -> tuple[Intervals, BoolArray]:
    """``intervals`` ordered by (question, user, start), and the mask of the rows that begin a
    (question, user) chain; ValueError if a user's intervals on one question overlap.

    Rows already in that order come back as they are after an O(n) check; others are sorted.
    """
    if len(intervals) == 0:
        return intervals, np.zeros(0, dtype=bool)
    q, u, start, end = intervals.question, intervals.user, intervals.start, intervals.end
    span = int(u.max()) + 1
    if (int(q.max()) + 1) * span < 2**62:
        step = np.diff(q * span + u)
        same = step == 0
        # In an ordered chain start_i <= end_i <= start_{i+1}: one test covers order and overlap.
        if not np.any(step < 0) and not np.any(same & (end[:-1] > start[1:])):
            return intervals, np.r_[True, ~same]
    rows, prob = _argsort_by(start, u, q), intervals.prob
    q, u, start, end, prob = q[rows], u[rows], start[rows], end[rows], prob[rows]
    intervals = object.__new__(Intervals)  # already validated
    _set(intervals, question=q, user=u, start=start, end=end, prob=prob)
    # Zero-length intervals stand nowhere, so they cannot overlap (and may tie in start).
    live = end > start
    ql, ul = q[live], u[live]
    if np.any((ql[1:] == ql[:-1]) & (ul[1:] == ul[:-1]) & (end[live][:-1] > start[live][1:])):
        raise ValueError("a user's intervals on one question overlap")
    return intervals, np.r_[True, (q[1:] != q[:-1]) | (u[1:] != u[:-1])]


def _counts(question: IntArray, n_questions: int) -> IntArray:
    """Rows per question index of sorted ``question``."""
    return np.diff(np.searchsorted(question, np.arange(n_questions + 1)))


class _Clipped(NamedTuple):
    """Intervals in chain order clipped to their question's open period [lo, hi], as times
    r = (t - lo) / (hi - lo) in [0, 1], with ln p_outcome; ``live`` where the clipped interval
    is not empty, ``joins`` where it ends exactly when the next one of its chain starts (both
    live), ``at_close`` where it stands at close (start < hi <= end)."""

    question: IntArray
    user: IntArray
    prob: FloatArray
    new_chain: BoolArray
    r_start: FloatArray
    r_end: FloatArray
    ln_p: FloatArray
    live: BoolArray
    joins: BoolArray
    at_close: BoolArray


def _clip(intervals: Intervals, questions: Questions) -> _Clipped:
    iv, new_chain = in_chain_order(intervals)
    # Rows are grouped by question, so np.repeat spreads per-question values, faster than
    # fancy indexing. Arrays are reused in place to keep the peak memory down.
    count = _counts(iv.question, len(questions))
    lo, hi = np.repeat(questions.opens_at, count), np.repeat(questions.closes_at, count)
    start, end = np.clip(iv.start, lo, hi), np.clip(iv.end, lo, hi)
    at_close, live = (end == hi) & (start < hi), end > start
    joins = np.zeros(len(iv), dtype=bool)
    joins[:-1] = ~new_chain[1:] & live[:-1] & live[1:] & (end[:-1] == start[1:])
    hi -= lo
    for times in (start, end):
        times -= lo
        times /= hi
    # |p - 1| is 1 - p, so this is p_outcome for either outcome.
    ln_p = clip_probability(iv.prob)
    ln_p -= 1.0
    ln_p += np.repeat(questions.outcome.astype(np.float64), count)
    np.log(np.abs(ln_p, out=ln_p), out=ln_p)
    return _Clipped(
        iv.question, iv.user, iv.prob, new_chain, start, end, ln_p, live, joins, at_close
    )


def _peer_integrals(
    mine: _Clipped, field: _Clipped, n_close: FloatArray, s_close: FloatArray, same: bool
) -> FloatArray:
    """Integral of each of ``mine``'s intervals' peer score / 100 over the period, in its
    chain order; ``n_close``/``s_close`` count and sum ln p of the field standing at close.

    A sweep over events sorted per question: after each, running sums give the field size N
    and the sum S of ln p_outcome until the next. Per segment of relative width w, a forecast
    earns w/(N-1) * (N ln p - S), so running sums A = sum w N/(N-1) and B = sum w S/(N-1)
    give any interval's integral as ln p * dA - dB. Events: each field interval's start; its
    end only where the next interval of its chain does not start then (that start swaps one
    ln p for the other); one per question at close, ending all that stand. For another field,
    ``mine`` add probe events (changing nothing) at their starts and ends.
    """
    nf, nq = field.question.size, n_close.size
    ends = np.flatnonzero(field.live & ~field.joins & ~field.at_close)
    ne, probes = ends.size, 0 if same else mine.question.size
    size = nf + ne + 2 * probes + nq
    key, r = np.empty(size), np.empty(size)
    parts = [(field.question, field.r_start), (field.question[ends], field.r_end[ends])]
    parts += [] if same else [(mine.question, mine.r_start), (mine.question, mine.r_end)]
    at = 0
    for question, times in parts:
        r[at : at + times.size] = times
        np.multiply(times, 0.5, out=key[at : at + times.size])
        key[at : at + times.size] += question
        at += times.size
    # Closes come last, so that a stable sort keeps them after every event at the same time.
    r[at:], key[at:] = 1.0, np.arange(nq) + 0.5
    counts = 1 + sum(_counts(question, nq) for question, _ in parts)
    last: IntArray = np.cumsum(counts) - 1
    # key = question + r/2 orders by (question, r) in one pass, and its int64 bits (key >= 0)
    # alike but faster. Should rounding tie two different r, widths go negative: sort exactly.
    order = np.argsort(key.view(np.int64), kind="stable")
    for exact in (False, True):
        width = r[order]
        width[:-1] = width[1:] - width[:-1]
        width[last] = 0.0
        if exact or not np.any(width < 0):
            break
        order = _argsort_by(r, key.astype(np.int64), stable=True)
    del key, r

    # Complex numbers carry two running sums for the price of one: N + iS, later A + iB.
    delta = np.zeros(size, dtype=np.complex128)
    d_n, d_ln = delta.real, delta.imag
    d_n[:nf] = field.live
    d_n[1:nf] -= field.joins[:-1]
    d_ln[:nf] = field.ln_p * field.live
    d_ln[1:nf] -= d_ln[: max(nf - 1, 0)] * field.joins[:-1]
    d_n[nf : nf + ne], d_ln[nf : nf + ne] = -1.0, -field.ln_p[ends]
    d_n[at:], d_ln[at:] = -n_close, -s_close
    ns = delta.take(order)
    np.cumsum(ns, out=ns)
    # The close events reset N exactly; S only up to rounding, so drop that carry as well.
    ns.imag -= np.repeat(np.r_[0.0, ns.imag[last[:-1]]], counts)
    below = ns.real - 1.0
    below[below < 1.0] = np.inf  # N <= 1 scores nobody: w / inf = 0
    width /= below
    ns *= width
    del width, below
    # Restart A + iB at each question, keeping magnitudes (and rounding) local.
    ns[last] -= np.add.reduceat(ns, last - counts + 1)
    delta[0] = 0.0
    np.cumsum(ns[:-1], out=delta[1:])
    ns[order] = delta  # back to event order
    del delta, order
    if same:
        d = ns[1 : nf + 1] - ns[:nf]  # to the next start: right where joined
        d[ends] = ns[nf : nf + ne] - ns[ends]
        closing = np.flatnonzero(field.at_close)
        d[closing] = ns[size - nq + field.question[closing]] - ns[closing]
        d[~field.live] = 0.0
    else:
        d = ns[nf + ne + probes : nf + ne + 2 * probes] - ns[nf + ne : nf + ne + probes]
    peer = np.multiply(mine.ln_p, d.real)
    peer -= d.imag
    return peer


def score_questions(
    intervals: Intervals, questions: Questions, field: Intervals | None = None
) -> ScoreTable:
    """Time-averaged and at-close scores per (question, user) for many questions at once.

    ``intervals.question`` indexes ``questions``. ``field`` (default: ``intervals``) is the set
    of forecasts whose geometric mean peer scores compare against; see the module docstring.
    """
    field = intervals if field is None else field
    same, nq = field is intervals, len(questions)
    for iv in (intervals, field):
        if len(iv) and iv.question.max() >= nq:
            raise ValueError("question index out of range")
    mine = _clip(intervals, questions)
    others = mine if same else _clip(field, questions)
    closing = np.flatnonzero(others.at_close)
    q_close = others.question[closing]
    n_close = np.bincount(q_close, minlength=nq).astype(np.float64)
    # numpy's stubs type every bincount as integers; with weights it sums in float64.
    s_close = cast(FloatArray, np.bincount(q_close, others.ln_p[closing], nq))
    if len(intervals) == 0:
        none = np.zeros(0, dtype=np.int64)
        return ScoreTable(none, none, *[np.zeros(0)] * 9)
    peer = _peer_integrals(mine, others, n_close, s_close, same)

    q, ln_p, first = mine.question, mine.ln_p, np.flatnonzero(mine.new_chain)
    weight = mine.r_end - mine.r_start
    brier = mine.prob - np.repeat(questions.outcome.astype(np.float64), _counts(q, nq))
    np.square(brier, out=brier)
    # A complex reduceat sums two columns for the price of one.
    pair = np.empty(len(q), dtype=np.complex128)
    pair.real, pair.imag = weight, weight * ln_p
    coverage, log = (np.add.reduceat(pair, first).view(np.float64).reshape(-1, 2).T).copy()
    pair.real, pair.imag = weight * brier, peer
    brier_sum, peer_sum = np.add.reduceat(pair, first).view(np.float64).reshape(-1, 2).T
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_brier = np.where(coverage > 0, brier_sum / coverage, np.nan)

    # Without overlaps a (question, user) has at most one interval standing at close.
    rows = closing if same else np.flatnonzero(mine.at_close)
    groups = np.searchsorted(first, rows, side="right") - 1
    n_q, s_q, ln_close = n_close[q[rows]], s_close[q[rows]], ln_p[rows]
    with np.errstate(invalid="ignore", divide="ignore"):
        peer_close = np.where(n_q >= 2, 100 * n_q / (n_q - 1) * (ln_close - s_q / n_q), 0.0)
    at_close = np.full((4, first.size), np.nan)
    at_close[:, groups] = brier[rows], ln_close, 100 * (ln_close / math.log(2) + 1), peer_close
    baseline = 100.0 * (log / math.log(2) + coverage)
    return ScoreTable(
        q[first], mine.user[first], coverage, mean_brier, log, baseline, 100 * peer_sum, *at_close
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
