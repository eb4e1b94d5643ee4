"""Automatic resolution under faults: repeated and simultaneous runs, a killed worker, a broker
outage. Whatever happens, a question is either untouched or resolved with all its scores.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from celery.result import EagerResult
from django.db import connections
from django.test import Client
from django.urls import reverse

from forecasts.lifecycle import question_auto_resolve_task
from forecasts.models import Forecast, Score
from markets.audit import ledger_audit
from markets.models import LedgerEntry
from markets.services import market_create
from tests.factories import UserFactory, buy
from tests.integration.conftest import (
    Celery,
    Process,
    Processes,
    RedisServer,
    celery_publishing_to,
)
from tests.integration.questions import (
    due_question,
    expected_scores,
    is_resolved,
    open_question,
    resolution_state,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SCORE_ROW = ("id", "forecaster", "user_id", "score_type", "value", "coverage", "computed_at")


def score_rows(question_id: int) -> list[tuple[object, ...]]:
    return list(
        Score.objects.filter(question_id=question_id).order_by("id").values_list(*SCORE_ROW)
    )


def test_resolving_automatically_twice_leaves_the_same_score_rows() -> None:
    question = due_question()

    first = question_auto_resolve_task.apply(args=[question.pk]).get()
    rows = score_rows(question.pk)
    second = question_auto_resolve_task.apply(args=[question.pk]).get()

    assert (first, second) == (True, False)
    assert rows
    assert score_rows(question.pk) == rows
    assert resolution_state(question.pk) == "resolved"


def test_two_simultaneous_automatic_resolutions_resolve_once() -> None:
    # PostgreSQL serialises them on the question's row lock, SQLite on its write lock.
    question = due_question()
    barrier = threading.Barrier(2)
    results: list[EagerResult] = []

    def resolve() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(question_auto_resolve_task.apply(args=[question.pk]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=resolve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # get() raises a task's error: both succeeded, and exactly one of them resolved.
    assert sorted(result.get() for result in results) == [False, True]
    assert resolution_state(question.pk) == "resolved"
    assert len(score_rows(question.pk)) == len(expected_scores(question.pk))


def test_simultaneous_resolutions_pay_the_market_out_once() -> None:
    question = due_question()
    market = market_create(
        question_id=question.pk, b=Decimal(100), now=question.opens_at + dt.timedelta(days=1)
    )
    trader = UserFactory()
    buy(
        trader,
        market,
        outcome=1,
        shares=10,
        now=question.opens_at + dt.timedelta(days=2),
    )  # 10 NO shares; it resolves NO
    barrier = threading.Barrier(2)

    def resolve() -> None:
        try:
            barrier.wait(timeout=10)
            question_auto_resolve_task.apply(args=[question.pk])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=resolve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    payouts = LedgerEntry.objects.filter(account__user=trader, kind="payout")
    assert [entry.amount for entry in payouts] == [Decimal("10.0000")]
    assert ledger_audit().ok


def test_a_worker_killed_while_resolving_leaves_it_to_the_next_worker(
    celery: Celery, processes: Processes, tmp_path: Path
) -> None:
    question = due_question()
    held = tmp_path / "resolution-held"
    # The worker stops inside the resolution's transaction, its scores written: killed there.
    worker = celery.worker(hold_resolution=held)
    celery.beat()
    processes.wait_until(held.exists, "a resolution held with its scores written, uncommitted")

    worker.kill()
    after_kill = resolution_state(question.pk)
    celery.worker()

    processes.wait_until(lambda: is_resolved(question), "the question resolved after a restart")
    # The held transaction had written every score, yet none of them was ever visible.
    assert int(held.read_text()) == len(expected_scores(question.pk))
    assert after_kill in ("untouched", "resolved")
    assert after_kill == "untouched"  # killed before its commit


def test_worker_and_beat_catch_up_after_a_broker_outage(
    celery: Celery, processes: Processes, redis_server: RedisServer, client: Client
) -> None:
    celery = celery.with_broker(redis_server.url)
    before, question, user = due_question(), open_question(), UserFactory()
    client.force_login(user)
    worker, beat = celery.worker(), celery.beat()
    processes.wait_until(lambda: is_resolved(before), "a resolution before the outage")

    redis_server.stop()
    # The web must not depend on the broker: send to the dead one rather than run inline.
    with celery_publishing_to(redis_server.url):
        response = client.post(
            reverse("forecasts:question_detail", args=[question.pk]), {"probability": "0.6"}
        )
    during = due_question()
    processes.wait_until(lambda: noticed_outage(worker, beat), "the worker and beat to notice")
    # Back empty (no persistence): what was queued is gone, and the sweep must find it again.
    redis_server.start()

    processes.wait_until(lambda: is_resolved(during), "the question due in the outage resolved")
    assert (response.status_code, response.url) == (302, f"/questions/{question.pk}/")
    assert Forecast.objects.get(question=question, user=user, ends_at=None).probability == 0.6


def noticed_outage(worker: Process, beat: Process) -> bool:
    """The worker lost its connection, and beat failed to send a sweep."""
    return "Connection to broker lost" in worker.output() and (
        "Couldn't apply scheduled task" in beat.output()
    )
