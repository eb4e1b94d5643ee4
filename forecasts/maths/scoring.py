"""Scores of binary and multiple-choice questions, vectorised with numpy (no Django). Crowd
aggregates live in ``forecasts.maths.aggregation``.

A forecast is a pmf over a question's n >= 2 options, and what happened is the index k of one
option. Every score below needs only p_k, the probability given to what happened, and
sum_i p_i^2, so one code path scores every kind of question from those two columns. A binary
forecast P(YES) = p is the pmf (p, 1 - p), YES being option 0: binary rows are given as P(YES)
``prob`` with outcome 1 (YES) or 0 (NO), multiple-choice rows as ``p_outcome`` and ``sum_sq``
(``outcome_columns`` reduces pmfs to them); one set of intervals may mix both kinds.

Numeric and date questions (``forecasts.maths.continuous``) enter as rows of the bucket mass
p_k their CDF gave the outcome (of 202 buckets: ``n_options`` 202, ``outcome`` the bucket) and
their CRPS as ``loss``, with ``Questions.ln_base`` the log of the outcome bucket's base mass.
Their ln p_k is not floored (a valid CDF gives every bucket that can hold the outcome at least
0.01/200); baseline is 100 * ln(p_k / base_k) / 2 and peer is halved (Metaculus's continuous
scores); the ``brier`` columns hold the CRPS, averaged over covered time as Brier is.

Times are float seconds on a common epoch (e.g. Unix seconds). P(YES) is clipped to
[0.001, 0.999] wherever a log is taken, as it always was; a multiple-choice p_k only to at
least 0.001 (every valid option is already >= 0.001, and p_k <= 1 - (n - 1) * 0.001).

Instantaneous scores: Brier, lower is better, unclipped: binary (p - o)^2 in [0, 1], multiple
choice sum_i (p_i - o_i)^2 = sum_i p_i^2 - 2 p_k + 1 in [0, 2] (a binary pmf scores twice its
binary Brier there). Log ln(p_k) in [-6.91, 0] (binary: [-6.91, -0.001]). Baseline (Metaculus)
100 * ln(n p_k) / ln n: 0 for the uniform forecast 1/n, 100 at certainty, 100 * (ln(0.001) /
ln n + 1) at worst (binary: 100 * (log2(p_k) + 1) in [-897, 99.86]). Peer (Metaculus)
100 * N/(N-1) * ln(p_k / GM), GM the geometric mean of the p_k of the N field forecasts
standing at that moment; 0 when N <= 1; across the field the peer scores sum to 0.

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
from collections.abc import Callable
from typing import NamedTuple, cast

import numpy as np
from numpy.typing import ArrayLike

from forecasts.maths.intervals import (
    BoolArray,
    FloatArray,
    IntArray,
    Intervals,
    Questions,
    ScoreTable,
    argsort_by,
    in_chain_order,
    outcome_columns,
    unchecked,
)

P_MIN = 0.001
P_MAX = 0.999


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


def _multi_ln_p(p_outcome: FloatArray) -> FloatArray:
    """ln p_k, p_k raised to at least 0.001."""
    return np.log(np.maximum(p_outcome, P_MIN))


def _multi_brier(p_outcome: FloatArray, sum_sq: FloatArray) -> FloatArray:
    """sum_i (p_i - o_i)^2 = sum_i p_i^2 - 2 p_k + 1, in [0, 2]."""
    brier = sum_sq - 2.0 * p_outcome
    brier += 1.0
    # (1 - p_k)^2 <= this in exact arithmetic; rounding near p_k = 1 may dip below 0.
    return np.maximum(brier, 0.0)


def _ln_options(n_options: ArrayLike) -> FloatArray:
    """ln n, with n = 2 exactly math.log(2), the divisor binary scores always used."""
    n = np.asarray(n_options, dtype=np.float64)
    return np.where(n == 2, math.log(2), np.log(n))


def multi_brier_score(pmf: ArrayLike, outcome: ArrayLike) -> FloatArray:
    """Multi-category Brier sum_i (p_i - o_i)^2 in [0, 2] of pmfs (last axis: options) when
    option ``outcome`` happened; a binary pmf (p, 1 - p) scores 2 (p - o)^2. Unclipped."""
    return _multi_brier(*outcome_columns(pmf, outcome))


def multi_log_score(pmf: ArrayLike, outcome: ArrayLike) -> FloatArray:
    """Log score ln p_k of pmfs (last axis: options), p_k raised to at least 0.001."""
    return _multi_ln_p(outcome_columns(pmf, outcome)[0])


def multi_baseline_score(pmf: ArrayLike, outcome: ArrayLike) -> FloatArray:
    """Metaculus baseline 100 * ln(n p_k) / ln n of pmfs over n options (the last axis): 0 for
    the uniform pmf, 100 at certainty; p_k raised to at least 0.001."""
    n = np.shape(pmf)[-1]
    return 100.0 * (multi_log_score(pmf, outcome) / _ln_options(n) + 1.0)


def _counts(question: IntArray, n_questions: int) -> IntArray:
    """Rows per question index of sorted ``question``."""
    return np.diff(np.searchsorted(question, np.arange(n_questions + 1)))


class _Clipped(NamedTuple):
    """``intervals`` in chain order clipped to their question's open period [lo, hi], as times
    r = (t - lo) / (hi - lo) in [0, 1], with ln p_outcome; ``live`` where the clipped interval
    is not empty, ``joins`` where it ends exactly when the next one of its chain starts (both
    live), ``at_close`` where it stands at close (start < hi <= end)."""

    intervals: Intervals
    question: IntArray
    user: IntArray
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
    ln_p = _ln_p_outcome(iv, questions, count)
    return _Clipped(iv, iv.question, iv.user, new_chain, start, end, ln_p, live, joins, at_close)


def _by_kind(
    iv: Intervals,
    binary: Callable[[], FloatArray],
    multi: Callable[[FloatArray, FloatArray], FloatArray],
) -> FloatArray:
    """Per row, ``binary()`` of the P(YES) rows and ``multi(p_outcome, sum_sq)`` of the
    multiple-choice rows; each is computed over all rows (NaN where of the other kind), and
    only when some row is of its kind."""
    if iv.p_outcome is None or iv.sum_sq is None:
        return binary()
    values = multi(iv.p_outcome, iv.sum_sq)
    on_binary = np.isnan(iv.p_outcome)
    if on_binary.any():
        values = np.where(on_binary, binary(), values)
    return values


def _ln_p_outcome(iv: Intervals, questions: Questions, count: IntArray) -> FloatArray:
    """ln p_outcome of ``iv``'s rows, grouped by question with ``count`` rows each."""

    def binary() -> FloatArray:
        # |p - 1| is 1 - p, so this is p_outcome for either outcome.
        ln_p = clip_probability(iv.prob)
        ln_p -= 1.0
        ln_p += np.repeat(questions.outcome.astype(np.float64), count)
        return np.log(np.abs(ln_p, out=ln_p), out=ln_p)

    ln_p = _by_kind(iv, binary, lambda p_outcome, _: _multi_ln_p(p_outcome))
    if iv.loss is not None and iv.p_outcome is not None:
        # A continuous row's bucket mass is taken as it is: a valid CDF gives every bucket that
        # can hold the outcome at least 0.01/200 (0.001 an open bound's), below the 0.001 floor.
        continuous = ~np.isnan(iv.loss)
        ln_p[continuous] = np.log(iv.p_outcome[continuous])
    return ln_p


