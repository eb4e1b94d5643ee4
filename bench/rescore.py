"""End-to-end rescoring from the database: load, compute, write, timed separately.

    .venv/bin/python bench/rescore.py [--forecasts 100000] [--seed 1]

Builds a seeded database of resolved questions (SQLite in a temporary folder, or the
PostgreSQL database named by DATABASE_URL, whose Crux tables are flushed first), then runs
``scores_recompute_all`` twice: the first run writes every score, the second finds nothing to
change (the service is idempotent) and shows the cost of a no-op rescoring.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["CRUX_VAR_DIR"] = tempfile.mkdtemp(prefix="crux-bench-")

import django

django.setup()

import numpy as np  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from forecasts.models import Forecast, Question, Score, SourceDocument  # noqa: E402
from forecasts.score_services import scores_recompute_all  # noqa: E402

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def build(forecasts: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_questions, n_users = max(1, forecasts // 100), max(2, forecasts // 500)
    User = get_user_model()
    with transaction.atomic():
        source = SourceDocument.objects.create(
            key="bench", title="Bench", published_on=T0.date(), text="bench"
        )
        User.objects.bulk_create(User(username=f"bench{i}") for i in range(n_users))
        users = list(User.objects.order_by("id").values_list("id", flat=True))
        days = rng.integers(20, 200, n_questions)
        Question.objects.bulk_create(
            Question(
                key=f"bench-{i}",
                source=source,
                title=f"Bench question {i}",
                resolution_criteria="-",
                passage="bench",
                opens_at=T0,
                closes_at=T0 + dt.timedelta(days=int(days[i])),
                resolves_at=T0 + dt.timedelta(days=int(days[i])),
                resolution="yes" if rng.random() < 0.4 else "no",
                resolved_at=T0 + dt.timedelta(days=int(days[i])),
            )
            for i in range(n_questions)
        )
        questions = list(Question.objects.order_by("id").values_list("id", "closes_at"))
        rows: list[Forecast] = []
        per_question = forecasts // n_questions
        for question_id, closes_at in questions:
            span = (closes_at - T0).total_seconds()
            forecasters = rng.choice(users, size=min(len(users), per_question // 2), replace=False)
            chains = np.array_split(np.arange(per_question), len(forecasters))
            for user_id, chain in zip(forecasters.tolist(), chains, strict=True):
                times = np.sort(rng.uniform(0, span, len(chain)))
                probs = np.clip(rng.beta(2, 2, len(chain)), 0.001, 0.999)
                for k in range(len(chain)):
                    start = T0 + dt.timedelta(seconds=float(times[k]))
                    end = (
                        T0 + dt.timedelta(seconds=float(times[k + 1]))
                        if k + 1 < len(chain)
                        else None
                    )
                    rows.append(
                        Forecast(
                            question_id=question_id,
                            user_id=user_id,
                            probability=float(probs[k]),
                            starts_at=start,
                            ends_at=end,
                        )
                    )
        Forecast.objects.bulk_create(rows, batch_size=5000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forecasts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if os.environ.get("DATABASE_URL"):
        call_command("flush", interactive=False, verbosity=0)
    started = time.perf_counter()
    build(args.forecasts, args.seed)
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
