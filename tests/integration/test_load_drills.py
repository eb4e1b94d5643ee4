"""A short load through gunicorn, and the fault drills under it (issue #8).

Simulated forecasters (bench/forecasters.py) browse and forecast, through the API and the web
form, against gunicorn, a Celery worker and beat, all as deployed (DEBUG off), on the test's
database and broker. Whatever the fault, every acknowledged forecast is stored as acknowledged,
server errors are clean and retried, and the lifecycle catches up: a question whose close time
passes during the fault is closed and resolved by the sweep once the stack has recovered.
The measured, longer runs are bench/load.py and bench/drills.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from bench.forecasters import (
    LoadResult,
    account,
    double_standing,
    forecasters_create,
    run_load,
    stored_forecasts,
)
from bench.probes import EXPECTED as EXPECTED_PROBES
from bench.probes import outage_probes
from forecasts.models import AutoOutcome, Question
from forecasts.services import api_token_create, forecast_submit
from tests.factories import QuestionFactory, UserFactory
from tests.integration.conftest import (
    BASE_DIR,
    Celery,
    Processes,
    RedisServer,
    free_port,
)
from tests.integration.questions import is_resolved

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LOAD_SECONDS = 3.0
FAULT_AT_SECONDS = 1.0  # into the load
OUTAGE_SECONDS = 2.0
FORECASTERS, WEB_FORECASTERS = 6, 2
# Marks the PostgreSQL sessions of the test's processes, so that only they are terminated.
APPLICATION_NAME = f"crux-drill-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DEBUG off serves the collected, hashed static files, as deployed."""
    root = tmp_path_factory.mktemp("static")
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "collectstatic-only",
        "STATIC_ROOT": str(root),
        "CRUX_VAR_DIR": str(root.parent / "collectstatic-var"),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    return root


def start_web(processes: Processes, celery: Celery, static_root: Path) -> str:
    """gunicorn with two sync workers, as deployed, on the processes' database and broker."""
    port = free_port()
    env = {
        **celery.env,
        "DEBUG": "0",
        # The test process creates the forecasters' sessions, signed with its key.
        "SECRET_KEY": settings.SECRET_KEY,
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_ROOT": str(static_root),
        "DB_CONN_MAX_AGE": "60",
        "API_THROTTLE_TOKEN": "1000000/s",
    }
    argv = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}"]
    processes.start("gunicorn", [*argv, "config.wsgi:application"], env=env)
    url = f"http://127.0.0.1:{port}"
    processes.wait_until(lambda: answers(url + "/health/"), "gunicorn to answer")
    return url


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own server
            return response.status == 200
    except OSError:
        return False


def closing_question(after: float) -> Question:
    """Open now, closing (and due, NO automatically) ``after`` seconds from now, with one
    forecast standing already: a drill's resolution is complete only with scores, and on a
    starved machine the load's first forecasts can come after the close."""
    now = timezone.now()
    closes_at = now + dt.timedelta(seconds=after)
    question = QuestionFactory(
        opens_at=now - dt.timedelta(days=1),
        closes_at=closes_at,
        resolves_at=closes_at,
        auto_outcome=AutoOutcome.NO,
    )
    forecast_submit(user=UserFactory(), question_id=question.pk, probability=0.3, now=now)
    return question


@dataclasses.dataclass
class Run:
    run_id: str
    usernames: list[str]
    result: LoadResult
    closing: Question


def load_with(url: str, fault: Callable[[Question], object] | None = None) -> Run:
    """The load for LOAD_SECONDS, with ``fault`` (which lasts OUTAGE_SECONDS) after a second.

    One of the questions, given to ``fault``, closes in the middle of the outage.
    """
    run_id = uuid.uuid4().hex[:8]
    closing = closing_question(FAULT_AT_SECONDS + OUTAGE_SECONDS / 2)
    questions = [QuestionFactory(opens_at=timezone.now() - dt.timedelta(days=1)).pk, closing.pk]
    forecasters = forecasters_create(FORECASTERS, web=WEB_FORECASTERS, prefix=f"f{run_id}-")
    stop, results = threading.Event(), list[LoadResult]()

    def load() -> None:
        results.append(run_load(url, forecasters, questions, run_id=run_id, seconds=60, stop=stop))

    thread = threading.Thread(target=load)
    thread.start()
    try:
        started = time.monotonic()
        if fault is not None:
            time.sleep(FAULT_AT_SECONDS)
            fault(closing)
        time.sleep(max(0.0, LOAD_SECONDS + started - time.monotonic()))
    finally:
        stop.set()
        thread.join()
    return Run(run_id, [f.username for f in forecasters], results[0], closing)


