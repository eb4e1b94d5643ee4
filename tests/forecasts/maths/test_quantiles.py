"""A valid CDF from a few quantiles (forecasts.maths.quantiles)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from forecasts.maths.continuous import (
    Scale,
    cdf_errors,
    cdf_quantile,
    outcome_bucket,
    pmf,
    prob_below,
)
from forecasts.maths.quantiles import GRID, cdf_from_quantiles

PERCENTILES = {0.1: 5.0, 0.25: 15.0, 0.5: 30.0, 0.75: 50.0, 0.9: 70.0}


def _valid(cdf: np.ndarray, scale: Scale) -> bool:
    return cdf_errors(cdf, open_lower=scale.open_lower, open_upper=scale.open_upper) == []


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


@st.composite
def asked(draw: st.DrawFn, *, spread: bool = False) -> tuple[dict[float, float], Scale]:
    """A scale (either bound open or closed, linear or log) and 2 to 7 quantiles on it, anywhere
    within its closed bounds and up to half a range beyond open ones, however close. With
    ``spread``, not too narrow: inside the range, levels in [0.05, 0.95] at least 0.05 apart,
    positions at least 0.3 times the levels' gap apart, and away from closed bounds."""
    lower, upper, log_scale = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    scale = Scale(2.0, 500.0, log_scale=log_scale, open_lower=lower, open_upper=upper)
    n = draw(st.integers(2, 7))
    edge = 0.05 if spread else 1e-4
    levels = sorted(draw(st.lists(st.floats(edge, 1 - edge), min_size=n, max_size=n, unique=True)))
    gaps = np.diff(levels)
    assume(gaps.min() >= (0.05 if spread else 1e-6))
    low = -0.5 if lower else 0.0
    high = 1.5 if upper else 1.0
    if spread:
        # Nor packed against a closed bound: at most 5 times the uniform's density there.
        low = 0.02 if lower else max(0.02, levels[0] / 5)
        high = 0.98 if upper else min(0.98, 1 - (1 - levels[-1]) / 5)
    need = 0.3 * gaps if spread else np.zeros(n - 1)
    weights = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n + 1, max_size=n + 1)))
    assume(weights.sum() > 0)
    free = (high - low - need.sum()) * weights / weights.sum()
    positions = low + np.cumsum(free[:n] + np.r_[0.0, need])
    values = np.clip(scale.value(positions), scale.value(low), scale.value(high))
    assume(np.all(np.diff(values) > 0) and np.all(np.diff(scale.position(values)) > 0))
    return dict(zip(levels, (float(v) for v in values), strict=True)), scale


@settings(max_examples=300, deadline=None)
@given(asked())
def test_any_increasing_quantiles_give_a_valid_cdf(case: tuple[dict[float, float], Scale]) -> None:
    quantiles, scale = case

    cdf = cdf_from_quantiles(quantiles, scale)

    assert _valid(cdf, scale), cdf_errors(cdf, open_lower=scale.open_lower, open_upper=True)


@settings(max_examples=200, deadline=None)
@given(asked(spread=True))
def test_the_result_keeps_quantiles_that_are_not_too_narrow(
    case: tuple[dict[float, float], Scale],
) -> None:
    quantiles, scale = case

    cdf = cdf_from_quantiles(quantiles, scale)

    levels = np.array(list(quantiles))
    reached = prob_below(cdf, scale.position(list(quantiles.values())))
    assert np.abs(reached - levels).max() <= 0.015


def test_five_percentiles_come_back_as_asked() -> None:
    scale = Scale(0.0, 100.0, open_upper=True)

    cdf = cdf_from_quantiles(PERCENTILES, scale)

    assert _valid(cdf, scale)
    back = scale.value(cdf_quantile(cdf, list(PERCENTILES)))
    assert back == pytest.approx(list(PERCENTILES.values()), abs=1e-6)


