from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasts.maths import aggregation
from forecasts.maths.aggregation import (
    Aggregate,
    aggregate_history,
    aggregate_now,
    geometric_mean_of_odds,
    recency_weighted_median,
    weighted_median,
)
from forecasts.maths.intervals import Intervals
from forecasts.maths.scoring import score_question

probabilities = st.floats(0.001, 0.999)


@given(st.lists(probabilities, min_size=1, max_size=2))
def test_weighted_median_of_up_to_two_is_numpy_median(probs: list[float]) -> None:
    median = recency_weighted_median(probs)

    assert median == pytest.approx(float(np.median(probs)))


@given(st.lists(probabilities, min_size=1, max_size=30))
def test_recency_weighted_median_lies_within_the_forecasts(probs: list[float]) -> None:
    median = recency_weighted_median(probs)

    assert min(probs) <= median <= max(probs)


@given(st.lists(probabilities, min_size=1, max_size=30))
def test_equal_weights_give_numpy_median(probs: list[float]) -> None:
    median = weighted_median(probs, np.full(len(probs), 0.1))

    assert median == pytest.approx(float(np.median(probs)), abs=0)


def test_recency_weighting_favours_the_newest_forecast() -> None:
    # Weights e^(1-2), e^(sqrt2-2), e^(sqrt3-2), 1: the newest two already outweigh half.
    median = recency_weighted_median([0.1, 0.2, 0.9, 0.8])

    assert median == 0.8


@given(st.lists(probabilities, min_size=1, max_size=30))
def test_geometric_mean_of_odds_lies_within_the_forecasts(probs: list[float]) -> None:
    gmo = geometric_mean_of_odds(probs)

    assert min(probs) - 1e-12 <= gmo <= max(probs) + 1e-12


def test_geometric_mean_of_odds_by_hand() -> None:
    # Odds 1/9 and 9 have geometric mean 1, i.e. 50 %.
    gmo = geometric_mean_of_odds([0.1, 0.9])

    assert gmo == pytest.approx(0.5)


def test_aggregate_history_has_one_row_per_change() -> None:
    history = aggregate_history([0, 1, 3], [np.nan, 5, 4], [0.2, 0.6, 0.9])

    assert history.times.tolist() == [0, 1, 3, 4, 5]
    assert history.n_forecasters.tolist() == [1, 2, 3, 2, 1]
    assert history.median[1] == pytest.approx(0.4)
    assert history.gmo[4] == pytest.approx(0.2)


def test_aggregate_history_marks_gaps_and_skips_them_as_intervals() -> None:
    history = aggregate_history([0, 6], [4, np.nan], [0.2, 0.7])

    crowd = history.as_intervals()

    assert history.n_forecasters.tolist() == [1, 0, 1]
    assert math.isnan(history.median[1])
    assert crowd.start.tolist() == [0, 6]
    assert crowd.end.tolist() == [4, np.inf]


def test_aggregate_now_of_nobody_is_nan() -> None:
    crowd = aggregate_now([])

    assert math.isnan(crowd.median) and math.isnan(crowd.gmo)
    assert crowd.n_forecasters == 0


def test_aggregate_now_rejects_probabilities_outside_zero_one() -> None:
    with pytest.raises(ValueError, match="probabilities"):
        aggregate_now([0.5, 1.2])


# Plain reference implementations of the module docstring's definitions.
def reference_median(probs: list[float]) -> float:
    n = len(probs)
    if n <= 2:
        return sum(sorted(probs)) / n if n else math.nan
    weights = [math.exp(math.sqrt(k) - math.sqrt(n)) for k in range(1, n + 1)]
    pairs = sorted(zip(probs, weights, strict=True), key=lambda pair: pair[0])
    total = sum(weights)
    running = 0.0
    for i, (value, weight) in enumerate(pairs):
        running += weight
        if running >= total / 2 - 1e-12 * total:
            if abs(running - total / 2) <= 1e-12 * total and i + 1 < n:
                return (value + pairs[i + 1][0]) / 2
            return value
    raise AssertionError("unreachable")


def reference_gmo(probs: list[float]) -> float:
    logs = [math.log(p / (1 - p)) for p in np.clip(probs, 0.001, 0.999).tolist()]
    return 1 / (1 + math.exp(-sum(logs) / len(logs)))


