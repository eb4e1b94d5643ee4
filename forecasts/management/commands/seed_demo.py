from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from config.celery import ensure_broker_folders
from forecasts.demo import plan as planning
from forecasts.demo import seed as seeding


class Command(BaseCommand):
    help = (
        "Create resolved practice questions (source 'demo-practice', titles '[Practice] ...') "
        "forecast by five simulated demo users, so that a fresh install shows scores and "
        "calibration charts. Idempotent: a second run creates nothing. Never touches the "
        "essay's questions."
    )
    # Tests pass a fixed clock: call_command("seed_demo", now=...).
    stealth_options = ("now",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed",
            type=int,
            default=planning.DEFAULT_SEED,
            help="random seed (default: %(default)s)",
        )
        parser.add_argument(
            "--questions",
            type=int,
            default=planning.DEFAULT_QUESTIONS,
            help="how many practice questions (default: %(default)s)",
        )
        what = parser.add_mutually_exclusive_group()
        what.add_argument(
            "--reset",
            action="store_true",
            help="delete the demo data and the demo users first, then seed again",
        )
        what.add_argument(
            "--delete",
            action="store_true",
            help="delete the demo data and the demo users, and seed nothing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = options.get("now") or timezone.now()
        # Each resolution enqueues its follow-ups on commit; on a fresh install no worker has
        # yet made the embedded broker's folders, and every publish would fail noisily.
        ensure_broker_folders()
        started = time.perf_counter()
        try:
            if options["reset"] or options["delete"]:
                removed = seeding.demo_reset(now=now)
                self.stdout.write(
                    f"Deleted {removed.questions} practice questions and "
                    f"{removed.users} demo users."
                )
                if options["delete"]:
                    return
            result = seeding.demo_seed(
                seed=options["seed"], questions=options["questions"], now=now
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        elapsed = time.perf_counter() - started
        if not result.created:
            self.stdout.write(
                f"Demo data already present ({result.existing} practice questions); nothing "
                "to do. Use --reset to rebuild it or --delete to remove it."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {result.created} resolved practice questions with {result.forecasts} "
                f"forecasts by {len(result.usernames)} demo users "
                f"({result.users_created} new) in {elapsed:.1f}s."
            )
        )
        if result.existing:
            self.stdout.write(f"{result.existing} practice questions were already there.")
        self.stdout.write(
            "See a track record and calibration chart at /users/demo-calibrated/ "
            f"(also: {', '.join(f'/users/{u}/' for u in result.usernames[1:])})."
        )
