"""The question lifecycle: closing, resolving (by staff or automatically) and unresolving.

Resolution and scoring are one transaction: a question is never resolved without its scores.
What cannot roll back with it (emails, chart caches) runs afterwards in idempotent tasks,
sent on commit. Each task is defined right below the one service it calls, and takes ids or
nothing: a module of tasks apart would import the services that send them.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from decimal import Decimal

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from forecasts import aggregation
from forecasts.chart_cache import question_charts_refresh
from forecasts.emails import email_send
from forecasts.models import (
    AggregatePoint,
    Forecast,
    Forecaster,
    Profile,
    Question,
    Resolution,
    ResolutionNotice,
    Score,
    ScoreType,
)
from forecasts.score_services import question_scores_compute
from markets.models import SETTLEMENT_KINDS, LedgerEntry
from markets.selectors import market_results
from markets.services import market_settle, market_unsettle

logger = logging.getLogger(__name__)

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


@transaction.atomic
def questions_close_due(*, now: dt.datetime | None = None) -> int:
    """Record the close of every question whose ``closes_at`` has passed; safe to repeat."""
    now = now or timezone.now()
    due = Question.objects.filter(closes_at__lte=now, closed_at__isnull=True)
    # A question closes at its scheduled time, however late the sweep runs.
    return due.update(closed_at=F("closes_at"))


@transaction.atomic
def question_resolve(
    *,
    question_id: int,
    resolution: str,
    resolved_by: User | None,
    effective_at: dt.datetime | None = None,
    note: str = "",
    automatic: bool = False,
    now: dt.datetime | None = None,
) -> Question:
    """Resolve a question and store its scores, in one transaction.

    ``effective_at`` (default: now) is when the outcome became known; if it precedes the
    scheduled close, scoring ends there. Resolving again with the same outcome changes
    nothing; a different outcome must be preceded by an unresolve.
    """
    if resolution not in Resolution.values:
        raise ValidationError({"resolution": f"Choose one of: {', '.join(Resolution.values)}."})
    question = Question.objects.select_for_update().get(pk=question_id)
    now = now or timezone.now()
    effective_at = effective_at or now
    if question.resolution:
        if question.resolution != resolution:
            raise ValidationError(
                {
                    "resolution": f"Already resolved {question.get_resolution_display()}; "
                    "unresolve it first."
                }
            )
        question_scores_compute(question=question, now=now)
        market_settle(question=question, now=now)
        return question
    if timezone.is_naive(effective_at):
        raise ValidationError({"effective_at": "Give the effective time with a time zone."})
    if not question.opens_at < effective_at <= now:
        raise ValidationError(
            {
                "effective_at": "The effective time must be after the question opened and not "
                "in the future."
            }
        )
    question.resolution = resolution
    question.resolved_at = effective_at
    question.resolved_by = resolved_by
    question.resolution_note = note.strip()
    question.resolved_automatically = automatic
    question.followups_done_at = None
    if question.closed_at is None or question.closed_at > question.scoring_closes_at:
        question.closed_at = min(question.closes_at, effective_at, now)
    question.save()
    question_aggregates_rebuild(question=question)
    question_scores_compute(question=question, now=now)
    market_settle(question=question, now=now)
    question_followups_task.delay_on_commit(question.pk)
    return question


@transaction.atomic
def question_unresolve(*, question_id: int, now: dt.datetime | None = None) -> Question:
    """Undo a resolution exactly: scores go, and a question whose close is still ahead reopens."""
    question = Question.objects.select_for_update().get(pk=question_id)
    now = now or timezone.now()
    if not question.resolution:
        return question
    question.resolution = ""
    question.resolved_at = None
    question.resolved_by = None
    question.resolution_note = ""
    question.resolved_automatically = False
    question.followups_done_at = None
    question.closed_at = question.closes_at if question.closes_at <= now else None
    question.save()
    question_scores_compute(question=question, now=now)
    market_unsettle(question=question, now=now)
    # Told of a resolution that no longer holds: they will be told again when it resolves.
    ResolutionNotice.objects.filter(question=question).delete()
    return question


@dataclass(frozen=True)
class UnresolvePreview:
    """What ``question_unresolve`` would undo, for staff to confirm first."""

    scores: int  # stored scores to delete, the crowd's included
    forecasters: int  # users among them
    settlements: int  # payouts and refunds on traders' accounts to reverse
    traders: int
    settled_net: Decimal  # their sum: what the reversals take back from the traders, net
    reopens: bool  # its close is still ahead, so forecasts and trades resume


def question_unresolve_preview(
    *, question: Question, now: dt.datetime | None = None
) -> UnresolvePreview:
    """What unresolving ``question`` now would delete and reverse (the same rows
    ``question_unresolve`` and ``market_unsettle`` select)."""
    now = now or timezone.now()
    scores = Score.objects.filter(question=question)
    settled = LedgerEntry.objects.filter(
        market__question=question,
        kind__in=SETTLEMENT_KINDS,
        reversal__isnull=True,
        account__isnull=False,
    )
    return UnresolvePreview(
        scores=scores.count(),
        forecasters=scores.filter(user__isnull=False).values("user").distinct().count(),
        settlements=settled.count(),
        traders=settled.values("account").distinct().count(),
        settled_net=settled.aggregate(net=Sum("amount"))["net"] or Decimal(0),
        reopens=question.closes_at > now,
    )


@transaction.atomic
def question_aggregates_rebuild(*, question: Question) -> int:
    """Recompute the crowd's history from every forecast; rewrite it only if it differs."""
    forecasts = list(
        Forecast.objects.filter(question=question)
        .order_by("starts_at", "id")
        .values_list("starts_at", "ends_at", "probability")
    )
    moments = {f[0].timestamp(): f[0] for f in forecasts}
    moments |= {f[1].timestamp(): f[1] for f in forecasts if f[1] is not None}
    history = aggregation.aggregate_history(
        [f[0].timestamp() for f in forecasts],
        [math.nan if f[1] is None else f[1].timestamp() for f in forecasts],
        [f[2] for f in forecasts],
    )
    wanted = [
        (moments[t], m if n else None, g if n else None, n)
        for t, m, g, n in zip(
            history.times.tolist(),
            history.median.tolist(),
            history.gmo.tolist(),
            history.n_forecasters.tolist(),
            strict=True,
        )
    ]
    last = wanted[-1] if wanted else (None, None, None, 0)
    Question.objects.filter(pk=question.pk).update(crowd_median=last[1], crowd_forecasters=last[3])
    points = AggregatePoint.objects.filter(question=question).order_by("at")
    if list(points.values_list("at", "median", "geometric_mean_odds", "forecasters")) == wanted:
        return 0
    points.delete()
    AggregatePoint.objects.bulk_create(
        AggregatePoint(question=question, at=at, median=m, geometric_mean_odds=g, forecasters=n)
        for at, m, g, n in wanted
    )
    return len(wanted)


