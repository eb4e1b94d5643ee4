"""Benchmark of multiple-choice scoring against binary scoring, in the same run.

Usage: .venv/bin/python bench/scoring_mc.py [--forecasts 1000000 --questions 10000 --users 1000
--options 5 --seed 1]

On the intervals of bench/scoring.py's seeded synthetic data (same questions, users, times),
times (a) scoring them as binary forecasts, P(YES) per row, and (b) scoring them as forecasts
over ``options`` options, a pmf per row (a forecasts x options matrix reduced by
``Intervals.of_pmfs`` to p_outcome and sum_sq, inside the timing), every score time-averaged
and at close; (a) and (b) alternate run by run, and the target is (b) within 3x of (a). Then
(c) scores the binary forecasts as two-option pmfs (P(YES), P(NO)) through the general path
and checks it against (a): log, baseline and peer equal to 1e-9, the Brier twice the binary
one. Last, (d) times the crowd's history of one question of 10,000 forecasts, binary and over
``options`` options. Times are wall-clock seconds, best of several runs.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scoring import COLUMNS, best_of, one_question, peak_rss_mb, synthetic
from forecasts.maths.aggregation import aggregate_history, aggregate_pmf_history
from forecasts.maths.intervals import Intervals, Questions, ScoreTable
from forecasts.maths.scoring import score_questions

TOLERANCE = 1e-9
RATIO_TARGET = 3.0
RUNS = 7


def interleaved(
    runs: int, first: Callable[[], ScoreTable], second: Callable[[], ScoreTable]
) -> tuple[tuple[float, ScoreTable], tuple[float, ScoreTable]]:
    """The best time and the result of each of two calls, run alternately so that the load of
    a shared machine weighs on both alike."""
    best = [math.inf, math.inf]
    results: list[ScoreTable] = []
    for _ in range(runs):
        results = []
        for i, fn in enumerate((first, second)):
            t0 = time.perf_counter()
            results.append(fn())
            best[i] = min(best[i], time.perf_counter() - t0)
    return (best[0], results[0]), (best[1], results[1])


def noisy_pmfs(truth: np.ndarray, user_noise: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One pmf per row around its question's true pmf (rows x options), noisier for some
    users, every option at least 0.001 and each row summing to 1, as forecasts are validated."""
    logits = np.log(truth) + user_noise[:, None] * rng.standard_normal(truth.shape)
    logits -= logits.max(axis=1, keepdims=True)
    pmf = np.exp(logits)
    pmf /= pmf.sum(axis=1, keepdims=True)
    return pmf * (1 - truth.shape[1] * 0.001) + 0.001


def multiple_choice(
    data: dict[str, np.ndarray], questions: Questions, n_users: int, n_options: int, seed: int
) -> tuple[np.ndarray, Questions]:
    """Pmfs over ``n_options`` for the rows of ``data``, and its questions with an outcome drawn
    from each question's true pmf."""
    rng = np.random.default_rng(seed)
    n_questions = len(questions)
    truth = rng.dirichlet(np.ones(n_options), n_questions)
    cumulative = truth.cumsum(axis=1)
    draws = rng.random((n_questions, 1))
    outcome = np.minimum((cumulative < draws).sum(axis=1), n_options - 1)
    noise = rng.uniform(0.3, 2.0, n_users)[data["user"]]
    pmf = noisy_pmfs(np.maximum(truth, 1e-3)[data["question"]], noise, rng)
    return pmf, Questions(questions.opens_at, questions.closes_at, outcome, n_options)


def score_binary(data: dict[str, np.ndarray], questions: Questions) -> ScoreTable:
    return score_questions(Intervals(**data), questions)


def score_pmfs(
    data: dict[str, np.ndarray], pmf: np.ndarray, questions: Questions, happened: np.ndarray
) -> ScoreTable:
    q = data["question"]
    intervals = Intervals.of_pmfs(q, data["user"], data["start"], data["end"], pmf, happened[q])
    return score_questions(intervals, questions)


