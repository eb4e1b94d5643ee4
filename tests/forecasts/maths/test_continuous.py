"""Numeric and date forecasts: the scale, the CDF rules, buckets, scores, CRPS, PIT, quantiles
and the crowd (forecasts.maths.continuous)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from forecasts.maths.cdf_aggregation import aggregate_cdf_now
from forecasts.maths.continuous import (
    CDF_POINTS,
    CRPS_BLOCK,
    Scale,
    baseline_bucket_mass,
    bucket_mass,
    cdf_errors,
    cdf_quantile,
    continuous_baseline,
    continuous_peer,
    crps,
    outcome_bucket,
    pit,
    pmf,
    prob_below,
)

GRID = np.arange(CDF_POINTS) / 200
OPEN = {"open_lower": True, "open_upper": True}
CLOSED = {"open_lower": False, "open_upper": False}


def _uniform(below: float = 0.0, above: float = 0.0) -> np.ndarray:
    """Uniform in the range, ``below`` and ``above`` beyond it."""
    return below + (1.0 - below - above) * GRID


def _random_cdf(rng: np.random.Generator, *, open_lower: bool, open_upper: bool) -> np.ndarray:
    """A random valid CDF: random outside masses, Dirichlet steps above the least step."""
    below = rng.uniform(0.001, 0.2) if open_lower else 0.0
    above = rng.uniform(0.001, 0.2) if open_upper else 0.0
    spare = 1.0 - below - above - 200 * 0.01 / 200
    steps = 0.01 / 200 + spare * rng.dirichlet(np.full(200, 0.5))
    cdf = np.concatenate([[below], below + np.cumsum(steps)])
    if not open_upper:
        cdf[-1] = 1.0
    return cdf


# The scale


def test_positions_are_linear_or_logarithmic_and_value_inverts_them() -> None:
    linear, log = Scale(10.0, 30.0), Scale(1.0, 1000.0, log_scale=True)

    assert linear.position([10.0, 20.0, 40.0]) == pytest.approx([0.0, 0.5, 1.5])
    assert log.position([1.0, 10.0, 1000.0]) == pytest.approx([0.0, 1 / 3, 1.0])
    assert log.position(0.5) == pytest.approx(math.log(0.5) / math.log(1000))
    assert log.position(0.0) == -np.inf
    u = np.linspace(-0.5, 1.5, 9)
    assert linear.position(linear.value(u)) == pytest.approx(u)
    assert log.position(log.value(u)) == pytest.approx(u)


@pytest.mark.parametrize(
    ("low", "high", "log_scale"),
    [(1.0, 1.0, False), (2.0, 1.0, False), (math.nan, 1.0, False), (0.0, 10.0, True)],
)
def test_a_scale_must_be_finite_increasing_and_positive_when_logarithmic(
    low: float, high: float, log_scale: bool
) -> None:
    with pytest.raises(ValueError, match="range"):
        Scale(low, high, log_scale=log_scale)


# The CDF's rules


def test_valid_cdfs_have_no_errors() -> None:
    assert cdf_errors(list(_uniform()), **CLOSED) == []
    assert cdf_errors(_uniform(0.001, 0.001), **OPEN) == []
    assert cdf_errors(_uniform(0.0, 0.3), open_lower=False, open_upper=True) == []


def _bad(index: int, value: object) -> list[object]:
    cdf: list[object] = list(_uniform())
    cdf[index] = value
    return cdf


def _jump() -> list[float]:
    """Closed bounds, one step of 0.25 and 199 equal ones."""
    steps = np.full(200, 0.75 / 199)
    steps[100] = 0.25
    return list(np.r_[0.0, np.cumsum(steps)])


@pytest.mark.parametrize(
    ("cdf", "bounds", "words"),
    [
        (list(np.linspace(0, 1, 200)), CLOSED, "exactly 201 values, not 200"),
        (list(np.linspace(0, 1, 202)), CLOSED, "exactly 201 values, not 202"),
        (_bad(100, 0.1), CLOSED, "must be increasing, and it falls from cdf[99] to cdf[100]"),
        (_bad(100, 0.505 - 0.00001), CLOSED, "at least 5e-05 at every step, and rises by 1e-05"),
        (_jump(), CLOSED, "at most 0.2 at every step, and rises by 0.25 from cdf[100] to"),
        (_bad(0, 0.001), CLOSED, "cdf[0] must be 0 with a closed lower bound"),
        (list(_uniform(0.0005, 0.01)), OPEN, "cdf[0] must be at least 0.001"),
        (list(_uniform(0.0, 0.01)), CLOSED, "cdf[200] must be 1 with a closed upper bound"),
        (list(_uniform(0.01, 0.0005)), OPEN, "cdf[200] must be at most 0.999"),
        (_bad(50, math.nan), CLOSED, "finite numbers (no NaN"),
        (_bad(50, math.inf), CLOSED, "finite numbers (no NaN"),
        (_bad(50, "0.25"), CLOSED, "some values are not numbers"),
        (_bad(50, True), CLOSED, "some values are not numbers"),
        ("0, 0.5, 1", CLOSED, "must be a list of 201 numbers"),
        (None, CLOSED, "must be a list of 201 numbers"),
    ],
)
def test_each_broken_rule_is_named(cdf: object, bounds: dict[str, bool], words: str) -> None:
    errors = cdf_errors(cdf, **bounds)

    assert any(words in error for error in errors), errors


def test_rounding_below_metaculus_precision_is_forgiven() -> None:
    cdf = _uniform()
    cdf[0], cdf[-1] = 1e-12, 1.0 - 1e-12

    assert cdf_errors(cdf, **CLOSED) == []


# Buckets


def test_the_pmf_has_202_buckets_summing_to_one_row_by_row() -> None:
    rows = np.array([_uniform(0.05, 0.05), _uniform()])

    p = pmf(rows)

    assert p.shape == (2, 202)
    assert p.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert p[0, [0, 1, 200, 201]] == pytest.approx([0.05, 0.0045, 0.0045, 0.05])


def test_outcome_buckets_follow_metaculus_at_the_bounds_and_grid_points() -> None:
    u = [-0.3, 0.0, 1e-12, 1 / 200, 1 / 200 + 1e-6, 0.5, 1.0 - 1e-9, 1.0, 1.2]

    buckets = outcome_bucket(u, **OPEN)

    assert buckets.tolist() == [0, 1, 1, 1, 2, 100, 200, 200, 201]


@pytest.mark.parametrize(("u", "bounds"), [(-0.01, CLOSED), (1.01, CLOSED), (math.nan, OPEN)])
def test_an_outcome_beyond_a_closed_bound_or_nan_has_no_bucket(
    u: float, bounds: dict[str, bool]
) -> None:
    with pytest.raises(ValueError, match=r"closed bound|a number"):
        outcome_bucket(u, **bounds)


def test_baseline_mass_gives_open_ends_5_percent_and_spreads_the_rest() -> None:
    both = baseline_bucket_mass(**OPEN)
    lower = baseline_bucket_mass(open_lower=True, open_upper=False)
    none = baseline_bucket_mass(**CLOSED)

    assert both[[0, 1, 201]] == pytest.approx([0.05, 0.9 / 200, 0.05])
    assert lower[[0, 1, 201]] == pytest.approx([0.05, 0.95 / 200, 0.0])
    assert none[[0, 100, 201]] == pytest.approx([0.0, 1 / 200, 0.0])
    assert [both.sum(), lower.sum(), none.sum()] == pytest.approx([1.0, 1.0, 1.0])


# Scores


def _two_slopes() -> np.ndarray:
    """F[0] = 0.02, 100 steps of 0.006, 100 of 0.0036, 1 - F[200] = 0.02."""
    steps = np.r_[np.full(100, 0.006), np.full(100, 0.0036)]
    return np.r_[0.02, 0.02 + np.cumsum(steps)]


def test_hand_computed_baseline_and_peer_scores() -> None:
    cdfs = np.array([_two_slopes(), _uniform(0.05, 0.05)])
    in_range = int(outcome_bucket(36.5 / 200, **OPEN))

    baseline = continuous_baseline(cdfs, in_range, **OPEN)
    peer = continuous_peer(cdfs, in_range)
    below = continuous_baseline(cdfs, 0, **OPEN)

    assert in_range == 37
    assert baseline == pytest.approx([100 * math.log(0.006 / (0.9 / 200)) / 2, 0.0], abs=1e-9)
    mean_ln = (math.log(0.006) + math.log(0.0045)) / 2
    expected_peer = [100 * 2 / 1 * (math.log(p) - mean_ln) / 2 for p in (0.006, 0.0045)]
    assert peer == pytest.approx(expected_peer, abs=1e-9)
    assert below == pytest.approx([100 * math.log(0.02 / 0.05) / 2, 0.0], abs=1e-9)


def test_baseline_matches_the_formula_evaluated_in_plain_python_for_a_random_cdf() -> None:
    rng = np.random.default_rng(20260815)
    for open_lower, open_upper in [(True, True), (False, True), (True, False), (False, False)]:
        cdf = _random_cdf(rng, open_lower=open_lower, open_upper=open_upper)
        assert cdf_errors(cdf, open_lower=open_lower, open_upper=open_upper) == []
        values = [float(v) for v in cdf]
        buckets = [values[0]] + [values[j] - values[j - 1] for j in range(1, 201)]
        buckets.append(1.0 - values[200])
        n_open = int(open_lower) + int(open_upper)
        for k in range(0 if open_lower else 1, 202 if open_upper else 201):
            base = 0.05 if k in (0, 201) else (1.0 - 0.05 * n_open) / 200
            expected = 100 * math.log(buckets[k] / base) / 2

            score = continuous_baseline(cdf, k, open_lower=open_lower, open_upper=open_upper)

            assert float(score) == pytest.approx(expected, abs=1e-9)


def test_baseline_refuses_an_outcome_beyond_a_closed_bound() -> None:
    with pytest.raises(ValueError, match="closed bound"):
        continuous_baseline(_uniform(), 201, **CLOSED)


def test_peer_scores_sum_to_zero_and_a_lone_forecast_scores_zero() -> None:
    rng = np.random.default_rng(3)
    cdfs = np.array([_random_cdf(rng, **OPEN) for _ in range(7)])

    peer = continuous_peer(cdfs, 120)

    assert peer.sum() == pytest.approx(0.0, abs=1e-9)
    assert continuous_peer(cdfs[:1], 120).tolist() == [0.0]
    assert bucket_mass(cdfs, 120) == pytest.approx(cdfs[:, 120] - cdfs[:, 119])


# CRPS


def _crps_by_quadrature(cdf: np.ndarray, y: float) -> float:
    """The integral of (H(u) - 1{u >= y})^2, H being F linear between points on [0, 1], 0
    below, 1 above: trapezia on a fine grid holding every knot, in pieces split at 0, y and 1
    (where H or the indicator jumps); exact to ~1e-10 here."""
    cuts = sorted({min(0.0, y), 0.0, y, 1.0, max(1.0, y)})
    total = 0.0
    for a, b in itertools.pairwise(cuts):
        u = np.unique(np.r_[np.linspace(a, b, 200_001), GRID[(a < GRID) & (b > GRID)]])
        inside = np.interp(u, GRID, cdf)
        h = inside if a >= 0 and b <= 1 else np.full(u.size, 0.0 if b <= 0 else 1.0)
        step = 1.0 if a >= y else 0.0
        total += float(np.trapezoid((h - step) ** 2, u))
    return total


def test_crps_is_the_exact_integral_for_random_cdfs_and_outcomes() -> None:
    rng = np.random.default_rng(11)
    for y in [0.0, 0.3137, 0.5, 1.0, -0.4, 1.7, rng.uniform(0, 1)]:
        cdf = _random_cdf(rng, **OPEN)

        assert float(crps(cdf, y)) == pytest.approx(_crps_by_quadrature(cdf, y), abs=1e-8)


def test_crps_is_vectorised_over_rows_and_outcomes() -> None:
    rng = np.random.default_rng(12)
    cdfs = np.array([_random_cdf(rng, **OPEN) for _ in range(4)])
    ys = np.array([0.1, -0.2, 0.77, 1.3])

    each = crps(cdfs, ys)

    assert each == pytest.approx([float(crps(c, y)) for c, y in zip(cdfs, ys, strict=True)])
    assert crps(cdfs[0], ys) == pytest.approx([float(crps(cdfs[0], y)) for y in ys])


def test_a_sharp_correct_forecast_has_a_crps_near_zero_below_a_wide_one() -> None:
    # Six steps of 0.165 around 0.4, 0.01 spread evenly for the least step.
    sharp = np.clip((GRID - 0.385) / 0.03, 0, 1) * 0.99 + GRID * 0.01
    wide = _uniform()

    sharp_score, wide_score = crps(np.array([sharp, wide]), 0.4)

    assert cdf_errors(sharp, **CLOSED) == []
    assert sharp_score < 0.01 < wide_score
    assert wide_score == pytest.approx(0.4**3 / 3 + 0.6**3 / 3)


def _sample(truth: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """Outcomes drawn from ``truth``: uniform within each bucket of the range; its mass below
    the range lies 1 to 3 ranges below, above it 1 to 3 ranges above."""
    buckets = rng.choice(202, size=n, p=pmf(truth))
    u = (buckets - rng.uniform(size=n)) / 200
    far = rng.uniform(1, 3, size=n)
    return np.where(buckets == 0, -far, np.where(buckets == 201, 1 + far, u))


def test_crps_is_proper_its_expectation_is_least_under_the_true_distribution() -> None:
    rng = np.random.default_rng(2024)
    steps = 0.8 * (0.5 * rng.dirichlet(np.full(200, 0.5)) + 0.5 / 200)
    truth = np.r_[0.1, 0.1 + np.cumsum(steps)]
    outcomes = _sample(truth, rng, 40_000)
    uniform = _uniform(0.1, 0.1)
    shifted = 0.9 * np.interp(GRID - 0.05, GRID, truth) + 0.1 * uniform
    # More mass below: raising F[0] above the truth's must not pay, however far below it lies.
    more_below = truth + 0.08 * (1 - truth)

    expected = {
        name: float(crps(cdf, outcomes).mean())
        for name, cdf in {
            "truth": truth,
            "shifted": shifted,
            "more below": more_below,
            "uniform": uniform,
        }.items()
    }

    assert all(cdf_errors(c, **OPEN) == [] for c in (shifted, more_below, uniform))
    assert min(expected, key=expected.__getitem__) == "truth", expected


# PIT, quantiles and P(below)


def test_pit_is_f_at_the_outcome_and_mid_mass_beyond_the_range() -> None:
    cdf = _uniform(0.04, 0.1)

    values = pit(cdf, [-1.0, 0.0, 0.25, 1.0, 3.0])

    assert values == pytest.approx([0.02, 0.04, 0.04 + 0.86 / 4, 0.9, 0.95])


def test_quantile_inverts_pit_inside_the_range() -> None:
    rng = np.random.default_rng(5)
    cdf = _random_cdf(rng, **OPEN)
    u = rng.uniform(0, 1, 50)

    round_trip = cdf_quantile(cdf, pit(cdf, u))

    assert round_trip == pytest.approx(u, abs=1e-9)
    assert cdf_quantile(cdf, cdf[[0, 17, 200]]) == pytest.approx([0.0, 17 / 200, 1.0])


def test_quantile_beyond_the_range_clamps_to_it_and_nobody_has_none() -> None:
    rows = np.array([_uniform(0.1, 0.1), np.full(CDF_POINTS, np.nan)])

    q = cdf_quantile(rows, [0.05, 0.5, 0.95])

    assert q.shape == (2, 3)
    assert q[0] == pytest.approx([0.0, 0.5, 1.0])
    assert np.isnan(q[1]).all()
    with pytest.raises(ValueError, match="level"):
        cdf_quantile(rows[0], 1.5)


def test_prob_below_is_f_linear_between_points_and_held_at_the_bounds() -> None:
    cdf = _two_slopes()

    values = prob_below(cdf, [-0.5, 0.0, 0.0025, 0.5, 1.0, 2.0])

    assert values == pytest.approx([0.02, 0.02, 0.023, 0.62, 0.98, 0.98])


# The crowd


def test_the_crowd_of_valid_cdfs_is_valid() -> None:
    rng = np.random.default_rng(9)
    for bounds in (OPEN, CLOSED, {"open_lower": False, "open_upper": True}):
        cdfs = np.array([_random_cdf(rng, **bounds) for _ in range(6)])

        crowd = aggregate_cdf_now(cdfs).cdf

        assert cdf_errors(crowd, **bounds) == []


def test_many_rows_are_scored_in_blocks_with_the_same_crps_as_one_by_one() -> None:
    rng = np.random.default_rng(21)
    rows = CRPS_BLOCK * 2 + 17
    cdfs = np.array([_random_cdf(rng, **OPEN) for _ in range(rows)])
    u = rng.uniform(-0.2, 1.2, rows)

    together = crps(cdfs, u)

    one_by_one = np.array([crps(cdfs[i], u[i]) for i in range(rows)])
    np.testing.assert_array_equal(together, one_by_one)
