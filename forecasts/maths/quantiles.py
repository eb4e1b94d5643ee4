"""A numeric or date forecast from a few quantiles (numpy only, no Django): nobody types 201
numbers.

``cdf_from_quantiles`` takes n >= 2 quantiles of a question's ``Scale`` (levels
q_1 < ... < q_n in (0, 1), values x_1 < ... < x_n, each within the range where its bound is
closed) and returns a valid CDF on the 201 points u_j = j/200 (``forecasts.maths.continuous``):

1. Interpolation. Each quantile is a point (u_i, z_i): u_i the position of x_i on the scale,
   z_i = logit(q_i) = ln(q_i / (1 - q_i)). Through them runs a monotone cubic z(u), the
   Fritsch-Carlson piecewise cubic Hermite (PCHIP) interpolant: secants
   d_i = (z_{i+1} - z_i) / (u_{i+1} - u_i), all > 0; tangents m_i the mean of the two secants
   beside an inner point, the one secant at an end; then on each interval, where
   a^2 + b^2 > 9 for a = m_i / d_i and b = m_{i+1} / d_i, both tangents are scaled by
   3 / sqrt(a^2 + b^2), which keeps z increasing. Beyond the outermost points z goes on as a
   straight line with the end's tangent, so each tail of F = 1 / (1 + e^-z) is logistic. Two
   quantiles make a logistic distribution. F is taken at the 201 points.
2. Closed bounds. Nothing lies beyond a closed bound, so the tail between it and the nearest
   quantile is conditioned on the range: below the lowest quantile, F is rescaled from
   [F(0), q_1] onto [0, q_1]; above the highest, from [q_n, F(1)] onto [q_n, 1]. F[0] = 0,
   F[200] = 1. Only the tail moves, so every quantile stays where it was asked (conditioning
   the whole distribution, F <- (F - F(0)) / (F(1) - F(0)), would shift them all whenever a
   tail spills over the bound). A quantile at exactly a closed bound puts its tail's mass in
   the first (last) bucket of the range, as Metaculus advises.
3. Open bounds. The mass beyond an open bound, F(0) or 1 - F(1), is raised to at least 0.001;
   should the two leave the range less than 0.01 (what 200 least steps need), they give up the
   difference in proportion to their excess over 0.001. The range keeps the rest, in the
   shape of F's steps.
4. Least step. The mass in the range is mixed with the uniform distribution on the range by
   the least weight that gives every step at least 0.01/200 (no mixing if each already has it).
5. Greatest step. Steps over 0.2 are cut to 0.2 and the other steps are scaled up by the one
   factor that keeps the mass of the range (found exactly: the least number of cut steps for
   which the largest scaled step stays within 0.2), as Metaculus's forecasting page does. The
   excess thus goes to the other steps in proportion to their mass, mostly to the neighbours
   of the peak; in proportion to their room below 0.2 it would be spread almost evenly over
   the range. The order of the steps and the least step are kept. Quantiles packing more than
   0.2 of probability into 1/200 of the range become a peak of a few steps of 0.2 on a wider
   base.

Steps 3 to 5 aim 1e-8 inside each limit, so that no rounding of the result makes it invalid.
The result reaches each asked level at the asked value up to about 0.01 of probability (the
mixing of step 4, and F being linear between points where the curve bends), unless the
quantiles pack more than step 5 allows, or crowd a closed bound.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import numpy as np

from forecasts.maths.continuous import (
    CDF_POINTS,
    MAX_STEP,
    MIN_STEP,
    OPEN_BOUND_MIN,
    STEPS,
    Scale,
    pmf,
)
from forecasts.maths.intervals import FloatArray

GRID = np.arange(CDF_POINTS) / STEPS
_MARGIN = 1e-8
_LEAST_STEP = MIN_STEP + _MARGIN
_GREATEST_STEP = MAX_STEP - _MARGIN
_LEAST_OUTSIDE = OPEN_BOUND_MIN + _MARGIN
# The least mass in the range: 200 least steps, and a little more for rounding.
_LEAST_INSIDE = STEPS * _LEAST_STEP * (1.0 + 1e-6)


def _points(quantiles: Mapping[float, float], scale: Scale) -> tuple[FloatArray, FloatArray]:
    """The levels, ascending, and their values' positions; ValueError naming the quantile."""
    if len(quantiles) < 2:
        raise ValueError("give at least two quantiles")
    pairs = []
    for level, value in quantiles.items():
        try:
            q, x = float(level), float(value)
        except (TypeError, ValueError):
            raise ValueError(f"quantile {level!r}: its level and value must be numbers") from None
        if not (math.isfinite(q) and 0.0 < q < 1.0):
            raise ValueError(f"quantile {level!r}: a level must lie strictly between 0 and 1")
        if not math.isfinite(x):
            raise ValueError(f"quantile {q:g}: its value must be a finite number")
        if not scale.open_lower and x < scale.range_min:
            raise ValueError(
                f"quantile {q:g}: {x:.10g} is below the range's minimum {scale.range_min:.10g}"
                ", a closed bound"
            )
        if not scale.open_upper and x > scale.range_max:
            raise ValueError(
                f"quantile {q:g}: {x:.10g} is above the range's maximum {scale.range_max:.10g}"
                ", a closed bound"
            )
        if scale.log_scale and x <= 0:
            raise ValueError(f"quantile {q:g}: a value on a log scale must be above 0")
        pairs.append((q, x))
    pairs.sort()
    for (q0, x0), (q1, x1) in itertools.pairwise(pairs):
        if not x1 > x0:
            raise ValueError(
                f"quantile {q1:g}: its value {x1:.10g} must be above that of quantile {q0:g}"
                f" ({x0:.10g})"
            )
    levels = np.array([q for q, _ in pairs])
    u = scale.position([x for _, x in pairs])
    z = np.log(levels) - np.log1p(-levels)
    close = np.flatnonzero((np.diff(u) <= 0) | (np.diff(z) <= 0))
    if close.size:
        q0, q1 = levels[close[0]], levels[close[0] + 1]
        raise ValueError(f"quantile {q1:g}: too close to quantile {q0:g} to tell them apart")
    return levels, u