def test_two_quantiles_make_a_logistic_distribution() -> None:
    scale = Scale(0.0, 100.0, open_lower=True, open_upper=True)

    cdf = cdf_from_quantiles({0.25: 40.0, 0.75: 60.0}, scale)

    slope = (math.log(3) - math.log(1 / 3)) / 0.2
    expected = 1 / (1 + np.exp(-slope * (GRID - 0.5)))
    assert cdf == pytest.approx(expected, abs=1e-12)


def test_the_tails_beyond_the_outermost_quantiles_are_logistic() -> None:
    scale = Scale(0.0, 100.0, open_lower=True, open_upper=True)

    cdf = cdf_from_quantiles({0.2: 30.0, 0.5: 40.0, 0.6: 50.0, 0.8: 60.0}, scale)

    z = _logit(cdf)
    left, right = z[GRID <= 0.3], z[GRID >= 0.6]
    assert np.diff(left, 2) == pytest.approx(np.zeros(left.size - 2), abs=1e-9)
    assert np.diff(right, 2) == pytest.approx(np.zeros(right.size - 2), abs=1e-9)
    # The end tangents are the secants of the two outermost points on each side.
    assert (left[-1] - left[-2]) * 200 == pytest.approx((_logit(0.5) - _logit(0.2)) / 0.1)
    assert (right[1] - right[0]) * 200 == pytest.approx((_logit(0.8) - _logit(0.6)) / 0.1)


def test_the_interpolation_is_increasing_between_quantiles() -> None:
    scale = Scale(0.0, 1.0, open_lower=True, open_upper=True)
    # Uneven gaps, where an unconstrained cubic would overshoot and fall.
    quantiles = {0.05: 0.1, 0.1: 0.11, 0.5: 0.15, 0.9: 0.8, 0.95: 0.81}

    cdf = cdf_from_quantiles(quantiles, scale)

    assert _valid(cdf, scale)
    assert prob_below(cdf, list(quantiles.values())) == pytest.approx(list(quantiles), abs=0.01)


def test_a_closed_bound_conditions_only_the_tail_and_keeps_the_quantiles() -> None:
    closed, open_ = Scale(0.0, 100.0), Scale(0.0, 100.0, open_lower=True, open_upper=True)
    quantiles = {0.1: 3.0, 0.5: 20.0, 0.9: 97.0}

    shut, spill = cdf_from_quantiles(quantiles, closed), cdf_from_quantiles(quantiles, open_)

    assert shut[0] == 0.0 and shut[-1] == 1.0 and _valid(shut, closed)
    assert spill[0] > 0.02 and 1 - spill[-1] > 0.02 and _valid(spill, open_)
    u = closed.position(list(quantiles.values()))
    assert prob_below(shut, u) == pytest.approx(list(quantiles), abs=1e-9)
    assert prob_below(spill, u) == pytest.approx(list(quantiles), abs=1e-9)
    middle = (GRID >= 0.03) & (GRID <= 0.97)
    assert shut[middle] == pytest.approx(spill[middle], abs=1e-12)


def test_a_quantile_at_a_closed_bound_puts_its_mass_in_the_first_bucket() -> None:
    scale = Scale(0.0, 100.0)

    cdf = cdf_from_quantiles({0.1: 0.0, 0.5: 20.0, 0.9: 60.0}, scale)

    assert _valid(cdf, scale)
    assert cdf[0] == 0.0 and cdf[1] >= 0.1
    assert outcome_bucket(0.0, open_lower=False, open_upper=False) == 1


def test_an_open_bound_keeps_at_least_the_least_mass_beyond_it() -> None:
    scale = Scale(0.0, 100.0, open_lower=True, open_upper=True)

    cdf = cdf_from_quantiles({0.1: 45.0, 0.9: 55.0}, scale)

    assert _valid(cdf, scale)
    assert cdf[0] >= 0.001 and cdf[0] < 0.0011 and 1 - cdf[-1] < 0.0011


