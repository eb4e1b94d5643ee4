"""Celery tasks' retry policies."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

# A task's name (``name=``) is what the broker and beat's schedule hold: "forecasts." and its
# function's name, written out so that it stays the same wherever the function moves.
# Transient failures (the database or broker briefly unreachable) are retried with exponential
# backoff; anything a task could not finish is found again by the next lifecycle sweep.
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
