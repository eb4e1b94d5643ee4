from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasts.maths.intervals import Intervals, Questions, ScoreTable, outcome_columns
from forecasts.maths.scoring import (
    baseline_score,
    brier_score,
    log_score,
    multi_baseline_score,
    multi_brier_score,
    multi_log_score,
    score_question,
    score_questions,
)
from tests.forecasts.maths.test_scoring import COLUMNS, as_intervals, question_sets

# Options of a pmf: integer weights 1..100 normalised, so every option is >= 0.001 for n <= 10.
pmfs = st.integers(2, 6).flatmap(
    lambda n: st.lists(st.integers(1, 100), min_size=n, max_size=n).map(
        lambda w: np.array(w, dtype=float) / sum(w)
    )
)


def columns(rows) -> tuple[np.ndarray, ...]:
    """Rows (question, user, start, end, probability) as five arrays."""
    if not rows:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0), np.zeros(0)
    return tuple(np.array(c) for c in zip(*rows, strict=True))


def assert_tables_equal(got: ScoreTable, want: ScoreTable, brier_factor: float = 1.0) -> None:
    assert got.question.tolist() == want.question.tolist()
    assert got.user.tolist() == want.user.tolist()
    for name in COLUMNS:
        factor = brier_factor if name.startswith("brier") else 1.0
        expected = factor * getattr(want, name)
        np.testing.assert_allclose(getattr(got, name), expected, rtol=0, atol=1e-9, err_msg=name)


@pytest.mark.parametrize(("p", "outcome"), [(0.8, 1), (0.8, 0), (0.001, 1), (0.5, 0)])
def test_point_scores_of_a_binary_pmf_are_the_binary_scores(p: float, outcome: int) -> None:
    pmf, index = [p, 1 - p], 1 - outcome  # YES is option 0

    assert multi_log_score(pmf, index) == pytest.approx(log_score(p, outcome))
    assert multi_baseline_score(pmf, index) == pytest.approx(baseline_score(p, outcome))
    assert multi_brier_score(pmf, index) == pytest.approx(2 * brier_score(p, outcome))


@settings(max_examples=200, deadline=None)
@given(question_sets())
def test_binary_pmfs_through_the_general_path_score_as_binary(data) -> None:
    rows, opens, closes, outcomes = data
    questions = Questions(opens, closes, outcomes)
    q, u, start, end, p = columns(rows)
    happened = 1 - np.array(outcomes)[q]  # YES, outcome 1, is option 0

    binary = score_questions(as_intervals(rows), questions)
    general = score_questions(
        Intervals.of_pmfs(q, u, start, end, np.column_stack([p, 1 - p]), happened), questions
    )

    assert_tables_equal(general, binary, brier_factor=2.0)


@settings(max_examples=100, deadline=None)
@given(question_sets())
def test_binary_pmfs_scored_against_a_field_score_as_binary(data) -> None:
    rows, opens, closes, outcomes = data
    questions = Questions(opens, closes, outcomes)
    q, u, start, end, p = columns(rows)
    pmf, happened = np.column_stack([p, 1 - p]), 1 - np.array(outcomes)[q]
    mine = u == 0

    binary = score_questions(
        as_intervals([r for r in rows if r[1] == 0]), questions, field=as_intervals(rows)
    )
    general = score_questions(
        Intervals.of_pmfs(q[mine], u[mine], start[mine], end[mine], pmf[mine], happened[mine]),
        questions,
        field=Intervals.of_pmfs(q, u, start, end, pmf, happened),
    )

    assert_tables_equal(general, binary, brier_factor=2.0)


