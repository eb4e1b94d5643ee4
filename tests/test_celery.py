"""The Celery app: one name per task, a beat schedule of registered tasks, sends on commit."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections import Counter

import pytest
from celery import Task
from django.conf import settings

from config.celery import OnCommitSend, app
from forecasts.discussion.notices import comment_notify_task
from forecasts.lifecycle import lifecycle_sweep_task, question_auto_resolve_task
from forecasts.notices import question_followups_task, questions_remind_staff_task
from tests.integration.conftest import celery_publishing_to, free_port

# What a fresh worker process registers, as the worker loads it.
WORKER_TASKS = """
import django, json
django.setup()
from config.celery import app
app.loader.import_default_modules()
print(json.dumps(sorted(name for name in app.tasks if not name.startswith("celery."))))
"""


def crux_tasks() -> dict[str, Task]:
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_each_task_is_registered_once_under_its_app_and_function_name() -> None:
    tasks = crux_tasks()

    expected = {f"{task.__module__.split('.')[0]}.{task.__name__}" for task in tasks.values()}

    assert tasks and set(tasks) == expected
    assert set(Counter(id(task) for task in tasks.values()).values()) == {1}  # no alias


def test_every_task_is_registered_in_a_fresh_worker() -> None:
    defined = {
        lifecycle_sweep_task.name,
        question_auto_resolve_task.name,
        questions_remind_staff_task.name,
        question_followups_task.name,
        comment_notify_task.name,
    }

    loaded = subprocess.run(
        [sys.executable, "-c", WORKER_TASKS],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings"},
    )

    assert set(json.loads(loaded.stdout)) == defined == set(crux_tasks())


def test_the_beat_schedule_names_registered_tasks_by_their_one_name() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE

    entries = {key: entry["task"] for key, entry in schedule.items()}

    assert entries == {lifecycle_sweep_task.name: lifecycle_sweep_task.name}
    assert all(task in app.tasks for task in entries.values())


@pytest.mark.django_db
def test_a_send_waits_for_the_commit_and_carries_its_task_object(
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        question_followups_task.delay_on_commit(7)

    assert callbacks == [OnCommitSend(question_followups_task, (7,), {})]


@pytest.mark.django_db
def test_a_broker_outage_at_commit_is_logged_not_raised(
    django_capture_on_commit_callbacks, caplog
) -> None:
    dead_broker = f"redis://127.0.0.1:{free_port()}/0"

    with (
        celery_publishing_to(dead_broker),
        caplog.at_level(logging.WARNING, logger="config.celery"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        question_followups_task.delay_on_commit(7)

    assert len(callbacks) == 1
    assert f"could not send {question_followups_task.name}(7,)" in caplog.text
