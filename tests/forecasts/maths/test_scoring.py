from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasts.maths import intervals, scoring
from forecasts.maths.intervals import Intervals, Questions, ScoreTable, in_chain_order
from forecasts.maths.scoring import (
    baseline_score,
    brier_score,
    log_score,
    score_question,
    score_questions,
)

COLUMNS = (
    "coverage",
    "brier",
    "log",
    "baseline",
    "peer",
    "brier_at_close",
    "log_at_close",
    "baseline_at_close",
    "peer_at_close",
)
probabilities = st.floats(0.001, 0.999)


def test_point_scores_match_hand_values() -> None:
    p = np.array([0.8, 0.5, 0.999, 0.25])

    brier = brier_score(p, 1)
    baseline = baseline_score(p, 1)
    log = log_score(p, 1)

    assert brier[0] == pytest.approx(0.04)
    assert baseline[1] == pytest.approx(0.0)
    assert baseline[2] == pytest.approx(99.8557, abs=1e-4)
    assert log[3] == pytest.approx(math.log(0.25))


def test_scores_of_a_no_outcome_use_the_probability_of_no() -> None:
    p = 0.2

    log, baseline, brier = log_score(p, 0), baseline_score(p, 0), brier_score(p, 0)

    assert float(log) == pytest.approx(math.log(0.8))
    assert float(baseline) == pytest.approx(100 * (math.log2(0.8) + 1))
    assert float(brier) == pytest.approx(0.04)


def test_log_scores_clip_extreme_probabilities() -> None:
    p = np.array([0.0, 1.0])

    log = log_score(p, 1)

    assert log == pytest.approx([math.log(0.001), math.log(0.999)])


def test_two_forecaster_peer_matches_hand_computation() -> None:
    intervals = Intervals.of_question([0, 1], [0, 0], [np.nan, np.nan], [0.8, 0.4])

    table = score_question(intervals, opens_at=0, closes_at=10, outcome=1)

    # GM = sqrt(0.8 * 0.4); 100 * 2/1 * ln(0.8 / GM) = 100 * ln 2.
    assert table.peer == pytest.approx([100 * math.log(2), -100 * math.log(2)])
    assert table.peer_at_close == pytest.approx(table.peer)


def test_lone_forecaster_has_zero_peer_score() -> None:
    intervals = Intervals.of_question([3], [0], [np.inf], [0.9])

    table = score_question(intervals, opens_at=0, closes_at=10, outcome=0)

    assert table.peer[0] == 0.0
    assert table.peer_at_close[0] == 0.0


def test_forecast_covering_half_the_period_halves_log_but_not_brier() -> None:
    intervals = Intervals.of_question([0], [5], [np.nan], [0.8])

    table = score_question(intervals, opens_at=0, closes_at=10, outcome=1)

    assert table.coverage[0] == pytest.approx(0.5)
    assert table.log[0] == pytest.approx(math.log(0.8) / 2)
    assert table.baseline[0] == pytest.approx(baseline_score(0.8, 1) / 2)
    assert table.brier[0] == pytest.approx(0.04)


def test_a_gap_with_nobody_forecasting_scores_nobody() -> None:
    # User 0 stands on [0, 4), nobody on [4, 6), user 1 on [6, 10).
    intervals = Intervals.of_question([0, 1], [0, 6], [4, np.nan], [0.9, 0.3])

    table = score_question(intervals, opens_at=0, closes_at=10, outcome=1)

    assert table.peer == pytest.approx([0.0, 0.0])
    assert table.coverage == pytest.approx([0.4, 0.4])
    assert math.isnan(table.brier_at_close[0])
    assert table.brier_at_close[1] == pytest.approx(0.49)


def test_intervals_are_clipped_to_the_open_period() -> None:
    intervals = Intervals.of_question([0], [-100], [5], [0.6])

    table = score_question(intervals, opens_at=0, closes_at=10, outcome=1)

    assert table.coverage[0] == pytest.approx(0.5)
    assert table.log[0] == pytest.approx(math.log(0.6) / 2)


def test_forecast_ending_at_close_still_stands_at_close() -> None:
    intervals = Intervals.of_question([0, 0], [0, 10], [10, np.nan], [0.7, 0.1])

    table = score_question(intervals, opens_at=0, closes_at=10, outcome=1)

    assert table.log_at_close[0] == pytest.approx(math.log(0.7))
    assert table.coverage[0] == pytest.approx(1.0)


