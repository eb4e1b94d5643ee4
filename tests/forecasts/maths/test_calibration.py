from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecasts.maths.calibration import (
    bin_indices,
    calibration_over_time,
    calibration_table,
    murphy_decomposition,
    sliding_windows,
    time_weighted_probability,
    wilson_interval,
)
from forecasts.maths.intervals import Intervals, Questions

samples = st.lists(st.tuples(st.floats(0.001, 0.999), st.integers(0, 1)), min_size=1, max_size=60)


def test_bins_are_half_open_except_the_last() -> None:
    probs = [0.0, 0.1, 0.0999, 0.95, 1.0]

    idx = bin_indices(probs)

    assert idx.tolist() == [0, 1, 0, 9, 9]


def test_probability_outside_the_edges_is_rejected() -> None:
    probs = [1.2]

    with pytest.raises(ValueError, match="within the edges"):
        bin_indices(probs)


def test_calibration_table_by_hand() -> None:
    probs = [0.15, 0.12, 0.18, 0.91]
    outcomes = [0, 1, 0, 1]

    table = calibration_table(probs, outcomes)

    low_bin, top_bin, empty_bin = table[1], table[9], table[5]
    assert (low_bin.lower, low_bin.upper) == pytest.approx((0.1, 0.2))
    assert (low_bin.n, low_bin.yes_count) == (3, 1)
    assert low_bin.mean_forecast == pytest.approx(0.15)
    assert low_bin.observed_frequency == pytest.approx(1 / 3)
    assert (top_bin.n, top_bin.observed_frequency) == (1, 1.0)
    assert empty_bin.n == 0
    assert math.isnan(empty_bin.mean_forecast) and math.isnan(empty_bin.ci_low)


def test_custom_edges_make_custom_bins() -> None:
    probs = [0.2, 0.6, 0.7]
    outcomes = [0, 1, 1]

    table = calibration_table(probs, outcomes, edges=[0.0, 0.5, 1.0])

    assert [b.n for b in table] == [1, 2]
    assert table[1].upper == 1.0


def test_wilson_interval_known_value() -> None:
    k, n = 5, 10

    low, high = wilson_interval(k, n)

    assert low[0] == pytest.approx(0.236593, abs=1e-6)
    assert high[0] == pytest.approx(0.763407, abs=1e-6)


def test_wilson_interval_of_nothing_is_nan() -> None:
    low, high = wilson_interval([0], [0])

    assert math.isnan(low[0]) and math.isnan(high[0])