def assert_nothing_acknowledged_lost(run: Run) -> None:
    books = account(run.result.attempts, stored_forecasts(run.run_id))
    assert books.acknowledged > 0
    assert books.ok, books
    assert run.result.unclean == []
    assert run.result.gave_up == 0
    assert double_standing(run.usernames) == 0
    # The closed question refused forecasts and stored none made after its close.
    assert not run.closing.forecasts.filter(starts_at__gte=run.closing.closes_at).exists()


def test_every_forecast_acknowledged_under_load_is_stored(
    celery: Celery, processes: Processes, static_root: Path
) -> None:
    celery.worker()
    celery.beat()
    url = start_web(processes, celery, static_root)

    run = load_with(url)

    assert_nothing_acknowledged_lost(run)
    assert run.result.errors == 0
    assert set(run.result.statuses) <= {200, 201, 302, 400}
    processes.wait_until(lambda: is_resolved(run.closing), "the closed question resolved")


def test_a_redis_restart_under_load_loses_nothing_and_the_lifecycle_catches_up(
    celery: Celery, processes: Processes, static_root: Path, redis_server: RedisServer
) -> None:
    # One redis-server is the web's cache and the broker, as deployed; restarted empty.
    celery = celery.with_broker(redis_server.url)
    celery.worker()
    celery.beat()
    url = start_web(processes, celery, static_root)
    prober = UserFactory(username=f"probe-{uuid.uuid4().hex[:8]}")
    _, secret = api_token_create(user=prober, name="probe")
    during: list[dict[str, int]] = []

    def restart(closing: Question) -> None:
        redis_server.stop()
        started = time.monotonic()
        during.append(outage_probes(url, username=prober.username, token=secret))
        time.sleep(max(0.0, OUTAGE_SECONDS + started - time.monotonic()))
        redis_server.start()

    run = load_with(url, restart)

    assert_nothing_acknowledged_lost(run)
    assert run.result.errors == 0  # the cache degrades to misses; forecasts need no broker
    # With Redis down, a failed log-in is the form again and a token is made: no 500s.
    assert during == [EXPECTED_PROBES]
    processes.wait_until(lambda: is_resolved(run.closing), "the question closed in the outage")


def test_a_worker_killed_under_load_is_replaced_and_the_lifecycle_catches_up(
    celery: Celery, processes: Processes, static_root: Path
) -> None:
    worker = celery.worker()
    celery.beat()
    url = start_web(processes, celery, static_root)
    pending: list[bool] = []

    def kill_and_replace(closing: Question) -> None:
        worker.kill()
        time.sleep(OUTAGE_SECONDS)
        closing.refresh_from_db()
        pending.append(closing.closed_at is None and closing.closes_at < timezone.now())
        celery.worker()

    run = load_with(url, kill_and_replace)

    assert_nothing_acknowledged_lost(run)
    assert run.result.errors == 0
    assert pending == [True]  # past its close time, not closed: nobody swept while it was down
    processes.wait_until(lambda: is_resolved(run.closing), "the question closed in the outage")


def test_postgresql_connections_dropped_under_load_lose_nothing(
    celery: Celery, processes: Processes, static_root: Path
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): terminates its sessions")
    database_url = f"{celery.env['DATABASE_URL']}?application_name={APPLICATION_NAME}"
    celery = dataclasses.replace(celery, env={**celery.env, "DATABASE_URL": database_url})
    celery.worker()
    celery.beat()
    url = start_web(processes, celery, static_root)
    terminated: list[int] = []

    def drop_connections(closing: Question) -> None:
        deadline = time.monotonic() + OUTAGE_SECONDS
        while time.monotonic() < deadline:
            terminated.append(terminate_sessions(APPLICATION_NAME))
            time.sleep(0.1)

    run = load_with(url, drop_connections)

    assert sum(terminated) > 0
    # Requests caught mid-query may have failed (cleanly, and were retried): none was lost.
    assert_nothing_acknowledged_lost(run)
    assert set(run.result.statuses) <= {200, 201, 302, 400, 500}
    processes.wait_until(lambda: is_resolved(run.closing), "the question closed in the drill")


def terminate_sessions(application_name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s"
            " AND pid <> pg_backend_pid()",
            [application_name],
        )
        return cursor.fetchone()[0]
