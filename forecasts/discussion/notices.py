"""A new comment, e-mailed to the question's other followers (``forecasts/email/comment_notice*``).

One message per comment, every follower in Bcc (no follower learns another's address), sent
once: the comment's ``notified_at`` is set in the transaction that sent it, under its row lock.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from crux.markdown import render_markdown
from crux.tasks import MAIL_RETRY
from forecasts.discussion.models import Comment

logger = logging.getLogger(__name__)

TEMPLATE = "forecasts/email/comment_notice"


def comment_recipients(comment: Comment) -> list[str]:
    """The addresses of the question's followers, but for the comment's author: active
    accounts with an address, each once, in a stable order."""
    return list(
        get_user_model()
        .objects.filter(follows__question_id=comment.question_id, is_active=True)
        .exclude(pk=comment.author_id)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
        .distinct()
    )


@transaction.atomic
def comment_notify(*, comment_id: int, now: dt.datetime | None = None) -> int:
    """E-mail a comment to its question's other followers, once; how many were sent it.

    A comment deleted or hidden before this runs is sent to nobody. A refused send raises with
    nothing marked, for the task to retry; a second run finds the comment marked and sends
    nothing.
    """
    comment = (
        Comment.objects.select_for_update(of=("self",))
        .select_related("question", "author")
        .filter(pk=comment_id, notified_at=None)
        .first()
    )
    if comment is None:
        return 0
    recipients = [] if comment.is_deleted or comment.is_hidden else comment_recipients(comment)
    if recipients:
        _send(comment, recipients)
    Comment.objects.filter(pk=comment.pk).update(notified_at=now or timezone.now())
    return len(recipients)


@shared_task(name="forecasts.comment_notify_task", **MAIL_RETRY)
def comment_notify_task(comment_id: int) -> int:
    return comment_notify(comment_id=comment_id)


def _send(comment: Comment, recipients: list[str]) -> None:
    question_path = reverse("forecasts:question_detail", args=[comment.question_id])
    context = {
        "comment": comment,
        "body_html": render_markdown(comment.body),
        "question": comment.question,
        "url": f"{settings.SITE_URL}{question_path}#comment-{comment.pk}",
        "follow_url": f"{settings.SITE_URL}{question_path}#discussion",
    }
    subject = render_to_string(f"{TEMPLATE}_subject.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string(f"{TEMPLATE}.txt", context),
        bcc=recipients,
    )
    message.attach_alternative(render_to_string(f"{TEMPLATE}.html", context), "text/html")
    try:
        message.send(fail_silently=False)
    except Exception:
        logger.warning(
            "could not send comment %s to %d follower(s); it will be retried",
            comment.pk,
            len(recipients),
            exc_info=True,
        )
        raise
