"""Shared set-up for the database benchmarks: Django on a throwaway database, seeded data."""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def setup_django(settings_module: str = "config.settings") -> None:
    """SQLite in a temporary folder, or the PostgreSQL database named by DATABASE_URL."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    if not os.environ.get("DATABASE_URL"):
        os.environ.setdefault("CRUX_VAR_DIR", tempfile.mkdtemp(prefix="crux-bench-"))
    import django

    django.setup()


def fresh_database() -> None:
    """Migrate; on PostgreSQL also empty Crux's tables (the bench owns that database)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if os.environ.get("DATABASE_URL"):
        call_command("flush", interactive=False, verbosity=0)


def seed_resolved(forecasts: int, seed: int, per_question: int = 100) -> None:
    """Resolved questions, ``per_question`` forecasts each as chains of updates by users."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from forecasts.models import Forecast, Question, SourceDocument

    rng = np.random.default_rng(seed)
    n_questions, n_users = max(1, forecasts // per_question), max(2, forecasts // 500)
    user_model = get_user_model()
    with transaction.atomic():
        source = SourceDocument.objects.create(
            key="bench", title="Bench", published_on=T0.date(), text="bench"
        )
        user_model.objects.bulk_create(user_model(username=f"bench{i}") for i in range(n_users))
        users = list(user_model.objects.order_by("id").values_list("id", flat=True))
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
        rows: list[Forecast] = []
        for question_id, closes_at in Question.objects.order_by("id").values_list(
            "id", "closes_at"
        ):
            span = (closes_at - T0).total_seconds()
            forecasters = rng.choice(users, size=min(len(users), per_question // 2), replace=False)
            chains = np.array_split(np.arange(per_question), len(forecasters))
            for user_id, chain in zip(forecasters.tolist(), chains, strict=True):
                times = np.sort(rng.uniform(0, span, len(chain)))
                probs = np.clip(rng.beta(2, 2, len(chain)), 0.001, 0.999)
                for k in range(len(chain)):
                    end = times[k + 1] if k + 1 < len(chain) else None
                    rows.append(
                        Forecast(
                            question_id=question_id,
                            user_id=user_id,
                            probability=float(probs[k]),
                            starts_at=T0 + dt.timedelta(seconds=float(times[k])),
                            ends_at=None if end is None else T0 + dt.timedelta(seconds=float(end)),
                        )
                    )
        Forecast.objects.bulk_create(rows, batch_size=5000)
    from forecasts.lifecycle import question_aggregates_rebuild

    for question_id in Question.objects.values_list("pk", flat=True):
        question_aggregates_rebuild(question_id=question_id)
