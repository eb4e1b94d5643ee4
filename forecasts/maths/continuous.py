"""Numeric and date questions: forecasts that are distributions, vectorised with numpy (no
Django). The conventions are Metaculus's, so that CDFs pass between the two unchanged.

Scale. A question's range [range_min, range_max] (a date's in UTC epoch seconds) maps a value x
to a position u: u = (x - min) / (max - min), or on a log scale (min > 0)
u = ln(x / min) / ln(max / min) (Metaculus's log scale with its zero point at 0). The range is
[0, 1] in positions; an outcome beyond an open bound lies outside it.

CDF. A forecast is F on the 201 evenly spaced points u_j = j / 200, j = 0..200: F[j] the
probability of an outcome at most u_j, except F[0], the probability of one strictly below the
range (an outcome at exactly the lower bound is in the first bucket inside the range). Between
points F is taken as linear. A valid CDF (``cdf_errors``):

- has exactly 201 finite values;
- rises by at least 0.01/200 and at most 0.2 at every step;
- has F[0] = 0 if the lower bound is closed, F[0] >= 0.001 if open;
- has F[200] = 1 if the upper bound is closed, F[200] <= 0.999 if open.

Like Metaculus, the check rounds the CDF to 10 decimals and its steps to 9 before comparing.

PMF. 202 buckets (``pmf``): bucket 0 is below the range (mass F[0]); bucket j = 1..200 is
(u_{j-1}, u_j], bucket 1 closed on the left, so that it holds an outcome at exactly the lower
bound (mass F[j] - F[j-1]); bucket 201 is above the range (mass 1 - F[200]).
``outcome_bucket`` places an outcome: below the range 0, above it 201, at exactly the upper
bound 200, on a grid point u_j the bucket j that ends there.

Scores of the bucket mass p_k a forecast gave the outcome's bucket k (Metaculus's continuous
scores): baseline 100 * ln(p_k / base_k) / 2, base_k 0.05 for an open bound's out-of-range
bucket and the rest spread evenly over the 200 buckets in range; peer
100 * N/(N-1) * (ln p_k - mean of ln p_k over the N forecasts) / 2. p_k is not floored,
as Metaculus does not floor it: a valid CDF gives every in-range bucket at least 0.01/200
and an open bound's bucket at least 0.001.

CRPS (lower is better), in positions (fractions of the range): the integral over the real line
of (H(u) - 1{u >= y})^2, y the outcome's position and H the forecast's distribution: F, linear
between points, on [0, 1]; out-of-range mass placed at the bound it lies beyond (H = 0 below the
range, 1 above it). Inside the range that is the integral of (F(u) - 1{u >= y})^2 over [0, 1];
an outcome beyond the range adds its distance to it, the same for every forecast.

PIT: F at the outcome; an outcome below the range gets F[0]/2, the middle of the mass below,
one above it (1 + F[200])/2. An outcome is inside a forecast's central interval of mass m iff
(1 - m)/2 <= PIT <= (1 + m)/2 (``forecasts.maths.pit``).

The crowd is Metaculus's for continuous questions, the recency-weighted mean of the CDFs
(``forecasts.maths.cdf_aggregation``); a mean of valid CDFs is valid, each rule being a bound on
a value or a step. ``forecasts.maths.quantiles`` turns a
few quantiles into a valid CDF.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from forecasts.maths.intervals import FloatArray, IntArray

STEPS = 200
CDF_POINTS = STEPS + 1
BUCKETS = STEPS + 2
MIN_STEP = 0.01 / STEPS
MAX_STEP = 0.2
OPEN_BOUND_MIN = 0.001  # the least mass beyond an open bound: F[0] >= it, 1 - F[200] >= it
OPEN_BUCKET_BASE = 0.05  # base_k of an open bound's out-of-range bucket
# Rows of CDFs ``crps`` takes at once: its temporaries are a few of these blocks, ~3 MB each.
CRPS_BLOCK = 2048
# Metaculus's tolerance for an outcome just past a grid point (its bucket ends there).
GRID_TOLERANCE = 1e-10


@dataclass(frozen=True)
class Scale:
    """A question's range, [range_min, range_max] (a date's in UTC epoch seconds), linear or
    logarithmic (``log_scale``, then range_min > 0), each bound open or closed. ValueError on
    a range that is not finite and increasing, or a log scale not above 0."""

    range_min: float
    range_max: float
    log_scale: bool = False
    open_lower: bool = False
    open_upper: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.range_min) and math.isfinite(self.range_max)):
            raise ValueError("range_min and range_max must be finite numbers")
        if not self.range_min < self.range_max:
            raise ValueError("range_min must be below range_max")
        if self.log_scale and not self.range_min > 0:
            raise ValueError("a log scale needs range_min above 0")

    def position(self, x: ArrayLike) -> FloatArray:
        """Position u of value(s) x: 0 at range_min, 1 at range_max, outside [0, 1] beyond the
        range; on a log scale a value <= 0 is at -inf."""
        v = np.asarray(x, dtype=np.float64)
        if not self.log_scale:
            return (v - self.range_min) / (self.range_max - self.range_min)
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.log(v / self.range_min) / math.log(self.range_max / self.range_min)
        return np.where(v > 0, u, -np.inf)

    def value(self, u: ArrayLike) -> FloatArray:
        """The value at position(s) u, the inverse of ``position``."""
        p = np.asarray(u, dtype=np.float64)
        if self.log_scale:
            return self.range_min * (self.range_max / self.range_min) ** p
        return self.range_min + (self.range_max - self.range_min) * p


def _is_number(v: object) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def cdf_errors(cdf: object, *, open_lower: bool, open_upper: bool) -> list[str]:
    """What is wrong with ``cdf`` as a forecast on a range with these bounds, in words (empty
    if it is valid); see the module docstring for the rules."""
    if isinstance(cdf, np.ndarray):
        if cdf.ndim != 1 or cdf.dtype.kind not in "iuf":
            return [f"must be a list of {CDF_POINTS} numbers"]
    elif not isinstance(cdf, Sequence) or isinstance(cdf, str | bytes):
        return [f"must be a list of {CDF_POINTS} numbers"]
    elif not all(_is_number(v) for v in cdf):
        return [f"must be a list of {CDF_POINTS} numbers, and some values are not numbers"]
    if len(cdf) != CDF_POINTS:
        return [f"must have exactly {CDF_POINTS} values, not {len(cdf)}"]
    f = np.asarray(cdf, dtype=np.float64)
    if not np.isfinite(f).all():
        return ["values must be finite numbers (no NaN or infinity)"]
    f = np.round(f, 10)
    steps = np.round(np.diff(f), 9)
    errors = []
    if (steps < 0).any():
        j = int(np.argmax(steps < 0))
        errors.append(f"must be increasing, and it falls from cdf[{j}] to cdf[{j + 1}]")
    elif (steps < round(MIN_STEP, 9)).any():
        j = int(np.argmax(steps < round(MIN_STEP, 9)))
        errors.append(
            f"must rise by at least {MIN_STEP:g} at every step, and rises by {steps[j]:g} "
            f"from cdf[{j}] to cdf[{j + 1}]"
        )
    if (steps > MAX_STEP).any():
        j = int(np.argmax(steps > MAX_STEP))
        errors.append(
            f"must rise by at most {MAX_STEP:g} at every step, and rises by {steps[j]:g} "
            f"from cdf[{j}] to cdf[{j + 1}]"
        )
    if open_lower and not f[0] >= OPEN_BOUND_MIN:
        errors.append(f"cdf[0] must be at least {OPEN_BOUND_MIN:g} with an open lower bound")
    if not open_lower and f[0] != 0.0:
        errors.append("cdf[0] must be 0 with a closed lower bound (nothing lies below it)")
    if open_upper and not f[-1] <= 1.0 - OPEN_BOUND_MIN:
        errors.append(
            f"cdf[{STEPS}] must be at most {1.0 - OPEN_BOUND_MIN:g} with an open upper bound"
        )
    if not open_upper and f[-1] != 1.0:
        errors.append(f"cdf[{STEPS}] must be 1 with a closed upper bound (nothing lies above it)")
    return errors


def _as_cdfs(cdfs: ArrayLike) -> FloatArray:
    c = np.asarray(cdfs, dtype=np.float64)
    if c.ndim == 0 or c.shape[-1] != CDF_POINTS:
        raise ValueError(f"a CDF has {CDF_POINTS} values (along the last axis)")
    return c


def pmf(cdfs: ArrayLike) -> FloatArray:
    """The 202 bucket masses [F[0], the 200 steps, 1 - F[200]] of each CDF (last axis)."""
    c = _as_cdfs(cdfs)
    out = np.empty((*c.shape[:-1], BUCKETS))
    out[..., 0] = c[..., 0]
    out[..., 1:-1] = np.diff(c, axis=-1)
    out[..., -1] = 1.0 - c[..., -1]
    return out


def outcome_bucket(u: ArrayLike, *, open_lower: bool, open_upper: bool) -> IntArray:
    """The bucket (0..201) of outcome(s) at position(s) u, by Metaculus's rule: below the range
    0, above it 201; in it, the bucket j of (u_{j-1}, u_j], bucket 1 holding u = 0 as well.
    ValueError for NaN or an outcome beyond a closed bound."""
    p = np.asarray(u, dtype=np.float64)
    if np.isnan(p).any():
        raise ValueError("an outcome's position must be a number")
    if (not open_lower and (p < 0).any()) or (not open_upper and (p > 1).any()):
        raise ValueError("an outcome cannot lie beyond a closed bound of the range")
    with np.errstate(invalid="ignore", over="ignore"):
        inside = np.floor(np.clip(p, 0.0, 1.0) * STEPS + 1.0 - GRID_TOLERANCE)
    bucket = np.clip(inside, 1, STEPS).astype(np.int64)
    return np.where(p < 0, 0, np.where(p > 1, BUCKETS - 1, bucket))


def baseline_bucket_mass(*, open_lower: bool, open_upper: bool) -> FloatArray:
    """base_k of the 202 buckets: 0.05 for each open bound's out-of-range bucket (0 for a
    closed one's, which cannot hold the outcome), the rest spread evenly over the 200 in
    range. Metaculus gives 0.05 to both ends whatever the bounds; only an open end can hold
    the outcome, so only the in-range buckets' share matters there, and it is the same."""
    outside = OPEN_BUCKET_BASE * (int(open_lower) + int(open_upper))
    base = np.full(BUCKETS, (1.0 - outside) / STEPS)
    base[0] = OPEN_BUCKET_BASE if open_lower else 0.0
    base[-1] = OPEN_BUCKET_BASE if open_upper else 0.0
    return base


