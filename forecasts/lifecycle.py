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
from typing import Any

import numpy as np
from celery import shared_task
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from crux.tasks import RETRY
from forecasts.maths import aggregation, cdf_aggregation
from forecasts.maths.continuous import CDF_POINTS
from forecasts.models import (
    CROWD_COLUMNS,
    AggregatePoint,
    Forecast,
    Question,
    QuestionKind,
    Resolution,
    ResolutionNotice,
    Score,
    outcome_value_text,
)
from forecasts.notices import (
    question_followups_task,
    questions_awaiting_reminder,
    questions_remind_staff_task,
)
from forecasts.rules import parse_outcome_value
from forecasts.scores.services import question_scores_compute
from markets.models import SETTLEMENT_KINDS, LedgerEntry
from markets.services import market_settle, market_unsettle

logger = logging.getLogger(__name__)


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
    option: int | None = None,
    value: float | None = None,
    effective_at: dt.datetime | None = None,
    note: str = "",
    automatic: bool = False,
    now: dt.datetime | None = None,
) -> Question:
    """Resolve a question and store its scores, in one transaction.

    A binary question resolves YES, NO, annulled or ambiguous; a multiple-choice one to an
    option (``resolution="option"`` and the option's index), annulled or ambiguous; a
    numeric or date one to a ``value`` (``resolution="value"``; a date's in UTC epoch
    seconds) within its range or beyond an open bound, below or above an open bound
    (``below_lower_bound``, ``above_upper_bound``), annulled or ambiguous.
    ``effective_at`` (default: now) is when the outcome became known; if it precedes the
    scheduled close, scoring ends there. Resolving again with the same outcome changes
    nothing; a different outcome must be preceded by an unresolve.
    """
    question = Question.objects.select_for_update().get(pk=question_id)
    _check_outcome(question, resolution, option, value)
    now = now or timezone.now()
    effective_at = effective_at or now
    if question.resolution:
        if (question.resolution, question.resolved_option, question.resolved_value) != (
            resolution,
            option,
            value,
        ):
            raise ValidationError(
                {"resolution": f"Already resolved {question.resolution_label}; unresolve it first."}
            )
        question_scores_compute(question=question, now=now)
        market_settle(question_id=question.pk, now=now)
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
    question.resolved_option = option
    question.resolved_value = value
    question.resolved_at = effective_at
    question.resolved_by = resolved_by
    question.resolution_note = note.strip()
    question.resolved_automatically = automatic
    question.followups_done_at = None
    if question.closed_at is None or question.closed_at > question.scoring_closes_at:
        question.closed_at = min(question.closes_at, effective_at, now)
    question.save()
    question_aggregates_rebuild(question_id=question.pk)
    question_scores_compute(question=question, now=now)
    market_settle(question_id=question.pk, now=now)
    question_followups_task.delay_on_commit(question.pk)
    return question


def _check_outcome(
    question: Question, resolution: str, option: int | None, value: float | None
) -> None:
    """The outcomes the question's kind takes; refused naming the field otherwise."""
    allowed: tuple[Resolution, ...]
    if question.is_multiple_choice:
        allowed = (Resolution.OPTION, *NO_OUTCOME)
    elif question.is_continuous:
        allowed = (Resolution.VALUE, Resolution.BELOW, Resolution.ABOVE, *NO_OUTCOME)
    else:
        allowed = (Resolution.YES, Resolution.NO, *NO_OUTCOME)
    if resolution not in allowed:
        raise ValidationError({"resolution": f"Choose one of: {', '.join(allowed)}."})
    if resolution != Resolution.OPTION and option is not None:
        raise ValidationError({"option": "Only a resolution to an option names one."})
    if resolution != Resolution.VALUE and value is not None:
        raise ValidationError({"value": "Only a resolution to a value names one."})
    if resolution == Resolution.OPTION:
        if option is None or not 0 <= option < len(question.option_labels):
            labels = "; ".join(f"{i}: {label}" for i, label in enumerate(question.option_labels))
            raise ValidationError({"option": f"Choose one of the question's options ({labels})."})
    elif question.is_continuous and resolution != Resolution.VALUE:
        _check_bound_passed(question, resolution)
    elif resolution == Resolution.VALUE:
        _check_value(question, value)


# What a resolution may say besides an outcome, on a question of any kind.
NO_OUTCOME = (Resolution.ANNULLED, Resolution.AMBIGUOUS)


def _check_bound_passed(question: Question, resolution: str) -> None:
    """Below or above the range only where that bound is open: a closed bound says the
    outcome cannot lie beyond it."""
    if resolution == Resolution.BELOW and not question.open_lower_bound:
        raise ValidationError(
            {"resolution": "The range's lower bound is closed: the outcome cannot lie below it."}
        )
    if resolution == Resolution.ABOVE and not question.open_upper_bound:
        raise ValidationError(
            {"resolution": "The range's upper bound is closed: the outcome cannot lie above it."}
        )


def _check_value(question: Question, value: float | None) -> None:
    """A finite value (a date's within the years 1 to 9999) within the range, or beyond a
    bound that is open."""
    if not isinstance(value, int | float):
        raise ValidationError({"value": "Give the value that happened."})
    value = parse_outcome_value(value, kind=question.kind)
    low, high = question.range_min, question.range_max
    assert low is not None and high is not None
    if value < low and not question.open_lower_bound:
        raise ValidationError(
            {"value": f"Below the range's closed lower bound, {_shown(question, low)}."}
        )
    if value > high and not question.open_upper_bound:
        raise ValidationError(
            {"value": f"Above the range's closed upper bound, {_shown(question, high)}."}
        )