def test_quantiles_far_beyond_an_open_bound_leave_the_range_its_least_mass() -> None:
    scale = Scale(0.0, 100.0, open_upper=True)

    cdf = cdf_from_quantiles({0.1: 500.0, 0.9: 900.0}, scale)

    assert _valid(cdf, scale)
    assert cdf[-1] == pytest.approx(0.01, abs=1e-5)


def test_log_scale_quantiles_are_placed_by_their_logarithm() -> None:
    scale = Scale(1.0, 1000.0, log_scale=True)
    quantiles = {0.1: 3.0, 0.5: 30.0, 0.9: 300.0}

    cdf = cdf_from_quantiles(quantiles, scale)

    assert _valid(cdf, scale)
    # Between points F is linear, not logistic: the quantiles come back within the grid's
    # resolution, at ln(x) / ln(1000).
    at = cdf_quantile(cdf, list(quantiles))
    assert at == pytest.approx([math.log(x) / math.log(1000) for x in (3, 30, 300)], abs=1e-3)


def test_narrow_quantiles_are_widened_to_steps_of_at_most_0_2_around_the_median() -> None:
    scale = Scale(0.0, 100.0, open_lower=True, open_upper=True)

    cdf = cdf_from_quantiles({0.25: 49.9, 0.5: 50.0, 0.75: 50.1}, scale)

    assert _valid(cdf, scale)
    steps = pmf(cdf)[1:-1]
    assert steps.max() == pytest.approx(0.2, abs=1e-7)
    assert set(np.flatnonzero(steps > 0.19)) <= {99, 100}
    assert steps[95:105].sum() > 0.6
    assert float(cdf_quantile(cdf, 0.5)) == pytest.approx(0.5, abs=1e-9)


@pytest.mark.parametrize(
    ("quantiles", "words"),
    [
        ({0.5: 10.0}, "at least two quantiles"),
        ({0.0: 10.0, 0.5: 20.0}, "quantile 0.0: a level must lie strictly between 0 and 1"),
        ({0.5: 10.0, 1.0: 20.0}, "quantile 1.0: a level"),
        ({0.5: 10.0, 1.5: 20.0}, "quantile 1.5: a level"),
        ({math.nan: 10.0, 0.5: 20.0}, "quantile nan: a level"),
        ({"a": 10.0, 0.5: 20.0}, "quantile 'a': its level and value must be numbers"),
        ({0.25: 30.0, 0.75: 20.0}, "quantile 0.75: its value 20 must be above that of quantile"),
        ({0.25: 30.0, 0.75: 30.0}, "quantile 0.75: its value 30 must be above"),
        ({0.25: -1.0, 0.75: 30.0}, "quantile 0.25: -1 is below the range's minimum 0"),
        ({0.25: 10.0, 0.75: 101.0}, "quantile 0.75: 101 is above the range's maximum 100"),
        ({0.25: 10.0, 0.75: math.nan}, "quantile 0.75: its value must be a finite number"),
        ({0.25: 10.0, 0.75: math.inf}, "quantile 0.75: its value must be a finite number"),
    ],
)
def test_bad_quantiles_are_refused_naming_the_quantile(
    quantiles: dict[float, float], words: str
) -> None:
    with pytest.raises(ValueError) as refused:
        cdf_from_quantiles(quantiles, Scale(0.0, 100.0))

    assert words in str(refused.value)


def test_values_beyond_an_open_bound_are_allowed_but_not_below_zero_on_a_log_scale() -> None:
    linear = Scale(0.0, 100.0, open_lower=True)
    log = Scale(1.0, 100.0, log_scale=True, open_lower=True)

    assert _valid(cdf_from_quantiles({0.25: -10.0, 0.75: 30.0}, linear), linear)
    assert _valid(cdf_from_quantiles({0.25: 0.5, 0.75: 30.0}, log), log)
    with pytest.raises(ValueError, match=r"quantile 0\.25: a value on a log scale must be above 0"):
        cdf_from_quantiles({0.25: 0.0, 0.75: 30.0}, log)