def _brier(iv: Intervals, questions: Questions, count: IntArray) -> FloatArray:
    """Instantaneous Brier of ``iv``'s rows: (p - o)^2 binary, sum_i (p_i - o_i)^2 else."""

    def binary() -> FloatArray:
        brier = iv.prob - np.repeat(questions.outcome.astype(np.float64), count)
        return np.square(brier, out=brier)

    brier = _by_kind(iv, binary, _multi_brier)
    if iv.loss is not None:
        # A continuous row's quadratic score is its CRPS, Brier's continuous counterpart.
        brier = np.where(np.isnan(iv.loss), brier, iv.loss)
    return brier


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
        order = argsort_by(r, key.astype(np.int64), stable=True)
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

    ``intervals.question`` indexes ``questions``; a P(YES) row's question has two options.
    ``field`` (default: ``intervals``) is the set of forecasts whose geometric mean peer scores
    compare against; see the module docstring.
    """
    field = intervals if field is None else field
    same, nq = field is intervals, len(questions)
    for iv in (intervals, field):
        if len(iv) and iv.question.max() >= nq:
            raise ValueError("question index out of range")
        if np.any(questions.n_options != 2):
            binary_questions = iv.question[iv.binary_rows]
            if np.any(questions.n_options[binary_questions] != 2):
                raise ValueError("a P(YES) row belongs to a question of two options")
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
    brier = _brier(mine.intervals, questions, _counts(q, nq))
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
    # ln n per row; on binary questions only, the scalar ln 2 binary scores always used.
    ln_n: float | FloatArray = math.log(2)
    ln_n_close: float | FloatArray = ln_n
    if np.any(questions.n_options != 2):
        by_question = _ln_options(questions.n_options)
        ln_n, ln_n_close = by_question[q[first]], by_question[q[rows]]
    at_close = np.full((4, first.size), np.nan)
    at_close[:, groups] = brier[rows], ln_close, 100 * (ln_close / ln_n_close + 1), peer_close
    baseline = 100.0 * (log / ln_n + coverage)
    peer = 100 * peer_sum
    if questions.continuous.any():
        _continuous_scores(questions, q[first], coverage, log, baseline, peer)
        continuous = questions.continuous[q[rows]]
        chain = groups[continuous]
        ln_base = questions.ln_base[q[rows][continuous]]
        at_close[2, chain] = 50.0 * (ln_close[continuous] - ln_base)
        at_close[3, chain] /= 2.0
    return ScoreTable(
        q[first], mine.user[first], coverage, mean_brier, log, baseline, peer, *at_close
    )


def _continuous_scores(
    questions: Questions,
    question: IntArray,
    coverage: FloatArray,
    log: FloatArray,
    baseline: FloatArray,
    peer: FloatArray,
) -> None:
    """Rescore, in place, the rows of numeric and date questions (Metaculus): baseline
    100 * ln(pmf_k / base_k) / 2 time-averaged, i.e. 100 * (log - coverage ln base_k) / 2, and
    the peer score halved; ``question`` is each row's question index."""
    rows = questions.continuous[question]
    ln_base = questions.ln_base[question[rows]]
    baseline[rows] = 50.0 * (log[rows] - coverage[rows] * ln_base)
    peer[rows] /= 2.0


def score_question(
    intervals: Intervals,
    opens_at: float,
    closes_at: float,
    outcome: int,
    field: Intervals | None = None,
    *,
    n_options: int = 2,
) -> ScoreTable:
    """``score_questions`` for one question; the intervals' question indices are ignored."""

    def single(iv: Intervals) -> Intervals:
        return unchecked(iv, question=np.zeros(len(iv), dtype=np.int64))

    questions = Questions([opens_at], [closes_at], [outcome], n_options)
    others = None if field is None or field is intervals else single(field)
    return score_questions(single(intervals), questions, others)