@given(st.lists(st.sampled_from([0.1, 0.25, 0.5, 0.7, 0.9]) | probabilities, max_size=40))
def test_aggregate_now_equals_the_plain_definitions(probs: list[float]) -> None:
    crowd = aggregate_now(probs)

    assert isinstance(crowd, Aggregate)
    assert crowd.n_forecasters == len(probs)
    assert crowd.median == pytest.approx(reference_median(probs), rel=1e-12, nan_ok=True)
    if probs:
        assert crowd.gmo == pytest.approx(reference_gmo(probs), rel=1e-12)
        assert crowd.median == recency_weighted_median(probs)
        assert crowd.gmo == geometric_mean_of_odds(probs)


@given(st.lists(st.tuples(probabilities, st.integers(1, 5)), min_size=1, max_size=20))
def test_weighted_median_halves_the_weight(pairs: list[tuple[float, int]]) -> None:
    values, weights = (np.array(c, dtype=float) for c in zip(*pairs, strict=True))

    median = weighted_median(values, weights)

    total = weights.sum()
    assert weights[values < median].sum() <= total / 2 + 1e-9
    assert weights[values > median].sum() <= total / 2 + 1e-9


@st.composite
def forecast_histories(draw):
    """Chains of forecasts per user on integer times, so that starts and ends coincide often;
    some chains are withdrawn, some forecasts have zero length."""
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        times = sorted(draw(st.lists(st.integers(0, 30), min_size=1, max_size=5)))
        withdrawn = draw(st.booleans())
        for j, t in enumerate(times):
            end = times[j + 1] if j + 1 < len(times) else math.nan
            if withdrawn and j + 1 == len(times):
                end = t + draw(st.integers(0, 10))
            rows.append((float(t), float(end), draw(probabilities)))
    order = draw(st.permutations(range(len(rows))))
    return [rows[i] for i in order]


def standing_at(rows, t: float) -> list[float]:
    """P(YES) of the forecasts standing at t, oldest first (ties as given)."""
    standing = [(s, i, p) for i, (s, e, p) in enumerate(rows) if s <= t and not e <= t]
    return [p for *_, p in sorted(standing)]


# 30 cells make blocks of one or two rows, so rows are split across blocks.
@pytest.mark.parametrize("block_cells", [aggregation.BLOCK_CELLS, 30])
@settings(max_examples=150, deadline=None)
@given(rows=forecast_histories())
def test_history_rows_equal_aggregate_now_of_the_standing(block_cells: int, rows) -> None:
    start, end, prob = ([row[i] for row in rows] for i in range(3))
    saved, aggregation.BLOCK_CELLS = aggregation.BLOCK_CELLS, block_cells
    try:
        history = aggregate_history(start, end, prob)
    finally:
        aggregation.BLOCK_CELLS = saved

    live = [(s, e) for s, e, _ in rows if not e <= s]
    assert history.times.tolist() == sorted(
        {s for s, _ in live} | {e for _, e in live if not math.isnan(e)}
    )
    for k, t in enumerate(history.times.tolist()):
        now = aggregate_now(standing_at(rows, t))
        assert history.n_forecasters[k] == now.n_forecasters
        assert history.median[k] == pytest.approx(now.median, rel=1e-12, nan_ok=True)
        assert history.gmo[k] == pytest.approx(now.gmo, rel=1e-12, nan_ok=True)


def test_crowd_history_scores_as_a_pseudo_forecaster() -> None:
    field = Intervals.of_question([0, 1], [0, 4], [np.nan, np.nan], [0.8, 0.4])
    crowd = aggregate_history(field.start, field.end, field.prob).as_intervals(user=999)

    table = score_question(crowd, opens_at=0, closes_at=10, outcome=1, field=field)

    # On [0, 4) the crowd equals the lone forecaster (peer 0); on [4, 10) it is 0.6.
    late = 100 * 2 * (math.log(0.6) - (math.log(0.8) + math.log(0.4)) / 2)
    assert crowd.prob.tolist() == [0.8, pytest.approx(0.6)]
    assert table.peer[0] == pytest.approx(0.6 * late)
    assert table.log[0] == pytest.approx(0.4 * math.log(0.8) + 0.6 * math.log(0.6))
