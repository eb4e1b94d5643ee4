"""The crowd of numeric and date questions: the recency-weighted mean of the CDFs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecasts.maths.cdf_aggregation import (
    CDF_POINTS,
    aggregate_cdf_history,
    aggregate_cdf_now,
)

GRID = np.linspace(0.0, 1.0, CDF_POINTS)


def _cdf(centre: float, width: float) -> np.ndarray:
    """A logistic CDF on the grid, rescaled to run from 0 to 1 (closed bounds)."""
    raw = 1.0 / (1.0 + np.exp(-(GRID - centre) / width))
    return (raw - raw[0]) / (raw[-1] - raw[0])


def test_the_crowd_now_is_the_recency_weighted_mean() -> None:
    cdfs = np.array([_cdf(0.2, 0.1), _cdf(0.5, 0.05), _cdf(0.8, 0.2)])

    crowd = aggregate_cdf_now(cdfs)

    weights = [math.exp(math.sqrt(k) - math.sqrt(3)) for k in (1, 2, 3)]
    expected = sum(w * c for w, c in zip(weights, cdfs, strict=True)) / sum(weights)
    assert crowd.n_forecasters == 3
    np.testing.assert_allclose(crowd.cdf, expected, rtol=0, atol=1e-12)
    assert crowd.cdf[0] == pytest.approx(0.0) and crowd.cdf[-1] == pytest.approx(1.0)
    assert np.all(np.diff(crowd.cdf) > 0)


def test_nobody_gives_nan_and_one_forecast_is_its_own_crowd() -> None:
    empty = aggregate_cdf_now(np.zeros((0, CDF_POINTS)))
    alone = aggregate_cdf_now([_cdf(0.3, 0.1)])

    assert empty.n_forecasters == 0 and np.isnan(empty.cdf).all()
    np.testing.assert_allclose(alone.cdf, _cdf(0.3, 0.1), atol=1e-15)


def test_each_row_of_the_history_is_the_crowd_of_what_stood_then() -> None:
    rng = np.random.default_rng(11)
    n = 60
    start = np.sort(rng.uniform(0, 100, n))
    end = np.where(rng.random(n) < 0.5, start + rng.uniform(1, 50, n), np.inf)
    centres, widths = rng.random(n), rng.uniform(0.02, 0.3, n)
    cdfs = np.array([_cdf(c, w) for c, w in zip(centres, widths, strict=True)])

    history = aggregate_cdf_history(start, end, cdfs)

    for k, t in enumerate(history.times):
        standing = np.flatnonzero((start <= t) & (end > t))
        now = aggregate_cdf_now(cdfs[standing])  # start is sorted: oldest first
        assert history.n_forecasters[k] == standing.size
        np.testing.assert_allclose(history.cdf[k], now.cdf, rtol=1e-9, atol=1e-12)


def test_the_crowd_as_intervals_leaves_out_empty_stretches() -> None:
    history = aggregate_cdf_history([0.0, 20.0], [10.0, np.inf], [_cdf(0.3, 0.1)] * 2)
    rows = history.times.size

    crowd = history.as_intervals(p_outcome=np.full(rows, 0.01), loss=np.full(rows, 0.2))

    assert history.n_forecasters.tolist() == [1, 0, 1]
    assert crowd.start.tolist() == [0.0, 20.0] and crowd.end.tolist() == [10.0, np.inf]
    assert crowd.loss is not None and crowd.loss.tolist() == [0.2, 0.2]


@pytest.mark.parametrize(
    "cdfs",
    [np.zeros((2, 200)), np.zeros(CDF_POINTS), np.full((1, CDF_POINTS), np.nan), [[2.0] * 201]],
)
def test_bad_cdfs_are_refused(cdfs) -> None:
    with pytest.raises(ValueError):
        aggregate_cdf_now(cdfs)
