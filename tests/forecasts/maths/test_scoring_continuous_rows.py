"""The scorer's numeric and date rows: the bucket mass p_k that a CDF gave the outcome, scored
as Metaculus scores continuous questions, and the CRPS in Brier's place (the distribution
maths itself is tested in test_continuous)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecasts.maths.intervals import Intervals, Questions
from forecasts.maths.scoring import score_question, score_questions

DAY = 86_400.0
BASE = 0.9 / 200  # an in-range bucket's base when both bounds are open (0.05 each outside)


def _continuous(user, start, end, p_k, crps) -> Intervals:
    n = len(user)
    return Intervals.of_question(
        user, start, end, p_outcome=p_k, sum_sq=np.full(n, np.nan), loss=crps
    )


def test_full_coverage_scores_are_metaculus_continuous_formulas() -> None:
    p = [0.02, 0.005]
    iv = _continuous([0, 1], [0, 0], [np.nan, np.nan], p, [0.1, 0.3])
    questions = Questions([0], [10 * DAY], [57], 202, ln_base=[math.log(BASE)])

    table = score_questions(iv, questions)

    baseline = [100 * math.log(pk / BASE) / 2 for pk in p]
    mean_ln = (math.log(p[0]) + math.log(p[1])) / 2
    peer = [100 * 2 / 1 * (math.log(pk) - mean_ln) / 2 for pk in p]
    assert table.baseline == pytest.approx(baseline, abs=1e-9)
    assert table.baseline_at_close == pytest.approx(baseline, abs=1e-9)
    assert table.peer == pytest.approx(peer, abs=1e-9)
    assert table.peer_at_close == pytest.approx(peer, abs=1e-9)
    assert table.log == pytest.approx([math.log(pk) for pk in p], abs=1e-12)
    assert table.brier == pytest.approx([0.1, 0.3]) and table.brier_at_close == pytest.approx(
        [0.1, 0.3]
    )


def test_a_bucket_mass_below_the_discrete_floor_is_not_raised_to_it() -> None:
    tiny = 0.01 / 200
    iv = _continuous([0], [0], [np.nan], [tiny], [0.4])

    table = score_question(iv, 0, DAY, 3, n_options=202)

    assert table.log == pytest.approx([math.log(tiny)])


def test_half_coverage_counts_the_uncovered_time_as_zero() -> None:
    iv = _continuous([0], [5 * DAY], [np.nan], [0.01], [0.2])
    questions = Questions([0], [10 * DAY], [100], 202, ln_base=[math.log(BASE)])

    table = score_questions(iv, questions)

    assert table.coverage == pytest.approx([0.5])
    assert table.baseline == pytest.approx([0.5 * 100 * math.log(0.01 / BASE) / 2])
    assert table.brier == pytest.approx([0.2])  # the mean over covered time, as Brier


def test_binary_and_multiple_choice_rows_score_as_before_beside_continuous_ones() -> None:
    rng = np.random.default_rng(7)
    n = 40
    user = np.arange(n)
    start = np.sort(rng.uniform(0, 5 * DAY, n))
    prob = rng.uniform(0.01, 0.99, n)
    alone = score_questions(
        Intervals(np.zeros(n), user, start, np.full(n, np.nan), prob),
        Questions([0], [10 * DAY], [1]),
    )
    p_k = rng.uniform(0.001, 0.05, n)
    mixed = Intervals(
        np.r_[np.zeros(n), np.ones(n)],
        np.r_[user, user],
        np.r_[start, start],
        np.full(2 * n, np.nan),
        np.r_[prob, np.full(n, np.nan)],
        p_outcome=np.r_[np.full(n, np.nan), p_k],
        sum_sq=np.full(2 * n, np.nan),
        loss=np.r_[np.full(n, np.nan), rng.uniform(0, 1, n)],
    )
    questions = Questions(
        [0, 0], [10 * DAY, 10 * DAY], [1, 80], [2, 202], ln_base=[np.nan, math.log(BASE)]
    )

    together = score_questions(mixed, questions)

    first = together.question == 0
    for name in ("brier", "log", "baseline", "peer", "baseline_at_close", "peer_at_close"):
        assert np.array_equal(getattr(together, name)[first], getattr(alone, name)), name


@pytest.mark.parametrize(
    "loss, sum_sq, message",
    [
        ([-0.1], [np.nan], "a loss must be finite"),
        ([np.inf], [np.nan], "a loss must be finite"),
        ([0.2], [0.5], "a continuous row has a loss and no sum_sq"),
    ],
)
def test_bad_continuous_rows_are_refused(loss, sum_sq, message) -> None:
    with pytest.raises(ValueError, match=message):
        Intervals.of_question([0], [0], [1], p_outcome=[0.01], sum_sq=sum_sq, loss=loss)


@pytest.mark.parametrize("ln_base", [[0.5], [-np.inf], [np.inf]])
def test_a_base_must_be_the_log_of_a_probability(ln_base) -> None:
    with pytest.raises(ValueError, match="ln_base"):
        Questions([0], [1], [3], 202, ln_base=ln_base)