def worst_difference(general: ScoreTable, binary: ScoreTable) -> float:
    """Largest |general - binary| over every column, the Brier columns halved; NaN must
    match NaN and the rows must be the same."""
    if not np.array_equal(general.question, binary.question) or not np.array_equal(
        general.user, binary.user
    ):
        return math.inf
    worst = 0.0
    for name in COLUMNS:
        got, want = getattr(general, name), getattr(binary, name)
        if name.startswith("brier"):
            got = got / 2
        if not np.array_equal(np.isnan(got), np.isnan(want)):
            return math.inf
        both = ~np.isnan(want)
        worst = max(worst, float(np.abs(got[both] - want[both]).max(initial=0.0)))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forecasts", type=int, default=1_000_000)
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--options", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    data, questions = synthetic(args.forecasts, args.questions, args.users, args.seed)
    pmf, mc_questions = multiple_choice(data, questions, args.users, args.options, args.seed)
    print(f"cores (os.cpu_count): {os.cpu_count()}")
    print(
        f"data: {args.forecasts:,} intervals, {args.questions:,} questions, {args.users:,} users,"
        f" seed {args.seed}; the same intervals scored as binary forecasts and as forecasts over"
        f" {args.options} options; rows in (question, user, start) order"
    )

    (t_binary, binary), (t_multi, multi) = interleaved(
        RUNS,
        partial(score_binary, data, questions),
        partial(score_pmfs, data, pmf, mc_questions, mc_questions.outcome),
    )
    print(
        f"(a) binary, P(YES) per row, all scores (time-averaged and at close):"
        f" {t_binary:.3f} s (best of {RUNS}, {len(binary):,} (question, user) rows)"
    )
    q = data["question"]
    t_reduce, _ = best_of(
        5,
        lambda: Intervals.of_pmfs(
            q, data["user"], data["start"], data["end"], pmf, mc_questions.outcome[q]
        ),
    )
    print(
        f"(b) multiple choice, a pmf over {args.options} options per row ({pmf.nbytes / 2**20:.0f}"
        f" MB), the same scores: {t_multi:.3f} s (best of {RUNS}, runs alternating with (a)'s;"
        f" {len(multi):,} rows), of which"
        f" checking and reducing the pmfs to p_outcome and sum_sq: {t_reduce:.3f} s"
    )

    p = data["prob"]
    as_pmfs = np.column_stack([p, 1.0 - p])
    happened = 1 - questions.outcome  # YES, outcome 1, is option 0
    t_general, general = best_of(3, partial(score_pmfs, data, as_pmfs, questions, happened))
    worst = worst_difference(general, binary)
    agree = worst <= TOLERANCE
    print(
        f"(c) the binary forecasts as two-option pmfs through the general path: {t_general:.3f} s"
        f" (best of 3); against (a), Brier halved, max |diff| over all {len(COLUMNS)} columns ="
        f" {worst:.2e} -> {'OK' if agree else 'MISMATCH'} (tolerance {TOLERANCE:g})"
    )

    ratio = t_multi / t_binary
    print(
        f"ratio: multiple choice / binary = {ratio:.2f}x (target <= {RATIO_TARGET:g}x:"
        f" {'met' if ratio <= RATIO_TARGET else 'MISSED'})"
    )

    for n_users in (100, 1_000):
        start, end, prob = one_question(10_000, n_users, args.seed)
        rng = np.random.default_rng(args.seed)
        truth = np.broadcast_to(rng.dirichlet(np.ones(args.options)), (prob.size, args.options))
        pmfs = noisy_pmfs(np.maximum(truth, 1e-3), np.full(prob.size, 1.0), rng)
        t_history, history = best_of(3, partial(aggregate_history, start, end, prob))
        t_pmf_history, _ = best_of(3, partial(aggregate_pmf_history, start, end, pmfs))
        print(
            f"(d) crowd history, one question, 10,000 forecasts by {n_users:,} users"
            f" ({history.times.size:,} rows): binary {t_history:.3f} s, over {args.options}"
            f" options {t_pmf_history:.3f} s (best of 3 each)"
        )
    print(f"peak RSS of the whole run: {peak_rss_mb():.0f} MB")
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
