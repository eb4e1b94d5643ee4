"""End-to-end rescoring from the database: load, compute, write, timed separately.

    .venv/bin/python bench/rescore.py [--forecasts 100000] [--seed 1]

Builds a seeded database of resolved questions (SQLite in a temporary folder, or the
PostgreSQL database named by DATABASE_URL, whose Crux tables are flushed first), then runs
``scores_recompute_all`` twice: the first run writes every score, the second finds nothing to
change (the service is idempotent) and shows the cost of a no-op rescoring.
"""

from __future__ import annotations

import argparse
import os
import time

from seed import fresh_database, seed_resolved, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forecasts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from forecasts.models import Forecast, Question, Score
    from forecasts.scores.services import scores_recompute_all

    fresh_database()
    started = time.perf_counter()
    seed_resolved(args.forecasts, args.seed)
    print(f"database: {connection.vendor}; cores: {os.cpu_count()}")
    print(
        f"seeded {Forecast.objects.count():,} forecasts on {Question.objects.count():,} "
        f"resolved questions in {time.perf_counter() - started:.1f} s (seed {args.seed})"
    )
    for label in ("first run (writes every score)", "second run (nothing changes)"):
        t = scores_recompute_all()
        total = t.load_seconds + t.compute_seconds + t.write_seconds
        print(
            f"{label}: {t.questions:,} questions, {t.forecasts:,} forecasts, "
            f"{t.rows_written:,} rows written; total {total:.2f} s = load {t.load_seconds:.2f} s"
            f" + compute {t.compute_seconds:.2f} s + write {t.write_seconds:.2f} s"
        )
    print(f"stored scores: {Score.objects.count():,}")


if __name__ == "__main__":
    main()