def _shown(question: Question, value: float) -> str:
    return outcome_value_text(kind=question.kind, value=value, unit=question.unit)


@transaction.atomic
def question_unresolve(*, question_id: int, now: dt.datetime | None = None) -> Question:
    """Undo a resolution exactly: scores go, and a question whose close is still ahead reopens."""
    question = Question.objects.select_for_update().get(pk=question_id)
    now = now or timezone.now()
    if not question.resolution:
        return question
    question.resolution = ""
    question.resolved_option = None
    question.resolved_value = None
    question.resolved_at = None
    question.resolved_by = None
    question.resolution_note = ""
    question.resolved_automatically = False
    question.followups_done_at = None
    question.closed_at = question.closes_at if question.closes_at <= now else None
    question.save()
    question_scores_compute(question=question, now=now)
    market_unsettle(question_id=question.pk, now=now)
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
def question_aggregates_rebuild(*, question_id: int) -> int:
    """Recompute the crowd's history from every forecast; rewrite it only if it differs."""
    # Locked as ``forecast_submit`` locks it, so no forecast lands between the read and the write.
    question = Question.objects.select_for_update().get(pk=question_id)
    # One history for every kind: a value (or vector, or CDF) per aggregate per point, in the
    # columns of its kind.
    columns = CROWD_COLUMNS[QuestionKind(question.kind)]
    forecasts = list(
        Forecast.objects.filter(question=question)
        .order_by("starts_at", "id")
        .values_list("starts_at", "ends_at", columns.forecast)
    )
    moments = {f[0].timestamp(): f[0] for f in forecasts}
    moments |= {f[1].timestamp(): f[1] for f in forecasts if f[1] is not None}
    starts = [f[0].timestamp() for f in forecasts]
    ends = [math.nan if f[1] is None else f[1].timestamp() for f in forecasts]
    times, aggregates, counts = _crowd_history(question, starts, ends, [f[2] for f in forecasts])
    wanted = [
        (moments[t], *(value if c else None for value in values), c)
        for t, *values, c in zip(times, *aggregates, counts, strict=True)
    ]
    last = wanted[-1] if wanted else (None, *(None for _ in columns.points), 0)
    Question.objects.filter(pk=question.pk).update(
        **{columns.question: last[1], "crowd_forecasters": last[-1]}
    )
    points = AggregatePoint.objects.filter(question=question).order_by("at")
    stored = list(points.values_list("at", *columns.points, "forecasters"))
    # Each forecast's append weighs the standing forecasts with a factor that the history's
    # blocks do not share: a mean CDF may move in its last bits, a median does not.
    if _same_history(stored, wanted, atol=1e-12 if question.is_continuous else 0.0):
        return 0
    points.delete()
    AggregatePoint.objects.bulk_create(
        AggregatePoint(
            question=question,
            at=row[0],
            forecasters=row[-1],
            **dict(zip(columns.points, row[1:-1], strict=True)),
        )
        for row in wanted
    )
    return len(wanted)


def _crowd_history(
    question: Question, starts: list[float], ends: list[float], values: list[Any]
) -> tuple[list[float], list[list[Any]], list[int]]:
    """The crowd's history of the question's forecasts: the times its points start, each
    aggregate's value per point (in the order of the kind's ``CrowdColumns.points``) and the
    number of forecasts standing."""
    history: (
        aggregation.AggregateHistory
        | aggregation.PmfAggregateHistory
        | cdf_aggregation.CdfAggregateHistory
    )
    if question.is_continuous:
        matrix = np.array(values, dtype=np.float64).reshape(len(values), CDF_POINTS)
        history = cdf_aggregation.aggregate_cdf_history(starts, ends, matrix)
        aggregates = [history.cdf.tolist()]
    else:
        if question.is_multiple_choice:
            n = len(question.option_labels)
            matrix = np.array(values, dtype=np.float64).reshape(len(values), n)
            history = aggregation.aggregate_pmf_history(starts, ends, matrix)
        else:
            history = aggregation.aggregate_history(starts, ends, values)
        aggregates = [history.median.tolist(), history.gmo.tolist()]
    return history.times.tolist(), aggregates, history.n_forecasters.tolist()


def _same_history(
    stored: list[tuple[Any, ...]], wanted: list[tuple[Any, ...]], atol: float
) -> bool:
    """Whether the stored points are the wanted ones: the same moments and counts, and values
    within ``atol`` of each other (0: equal)."""
    if [(row[0], row[-1]) for row in stored] != [(row[0], row[-1]) for row in wanted]:
        return False
    for have_row, want_row in zip(stored, wanted, strict=True):
        for have, want in zip(have_row[1:-1], want_row[1:-1], strict=True):
            if have is None or want is None:
                if have is not want:
                    return False
            elif not np.allclose(have, want, rtol=0, atol=atol):
                return False
    return True


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
        option=question.auto_option,
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
    reminders_due = list(questions_awaiting_reminder(now).values_list("pk", flat=True))
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
