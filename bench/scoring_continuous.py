"""Benchmark of numeric and date scoring: 100,000 forecast intervals of 201-point CDFs, time
and memory, against binary scoring of the same intervals in the same run.

Usage: .venv/bin/python bench/scoring_continuous.py [--forecasts 100000 --questions 1000
--users 1000 --seed 1]

On the intervals of bench/scoring.py's seeded synthetic data (same questions, users, times),
each row gets a valid CDF on 201 points (a logistic around the question's true value, sharper
for some users, with open bounds), and each question an outcome drawn from its truth. Timed:
(a) scoring the intervals as binary forecasts (P(YES) per row), every score time-averaged and
at close; (b) the same scores of the CDFs: checking nothing (the forms and API check each CDF
once when it is written), reducing each CDF to the mass of the outcome's bucket and its exact
CRPS (``forecasts.maths.continuous``), then the scorer; (a) and (b) alternate run by run.
Memory: the CDF matrix itself, and the peak of the allocations (numpy's included, through
tracemalloc) during one run of (b). Last, (c) the crowd's history of one question of 10,000
CDF forecasts. Times are wall-clock seconds, best of several runs.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import tracemalloc
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scoring import best_of, one_question, peak_rss_mb, synthetic
from forecasts.maths import continuous
from forecasts.maths.cdf_aggregation import aggregate_cdf_history
from forecasts.maths.intervals import Intervals, Questions, ScoreTable
from forecasts.maths.scoring import score_questions

RUNS = 5
GRID = np.linspace(0.0, 1.0, continuous.CDF_POINTS)
BELOW, ABOVE = 0.02, 0.03  # the mass beyond each (open) bound


def cdfs_for(centre: np.ndarray, width: np.ndarray, chunk: int = 20_000) -> np.ndarray:
    """One valid CDF per row: a logistic at ``centre`` with scale ``width`` (positions),
    squeezed between the open bounds' masses and mixed with 2 % uniform (the least step)."""
    out = np.empty((centre.size, continuous.CDF_POINTS))
    for lo in range(0, centre.size, chunk):
        c, w = centre[lo : lo + chunk, None], width[lo : lo + chunk, None]
        raw = 1.0 / (1.0 + np.exp(-(GRID - c) / w))
        raw = (raw - raw[:, :1]) / (raw[:, -1:] - raw[:, :1])
        out[lo : lo + chunk] = BELOW + (1.0 - BELOW - ABOVE) * (0.98 * raw + 0.02 * GRID)
    return out


def continuous_data(
    data: dict[str, np.ndarray], questions: Questions, n_users: int, seed: int
) -> tuple[np.ndarray, np.ndarray, Questions]:
    """The CDF of every row, each question's outcome position, and the questions as the scorer
    takes them (202 buckets, the outcome's bucket, ln base_k of it)."""
    rng = np.random.default_rng(seed + 1)
    n_questions = questions.outcome.size
    truth = rng.uniform(0.1, 0.9, n_questions)
    position = np.clip(truth + 0.1 * rng.standard_normal(n_questions), -0.05, 1.05)
    q, u = data["question"], data["user"]
    sharpness = rng.uniform(0.02, 0.15, n_users)[u]
    centre = truth[q] + sharpness * rng.standard_normal(q.size)
    cdfs = cdfs_for(centre, sharpness)
    bucket = continuous.outcome_bucket(position, open_lower=True, open_upper=True)
    base = continuous.baseline_bucket_mass(open_lower=True, open_upper=True)
    scored = Questions(
        questions.opens_at,
        questions.closes_at,
        bucket,
        continuous.BUCKETS,
        ln_base=np.log(base[bucket]),
    )
    return cdfs, position, scored


def score_cdfs(
    data: dict[str, np.ndarray], cdfs: np.ndarray, position: np.ndarray, questions: Questions
) -> ScoreTable:
    q = data["question"]
    p_outcome = continuous.bucket_mass(cdfs, questions.outcome[q])
    loss = continuous.crps(cdfs, position[q])
    intervals = Intervals(
        q,
        data["user"],
        data["start"],
        data["end"],
        p_outcome=p_outcome,
        sum_sq=np.full(q.size, np.nan),
        loss=loss,
    )
    return score_questions(intervals, questions)


def score_binary(data: dict[str, np.ndarray], questions: Questions) -> ScoreTable:
    return score_questions(Intervals(**data), questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forecasts", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=1_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    data, questions = synthetic(args.forecasts, args.questions, args.users, args.seed)
    cdfs, position, scored = continuous_data(data, questions, args.users, args.seed)
    print(f"cores (os.cpu_count): {os.cpu_count()}")
    print(
        f"data: {args.forecasts:,} intervals, {args.questions:,} questions, {args.users:,} users,"
        f" seed {args.seed}; a CDF of {continuous.CDF_POINTS} points per row"
        f" ({cdfs.nbytes / 2**20:.0f} MB as float64)"
    )

    best = [math.inf, math.inf]
    tables: list[ScoreTable] = []
    for _ in range(RUNS):
        tables = []
        for i, fn in enumerate(
            (
                partial(score_binary, data, questions),
                partial(score_cdfs, data, cdfs, position, scored),
            )
        ):
            t0 = time.perf_counter()
            tables.append(fn())
            best[i] = min(best[i], time.perf_counter() - t0)
    binary, distributions = tables
    q = data["question"]
    t_reduce, _ = best_of(
        3,
        lambda: (
            continuous.bucket_mass(cdfs, scored.outcome[q]),
            continuous.crps(cdfs, position[q]),
        ),
    )
    tracemalloc.start()
    score_cdfs(data, cdfs, position, scored)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"(a) binary, P(YES) per row, all scores: {best[0]:.3f} s (best of {RUNS},"
        f" {len(binary):,} (question, user) rows)"
    )
    print(
        f"(b) numeric/date, a CDF per row, the same scores and the CRPS: {best[1]:.3f} s (best"
        f" of {RUNS}, runs alternating with (a)'s; {len(distributions):,} rows), of which reducing"
        f" the CDFs to bucket mass and CRPS: {t_reduce:.3f} s; peak allocated during one run:"
        f" {peak / 2**20:.0f} MB"
    )
    print(f"ratio: numeric/date / binary = {best[1] / best[0]:.2f}x")
    finite = np.isfinite(distributions.baseline)
    print(
        f"sanity: mean baseline {distributions.baseline[finite].mean():.1f},"
        f" mean CRPS {np.nanmean(distributions.brier):.4f} (positions)"
    )

    for n_users in (100, 1_000):
        start, end, _ = one_question(10_000, n_users, args.seed)
        rng = np.random.default_rng(args.seed)
        one = cdfs_for(rng.uniform(0.3, 0.7, start.size), rng.uniform(0.02, 0.2, start.size))
        t_history, history = best_of(3, partial(aggregate_cdf_history, start, end, one))
        print(
            f"(c) crowd history, one question, 10,000 CDF forecasts by {n_users:,} users"
            f" ({history.times.size:,} rows of 201): {t_history:.3f} s (best of 3)"
        )
    print(f"peak RSS of the whole run: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
