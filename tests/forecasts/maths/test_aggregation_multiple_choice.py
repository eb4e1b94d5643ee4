from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasts.maths import aggregation
from forecasts.maths.aggregation import (
    PmfAggregate,
    aggregate_pmf_history,
    aggregate_pmf_now,
    geometric_mean_of_odds,
    recency_weighted_median,
    recency_weighted_medians,
    renormalise_medians,
)
from forecasts.maths.intervals import Intervals
from forecasts.maths.scoring import score_question
from tests.forecasts.maths.test_aggregation import (
    forecast_histories,
    probabilities,
    reference_median,
    standing_at,
)

# Forecasts x options: integer weights 1..100 normalised, so every option is >= 0.001.
pmf_sets = st.integers(2, 5).flatmap(
    lambda n: st.lists(
        st.lists(st.integers(1, 100), min_size=n, max_size=n), min_size=0, max_size=30
    ).map(lambda rows: np.array(rows, dtype=float).reshape(-1, n))
)


def normalised(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum(axis=1, keepdims=True)


def reference_geometric(pmfs: np.ndarray) -> list[float]:
    means = [math.exp(sum(math.log(p) for p in column) / len(column)) for column in pmfs.T]
    return [m / sum(means) for m in means]


def test_three_forecasters_three_options_by_hand() -> None:
    # Oldest first; weights exp(sqrt(k) - sqrt(3)): 0.481, 0.728 and 1, half of all 1.105.
    pmfs = [(0.5, 0.3, 0.2), (0.2, 0.5, 0.3), (0.1, 0.3, 0.6)]

    crowd = aggregate_pmf_now(pmfs)

    # Option 0 by value: 0.1 (1), 0.2 (0.728): 1.728 passes half at 0.2. Option 1: 0.3 (0.481),
    # 0.3 (1): 0.3. Option 2: 0.2 (0.481), 0.3 (0.728): 1.209 passes half at 0.3.
    assert recency_weighted_medians(pmfs).tolist() == [0.2, 0.3, 0.3]
    # Excess over 0.001 (sum 0.797) rescaled to 1 - 3 * 0.001, then 0.001 back.
    expected = [(m - 0.001) / 0.797 * 0.997 + 0.001 for m in (0.2, 0.3, 0.3)]
    assert crowd.median.tolist() == pytest.approx(expected, abs=1e-12)
    means = [
        (0.5 * 0.2 * 0.1) ** (1 / 3),
        (0.3 * 0.5 * 0.3) ** (1 / 3),
        (0.2 * 0.3 * 0.6) ** (1 / 3),
    ]
    assert crowd.gmo.tolist() == pytest.approx([m / sum(means) for m in means], abs=1e-12)
    assert crowd.n_forecasters == 3


@settings(max_examples=200)
@given(pmf_sets)
def test_pmf_crowd_equals_the_plain_definitions_per_option(weights: np.ndarray) -> None:
    pmfs = normalised(weights) if weights.size else weights

    raw = recency_weighted_medians(pmfs)
    crowd = aggregate_pmf_now(pmfs)

    assert isinstance(crowd, PmfAggregate) and crowd.n_forecasters == len(pmfs)
    for option, column in enumerate(pmfs.T.tolist()):
        assert raw[option] == pytest.approx(reference_median(column), rel=1e-12, nan_ok=True)
    if len(pmfs):
        assert crowd.gmo.tolist() == pytest.approx(reference_geometric(pmfs), rel=1e-12)
    else:
        assert np.isnan(crowd.median).all() and np.isnan(crowd.gmo).all()


@settings(max_examples=300)
@given(pmf_sets.filter(lambda w: len(w) > 0))
def test_renormalised_crowd_is_a_pmf_of_options_at_least_a_thousandth(weights) -> None:
    crowd = aggregate_pmf_now(normalised(weights))

    for pmf in (crowd.median, crowd.gmo):
        assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
        assert pmf.min() >= 0.001 - 1e-15


def test_renormalising_medians_all_at_the_floor_gives_the_uniform_pmf() -> None:
    medians = [[0.001, 0.001, 0.001, 0.001], [math.nan] * 4]

    pmf = renormalise_medians(medians)

    assert pmf[0].tolist() == pytest.approx([0.25] * 4)
    assert np.isnan(pmf[1]).all()


@given(st.lists(probabilities, min_size=1, max_size=30))
def test_two_options_give_the_binary_crowd(probs: list[float]) -> None:
    pmfs = [(p, 1 - p) for p in probs]  # YES is option 0

    raw = recency_weighted_medians(pmfs)
    crowd = aggregate_pmf_now(pmfs)

    assert raw[0] == recency_weighted_median(probs)
    # On two options the weighted median commutes with p -> 1 - p, so the NO median is 1 minus
    # the YES median: the two already sum to 1 and renormalising changes only rounding.
    assert raw.sum() == pytest.approx(1.0, abs=1e-12)
    assert crowd.median[0] == pytest.approx(recency_weighted_median(probs), abs=1e-12)
    assert crowd.gmo[0] == pytest.approx(geometric_mean_of_odds(probs), abs=1e-12)


def test_aggregate_pmf_now_of_nobody_is_nan() -> None:
    crowd = aggregate_pmf_now(np.zeros((0, 3)))

    assert np.isnan(crowd.median).all() and np.isnan(crowd.gmo).all()
    assert crowd.median.shape == (3,) and crowd.n_forecasters == 0


def test_aggregate_pmf_now_refuses_a_vector_summing_to_0_98() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        aggregate_pmf_now([[0.5, 0.48, 0.02], [0.5, 0.3, 0.18]])


def test_pmf_history_has_one_row_per_change_and_a_pmf_per_row() -> None:
    pmfs = [(0.2, 0.3, 0.5), (0.6, 0.2, 0.2), (0.1, 0.8, 0.1)]

    history = aggregate_pmf_history([0, 1, 3], [np.nan, 5, 4], pmfs)

    assert history.times.tolist() == [0, 1, 3, 4, 5]
    assert history.n_forecasters.tolist() == [1, 2, 3, 2, 1]
    assert history.median.shape == history.gmo.shape == (5, 3)
    assert history.median[0].tolist() == pytest.approx(pmfs[0])
    assert history.median[2].tolist() == pytest.approx(aggregate_pmf_now(pmfs).median.tolist())
    assert history.median[1].tolist() == pytest.approx(aggregate_pmf_now(pmfs[:2]).median.tolist())


def test_pmf_history_marks_gaps_and_skips_them_as_intervals() -> None:
    history = aggregate_pmf_history([0, 6], [4, np.nan], [(0.2, 0.8), (0.7, 0.3)])

    crowd = history.as_intervals(outcome=1)

    assert history.n_forecasters.tolist() == [1, 0, 1]
    assert np.isnan(history.median[1]).all() and np.isnan(history.gmo[1]).all()
    assert crowd.start.tolist() == [0, 6] and crowd.end.tolist() == [4, np.inf]
    assert crowd.p_outcome is not None and crowd.p_outcome.tolist() == pytest.approx([0.8, 0.3])


def spread(p: float) -> tuple[float, float, float]:
    """A three-option pmf from one probability, so forecast_histories serve here too."""
    return (p, (1 - p) / 3, 2 * (1 - p) / 3)


# 30 cells make blocks of one or two rows, so rows are split across blocks.
@pytest.mark.parametrize("block_cells", [aggregation.BLOCK_CELLS, 30])
@settings(max_examples=100, deadline=None)
@given(rows=forecast_histories())
def test_pmf_history_rows_equal_aggregate_pmf_now_of_the_standing(block_cells: int, rows) -> None:
    start, end = ([row[i] for row in rows] for i in range(2))
    pmfs = np.array([spread(row[2]) for row in rows]).reshape(-1, 3)
    saved, aggregation.BLOCK_CELLS = aggregation.BLOCK_CELLS, block_cells
    try:
        history = aggregate_pmf_history(start, end, pmfs)
    finally:
        aggregation.BLOCK_CELLS = saved

    for k, t in enumerate(history.times.tolist()):
        now = aggregate_pmf_now(np.array([spread(p) for p in standing_at(rows, t)]).reshape(-1, 3))
        assert history.n_forecasters[k] == now.n_forecasters
        np.testing.assert_allclose(history.median[k], now.median, rtol=1e-12)
        np.testing.assert_allclose(history.gmo[k], now.gmo, rtol=1e-12)


def test_pmf_crowd_history_scores_as_a_pseudo_forecaster() -> None:
    pmfs = [(0.6, 0.3, 0.1), (0.2, 0.5, 0.3)]
    field = Intervals.of_pmfs([0, 0], [0, 1], [0, 4], [np.nan, np.nan], pmfs, outcome=1)
    history = aggregate_pmf_history(field.start, field.end, pmfs)

    crowd = history.as_intervals("gmo", outcome=1, user=999)
    table = score_question(crowd, opens_at=0, closes_at=10, outcome=1, field=field, n_options=3)

    # On [0, 4) the crowd is the lone forecaster; on [4, 10) the renormalised geometric mean.
    means = [math.sqrt(0.6 * 0.2), math.sqrt(0.3 * 0.5), math.sqrt(0.1 * 0.3)]
    late = means[1] / sum(means)
    assert table.log[0] == pytest.approx(0.4 * math.log(0.3) + 0.6 * math.log(late))
    peer = 100 * 2 * (math.log(late) - (math.log(0.3) + math.log(0.5)) / 2)
    assert table.peer[0] == pytest.approx(0.6 * peer)