def test_user_without_coverage_keeps_a_row_with_nan_brier() -> None:
    intervals = Intervals.of_question([0, 1], [0, 20], [np.nan, np.nan], [0.7, 0.1])

    table = score_question(intervals, opens_at=0, closes_at=10, outcome=1)

    assert table.coverage[1] == 0.0
    assert math.isnan(table.brier[1])
    assert table.log[1] == 0.0


def test_overlapping_intervals_of_one_user_are_rejected() -> None:
    intervals = Intervals.of_question([0, 0], [0, 5], [6, np.nan], [0.7, 0.1])

    with pytest.raises(ValueError, match="overlap"):
        score_question(intervals, opens_at=0, closes_at=10, outcome=1)


def test_crowd_scored_against_a_field_is_not_part_of_it() -> None:
    field = Intervals.of_question([0, 1], [0, 0], [np.nan, np.nan], [0.8, 0.4])
    crowd = Intervals.of_question([99], [0], [np.nan], [0.6])

    table = score_question(crowd, opens_at=0, closes_at=10, outcome=1, field=field)

    expected = 100 * 2 * (math.log(0.6) - (math.log(0.8) + math.log(0.4)) / 2)
    assert table.peer[0] == pytest.approx(expected)
    assert table.peer_at_close[0] == pytest.approx(expected)


def test_empty_input_gives_an_empty_table() -> None:
    intervals = Intervals.of_question([], [], [], [])

    table = score_question(intervals, opens_at=0, closes_at=10, outcome=1)

    assert len(table) == 0


@pytest.mark.parametrize(
    ("start", "end", "prob", "message"),
    [(0, np.nan, 1.5, "probabilities"), (5, 4, 0.5, "precede"), (np.nan, 4, 0.5, "finite")],
)
def test_invalid_intervals_are_rejected(start, end, prob, message) -> None:
    user = [0]

    with pytest.raises(ValueError, match=message):
        Intervals.of_question(user, [start], [end], [prob])


@given(st.integers(0, 98), st.sampled_from(["brier", "log", "baseline"]))
def test_scores_are_proper(true_index: int, kind: str) -> None:
    grid = np.linspace(0.01, 0.99, 99)
    q = grid[true_index]

    if kind == "brier":
        expected = q * brier_score(grid, 1) + (1 - q) * brier_score(grid, 0)
        best = int(np.argmin(expected))
    else:
        score = log_score if kind == "log" else baseline_score
        expected = q * score(grid, 1) + (1 - q) * score(grid, 0)
        best = int(np.argmax(expected))

    assert best == true_index


@given(st.lists(probabilities, min_size=1, max_size=12), st.integers(0, 1))
def test_instantaneous_peer_scores_sum_to_zero(probs: list[float], outcome: int) -> None:
    n = len(probs)
    intervals = Intervals.of_question(range(n), [0] * n, [np.nan] * n, probs)

    table = score_question(intervals, opens_at=0, closes_at=1, outcome=outcome)

    assert abs(table.peer.sum()) < 1e-9
    assert abs(table.peer_at_close.sum()) < 1e-9


