"""Fault drills under load: restart Redis, kill the worker, drop PostgreSQL's connections.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crux_load \
        .venv/bin/python bench/drills.py [--seconds 30] [--outage 6] [redis worker postgres]

The stack of bench/load.py (gunicorn, a worker, beat, a redis-server of its own) under the same
simulated forecasters; a third of the way into each drill's load the fault starts and lasts
``--outage`` seconds:

- redis: the redis-server (cache and broker) is stopped, then started again, empty; while it
  is down, a failed log-in and a token request are sent too (bench/probes.py): neither may be
  a server error;
- worker: the Celery worker is killed (SIGKILL), then a new one started;
- postgres: every 0.2 s, every PostgreSQL session of the stack (web and worker, marked by
  their application_name) is terminated with pg_terminate_backend.

A question that closes in the middle of the outage is among those forecast on. Checked for each
drill: every acknowledged forecast is stored; any server error was clean (no traceback, JSON
on /api/) and retried by the client; refused forecasts (the closed question) are not stored;
nobody has two standing forecasts on a question; the closing question is closed and resolved
by the beat sweep once the stack has recovered.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable

from forecasters import LoadResult, forecasters_create, run_load
from load import Stack, open_questions, running_stack, settle
from probes import EXPECTED, outage_probes

LIFECYCLE_TIMEOUT_SECONDS = 60
# Often enough that some terminations land in the middle of a request, not only between them.
KILL_INTERVAL_SECONDS = 0.2


def restart_redis(stack: Stack, outage: float) -> tuple[str, bool]:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from forecasts.services import api_token_create

    prober = get_user_model().objects.create(username=f"probe-{uuid.uuid4().hex[:8]}")
    _, secret = api_token_create(user=prober, name="outage probe")
    connection.close()
    stack.stop("redis")
    started = time.monotonic()
    probes = outage_probes(stack.base_url, username=prober.username, token=secret)
    time.sleep(max(0.0, outage + started - time.monotonic()))
    stack.start("redis")
    answers = ", ".join(f"{name}: {status}" for name, status in probes.items())
    return f"redis-server stopped, started again empty; while down, {answers}", probes == EXPECTED


def restart_worker(stack: Stack, outage: float) -> tuple[str, bool]:
    stack.stop("worker", signal.SIGKILL)
    time.sleep(outage)
    stack.start("worker")
    return "worker killed (SIGKILL), a new one started", True


def drop_connections(stack: Stack, outage: float) -> tuple[str, bool]:
    terminated = []
    deadline = time.monotonic() + outage
    while time.monotonic() < deadline:
        terminated.append(stack.drop_database_connections())
        time.sleep(KILL_INTERVAL_SECONDS)
    return (
        f"PostgreSQL sessions terminated {len(terminated)} times, every "
        f"{KILL_INTERVAL_SECONDS} s: {sum(terminated)} sessions"
    ), True


# Each returns what it did and whether whatever it checked itself held.
DRILLS: dict[str, Callable[[Stack, float], tuple[str, bool]]] = {
    "redis": restart_redis,
    "worker": restart_worker,
    "postgres": drop_connections,
}


def drill(stack: Stack, name: str, args: argparse.Namespace) -> bool:
    from django.db import connection

    from forecasts.models import Question

    run_id = uuid.uuid4().hex[:8]
    fault_at = args.seconds / 3
    closing = open_questions(1, closes_in=dt.timedelta(seconds=fault_at + args.outage / 2))[0]
    questions = [*open_questions(args.questions - 1, closes_in=dt.timedelta(days=30)), closing]
    forecasters = forecasters_create(args.forecasters, web=args.web, prefix=f"d{run_id}-")
    connection.close()
    stop, results = threading.Event(), list[LoadResult]()

    def load() -> None:
        url = stack.base_url
        results.append(run_load(url, forecasters, questions, run_id=run_id, seconds=1e9, stop=stop))

    thread = threading.Thread(target=load)
    thread.start()
    started = time.monotonic()
    time.sleep(fault_at)
    done, held = DRILLS[name](stack, args.outage)
    recovered = time.monotonic()
    pending = Question.objects.get(pk=closing).closed_at is None
    resolved_after = None
    while resolved_after is None or time.monotonic() - started < args.seconds:
        if resolved_after is None and Question.objects.get(pk=closing).resolution:
            resolved_after = time.monotonic() - recovered
        if time.monotonic() - recovered > LIFECYCLE_TIMEOUT_SECONDS:
            break
        time.sleep(0.25)
    stop.set()
    thread.join()
    connection.close()
    result = results[0]
    print(f"== drill {name}: {done}")
    books = settle(result, run_id, [f.username for f in forecasters])
    question = Question.objects.get(pk=closing)
    caught_up = question.resolution == "no" and question.closed_at == question.closes_at
    print(
        f"lifecycle: the question closing mid-outage: still open in the database at recovery: "
        f"{pending}; closed at its close time and resolved automatically: {caught_up}, "
        f"{resolved_after or 0:.1f} s after recovery"
    )
    connection.close()
    return held and books.ok and not result.unclean and not result.gave_up and caught_up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("drills", nargs="*", help=f"some of {', '.join(DRILLS)} (default: all)")
    parser.add_argument("--seconds", type=float, default=30, help="each drill's load")
    parser.add_argument("--outage", type=float, default=6)
    parser.add_argument("--forecasters", type=int, default=16)
    parser.add_argument("--web", type=int, default=4, help="how many use the web form")
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()
    args.drills = args.drills or list(DRILLS)
    if unknown := set(args.drills) - set(DRILLS):
        parser.error(f"no such drill: {', '.join(sorted(unknown))}")
    with running_stack(workers=args.workers, history=0) as stack:
        from django.db import connection

        if "postgres" in args.drills and connection.vendor != "postgresql":
            raise SystemExit("the postgres drill needs DATABASE_URL=postgres://...")
        print(
            f"database: {connection.vendor}; gunicorn sync workers: {args.workers}; "
            f"forecasters: {args.forecasters} ({args.web} web); {args.seconds:g} s of load "
            f"per drill, the fault from {args.seconds / 3:.0f} s for {args.outage:g} s"
        )
        passed = [drill(stack, name, args) for name in args.drills]
    sys.exit(0 if all(passed) else 1)


if __name__ == "__main__":
    main()