# --- what the lifecycle sweep does -----------------------------------------------------------


@transaction.atomic
def question_auto_resolve(*, question_id: int, now: dt.datetime | None = None) -> bool:
    """Apply a due question's automatic outcome; False if there is nothing to do. Idempotent."""
    question = Question.objects.select_for_update().get(pk=question_id)
    now = now or timezone.now()
    if question.resolution or not question.auto_outcome or question.resolves_at > now:
        return False
    question_resolve(
        question_id=question.pk,
        resolution=question.auto_outcome,
        resolved_by=None,
        # The rule is "NO unless it happened by the close", so the outcome holds from then.
        effective_at=question.closes_at,
        note=f"Resolved automatically: nobody resolved it by "
        f"{question.resolves_at:%Y-%m-%d %H:%M} UTC.",
        automatic=True,
        now=now,
    )
    return True


@shared_task(name="forecasts.question_auto_resolve_task", **RETRY)
def question_auto_resolve_task(question_id: int) -> bool:
    return question_auto_resolve(question_id=question_id)


@dataclass(frozen=True)
class SweepResult:
    closed: int
    auto_resolve_enqueued: list[int]
    reminders_due: list[int]
    followups_enqueued: list[int]


def lifecycle_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Everything due by ``now``: closes, automatic outcomes, reminders, follow-ups.

    Safe to run any number of times and after any outage: each step selects what is still
    to do from the database, so a sweep after an hour's outage does that hour's work once.
    (Opening needs no write: a question's status is derived from ``opens_at``.)
    """
    now = now or timezone.now()
    closed = questions_close_due(now=now)
    due = Question.objects.filter(resolution="", resolves_at__lte=now)
    auto = list(due.exclude(auto_outcome="").values_list("pk", flat=True))
    with transaction.atomic():
        for question_id in auto:
            question_auto_resolve_task.delay_on_commit(question_id)
    reminders_due = list(_awaiting_reminder(now).values_list("pk", flat=True))
    if reminders_due:
        # Sent by a task, so that a refused send is retried without holding up the sweep.
        with transaction.atomic():
            questions_remind_staff_task.delay_on_commit()
    pending = list(
        Question.objects.exclude(resolution="")
        .filter(followups_done_at__isnull=True)
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        for question_id in pending:
            question_followups_task.delay_on_commit(question_id)
    return SweepResult(closed, auto, reminders_due, pending)


@shared_task(name="forecasts.lifecycle_sweep_task", **RETRY)
def lifecycle_sweep_task() -> dict[str, object]:
    """Beat runs this every minute; it catches up on everything due since the last run."""
    result = lifecycle_sweep()
    return {
        "closed": result.closed,
        "auto_resolve_enqueued": result.auto_resolve_enqueued,
        "reminders_due": result.reminders_due,
        "followups_enqueued": result.followups_enqueued,
    }


def _awaiting_reminder(now: dt.datetime) -> QuerySet[Question]:
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
    due = list(_awaiting_reminder(now).select_for_update().order_by("resolves_at", "pk"))
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
                {"type": t, "label": ScoreType(t).label, "value": scores[t]}
                for t in ("brier", "log", "baseline", "peer")
                if t in scores
            ],
            "scored": question.resolution in (Resolution.YES, Resolution.NO),
        },
        to=[user.email],
    )
    return True