def test_peer_scores_keep_their_precision_over_many_questions() -> None:
    # One running sum over all questions would reach ~4e6 here and lose ~1e-10.
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, (20_000, 2))
    n = p.size
    intervals = Intervals(
        np.arange(n) // 2, np.arange(n) % 2, np.zeros(n), np.full(n, np.nan), p.ravel()
    )
    questions = Questions(np.zeros(n // 2), np.full(n // 2, 1e7), np.ones(n // 2))

    table = score_questions(intervals, questions)

    expected = 200 * (np.log(p) - np.log(p).mean(axis=1, keepdims=True)).ravel()
    assert np.abs(table.peer - expected).max() < 1e-11


# A plain loop over elementary segments, sampled at their midpoints.
def reference_scores(rows, opens, closes, outcomes, field_rows=None):
    field_rows = rows if field_rows is None else field_rows
    acc = defaultdict(lambda: defaultdict(float))
    for q, u, *_ in rows:
        acc[(q, u)]["coverage"] += 0.0
    for q, (lo, hi, o) in enumerate(zip(opens, closes, outcomes, strict=True)):
        mine = [r for r in rows if r[0] == q]
        field = [r for r in field_rows if r[0] == q]
        cuts = {lo, hi} | {min(max(t, lo), hi) for r in mine + field for t in r[2:4]}
        cuts = sorted(cuts)

        def ln(p, o=o):
            p = min(max(p, 0.001), 0.999)
            return math.log(p if o == 1 else 1 - p)

        for a, b in itertools.pairwise(cuts):
            mid, w = (a + b) / 2, (b - a) / (hi - lo)
            logs = [ln(r[4]) for r in field if r[2] <= mid < r[3]]
            n = len(logs)
            for r in (r for r in mine if r[2] <= mid < r[3]):
                cell = acc[(q, r[1])]
                cell["coverage"] += w
                cell["brier_sum"] += w * (r[4] - o) ** 2
                cell["log"] += w * ln(r[4])
                cell["baseline"] += w * 100 * (ln(r[4]) / math.log(2) + 1)
                if n >= 2:
                    cell["peer"] += w * 100 * n / (n - 1) * (ln(r[4]) - sum(logs) / n)
        at_close = [r for r in field if r[2] < hi <= r[3]]
        logs = [ln(r[4]) for r in at_close]
        for u in {r[1] for r in mine}:
            standing = [r for r in mine if r[1] == u and r[2] < hi <= r[3]]
            cell = acc[(q, u)]
            if not standing:
                for name in COLUMNS[5:]:
                    cell[name] = math.nan
                continue
            p, n = max(standing, key=lambda r: r[2])[4], len(logs)
            cell["brier_at_close"] = (p - o) ** 2
            cell["log_at_close"] = ln(p)
            cell["baseline_at_close"] = 100 * (ln(p) / math.log(2) + 1)
            peer = 100 * n / (n - 1) * (ln(p) - sum(logs) / n) if n >= 2 else 0.0
            cell["peer_at_close"] = peer
    for cell in acc.values():
        cov = cell["coverage"]
        cell["brier"] = cell["brier_sum"] / cov if cov > 0 else math.nan
    return {key: {name: acc[key][name] for name in COLUMNS} for key in sorted(acc)}


def table_as_dict(table: ScoreTable) -> dict:
    return {
        (int(q), int(u)): {name: float(getattr(table, name)[i]) for name in COLUMNS}
        for i, (q, u) in enumerate(zip(table.question, table.user, strict=True))
    }


def assert_same_scores(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for key, cell in want.items():
        for name, value in cell.items():
            assert got[key][name] == pytest.approx(value, abs=1e-9, nan_ok=True), (key, name)


@st.composite
def question_sets(draw):
    n_questions = draw(st.integers(1, 3))
    opens = [float(draw(st.integers(0, 10))) for _ in range(n_questions)]
    closes = [lo + draw(st.integers(1, 12)) for lo in opens]
    outcomes = [draw(st.integers(0, 1)) for _ in range(n_questions)]
    rows = []
    for q in range(n_questions):
        for u in range(draw(st.integers(1, 4))):
            k = draw(st.integers(0, 3))
            cuts = sorted(draw(st.lists(st.integers(-2, 25), min_size=k + 1, max_size=k + 1)))
            still_standing = draw(st.booleans())
            for j in range(k):
                end = math.inf if still_standing and j == k - 1 else float(cuts[j + 1])
                rows.append((q, u, float(cuts[j]), end, draw(probabilities)))
    return rows, opens, closes, outcomes


def as_intervals(rows) -> Intervals:
    columns = list(zip(*rows, strict=True)) if rows else [[]] * 5
    return Intervals(*(np.array(c) for c in columns))


@settings(max_examples=300, deadline=None)
@given(question_sets())
def test_vectorised_scores_equal_the_loop_reference(data) -> None:
    rows, opens, closes, outcomes = data

    table = score_questions(as_intervals(rows), Questions(opens, closes, outcomes))

    assert_same_scores(table_as_dict(table), reference_scores(rows, opens, closes, outcomes))


@settings(max_examples=150, deadline=None)
@given(question_sets(), st.lists(probabilities, min_size=1, max_size=3))
def test_pseudo_forecaster_against_a_field_equals_the_loop_reference(data, crowd_p) -> None:
    rows, opens, closes, outcomes = data
    crowd = [(0, 0, 3.0 * i, 3.0 * i + 3, p) for i, p in enumerate(crowd_p)]

    table = score_questions(
        as_intervals(crowd), Questions(opens, closes, outcomes), field=as_intervals(rows)
    )

    want = reference_scores(crowd, opens, closes, outcomes, field_rows=rows)
    assert_same_scores(table_as_dict(table), want)


@settings(max_examples=100, deadline=None)
@given(question_sets())
def test_scoring_a_subset_against_the_full_field_keeps_its_rows(data) -> None:
    rows, opens, closes, outcomes = data
    subset = [r for r in rows if r[1] == 0]
    questions = Questions(opens, closes, outcomes)

    full = table_as_dict(score_questions(as_intervals(rows), questions))
    part = score_questions(as_intervals(subset), questions, field=as_intervals(rows))

    assert_same_scores(table_as_dict(part), {k: v for k, v in full.items() if k[1] == 0})


@settings(max_examples=200, deadline=None)
@given(question_sets(), st.randoms(use_true_random=False))
def test_rows_in_any_order_score_the_same(data, rnd) -> None:
    rows, opens, closes, outcomes = data
    shuffled = rows.copy()
    rnd.shuffle(shuffled)
    questions = Questions(opens, closes, outcomes)
    crowd = [(q, 0, 2.0, 9.0, 0.4) for q in range(len(opens))][::-1]

    table = score_questions(as_intervals(shuffled), questions)
    crowd_table = score_questions(as_intervals(crowd), questions, field=as_intervals(shuffled))

    assert_same_scores(table_as_dict(table), reference_scores(rows, opens, closes, outcomes))
    want = reference_scores(crowd, opens, closes, outcomes, field_rows=rows)
    assert_same_scores(table_as_dict(crowd_table), want)


def test_rows_in_chain_order_are_used_as_they_are_and_others_sorted() -> None:
    ordered = Intervals([0, 0, 1], [0, 0, 2], [0, 5, 1], [5, np.nan, np.nan], [0.3, 0.6, 0.5])
    shuffled = Intervals([1, 0, 0], [2, 0, 0], [1, 5, 0], [np.nan, np.nan, 5], [0.5, 0.6, 0.3])

    same, same_chains = in_chain_order(ordered)
    fixed, fixed_chains = in_chain_order(shuffled)

    assert same is ordered
    assert fixed.start.tolist() == [0, 5, 1] and fixed.prob.tolist() == [0.3, 0.6, 0.5]
    assert same_chains.tolist() == fixed_chains.tolist() == [True, False, True]


def test_overlap_is_caught_in_rows_out_of_order_too() -> None:
    intervals = Intervals([0, 0], [0, 0], [5, 0], [np.nan, 6], [0.1, 0.7])

    with pytest.raises(ValueError, match="overlap"):
        score_questions(intervals, Questions([0], [10], [1]))


def test_a_zero_length_interval_inside_a_chain_overlaps_nothing() -> None:
    rows = [(0, 0, 0.0, 5.0, 0.3), (0, 0, 3.0, 3.0, 0.9), (0, 0, 5.0, math.inf, 0.6)]
    rows += [(0, 1, 1.0, math.inf, 0.5)]

    table = score_questions(as_intervals(rows), Questions([0], [10], [1]))

    assert_same_scores(table_as_dict(table), reference_scores(rows, [0], [10], [1]))


def test_events_tied_by_rounding_fall_back_to_an_exact_sort(monkeypatch) -> None:
    # At question index 2**20 the sort key question + r/2 cannot tell r = 0.5 from
    # 0.5 + 1e-10, and user 0's later start comes first in chain order.
    exact_sorts = []
    original = intervals.argsort_by

    def spy(*args, **kwargs):
        exact_sorts.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(scoring, "argsort_by", spy)
    rows = [(0, 0, 0.5 + 1e-10, math.inf, 0.9), (0, 1, 0.5, math.inf, 0.2)]
    rows += [(0, 2, 0.0, 0.75, 0.6)]
    q = 2**20
    far = [(q, *row[1:]) for row in rows]
    n = q + 1

    table = score_questions(as_intervals(far), Questions(np.zeros(n), np.ones(n), np.ones(n)))

    assert exact_sorts == [{"stable": True}]
    got = {(0, u): cell for (_, u), cell in table_as_dict(table).items()}
    assert_same_scores(got, reference_scores(rows, [0.0], [1.0], [1]))


@settings(max_examples=150, deadline=None)
@given(question_sets())
def test_scores_stay_within_their_documented_ranges(data) -> None:
    rows, opens, closes, outcomes = data

    table = score_questions(as_intervals(rows), Questions(opens, closes, outcomes))

    tiny = 1e-9
    covered = table.coverage > 0
    assert np.all((table.coverage >= 0) & (table.coverage <= 1 + tiny))
    assert np.all((table.brier[covered] >= 0) & (table.brier[covered] <= 1 + tiny))
    assert np.all((table.log >= math.log(0.001) - tiny) & (table.log <= 0))
    assert np.all(table.baseline >= 100 * (math.log2(0.001) + 1) - tiny)
    assert np.all(table.baseline <= 100 * (math.log2(0.999) + 1) * table.coverage + tiny)
    at_close = table.log_at_close[~np.isnan(table.log_at_close)]
    assert np.all((at_close >= math.log(0.001) - tiny) & (at_close <= math.log(0.999) + tiny))