def test_three_options_three_users_two_intervals_each_by_hand() -> None:
    # Opens at 0, closes at 10; option 1 (of 0, 1, 2) happens.
    # User 0: (0.2, 0.5, 0.3) on [0, 4), then (0.1, 0.8, 0.1) from 4, standing at close.
    # User 1: (0.6, 0.3, 0.1) on [2, 6), then (0.25, 0.25, 0.5) on [6, 8), withdrawn.
    # User 2: (0.3, 0.4, 0.3) on [0, 5), then (0.2, 0.2, 0.6) from 5, standing at close.
    rows = [
        (0, 0.0, 4.0, (0.2, 0.5, 0.3)),
        (0, 4.0, math.inf, (0.1, 0.8, 0.1)),
        (1, 2.0, 6.0, (0.6, 0.3, 0.1)),
        (1, 6.0, 8.0, (0.25, 0.25, 0.5)),
        (2, 0.0, 5.0, (0.3, 0.4, 0.3)),
        (2, 5.0, math.nan, (0.2, 0.2, 0.6)),
    ]
    user, start, end, pmf = (list(c) for c in zip(*rows, strict=True))
    intervals = Intervals.of_pmfs(np.zeros(6), user, start, end, pmf, outcome=1)

    table = score_question(intervals, opens_at=0, closes_at=10, outcome=1, n_options=3)

    # Brier sum_i (p_i - o_i)^2 of each interval, o = (0, 1, 0).
    b0 = (0.2**2 + 0.5**2 + 0.3**2, 0.1**2 + 0.2**2 + 0.1**2)  # 0.38, 0.06
    b1 = (0.6**2 + 0.7**2 + 0.1**2, 0.25**2 + 0.75**2 + 0.5**2)  # 0.86, 0.875
    b2 = (0.3**2 + 0.6**2 + 0.3**2, 0.2**2 + 0.8**2 + 0.6**2)  # 0.54, 1.04
    ln = math.log
    # The field between consecutive changes: (width, p_1 of user 0, 1, 2; None: absent).
    segments = [
        (2, 0.5, None, 0.4),
        (2, 0.5, 0.3, 0.4),
        (1, 0.8, 0.3, 0.4),
        (1, 0.8, 0.3, 0.2),
        (2, 0.8, 0.25, 0.2),
        (2, 0.8, None, 0.2),
    ]

    def peer_integral(user: int) -> float:
        total = 0.0
        for width, *field in segments:
            logs = [ln(p) for p in field if p is not None]
            n, mine = len(logs), field[user]
            if mine is not None:
                total += width / 10 * 100 * n / (n - 1) * (ln(mine) - sum(logs) / n)
        return total

    def baseline(p: float) -> float:
        return 100 * ln(3 * p) / ln(3)

    expected = {
        "coverage": [1.0, 0.6, 1.0],
        "brier": [(4 * b0[0] + 6 * b0[1]) / 10, (4 * b1[0] + 2 * b1[1]) / 6, (b2[0] + b2[1]) / 2],
        "log": [
            (4 * ln(0.5) + 6 * ln(0.8)) / 10,
            (4 * ln(0.3) + 2 * ln(0.25)) / 10,
            (5 * ln(0.4) + 5 * ln(0.2)) / 10,
        ],
        "baseline": [
            (4 * baseline(0.5) + 6 * baseline(0.8)) / 10,
            (4 * baseline(0.3) + 2 * baseline(0.25)) / 10,
            (5 * baseline(0.4) + 5 * baseline(0.2)) / 10,
        ],
        "peer": [peer_integral(0), peer_integral(1), peer_integral(2)],
        # At close users 0 and 2 stand (N = 2); user 1 has withdrawn.
        "brier_at_close": [b0[1], math.nan, b2[1]],
        "log_at_close": [ln(0.8), math.nan, ln(0.2)],
        "baseline_at_close": [baseline(0.8), math.nan, baseline(0.2)],
        "peer_at_close": [100 * ln(0.8 / 0.2), math.nan, -100 * ln(0.8 / 0.2)],
    }
    assert expected["brier"] == pytest.approx([0.188, 0.865, 0.79])
    for name, values in expected.items():
        got = getattr(table, name).tolist()
        assert got == pytest.approx(values, abs=1e-9, nan_ok=True), name


@settings(max_examples=300)
@given(pmfs, st.data())
def test_multi_category_scores_are_proper(truth: np.ndarray, data) -> None:
    n = truth.size
    other = data.draw(st.lists(st.integers(1, 100), min_size=n, max_size=n))
    forecast = np.array(other, dtype=float) / sum(other)
    options = np.arange(n)

    def expected(score, pmf: np.ndarray) -> float:
        return float(np.dot(truth, score(np.broadcast_to(pmf, (n, n)), options)))

    tiny = 1e-12
    assert expected(multi_log_score, forecast) <= expected(multi_log_score, truth) + tiny
    assert expected(multi_baseline_score, forecast) <= expected(multi_baseline_score, truth) + tiny
    assert expected(multi_brier_score, forecast) >= expected(multi_brier_score, truth) - tiny


@settings(max_examples=150, deadline=None)
@given(question_sets(), st.integers(2, 6), st.randoms(use_true_random=False))
def test_peer_scores_of_the_field_sum_to_zero(data, n_options: int, rnd) -> None:
    rows, opens, closes, _ = data
    weights = np.array([[rnd.randint(1, 100) for _ in range(n_options)] for _ in rows])
    weights = weights.reshape(len(rows), n_options)
    happened = [rnd.randrange(n_options) for _ in opens]
    q, u, start, end, _ = columns(rows)
    intervals = Intervals.of_pmfs(
        q, u, start, end, weights / weights.sum(axis=1, keepdims=True), np.array(happened)[q]
    )

    table = score_questions(intervals, Questions(opens, closes, happened, n_options))

    per_question = np.bincount(table.question, table.peer, len(opens))
    at_close = np.bincount(table.question, np.nan_to_num(table.peer_at_close), len(opens))
    assert np.abs(per_question).max() < 1e-9
    assert np.abs(at_close).max() < 1e-9


