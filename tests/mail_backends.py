"""E-mail backends for tests: the SMTP server is the one thing a notice crosses the network for."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends import locmem


class FailingBackend(locmem.EmailBackend):
    """Refuses the next ``failures`` sends as an unreachable SMTP server would, then delivers
    to ``django.core.mail.outbox``. Set ``FailingBackend.failures`` in the test."""

    failures = 0

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        if FailingBackend.failures > 0:
            FailingBackend.failures -= 1
            if not self.fail_silently:
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            return 0
        return super().send_messages(messages)
