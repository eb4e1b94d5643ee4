"""Load test: simulated forecasters browsing and forecasting against the whole deployed stack.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crux_load \
        .venv/bin/python bench/load.py [--seconds 30] [--forecasters 16] [--web 4] [--workers 2]

Starts, with production settings (DEBUG off): gunicorn, a Celery worker, Celery beat and a
redis-server of its own on a free port (cache and broker; its own, so that bench/drills.py may
restart it). The database is the PostgreSQL one named by DATABASE_URL, flushed first (give it a
database of its own), or SQLite in a temporary folder. API throttling is set out of the way
(API_THROTTLE_TOKEN): the point is the server's capacity, not the limiter's.

Then every forecaster loops: a question list, a question's page, a forecast (through the API
with a token, or through the web form with a session for the first ``--web`` of them). Prints
requests/s, p50/p99 latency, errors, and every submission attempt set against the database:
each acknowledged forecast must be stored, with its id and probability.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from api import _free_port, _wait
from forecasters import (
    RETRIES,
    Accounting,
    LoadResult,
    account,
    double_standing,
    forecasters_create,
    run_load,
    stored_forecasts,
)
from seed import ROOT, fresh_database, seed_resolved, setup_django

APPLICATION_NAME = "crux-load"  # marks the stack's PostgreSQL sessions, for the drills
REDIS_SERVER = "/usr/bin/redis-server"


def stack_environment(var_dir: Path, redis_port: int) -> dict[str, str]:
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url:
        separator = "&" if "?" in database_url else "?"
        database_url += f"{separator}application_name={APPLICATION_NAME}"
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
        "DB_CONN_MAX_AGE": "60",  # as docker/compose.yaml
        "API_THROTTLE_TOKEN": "1000000000/s",
        "API_THROTTLE_ANON": "1000000000/s",
        "LOG_LEVEL": "WARNING",
        "LIFECYCLE_SWEEP_SECONDS": "2",
        "CRUX_VAR_DIR": str(var_dir),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
    }


@dataclass
class Stack:
    """The deployed processes, each in a session of its own, its output in ``var_dir``."""

    var_dir: Path
    env: dict[str, str]
    workers: int
    port: int = field(default_factory=_free_port)
    redis_port: int = 0
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, name: str) -> None:
        python, port = sys.executable, f"127.0.0.1:{self.port}"
        celery = [python, "-m", "celery", "-A", "config"]
        argv = {
            "redis": [REDIS_SERVER, "--port", str(self.redis_port), "--bind", "127.0.0.1"],
            "gunicorn": [python, "-m", "gunicorn", "-w", str(self.workers), "-b", port],
            "worker": [*celery, "worker", "--loglevel=WARNING", "--concurrency=1"],
            "beat": [*celery, "beat", "--loglevel=WARNING"],
        }[name]
        argv += {
            "redis": ["--save", "", "--appendonly", "no"],
            "gunicorn": ["--log-level", "warning", "config.wsgi:application"],
        }.get(name, [])
        with (self.var_dir / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(  # noqa: S603
                argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if name == "redis":
            _wait_for_redis(self.redis_port)

    def stop(self, name: str, signum: signal.Signals = signal.SIGTERM) -> None:
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def drop_database_connections(self) -> int:
        """Terminate the stack's PostgreSQL sessions (web and worker); returns how many."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = %s"
                " AND pid <> pg_backend_pid()",
                [APPLICATION_NAME],
            )
            return cursor.fetchone()[0]


def _wait_for_redis(port: int) -> None:
    import redis

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.ConnectionError), redis.Redis(port=port) as client:
            if client.ping():
                return
        time.sleep(0.1)
    raise SystemExit(f"redis-server did not answer on port {port}")


