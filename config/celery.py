"""The Celery application: configured from Django settings (``CELERY_*``).

Code sends a task by its object, once the transaction that asked for it commits:
``question_followups_task.delay_on_commit(question.pk)``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from celery import Celery
from celery.app.task import Task
from celery.contrib.django.task import DjangoTask
from celery.signals import beat_init, worker_init
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OnCommitSend:
    """Sends ``task`` with its arguments when Django runs it: after the commit."""

    task: Task
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def __call__(self) -> None:
        try:
            self.task.apply_async(self.args, self.kwargs)
        except Exception:  # a broker outage must not fail the request that committed
            # Not lost: every task's work is found again, from the database, by the lifecycle
            # sweep that beat runs, which sends it again.
            logger.warning(
                "could not send %s%r; the next sweep will", self.task.name, self.args, exc_info=True
            )


class CruxTask(DjangoTask):
    """Every task's base: its ``delay_on_commit`` survives a broker outage."""

    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:
        transaction.on_commit(OnCommitSend(self, args, kwargs))


app = Celery("crux", task_cls=CruxTask)
app.config_from_object("django.conf:settings", namespace="CELERY")


@worker_init.connect
@beat_init.connect
def _make_broker_folders(**_: object) -> None:
    ensure_broker_folders()


def ensure_broker_folders() -> None:
    """The filesystem transport needs its folders to exist before anyone publishes."""
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            os.makedirs(str(options[key]), exist_ok=True)
