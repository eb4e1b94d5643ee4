"""Enqueueing tasks after a commit, without letting a broker outage break a web request."""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task_name: str, *args: object) -> None:
    """Send ``forecasts.tasks.<task_name>(*args)`` once the current transaction commits.

    If the broker is unreachable the work is not lost: every task here is also driven by
    the lifecycle sweep, which finds what is still to do and enqueues it again.
    """

    def send() -> None:
        from forecasts import tasks

        try:
            getattr(tasks, task_name).delay(*args)
        except Exception:  # a broker outage must not fail the request that committed
            logger.warning(
                "could not enqueue %s%r; the next sweep will", task_name, args, exc_info=True
            )

    transaction.on_commit(send)