def _rows_bucket(c: FloatArray, bucket: ArrayLike) -> IntArray:
    k = np.broadcast_to(np.asarray(bucket, dtype=np.int64), c.shape[:-1])
    if k.size and (k.min() < 0 or k.max() >= BUCKETS):
        raise ValueError(f"a bucket is an index in 0..{BUCKETS - 1}")
    return k


def bucket_mass(cdfs: ArrayLike, bucket: ArrayLike) -> FloatArray:
    """p_k: the mass each CDF (last axis) gives bucket ``bucket`` (broadcast against the
    CDFs' leading axes)."""
    c = _as_cdfs(cdfs)
    k = _rows_bucket(c, bucket)
    upper = np.take_along_axis(c, np.minimum(k, STEPS)[..., None], axis=-1)[..., 0]
    lower = np.take_along_axis(c, np.maximum(k - 1, 0)[..., None], axis=-1)[..., 0]
    return np.where(k == 0, c[..., 0], np.where(k == BUCKETS - 1, 1.0 - c[..., -1], upper - lower))


def continuous_baseline(
    cdfs: ArrayLike, bucket: ArrayLike, *, open_lower: bool, open_upper: bool
) -> FloatArray:
    """Baseline score 100 * ln(p_k / base_k) / 2 of each CDF when the outcome fell in
    ``bucket``: 0 for the uniform forecast, higher is better. ValueError for a bucket beyond a
    closed bound."""
    c = _as_cdfs(cdfs)
    k = _rows_bucket(c, bucket)
    base = baseline_bucket_mass(open_lower=open_lower, open_upper=open_upper)[k]
    if (base == 0).any():
        raise ValueError("the outcome cannot lie beyond a closed bound of the range")
    return 50.0 * np.log(bucket_mass(c, k) / base)


