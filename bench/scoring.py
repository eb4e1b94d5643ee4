"""Benchmark of forecasts.maths.scoring on seeded synthetic data.

Usage: .venv/bin/python bench/scoring.py [--forecasts 1000000 --questions 10000 --users 1000
--seed 1 --subset 20]

Times in one run (a) the vectorised scoring of every question with per-user totals and means,
on rows in (question, user, start) order as the database's (question, user, starts_at) index
returns them, and for comparison on the same rows shuffled; (b) a plain-Python loop computing
the same numbers on every ``subset``-th question, extrapolated linearly to all questions; (c)
one numpy.log over ``forecasts`` floats as the floor; checks (a) against (b) on the subset to
1e-9; reports peak memory (tracemalloc over one scoring call, and the process's peak RSS); and
times (d) forecasts.maths.aggregation.aggregate_history over one question with 10,000 forecasts.
Times are wall-clock seconds.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forecasts.maths.aggregation import aggregate_history
from forecasts.maths.intervals import Intervals, Questions, ScoreTable
from forecasts.maths.scoring import score_questions

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
TOLERANCE = 1e-9
DAY = 86_400.0


def synthetic(
    n_forecasts: int, n_questions: int, n_users: int, seed: int
) -> tuple[dict[str, np.ndarray], Questions]:
    """Chains of about five intervals per (question, user), a few reaching outside the open
    period, most still standing at the end; users differ in how noisy they are. Rows come in
    (question, user, start) order."""
    rng = np.random.default_rng(seed)
    opens = rng.uniform(1.6e9, 1.7e9, n_questions)
    length = rng.uniform(7, 365, n_questions) * DAY
    truth = rng.beta(1.0, 1.0, n_questions)
    outcome = (rng.random(n_questions) < truth).astype(np.int64)

    n_chains = max(n_forecasts // 5, 1)
    # Sorted keys q * n_users + u put the chains, and so the rows, in (question, user) order.
    keys = np.sort(rng.choice(n_questions * n_users, n_chains, replace=False))
    chain_q, chain_u = keys // n_users, keys % n_users
    chain = np.sort(np.r_[np.arange(n_chains), rng.integers(0, n_chains, n_forecasts - n_chains)])
    q, u = chain_q[chain], chain_u[chain]
    start = opens[q] + (rng.random(n_forecasts) * 1.1 - 0.05) * length[q]
    order = np.lexsort((start, chain))
    start = start[order]
    last = np.r_[chain[1:] != chain[:-1], True]
    end = np.r_[start[1:], np.inf]
    withdrawn = rng.random(n_forecasts) < 0.15
    end[last] = np.where(
        withdrawn[last], start[last] + rng.random(last.sum()) * 0.2 * length[q[last]], np.inf
    )
    end[last & (rng.random(n_forecasts) < 0.3) & ~withdrawn] = np.nan

    noise = rng.uniform(0.3, 2.0, n_users)[u] * rng.standard_normal(n_forecasts)
    logit = np.log(truth[q] / (1 - truth[q])) + noise
    prob = np.round(np.clip(1 / (1 + np.exp(-logit)), 0.001, 0.999), 3)
    data = {"question": q, "user": u, "start": start, "end": end, "prob": prob}
    return data, Questions(opens, opens + length, outcome)


def vectorised(
    data: dict[str, np.ndarray], questions: Questions, n_users: int
) -> tuple[ScoreTable, dict[str, np.ndarray]]:
    """All scores per (question, user), then per user: question count, peer and baseline
    totals (Metaculus leaderboards sum them) and mean log score and Brier."""
    table = score_questions(Intervals(**data), questions)
    count = np.bincount(table.user, minlength=n_users)
    covered = ~np.isnan(table.brier)
    n_covered = np.bincount(table.user[covered], minlength=n_users)
    per_user = {
        "questions": count,
        "peer_total": np.bincount(table.user, table.peer, n_users),
        "baseline_total": np.bincount(table.user, table.baseline, n_users),
        "mean_log": np.bincount(table.user, table.log, n_users) / np.maximum(count, 1),
        "mean_brier": np.bincount(table.user[covered], table.brier[covered], n_users)
        / np.maximum(n_covered, 1),
    }
    return table, per_user


def loop_scores(rows: list[tuple], questions: Questions, subset: set[int]) -> dict:
    """Plain Python, the definitions as written. Per question: clip each interval to the open
    period and cut the period at every clipped start and end; sweep the sorted event times,
    keeping the set of standing forecasts; on each elementary segment between consecutive
    event times compute every standing forecast's instantaneous Brier, log, baseline and peer
    score (against the mean ln p of that segment's field) and add score x relative width to
    its (question, user) totals. Then the at-close scores from the forecasts standing at close.
    ln p_outcome is computed once per forecast."""
    by_question: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        if row[0] in subset:
            by_question[row[0]].append(row)
    result = {}
    for qi, mine in by_question.items():
        lo, hi = float(questions.opens_at[qi]), float(questions.closes_at[qi])
        o, span = int(questions.outcome[qi]), hi - lo
        logs = []
        events = []
        for j, (_, _, s, e, p) in enumerate(mine):
            pc = min(max(p, 0.001), 0.999)
            logs.append(math.log(pc if o == 1 else 1 - pc))
            s, e = max(s, lo), min(hi if math.isnan(e) else e, hi)
            if e > s:
                events += [(s, 1, j), (e, -1, j)]
        events.sort()
        cells: dict[int, dict[str, float]] = {}
        for _, user, *_ in mine:
            cells.setdefault(user, dict.fromkeys(COLUMNS, 0.0))
        standing: set[int] = set()
        i = 0
        while i < len(events):
            t = events[i][0]
            while i < len(events) and events[i][0] == t:
                _, kind, j = events[i]
                if kind == 1:
                    standing.add(j)
                else:
                    standing.discard(j)
                i += 1
            if i == len(events) or not standing:
                continue
            w = (events[i][0] - t) / span
            n = len(standing)
            mean = sum(logs[j] for j in standing) / n
            for j in standing:
                cell = cells[mine[j][1]]
                cell["coverage"] += w
                cell["brier"] += w * (mine[j][4] - o) ** 2
                cell["log"] += w * logs[j]
                cell["baseline"] += w * 100 * (logs[j] / math.log(2) + 1)
                if n >= 2:
                    cell["peer"] += w * 100 * n / (n - 1) * (logs[j] - mean)
        at_close = [j for j, r in enumerate(mine) if r[2] < hi and not r[3] < hi]
        n_close = len(at_close)
        mean_close = sum(logs[j] for j in at_close) / n_close if n_close else 0.0
        closing = {mine[j][1]: j for j in at_close}
        for user, cell in cells.items():
            cov = cell["coverage"]
            cell["brier"] = cell["brier"] / cov if cov > 0 else math.nan
            j = closing.get(user, -1)
            if j < 0:
                cell.update(dict.fromkeys(COLUMNS[5:], math.nan))
            else:
                p = mine[j][4]
                cell["brier_at_close"] = (p - o) ** 2
                cell["log_at_close"] = logs[j]
                cell["baseline_at_close"] = 100 * (logs[j] / math.log(2) + 1)
                factor = 100 * n_close / (n_close - 1) if n_close >= 2 else 0.0
                cell["peer_at_close"] = factor * (logs[j] - mean_close)
            result[(qi, user)] = cell
    return result


def loop_user_totals(cells: dict) -> dict[int, tuple[int, float, float]]:
    totals: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for (_, user), cell in cells.items():
        totals[user][0] += 1
        totals[user][1] += cell["peer"]
        totals[user][2] += cell["baseline"]
    return {user: (int(n), peer, base) for user, (n, peer, base) in totals.items()}


def best_of(runs: int, fn: Callable[[], object]) -> tuple[float, object]:
    best, value = math.inf, None
    for _ in range(runs):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def max_difference(table: ScoreTable, cells: dict) -> tuple[float, int]:
    """Largest |vectorised - loop| over the subset's rows and columns; NaN must match NaN."""
    index = {
        (int(q), int(u)): i for i, (q, u) in enumerate(zip(table.question, table.user, strict=True))
    }
    worst = 0.0
    for key, cell in cells.items():
        i = index[key]
        for name in COLUMNS:
            a, b = float(getattr(table, name)[i]), cell[name]
            if math.isnan(a) or math.isnan(b):
                worst = worst if math.isnan(a) and math.isnan(b) else math.inf
            else:
                worst = max(worst, abs(a - b))
    subset_questions = {key[0] for key in cells}
    subset_rows = sum(1 for q in table.question.tolist() if q in subset_questions)
    return worst, subset_rows


def one_question(n_forecasts: int, n_users: int, seed: int) -> tuple[np.ndarray, ...]:
    """One question's forecasts over a year by random users, each standing until its user's
    next forecast; a tenth of the users withdraw their last one within a month."""
    rng = np.random.default_rng(seed)
    start = np.sort(rng.uniform(0.0, 365 * DAY, n_forecasts))
    user = rng.integers(0, n_users, n_forecasts)
    by_user = np.lexsort((start, user))
    end = np.full(n_forecasts, np.inf)
    same = user[by_user][1:] == user[by_user][:-1]
    end[by_user[:-1][same]] = start[by_user[1:][same]]
    last = np.isinf(end) & (rng.random(n_forecasts) < 0.1)
    end[last] = start[last] + rng.uniform(0.0, 30 * DAY, int(last.sum()))
    return start, end, np.round(rng.uniform(0.01, 0.99, n_forecasts), 3)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forecasts", type=int, default=1_000_000)
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--subset", type=int, default=20, help="loop on every n-th question")
    args = parser.parse_args()

    data, questions = synthetic(args.forecasts, args.questions, args.users, args.seed)
    print(f"cores (os.cpu_count): {os.cpu_count()}")
    print(
        f"data: {args.forecasts:,} intervals, {args.questions:,} questions, {args.users:,} users,"
        f" seed {args.seed}; rows in (question, user, start) order, as the database's"
        " (question, user, starts_at) index returns them, so score_questions verifies that"
        " order in O(n) and skips its sort"
    )

    t_ours, (table, per_user) = best_of(5, lambda: vectorised(data, questions, args.users))
    print(
        f"(a) vectorised, all questions, all scores (time-averaged and at close) + per-user"
        f" totals: {t_ours:.3f} s (best of 5, {len(table):,} (question, user) rows)"
    )
    shuffle = np.random.default_rng(args.seed).permutation(args.forecasts)
    shuffled = {k: v[shuffle] for k, v in data.items()}
    t_shuffled, (other, _) = best_of(3, partial(vectorised, shuffled, questions, args.users))
    same = all(
        np.array_equal(getattr(table, k), getattr(other, k), equal_nan=True)
        for k in ("question", "user", *COLUMNS)
    )
    print(
        f"    the same rows shuffled (sorted first): {t_shuffled:.3f} s (best of 3), results"
        f" {'identical' if same else 'DIFFERENT'}"
    )
    del shuffled, other

    tracemalloc.start()
    vectorised(data, questions, args.users)
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(
        f"    peak memory of one call (a), tracemalloc (numpy arrays included):"
        f" {traced_peak:.0f} MB; process peak RSS so far: {peak_rss_mb():.0f} MB"
    )

    subset = set(range(0, args.questions, args.subset))
    picked = np.isin(data["question"], list(subset))
    columns = (data[k][picked].tolist() for k in ("question", "user", "start", "end", "prob"))
    rows = list(zip(*columns, strict=True))
    t0 = time.perf_counter()
    cells = loop_scores(rows, questions, subset)
    loop_totals = loop_user_totals(cells)
    t_loop_subset = time.perf_counter() - t0
    t_loop = t_loop_subset * args.questions / len(subset)
    print(
        f"(b) plain-Python loop (per question, a sweep over elementary segments between"
        f" consecutive event times adding each standing forecast's instantaneous scores x"
        f" width) on 1/{args.subset} of the questions ({len(subset):,} questions,"
        f" {len(rows):,} intervals): {t_loop_subset:.2f} s; extrapolated linearly to all"
        f" questions: {t_loop:.1f} s (not run on all)"
    )

    t_floor, _ = best_of(5, lambda: np.log(data["prob"]))
    print(
        f"(c) floor, one numpy.log over {args.forecasts:,} floats: {t_floor * 1e3:.2f} ms"
        " (best of 5)"
    )

    worst, subset_rows = max_difference(table, cells)
    in_subset = np.isin(table.question, list(subset))
    sub_users = np.unique(table.user[in_subset])
    sub_peer = np.bincount(table.user[in_subset], table.peer[in_subset], args.users)
    worst_total = max(abs(sub_peer[u] - loop_totals[int(u)][1]) for u in sub_users)
    agree = worst <= TOLERANCE and worst_total <= 1e-7 and subset_rows == len(cells) and same
    print(
        f"agreement on the subset: {len(cells):,} rows x {len(COLUMNS)} columns, max |diff| ="
        f" {worst:.2e}; per-user peer totals max |diff| = {worst_total:.2e} ->"
        f" {'OK' if agree else 'MISMATCH'} (tolerance {TOLERANCE:g})"
    )
    speedup, over_floor = t_loop / t_ours, t_ours / t_floor
    print(
        f"ratios: loop/ours = {speedup:,.0f}x (target >= 30x:"
        f" {'met' if speedup >= 30 else 'MISSED'}), ours/floor = {over_floor:,.0f}x"
        f" (target <= 50x: {'met' if over_floor <= 50 else 'MISSED'})"
    )
    top = int(np.argmax(per_user["peer_total"]))
    print(
        f"sample: user {top} has the best peer total {per_user['peer_total'][top]:.1f} over"
        f" {per_user['questions'][top]} questions (mean Brier {per_user['mean_brier'][top]:.3f})"
    )

    for n_users in (100, 1_000):
        question = one_question(10_000, n_users, args.seed)
        t_history, history = best_of(3, partial(aggregate_history, *question))
        print(
            f"(d) aggregate_history, one question, 10,000 forecasts by {n_users:,} users:"
            f" {t_history:.3f} s (best of 3; {history.times.size:,} rows, up to"
            f" {history.n_forecasters.max():,} standing)"
        )
    rss = peak_rss_mb()
    print(
        f"peak RSS of the whole run: {rss:.0f} MB (target < 400 MB: "
        f"{'met' if rss < 400 else 'MISSED'})"
    )
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