@given(st.integers(1, 10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_contains_the_proportion_within_unit_range(kn) -> None:
    k, n = kn

    low, high = wilson_interval(k, n)

    assert 0.0 <= low[0] <= k / n <= high[0] <= 1.0


def test_wilson_interval_is_vectorised() -> None:
    k = np.array([0, 3, 10])
    n = np.array([10, 10, 10])

    low, high = wilson_interval(k, n, z=1.0)

    assert low.shape == high.shape == (3,)
    assert low[0] == 0.0 and high[2] == 1.0
    assert high[1] - low[1] < wilson_interval(3, 10)[1][0] - wilson_interval(3, 10)[0][0]


@given(samples)
def test_bin_counts_sum_to_n(sample) -> None:
    probs, outcomes = zip(*sample, strict=True)

    table = calibration_table(probs, outcomes)

    assert sum(b.n for b in table) == len(sample)
    assert sum(b.yes_count for b in table) == sum(outcomes)


def test_perfectly_calibrated_sample_falls_within_the_intervals() -> None:
    rng = np.random.default_rng(7)
    probs = rng.uniform(0.001, 0.999, 5000)
    outcomes = (rng.uniform(size=probs.size) < probs).astype(int)

    table = calibration_table(probs, outcomes)

    inside = [b.ci_low <= b.mean_forecast <= b.ci_high for b in table]
    assert sum(inside) >= 8


def test_miscalibrated_sample_falls_outside_the_intervals() -> None:
    rng = np.random.default_rng(7)
    probs = rng.uniform(0.001, 0.999, 5000)
    outcomes = (rng.uniform(size=probs.size) < probs**3).astype(int)

    table = calibration_table(probs, outcomes)

    inside = [b.ci_low <= b.mean_forecast <= b.ci_high for b in table]
    assert sum(inside) <= 3


@given(samples)
def test_murphy_identity_holds(sample) -> None:
    probs, outcomes = zip(*sample, strict=True)

    d = murphy_decomposition(probs, outcomes)

    rebuilt = d.reliability - d.resolution + d.uncertainty + d.wbv - d.wbc
    assert rebuilt == pytest.approx(d.brier, abs=1e-12)
    assert d.brier == pytest.approx(np.mean((np.array(probs) - outcomes) ** 2), abs=1e-15)


def test_murphy_terms_by_hand_with_identical_forecasts_per_bin() -> None:
    probs = [0.25, 0.25, 0.75, 0.75]
    outcomes = [0, 0, 1, 0]

    d = murphy_decomposition(probs, outcomes)

    # Bins: f=0.25, o=0 and f=0.75, o=0.5; base rate 0.25.
    assert d.reliability == pytest.approx((2 * 0.25**2 + 2 * 0.25**2) / 4)
    assert d.resolution == pytest.approx((2 * 0.25**2 + 2 * 0.25**2) / 4)
    assert d.uncertainty == pytest.approx(0.1875)
    assert (d.wbv, d.wbc) == (0.0, 0.0)
    assert d.brier == pytest.approx(d.reliability - d.resolution + d.uncertainty)


def test_murphy_of_nothing_is_nan() -> None:
    d = murphy_decomposition([], [])

    assert d.n == 0 and math.isnan(d.brier)


def test_sliding_windows_step_across_the_range() -> None:
    windows = sliding_windows(0.0, 100.0, width=30.0, step=20.0)

    assert windows.tolist() == [[0, 30], [20, 50], [40, 70], [60, 90]]


def test_calibration_over_time_flags_sparse_windows() -> None:
    rng = np.random.default_rng(3)
    probs = rng.uniform(0.001, 0.999, 25)
    outcomes = rng.integers(0, 2, 25)
    times = np.r_[np.full(20, 5.0), np.full(5, 15.0)]

    windows = calibration_over_time(probs, outcomes, times, [0.0, 10.0, 20.0, 30.0])

    assert [w.n for w in windows] == [20, 5, 0]
    assert [w.enough_data for w in windows] == [True, False, False]
    assert sum(b.n for b in windows[1].table) == 5
    assert windows[0].decomposition.brier == pytest.approx(
        np.mean((probs[:20] - outcomes[:20]) ** 2)
    )


def test_calibration_over_time_accepts_sliding_windows_and_min_n() -> None:
    probs = [0.2, 0.4, 0.6]
    outcomes = [0, 1, 1]
    times = [1.0, 2.0, 3.0]

    windows = calibration_over_time(probs, outcomes, times, sliding_windows(0, 4, 2, 1), min_n=2)

    assert [w.n for w in windows] == [1, 2, 2]
    assert [w.enough_data for w in windows] == [False, True, True]


def test_time_weighted_probability_over_the_covered_part() -> None:
    # Question 0 open [0, 10): user 5 says 0.2 on [0, 2), 0.8 on [2, 6), nothing after.
    intervals = Intervals(
        [0, 0, 0, 1],
        [5, 5, 1, 5],
        [-4, 2, 3, 0],
        [2, 6, 20, 1],
        [
            0.2,
            0.8,
            0.5,
            0.9,
        ],
    )
    questions = Questions([0, 0], [10, 4], [1, 0])

    twp = time_weighted_probability(intervals, questions)

    assert list(zip(twp.question.tolist(), twp.user.tolist(), strict=True)) == [
        (0, 1),
        (0, 5),
        (1, 5),
    ]
    assert twp.prob == pytest.approx([0.5, (0.2 * 2 + 0.8 * 4) / 6, 0.9])
    assert twp.coverage == pytest.approx([0.7, 0.6, 0.25])


def test_time_weighted_probability_is_nan_without_coverage() -> None:
    intervals = Intervals([0], [0], [20], [np.nan], [0.3])

    twp = time_weighted_probability(intervals, Questions([0], [10], [1]))

    assert math.isnan(twp.prob[0]) and twp.coverage[0] == 0.0


@pytest.mark.parametrize("k", range(11))
def test_a_forecast_of_exactly_k_tenths_opens_bin_k_and_one_closes_the_last(k: int) -> None:
    entered = float(Decimal(k) / 10)  # what "0.k" typed in a form is stored as

    idx = bin_indices([entered])
    table = calibration_table([entered], [1])

    assert idx.tolist() == [min(k, 9)]
    assert table[min(k, 9)].n == 1
    assert table[min(k, 9)].lower == float(Decimal(min(k, 9)) / 10)


# Any decimal of up to 15 significant digits keeps its order against the edges once stored
# as a float, so its bin is the one its exact decimal value belongs to.
decimals = st.integers(1, 15).flatmap(
    lambda places: st.builds(lambda i: Decimal(i).scaleb(-places), st.integers(0, 10**places))
)


@given(decimals)
def test_a_decimal_as_entered_lands_in_the_bin_of_its_exact_value(entered: Decimal) -> None:
    exact_bin = min(int(entered * 10), 9)

    idx = bin_indices([float(entered)])

    assert idx.tolist() == [exact_bin]


@pytest.mark.parametrize("k", range(1, 10))
def test_a_steady_forecast_keeps_its_exact_value_through_the_time_weighting(k: int) -> None:
    # One forecast of k/10 for the last 70% of the open period [0, 100).
    intervals = Intervals([0], [0], [30.0], [np.inf], [k / 10])

    twp = time_weighted_probability(intervals, Questions([0], [100.0], [1]))

    assert twp.prob.tolist() == [k / 10]
    assert bin_indices(twp.prob).tolist() == [k]


@given(st.lists(st.sampled_from([0.3, 0.31, 0.35, 0.39]), min_size=1, max_size=8))
def test_a_time_weighted_mean_stays_within_its_forecasts(probs: list[float]) -> None:
    n = len(probs)
    starts = [7.0 * i for i in range(n)]
    intervals = Intervals([0] * n, [0] * n, starts, [*starts[1:], np.inf], probs)

    twp = time_weighted_probability(intervals, Questions([0], [100.0], [1]))

    assert min(probs) <= twp.prob[0] <= max(probs)
    assert bin_indices(twp.prob).tolist() == [3]