def continuous_peer(cdfs: ArrayLike, bucket: ArrayLike) -> FloatArray:
    """Peer score 100 * N/(N-1) * (ln p_k - mean of ln p_k) / 2 of each of the N CDFs (rows of
    a N x 201 matrix) against the others; 0 when N <= 1. They sum to 0."""
    c = _as_cdfs(cdfs)
    if c.ndim != 2:
        raise ValueError(f"the forecasts are a N x {CDF_POINTS} matrix")
    n = c.shape[0]
    ln_p = np.log(bucket_mass(c, bucket))
    if n <= 1:
        return np.zeros(n)
    peer: FloatArray = 50.0 * n / (n - 1) * (ln_p - ln_p.mean())
    return peer


def _cdf_at(c: FloatArray, y: FloatArray) -> tuple[FloatArray, IntArray, FloatArray]:
    """F at positions y in [0, 1] (one per CDF), linear between points, with the segment k
    (0..199) y lies in and y's place t in [0, 1] along it."""
    x = y * STEPS
    k = np.minimum(np.floor(x), STEPS - 1).astype(np.int64)
    t = x - k
    a = np.take_along_axis(c, k[..., None], axis=-1)[..., 0]
    b = np.take_along_axis(c, k[..., None] + 1, axis=-1)[..., 0]
    return a + (b - a) * t, k, t


