"""Forecast intervals and questions as the scorer takes them, validated once (no Django).

``Intervals`` are the forecasts (binary P(YES), a multiple-choice pmf reduced to p_outcome and
sum_sq, or a numeric or date question's bucket mass with its CRPS), ``Questions`` the questions
they are scored on, ``ScoreTable`` what ``forecasts.maths.scoring`` computes from them; see
that module's docstring for the meaning of each field. ``in_chain_order`` puts intervals in
the (question, user, start) order the scorer's sweeps rely on.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

PMF_TOLERANCE = 1e-6


def as_pmfs(pmf: ArrayLike) -> FloatArray:
    """``pmf`` as float pmfs over its last axis (n >= 2 options): entries in [0, 1], each pmf
    summing to 1 within 1e-6; ValueError otherwise. Nothing is normalised. Pmfs of fewer
    options than the last axis holds are padded with zeros."""
    p = np.asarray(pmf, dtype=np.float64)
    if p.ndim == 0 or p.shape[-1] < 2:
        raise ValueError("a pmf needs at least two options (along its last axis)")
    if p.size and not (p.min() >= 0 and p.max() <= 1):
        raise ValueError("pmf entries must lie in [0, 1]")
    # A product with ones sums short rows several times faster than sum(axis=-1).
    deviation = np.abs(np.atleast_1d(p @ np.ones(p.shape[-1])) - 1.0)
    if p.size and not deviation.max() <= PMF_TOLERANCE:
        raise ValueError("each pmf must sum to 1 within 1e-6")
    return p


def outcome_columns(pmf: ArrayLike, outcome: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """``(p_outcome, sum_sq)`` of pmfs (``as_pmfs``) whose option of index ``outcome`` (one per
    pmf, or one for all) happened: p_k in [0, 1] and sum_i p_i^2 in [1/n, 1], all that any
    score needs of a pmf."""
    p = as_pmfs(pmf)
    k = np.broadcast_to(np.asarray(outcome, dtype=np.int64), p.shape[:-1])
    if k.size and (k.min() < 0 or k.max() >= p.shape[-1]):
        raise ValueError("an outcome must be the index of one of the options")
    n = p.shape[-1]
    p_outcome = p.reshape(-1)[np.arange(k.size).reshape(k.shape) * n + k]
    sum_sq = np.einsum("...i,...i->...", p, p)
    return p_outcome, sum_sq


def _as_float(values: ArrayLike) -> FloatArray:
    return np.atleast_1d(np.asarray(values, dtype=np.float64))


def _as_int(values: ArrayLike) -> IntArray:
    return np.atleast_1d(np.asarray(values, dtype=np.int64))


def _set(frozen: object, **arrays: NDArray[np.generic] | None) -> None:
    """Store normalised arrays on a frozen dataclass from its __post_init__."""
    for name, value in arrays.items():
        object.__setattr__(frozen, name, value)


def _in_range(values: FloatArray, low: float, high: float) -> bool:
    """Every value within [low, high]; False for NaN (min and max propagate it)."""
    return not values.size or bool(values.min() >= low and values.max() <= high)


@dataclass(frozen=True, eq=False, init=False)
class Intervals:
    """Forecast intervals: user ``user[i]`` stood by a forecast on [start[i], end[i]).

    ``question`` and ``user`` are non-negative int indices, ``start``/``end`` float seconds
    (``end`` NaN is stored as +inf, "still standing"). The forecast of a binary row is P(YES)
    ``prob[i]`` in [0, 1]; that of a multiple-choice row is reduced to ``p_outcome[i]``, the
    probability it gave the option that happened, in [0, 1], and ``sum_sq[i]``, the sum of its
    squared probabilities, in [p_outcome^2, 1] (``outcome_columns``; ``of_pmfs`` does it).

    A row is one kind or the other: ``prob`` NaN and ``p_outcome``/``sum_sq`` given, or the
    reverse. Without ``p_outcome`` every row is binary and ``p_outcome``/``sum_sq`` are None;
    without ``prob`` every row is multiple choice and ``prob`` is all NaN. Any array-like is
    taken and stored as a 1-D array of its field's type.
    """

    question: IntArray
    user: IntArray
    start: FloatArray
    end: FloatArray
    prob: FloatArray
    p_outcome: FloatArray | None
    sum_sq: FloatArray | None
    loss: FloatArray | None

    def __init__(
        self,
        question: ArrayLike,
        user: ArrayLike,
        start: ArrayLike,
        end: ArrayLike,
        prob: ArrayLike | None = None,
        *,
        p_outcome: ArrayLike | None = None,
        sum_sq: ArrayLike | None = None,
        loss: ArrayLike | None = None,
    ) -> None:
        _set(self, question=_as_int(question), user=_as_int(user))
        _set(self, start=_as_float(start), end=np.fmin(_as_float(end), np.inf))  # NaN -> inf
        if (p_outcome is None) != (sum_sq is None):
            raise ValueError("p_outcome and sum_sq come together")
        if prob is None and p_outcome is None:
            raise ValueError("intervals need P(YES) prob or p_outcome and sum_sq")
        if loss is not None and p_outcome is None:
            raise ValueError("a continuous row's loss comes with its p_outcome")
        prob_given = prob is not None
        prob = np.full(self.start.shape, np.nan) if prob is None else prob
        _set(self, prob=_as_float(prob), p_outcome=None, sum_sq=None, loss=None)
        if p_outcome is not None and sum_sq is not None:
            _set(self, p_outcome=_as_float(p_outcome), sum_sq=_as_float(sum_sq))
        if loss is not None:
            _set(self, loss=_as_float(loss))
        arrays = [self.question, self.user, self.start, self.end, self.prob]
        arrays += [a for a in (self.p_outcome, self.sum_sq, self.loss) if a is not None]
        if len({a.shape for a in arrays}) != 1 or self.start.ndim != 1:
            raise ValueError("interval arrays must be 1-D and of equal length")
        if not len(self):
            return
        # min and max propagate NaN, so single reductions check ranges and NaN alike.
        finite = np.isfinite(self.start.min()) and np.isfinite(self.start.max())
        if not finite or np.any(self.end < self.start):
            raise ValueError("starts must be finite and ends must not precede starts")
        if self.p_outcome is None or self.sum_sq is None:
            if not _in_range(self.prob, 0.0, 1.0):
                raise ValueError("probabilities must lie in [0, 1]")
        else:
            self._check_kinds(self.p_outcome, self.sum_sq, mixed=prob_given)
        if self.question.min() < 0 or self.user.min() < 0:
            raise ValueError("question and user indices must be non-negative")

    def _check_kinds(self, p_outcome: FloatArray, sum_sq: FloatArray, mixed: bool) -> None:
        loss = self.loss
        if mixed:
            multi = ~np.isnan(p_outcome)
            if not np.array_equal(np.isnan(self.prob), multi):
                raise ValueError("a row needs either prob (binary) or p_outcome and sum_sq")
            if not _in_range(self.prob[~multi], 0.0, 1.0):
                raise ValueError("probabilities must lie in [0, 1]")
            p_outcome, sum_sq = p_outcome[multi], sum_sq[multi]
            loss = None if loss is None else loss[multi]
        if not _in_range(p_outcome, 0.0, 1.0):
            raise ValueError("p_outcome must lie in [0, 1]")
        if loss is not None:
            # Continuous rows: p_outcome (the bucket's mass) and loss, sum_sq NaN.
            continuous = ~np.isnan(loss)
            if not np.array_equal(np.isnan(sum_sq), continuous):
                raise ValueError("a continuous row has a loss and no sum_sq")
            if not _in_range(loss[continuous], 0.0, sys.float_info.max):
                raise ValueError("a loss must be finite and at least 0")
            p_outcome, sum_sq = p_outcome[~continuous], sum_sq[~continuous]
        # p_k^2 <= sum_sq <= (sum_i p_i)^2 <= (1 + 1e-6)^2 for a pmf summing to 1 within 1e-6.
        gap = np.square(p_outcome)
        np.subtract(sum_sq, gap, out=gap)
        if not (_in_range(sum_sq, 0.0, (1 + PMF_TOLERANCE) ** 2) and _in_range(gap, -1e-12, 1.0)):
            raise ValueError("sum_sq must lie in [p_outcome^2, 1]")

    @classmethod
    def of_question(
        cls,
        user: ArrayLike,
        start: ArrayLike,
        end: ArrayLike,
        prob: ArrayLike | None = None,
        *,
        p_outcome: ArrayLike | None = None,
        sum_sq: ArrayLike | None = None,
        loss: ArrayLike | None = None,
    ) -> Intervals:
        """Intervals of a single question (question index 0)."""
        question = np.zeros_like(_as_int(user))
        return cls(question, user, start, end, prob, p_outcome=p_outcome, sum_sq=sum_sq, loss=loss)

    @classmethod
    def of_pmfs(
        cls,
        question: ArrayLike,
        user: ArrayLike,
        start: ArrayLike,
        end: ArrayLike,
        pmf: ArrayLike,
        outcome: ArrayLike,
    ) -> Intervals:
        """Multiple-choice intervals from their pmfs (rows x options, ``as_pmfs``; questions of
        fewer options pad with zeros) and the index of the option that happened on each row's
        question (one per row, or one for all), reduced once to ``p_outcome`` and ``sum_sq``.
        A binary forecast enters as the pmf (P(YES), P(NO)), YES being index 0."""
        p_outcome, sum_sq = outcome_columns(pmf, outcome)
        return cls(question, user, start, end, p_outcome=p_outcome, sum_sq=sum_sq)

    @property
    def binary_rows(self) -> BoolArray:
        """Where the forecast is a P(YES) ``prob``."""
        if self.p_outcome is None:
            return np.ones(len(self), dtype=bool)
        return np.isnan(self.p_outcome)

    def __len__(self) -> int:
        return int(self.start.size)


def unchecked(
    iv: Intervals, rows: IntArray | None = None, question: IntArray | None = None
) -> Intervals:
    """``iv``'s rows ``rows`` (default: all, in order), optionally with other question indices,
    without validating again."""

    def pick(values: NDArray[np.generic] | None) -> NDArray[np.generic] | None:
        return values if values is None or rows is None else values[rows]

    out = object.__new__(Intervals)
    _set(out, question=pick(iv.question) if question is None else question)
    _set(out, user=pick(iv.user), start=pick(iv.start), end=pick(iv.end), prob=pick(iv.prob))
    _set(out, p_outcome=pick(iv.p_outcome), sum_sq=pick(iv.sum_sq), loss=pick(iv.loss))
    return out


@dataclass(frozen=True, eq=False, init=False)
class Questions:
    """Per question index: ``opens_at`` and actual ``closes_at`` (float seconds, closes > opens),
    ``n_options`` (>= 2; default 2, binary) and ``outcome``, the index of the option that
    happened, in [0, n_options): on a binary question 1 (YES) or 0 (NO), which is what P(YES)
    rows are scored against. From any array-likes (``n_options`` broadcast)."""

    opens_at: FloatArray
    closes_at: FloatArray
    outcome: IntArray
    n_options: IntArray
    ln_base: FloatArray

    def __init__(
        self,
        opens_at: ArrayLike,
        closes_at: ArrayLike,
        outcome: ArrayLike,
        n_options: ArrayLike = 2,
        *,
        ln_base: ArrayLike | None = None,
    ) -> None:
        _set(self, opens_at=_as_float(opens_at), closes_at=_as_float(closes_at))
        _set(self, outcome=_as_int(outcome))
        if not self.opens_at.shape == self.closes_at.shape == self.outcome.shape:
            raise ValueError("question arrays must be of equal length")
        n = np.asarray(n_options, dtype=np.int64)
        if n.ndim > 1 or n.size not in (1, self.outcome.size):
            raise ValueError("n_options must be one number or one per question")
        _set(self, n_options=np.broadcast_to(n, self.outcome.shape).copy())
        if not np.all(self.closes_at > self.opens_at):
            raise ValueError("every question must close after it opens")
        if not np.all(self.n_options >= 2):
            raise ValueError("a question has at least two options")
        if not np.all((self.outcome >= 0) & (self.outcome < self.n_options)):
            raise ValueError("outcomes must be 0 or 1 (binary) or an option's index")
        base = np.full(self.outcome.shape, np.nan) if ln_base is None else _as_float(ln_base)
        if base.shape != self.outcome.shape:
            raise ValueError("ln_base must be one per question")
        if np.any(np.isinf(base)) or np.any(base > 0):
            raise ValueError("ln_base must be the log of a probability in (0, 1]")
        _set(self, ln_base=base)

    @property
    def continuous(self) -> BoolArray:
        """Which questions are numeric or date ones (scored on their ``ln_base``)."""
        return ~np.isnan(self.ln_base)

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


def argsort_by(minor: FloatArray, *majors: IntArray, stable: bool = False) -> IntArray:
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
    intervals = unchecked(intervals, argsort_by(start, u, q))  # already validated
    q, u, start, end = intervals.question, intervals.user, intervals.start, intervals.end
    # Zero-length intervals stand nowhere, so they cannot overlap (and may tie in start).
    live = end > start
    ql, ul = q[live], u[live]
    if np.any((ql[1:] == ql[:-1]) & (ul[1:] == ul[:-1]) & (end[live][:-1] > start[live][1:])):
        raise ValueError("a user's intervals on one question overlap")
    return intervals, np.r_[True, (q[1:] != q[:-1]) | (u[1:] != u[:-1])]