@settings(max_examples=100, deadline=None)
@given(question_sets(), st.randoms(use_true_random=False))
def test_binary_and_multiple_choice_questions_score_together_as_alone(data, rnd) -> None:
    rows, opens, closes, outcomes = data
    n_options = [rnd.choice([2, 3, 5]) for _ in opens]
    happened = [o if n == 2 else rnd.randrange(n) for o, n in zip(outcomes, n_options, strict=True)]
    q, u, start, end, prob = columns(rows)
    pmf = np.zeros((len(rows), 5))
    for i, question in enumerate(q):
        weights = [rnd.randint(1, 100) for _ in range(n_options[question])]
        pmf[i, : len(weights)] = np.array(weights) / sum(weights)
    p_outcome, sum_sq = outcome_columns(pmf, np.array(happened)[q])
    multi = np.array(n_options)[q] > 2
    mixed = Intervals(
        q,
        u,
        start,
        end,
        np.where(multi, np.nan, prob),
        p_outcome=np.where(multi, p_outcome, np.nan),
        sum_sq=np.where(multi, sum_sq, np.nan),
    )

    together = score_questions(mixed, Questions(opens, closes, happened, n_options))

    for index, (lo, hi, k, n) in enumerate(zip(opens, closes, happened, n_options, strict=True)):
        here = q == index
        if n == 2:
            single = Intervals(q[here], u[here], start[here], end[here], prob[here])
        else:
            reduced = {"p_outcome": p_outcome[here], "sum_sq": sum_sq[here]}
            single = Intervals(q[here], u[here], start[here], end[here], **reduced)
        alone = score_question(single, lo, hi, k, n_options=n)
        rows_here = together.question == index
        for name in COLUMNS:
            got, want = getattr(together, name)[rows_here], getattr(alone, name)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-9, err_msg=name)


def test_multiple_choice_point_scores_at_the_extremes_by_hand() -> None:
    pmf = np.array([[0.998, 0.001, 0.001], [0.001, 0.998, 0.001], [1 / 3, 1 / 3, 1 / 3]])

    brier = multi_brier_score(pmf, 1)
    baseline = multi_baseline_score(pmf, 1)

    assert brier == pytest.approx([0.998**2 + 0.999**2 + 0.001**2, 2 * 0.001**2 + 0.002**2, 2 / 3])
    assert baseline[2] == pytest.approx(0.0)
    assert baseline[0] == pytest.approx(100 * (math.log(0.001) / math.log(3) + 1))


@pytest.mark.parametrize(
    ("pmf", "outcome", "message"),
    [
        ([[0.5, 0.48, 0.0]], 0, "sum to 1"),
        ([[0.5, 0.6, -0.1]], 0, r"\[0, 1\]"),
        ([[0.5, np.nan, 0.5]], 0, r"\[0, 1\]"),
        ([[0.5, 0.5]], 2, "index"),
        ([[1.0]], 0, "two options"),
    ],
)
def test_bad_pmfs_are_refused(pmf, outcome: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Intervals.of_pmfs([0], [0], [0], [np.nan], pmf, outcome)


@pytest.mark.parametrize(
    ("prob", "p_outcome", "sum_sq", "message"),
    [
        ([0.5], [0.5], [0.5], "either"),
        ([np.nan], [np.nan], [np.nan], "either"),
        (None, [0.5], None, "together"),
        (None, [0.5], [0.2], "sum_sq"),
        (None, [1.5], [1.0], "p_outcome"),
    ],
)
def test_rows_of_unclear_kind_are_refused(prob, p_outcome, sum_sq, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Intervals([0], [0], [0], [np.nan], prob, p_outcome=p_outcome, sum_sq=sum_sq)


def test_a_yes_probability_on_a_three_option_question_is_refused() -> None:
    intervals = Intervals([0], [0], [0], [np.nan], [0.4])

    with pytest.raises(ValueError, match="two options"):
        score_questions(intervals, Questions([0], [10], [2], n_options=3))


@pytest.mark.parametrize(("outcome", "n_options"), [(3, 3), (-1, 3), (0, 1)])
def test_questions_refuse_an_outcome_that_is_no_option(outcome: int, n_options: int) -> None:
    with pytest.raises(ValueError, match="option"):
        Questions([0], [10], [outcome], n_options)