def _tangents(u: FloatArray, z: FloatArray) -> FloatArray:
    """Fritsch-Carlson tangents of the increasing points (u, z)."""
    d = np.diff(z) / np.diff(u)
    m = np.empty(u.size)
    m[0], m[-1] = d[0], d[-1]
    m[1:-1] = (d[:-1] + d[1:]) / 2.0
    for i in range(d.size):
        a, b = m[i] / d[i], m[i + 1] / d[i]
        if a * a + b * b > 9.0:
            tau = 3.0 / math.hypot(a, b)
            m[i], m[i + 1] = tau * a * d[i], tau * b * d[i]
    return m


def _logit_curve(u: FloatArray, z: FloatArray, m: FloatArray, x: FloatArray) -> FloatArray:
    """The cubic Hermite z(x) through (u, z) with tangents m, straight beyond the ends."""
    i = np.clip(np.searchsorted(u, x, side="right") - 1, 0, u.size - 2)
    h = u[i + 1] - u[i]
    t = (x - u[i]) / h
    t2, t3 = t * t, t * t * t
    cubic = (
        (2 * t3 - 3 * t2 + 1) * z[i]
        + (t3 - 2 * t2 + t) * h * m[i]
        + (-2 * t3 + 3 * t2) * z[i + 1]
        + (t3 - t2) * h * m[i + 1]
    )
    below = z[0] + m[0] * (x - u[0])
    above = z[-1] + m[-1] * (x - u[-1])
    return np.where(x < u[0], below, np.where(x >= u[-1], above, cubic))


def _condition_closed_tails(f: FloatArray, levels: FloatArray, u: FloatArray, scale: Scale) -> None:
    """Step 2, in place."""
    if not scale.open_lower:
        tail, q = u[0] > GRID, levels[0]
        span = q - f[0]
        f[tail] = q * (f[tail] - f[0]) / span if span > 0 else 0.0
        f[0] = 0.0
    if not scale.open_upper:
        tail, q = u[-1] < GRID, levels[-1]
        span = f[-1] - q
        f[tail] = q + (1.0 - q) * (f[tail] - q) / span if span > 0 else 1.0
        f[-1] = 1.0


def _outside_masses(f: FloatArray, scale: Scale) -> FloatArray:
    """Step 3: the masses below and above the range."""
    least = np.array([_LEAST_OUTSIDE * scale.open_lower, _LEAST_OUTSIDE * scale.open_upper])
    outside: FloatArray = np.maximum(np.array([f[0], 1.0 - f[-1]]), least)
    outside[~np.array([scale.open_lower, scale.open_upper])] = 0.0
    excess = outside.sum() - (1.0 - _LEAST_INSIDE)
    if excess > 0:
        spare = outside - least
        outside -= excess * spare / spare.sum()
    return outside


def _steps_in_range(f: FloatArray, inside: float) -> FloatArray:
    """Steps 4 and 5: the 200 steps, of total ``inside``, within the limits."""
    steps = np.maximum(pmf(f)[1:-1], 0.0)
    total = steps.sum()
    shape = steps / total if total > 0 else np.full(STEPS, 1.0 / STEPS)
    least, need = shape.min(), _LEAST_STEP / inside
    if least < need and least < 1.0 / STEPS:
        weight = min(1.0, (need - least) / (1.0 / STEPS - least))
        shape = (1.0 - weight) * shape + weight / STEPS
    steps = inside * shape
    if steps.max() <= _GREATEST_STEP:
        return steps
    # The least k such that capping the k largest steps and scaling the rest by s keeps the
    # mass, s = (inside - k cap) / (the rest's mass), leaves the largest of the rest <= cap.
    desc = np.sort(steps)[::-1]
    rest = np.cumsum(desc[::-1])[::-1]  # rest[k]: the mass of all but the k largest
    k = np.arange(1, STEPS)
    scale = (inside - k * _GREATEST_STEP) / rest[k]
    first = int(np.argmax(scale * desc[k] <= _GREATEST_STEP))
    capped: FloatArray = np.minimum(steps * scale[first], _GREATEST_STEP)
    return capped


def cdf_from_quantiles(quantiles: Mapping[float, float], scale: Scale) -> FloatArray:
    """The valid 201-point CDF through ``quantiles`` ({level: value}, levels in (0, 1), two or
    more) on ``scale``, by the method of the module docstring. ValueError, naming the
    quantile, for a level outside (0, 1), fewer than two quantiles, values not increasing with
    the level, a value beyond a closed bound, NaN or infinity."""
    levels, u = _points(quantiles, scale)
    z = np.log(levels) - np.log1p(-levels)
    f = 0.5 * (1.0 + np.tanh(_logit_curve(u, z, _tangents(u, z), GRID) / 2.0))
    _condition_closed_tails(f, levels, u, scale)
    below, above = _outside_masses(f, scale)
    steps = _steps_in_range(f, 1.0 - below - above)
    cdf = np.empty(CDF_POINTS)
    cdf[0] = below
    cdf[1:] = below + np.cumsum(steps)
    if not scale.open_upper:
        cdf[-1] = 1.0
    return cdf