def _with_positions(cdfs: ArrayLike, u: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """The CDFs (last axis) and the positions ``u``, broadcast against each other: one CDF at
    many positions, many CDFs at one, or one position per CDF."""
    c = _as_cdfs(cdfs)
    p = np.asarray(u, dtype=np.float64)
    if np.isnan(p).any():
        raise ValueError("an outcome's position must be a number")
    shape = np.broadcast_shapes(c.shape[:-1], p.shape)
    return np.broadcast_to(c, (*shape, CDF_POINTS)), np.broadcast_to(p, shape)


def crps(cdfs: ArrayLike, u: ArrayLike) -> FloatArray:
    """CRPS of each CDF (last axis) for the outcome at position(s) ``u`` (broadcast against
    the CDFs), in fractions of the range, >= 0, lower is better; exact for F linear between
    points (see the module docstring).

    Beyond the range, F is not held at F[0] (F[200]) out to the outcome: that would reward
    raising F[0] above the chance of an outcome below the range whenever one may lie far
    below, so the score would not be proper. With the out-of-range mass at the bound it is the
    CRPS of a distribution, which is proper.

    Inside [0, 1], the integral of F^2 up to y plus (1 - F)^2 after it is
    Q + (1 - y) - 2 (integral of F from y to 1), Q the integral of F^2 over [0, 1]; each
    integral is exact on linear segments (h (a^2 + ab + b^2) / 3 and h (a + b) / 2 for a
    segment of width h from a to b). Work is O(forecasts x 201); many rows go in blocks of
    ``CRPS_BLOCK``, so that the temporaries stay a few MB whatever the count."""
    c, p = _with_positions(cdfs, u)
    if c.ndim != 2 or c.shape[0] <= CRPS_BLOCK:
        return _crps(c, p)
    score = np.empty(c.shape[0])
    for lo in range(0, c.shape[0], CRPS_BLOCK):
        score[lo : lo + CRPS_BLOCK] = _crps(c[lo : lo + CRPS_BLOCK], p[lo : lo + CRPS_BLOCK])
    return score


def _crps(c: FloatArray, p: FloatArray) -> FloatArray:
    y = np.clip(p, 0.0, 1.0)
    h = 1.0 / STEPS
    first, last = c[..., 0], c[..., -1]
    sum_sq = np.einsum("...i,...i->...", c, c)
    cross = np.einsum("...i,...i->...", c[..., :-1], c[..., 1:])
    q = h / 3.0 * (2.0 * sum_sq - first**2 - last**2 + cross)
    total = h * (c.sum(axis=-1) - (first + last) / 2.0)
    f_y, k, t = _cdf_at(c, y)
    # Integral of F from 0 to u_k (trapezia) and on to y.
    prefix = np.cumsum(c, axis=-1)
    through_k = np.take_along_axis(prefix, k[..., None], axis=-1)[..., 0]
    f_k = np.take_along_axis(c, k[..., None], axis=-1)[..., 0]
    up_to_y = h * (through_k - (first + f_k) / 2.0) + h * t * (f_k + f_y) / 2.0
    inside = q + (1.0 - y) - 2.0 * (total - up_to_y)
    # Rounding can take a perfect forecast's score a hair below 0.
    score: FloatArray = np.maximum(inside, 0.0) + np.abs(p - y)
    return score


def pit(cdfs: ArrayLike, u: ArrayLike) -> FloatArray:
    """Probability integral transform of each CDF (last axis) at the outcome's position(s)
    ``u``: F(u), linear between points; F[0]/2 below the range, (1 + F[200])/2 above it."""
    c, p = _with_positions(cdfs, u)
    inside, _, _ = _cdf_at(c, np.clip(p, 0.0, 1.0))
    return np.where(p < 0, c[..., 0] / 2.0, np.where(p > 1, (1.0 + c[..., -1]) / 2.0, inside))


def prob_below(cdfs: ArrayLike, u: ArrayLike) -> FloatArray:
    """P(outcome <= u) by each CDF (last axis) at position(s) ``u``, linear between points.
    Beyond the range it is the value at the bound: exact for a closed bound (0 or 1); for an
    open one the CDF says no more than that P(outcome <= u) is at most F[0] below the range,
    at least F[200] above it."""
    c, p = _with_positions(cdfs, u)
    value, _, _ = _cdf_at(c, np.clip(p, 0.0, 1.0))
    return value


def cdf_quantile(cdfs: ArrayLike, level: ArrayLike) -> FloatArray:
    """The position at which each CDF (last axis) reaches ``level`` (probabilities in [0, 1]),
    the inverse of F linear between points; a level at or below F[0] gives 0, one above
    F[200] gives 1 (as Metaculus's). Shape: the CDFs' leading axes, then the levels'."""
    c = _as_cdfs(cdfs)
    lv = np.asarray(level, dtype=np.float64)
    if not (np.isfinite(lv).all() and (lv >= 0).all() and (lv <= 1).all()):
        raise ValueError("a quantile's level lies in [0, 1]")
    flat = lv.reshape(-1)
    # How many points lie below each level: the segment k - 1 .. k that reaches it.
    k = np.count_nonzero(c[..., None, :] < flat[:, None], axis=-1)
    kk = np.clip(k, 1, STEPS)
    lo = np.take_along_axis(c, kk - 1, axis=-1)
    hi = np.take_along_axis(c, kk, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = (kk - 1 + (flat - lo) / (hi - lo)) / STEPS
    u = np.where(k == 0, 0.0, np.where(k > STEPS, 1.0, u))
    # A row of NaN (a crowd of nobody) has no quantiles.
    u[np.isnan(c).any(axis=-1)] = np.nan
    return u.reshape(c.shape[:-1] + lv.shape)
