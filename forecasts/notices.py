"""E-mail notices: staff reminders of due questions, and each forecaster's resolution
notice. Each e-mail is three templates under ``forecasts/email/`` (subject, text, HTML)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from decimal import Decimal

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from crux.tasks import MAIL_RETRY
from forecasts.charts.cache import question_charts_refresh
from forecasts.maths import score_types
from forecasts.models import (
    Forecaster,
    Profile,
    Question,
    Resolution,
    ResolutionNotice,
    Score,
)
from markets.selectors import market_results

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


def questions_awaiting_reminder(now: dt.datetime) -> QuerySet[Question]:
    """Questions due without an automatic outcome whose staff reminder has not gone out."""
    return Question.objects.filter(
        resolution="", resolves_at__lte=now, auto_outcome="", staff_reminded_at=None
    )


@transaction.atomic
def questions_remind_staff(*, now: dt.datetime | None = None) -> list[int]:
    """Tell staff, once per question, about questions due without an automatic outcome.

    A question counts as reminded only once the e-mail has gone out: while no active staff
    user has an address it waits for one, and a refused send raises with nothing marked, for
    the task to retry. The rows stay locked until the mark commits, so a second run at the
    same time finds nothing left to send.
    """
    now = now or timezone.now()
    due = list(questions_awaiting_reminder(now).select_for_update().order_by("resolves_at", "pk"))
    if not due:
        return []
    recipients = list(
        get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        logger.warning(
            "%d question(s) await resolution and no staff user has an email; the reminder "
            "goes out once one has",
            len(due),
        )
        return []
    email_send(
        template="staff_reminder",
        context={
            "items": [{"question": q, "url": _url(q)} for q in due],
            "due_url": f"{settings.SITE_URL}{reverse('forecasts:staff_due')}",
        },
        to=recipients,
    )
    Question.objects.filter(pk__in=[q.pk for q in due]).update(staff_reminded_at=now)
    return [q.pk for q in due]


@shared_task(name="forecasts.questions_remind_staff_task", **MAIL_RETRY)
def questions_remind_staff_task() -> list[int]:
    return questions_remind_staff()


def _url(question: Question) -> str:
    return f"{settings.SITE_URL}{reverse('forecasts:question_detail', args=[question.pk])}"


def question_followups(*, question_id: int, now: dt.datetime | None = None) -> int:
    """After a resolution: tell each forecaster and trader (once, if they want it) with their
    scores and what the market paid them."""
    now = now or timezone.now()
    question = Question.objects.filter(pk=question_id).exclude(resolution="").first()
    if question is None or question.followups_done_at is not None:
        return 0
    sent = 0
    opted_out = set(
        Profile.objects.filter(notify_on_resolution=False).values_list("user_id", flat=True)
    )
    market = market_results(question_id=question.pk)
    forecasters = (
        get_user_model()
        .objects.filter(Q(forecasts__question=question) | Q(pk__in=list(market)))
        .exclude(email="")
        .exclude(pk__in=opted_out)
        .distinct()
    )
    scores: dict[int, dict[str, float]] = {}
    for user_id, score_type, value in Score.objects.filter(
        question=question, forecaster=Forecaster.USER
    ).values_list("user_id", "score_type", "value"):
        scores.setdefault(user_id, {})[score_type] = value
    for user in forecasters:
        if _notice_send(
            question=question,
            user=user,
            scores=scores.get(user.pk, {}),
            market=market.get(user.pk),
            now=now,
        ):
            sent += 1
    # The resolved chart is immutable now: render it before the first visitor asks.
    question_charts_refresh(question_id=question.pk, now=now)
    Question.objects.filter(pk=question.pk, resolution=question.resolution).update(
        followups_done_at=now
    )
    return sent


@shared_task(name="forecasts.question_followups_task", **MAIL_RETRY)
def question_followups_task(question_id: int) -> int:
    return question_followups(question_id=question_id)


@transaction.atomic
def _notice_send(
    *,
    question: Question,
    user: User,
    scores: dict[str, float],
    market: tuple[Decimal, Decimal] | None,
    now: dt.datetime,
) -> bool:
    """Tell one user of a resolution, unless they were told already; True if it was sent.

    The notice row and the send share a transaction: a refused send rolls the row back (the
    task retries and the user is told once), and the row's unique constraint makes a second
    worker doing the same question at the same time wait, then skip this user.
    """
    _, created = ResolutionNotice.objects.get_or_create(
        question=question,
        user=user,
        defaults={"resolution": question.resolution, "sent_at": now},
    )
    if not created:
        return False
    paid_and_cost = None
    if market is not None:
        paid, net_cost = market
        paid_and_cost = {"paid": paid, "net_cost": net_cost, "gain": paid - net_cost}
    email_send(
        template="resolution_notice",
        context={
            "question": question,
            "url": _url(question),
            "settings_url": f"{settings.SITE_URL}{reverse('forecasts:settings')}",
            "market": paid_and_cost,
            "scores": [
                {"type": t.name, "label": t.label, "value": scores[t.name]}
                for t in score_types.TRACK_RECORD
                if t.name in scores
            ],
            "scored": question.resolution in (Resolution.YES, Resolution.NO),
        },
        to=[user.email],
    )
    return True