@contextlib.contextmanager
def running_stack(*, workers: int, history: int) -> Iterator[Stack]:
    """Seed a fresh database, then start redis-server, gunicorn, a worker and beat."""
    var_dir = Path(tempfile.mkdtemp(prefix="crux-load-"))
    redis_port = _free_port()
    env = stack_environment(var_dir, redis_port)
    os.environ.update(env)
    setup_django("config.settings")
    from django.core.management import call_command
    from django.db import connection

    fresh_database()
    if history:
        seed_resolved(history, seed=1)  # resolved questions and scores to browse past
    call_command("collectstatic", interactive=False, verbosity=0)
    connection.close()
    stack = Stack(var_dir, env, workers, redis_port=redis_port)
    try:
        for name in ("redis", "gunicorn", "worker", "beat"):
            stack.start(name)
        _wait(stack.base_url + "/health/")
        yield stack
    finally:
        for name in reversed(list(stack.processes)):
            stack.stop(name)


def open_questions(count: int, *, closes_in: dt.timedelta) -> list[int]:
    from django.utils import timezone

    from forecasts.models import Question, SourceDocument

    now = timezone.now()
    source, _ = SourceDocument.objects.get_or_create(
        key="load", defaults={"title": "Load", "published_on": now.date(), "text": "load"}
    )
    return [
        Question.objects.create(
            key=f"load-{uuid.uuid4().hex[:10]}",
            source=source,
            title=f"Load question {index}",
            resolution_criteria="-",
            passage="load",
            opens_at=now - dt.timedelta(days=1),
            closes_at=now + closes_in,
            resolves_at=now + closes_in,
            auto_outcome="no",
        ).pk
        for index in range(count)
    ]


def settle(result: LoadResult, run_id: str, usernames: list[str]) -> Accounting:
    """Print the run's figures and its accounting against the database; return the latter."""
    books = account(result.attempts, stored_forecasts(run_id))
    print(
        f"requests: {result.requests} in {result.seconds:.1f} s = "
        f"{result.requests / result.seconds:.1f} req/s; p50 {result.percentile(0.50):.1f} ms, "
        f"p99 {result.percentile(0.99):.1f} ms; by status: {dict(sorted(result.statuses.items()))}"
    )
    print(
        f"errors (5xx or no response): {result.errors}; not clean: {len(result.unclean)}; "
        f"gave up after {RETRIES} retries: {result.gave_up}"
    )
    for line in result.unclean[:5]:
        print(f"  not clean: {line}")
    print(
        f"submissions: {len(result.attempts)}; acknowledged {books.acknowledged}, stored "
        f"{books.stored_acknowledged}, lost {len(books.lost)}; refused {books.refused} (stored "
        f"{len(books.refused_stored)}); unacknowledged: stored {books.unacknowledged_stored}, "
        f"not stored {books.unacknowledged_not_stored}; duplicates {len(books.duplicates)}, "
        f"phantoms {len(books.phantoms)}; users with two standing forecasts on a question: "
        f"{double_standing(usernames)}"
    )
    return books


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--forecasters", type=int, default=16)
    parser.add_argument("--web", type=int, default=4, help="how many use the web form")
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--history", type=int, default=5000, help="resolved forecasts seeded")
    args = parser.parse_args()
    with running_stack(workers=args.workers, history=args.history) as stack:
        from django.db import connection

        run_id = uuid.uuid4().hex[:8]
        questions = open_questions(args.questions, closes_in=dt.timedelta(days=30))
        forecasters = forecasters_create(args.forecasters, web=args.web, prefix=f"l{run_id}-")
        print(
            f"database: {connection.vendor}; cache and broker: redis; gunicorn sync workers: "
            f"{args.workers}; forecasters: {args.forecasters} ({args.web} web, "
            f"{args.forecasters - args.web} API); questions open: {args.questions}; "
            f"{args.seconds:g} s; cores: {os.cpu_count()}"
        )
        connection.close()
        result = run_load(
            stack.base_url, forecasters, questions, run_id=run_id, seconds=args.seconds
        )
        books = settle(result, run_id, [f.username for f in forecasters])
    sys.exit(0 if books.ok and not result.errors and not result.unclean else 1)


if __name__ == "__main__":
    main()
