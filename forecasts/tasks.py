"""Celery tasks: each takes ids or nothing, calls one service, and is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from forecasts import services


@shared_task(
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def sweep_question_lifecycle() -> dict[str, int]:
    """Beat runs this every minute; it catches up on everything due since the last run."""
    return {"closed": services.questions_close_due()}
