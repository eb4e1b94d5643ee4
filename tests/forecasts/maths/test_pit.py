"""Calibration of distributions: PIT histograms and interval coverage with Wilson intervals."""

from __future__ import annotations

from math import erf, sqrt

import numpy as np
import pytest

from forecasts.maths.calibration import wilson_interval
from forecasts.maths.pit import (
    inside_central,
    interval_coverage,
    pit_histogram,
    pit_over_time,
)


def test_the_histogram_counts_each_tenth_and_puts_one_in_the_last() -> None:
    histogram = pit_histogram([0.0, 0.05, 0.1, 0.55, 0.99, 1.0])

    assert histogram.counts == (2, 1, 0, 0, 0, 1, 0, 0, 0, 2)
    assert (histogram.n, histogram.expected) == (6, 0.6)


def test_interval_bounds_count_as_inside() -> None:
    pits = [0.25, 0.75, 0.2499, 0.7501, 0.1, 0.9]

    assert inside_central(pits, 0.5).tolist() == [True, True, False, False, False, False]
    assert inside_central(pits, 0.8).tolist() == [True] * 6


def test_coverage_counts_with_its_wilson_interval() -> None:
    pits = [0.3, 0.5, 0.6, 0.05, 0.95, 0.15, 0.85, 0.45]

    fifty, eighty = interval_coverage(pits)

    low, high = wilson_interval(4, 8)
    assert (fifty.inside, fifty.n, fifty.share) == (4, 8, 0.5)
    assert (fifty.low, fifty.high) == (low[0], high[0])
    assert (eighty.inside, eighty.share) == (6, 0.75)


def test_calibrated_forecasts_cover_their_level_and_overconfident_ones_do_not() -> None:
    rng = np.random.default_rng(3)
    outcomes = rng.normal(size=20_000)
    # PIT of each outcome under a normal with the right spread, and one too narrow.

    def normal_cdf(x: np.ndarray, sd: float) -> np.ndarray:
        return np.array([0.5 * (1 + erf(v / (sd * sqrt(2)))) for v in x])

    calibrated = interval_coverage(normal_cdf(outcomes, 1.0))
    narrow = interval_coverage(normal_cdf(outcomes, 0.5))

    assert [c.low <= c.level <= c.high for c in calibrated] == [True, True]
    assert [c.high < c.level for c in narrow] == [True, True]
    assert pit_histogram(normal_cdf(outcomes, 0.5)).counts[0] > 2 * 2000


def test_windows_split_by_resolution_time_and_flag_the_sparse() -> None:
    pits = [0.1, 0.5, 0.9, 0.5]
    times = [0.0, 5.0, 10.0, 15.0]

    first, second = pit_over_time(pits, times, [0.0, 10.0, 20.0], min_n=2)

    assert (first.n, first.enough_data, second.n) == (2, True, 2)
    assert first.histogram.counts[1] == 1 and second.histogram.counts[9] == 1
    assert pit_over_time([], [], [0.0, 1.0])[0].enough_data is False


@pytest.mark.parametrize("pits", [[-0.1], [1.1], [np.nan], [[0.5]]])
def test_pits_outside_zero_one_are_refused(pits) -> None:
    with pytest.raises(ValueError):
        pit_histogram(pits)
