"""Crux's e-mails: each is three templates under ``forecasts/email/`` (subject, text, HTML)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def email_send(*, template: str, context: Mapping[str, object], to: list[str]) -> None:
    """Render ``forecasts/email/<template>_subject.txt``, ``<template>.txt`` and
    ``<template>.html`` with ``context`` and send them to ``to`` as one message.

    A refused send raises: callers record a notice as sent only after this returns, so the
    task that called them retries it instead of losing it.
    """
    subject = render_to_string(f"forecasts/email/{template}_subject.txt", dict(context))
    message = EmailMultiAlternatives(
        # A subject is one line, however the template wraps it.
        subject=" ".join(subject.split()),
        body=render_to_string(f"forecasts/email/{template}.txt", dict(context)),
        to=to,
    )
    message.attach_alternative(
        render_to_string(f"forecasts/email/{template}.html", dict(context)), "text/html"
    )
    try:
        message.send(fail_silently=False)
    except Exception:
        logger.warning(
            "could not send the %s e-mail to %d recipient(s); it will be retried",
            template,
            len(to),
            exc_info=True,
        )
        raise
