"""Celery tasks: each takes ids or nothing, calls one service, and is safe to run twice.

Transient failures (the database or broker briefly unreachable, and for the tasks that send
e-mail, a mail server that refuses or does not answer) are retried with exponential backoff;
anything a task could not finish is found again by the next lifecycle sweep.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from forecasts import resolution

TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
RETRY = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}
# smtplib's errors and socket failures are all OSErrors. What a send raises was logged by it,
# and nothing was marked sent, so a retry sends it once.
MAIL_RETRY = {**RETRY, "autoretry_for": (*TRANSIENT, OSError)}


@shared_task(**RETRY)
def sweep_question_lifecycle() -> dict[str, object]:
    """Beat runs this every minute; it catches up on everything due since the last run."""
    result = resolution.lifecycle_sweep()
    return {
        "closed": result.closed,
        "auto_resolve_enqueued": result.auto_resolve_enqueued,
        "reminders_due": result.reminders_due,
        "followups_enqueued": result.followups_enqueued,
    }


@shared_task(**MAIL_RETRY)
def remind_staff() -> list[int]:
    return resolution.questions_remind_staff()


@shared_task(**RETRY)
def resolve_automatically(question_id: int) -> bool:
    return resolution.question_auto_resolve(question_id=question_id)


@shared_task(**MAIL_RETRY)
def question_followups(question_id: int) -> int:
    return resolution.question_followups(question_id=question_id)
