"""Writes: every change to questions and forecasts goes through these functions."""

from __future__ import annotations

import datetime as dt
import math

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from forecasts import aggregation
from forecasts.models import (
    PROBABILITY_MAX,
    PROBABILITY_MIN,
    AggregatePoint,
    Forecast,
    Question,
    Resolution,
)
from forecasts.score_services import question_scores_compute

PROBABILITY_ERROR = (
    f"Enter a probability between {PROBABILITY_MIN} and {PROBABILITY_MAX} "
    f"({PROBABILITY_MIN:.1%} to {PROBABILITY_MAX:.1%})."
)


def clean_probability(raw: object) -> float:
    """Parse a probability of YES from user input, refusing anything outside [0.001, 0.999]."""
    if isinstance(raw, bool) or raw is None:
        raise ValidationError({"probability": "A probability is required."})
    if isinstance(raw, str):
        raw = raw.strip()
        if not raw:
            raise ValidationError({"probability": "A probability is required."})
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError({"probability": "The probability must be a number."}) from None
    if not math.isfinite(value) or not PROBABILITY_MIN <= value <= PROBABILITY_MAX:
        raise ValidationError({"probability": PROBABILITY_ERROR})
    return value


@transaction.atomic
def forecast_submit(
    *,
    user: AbstractBaseUser,
    question_id: int,
    probability: object,
    rationale: str = "",
    now: dt.datetime | None = None,
) -> Forecast:
    """Record ``user``'s forecast, ending the one they had standing on the question."""
    value = clean_probability(probability)
    # Locking the question serialises concurrent submissions on the same question (PostgreSQL);
    # SQLite serialises writers through its IMMEDIATE transactions. The clock is read once the
    # lock is held, so a forecast never starts before the one it ends.
    question = Question.objects.select_for_update().get(pk=question_id)
    now = now or timezone.now()
    if not question.is_open_for_forecasts(now):
        raise ValidationError(
            {
                "question": f"This question is {question.status(now).label.lower()}; "
                "it does not accept forecasts."
            }
        )
    Forecast.objects.filter(question=question, user=user, ends_at__isnull=True).update(ends_at=now)
    forecast = Forecast.objects.create(
        question=question,
        user=user,
        probability=value,
        rationale=rationale.strip(),
        starts_at=now,
    )
    _aggregate_append(question=question, now=now)
    return forecast


@transaction.atomic
def forecast_withdraw(
    *, user: AbstractBaseUser, question_id: int, now: dt.datetime | None = None
) -> int:
    """End ``user``'s standing forecast on the question; returns how many were ended (0 or 1)."""
    question = Question.objects.select_for_update().get(pk=question_id)
    now = now or timezone.now()
    if not question.is_open_for_forecasts(now):
        raise ValidationError({"question": "This question is closed; forecasts are final."})
    ended = Forecast.objects.filter(question=question, user=user, ends_at__isnull=True).update(
        ends_at=now
    )
    if ended:
        _aggregate_append(question=question, now=now)
    return ended


def _aggregate_append(*, question: Question, now: dt.datetime) -> AggregatePoint:
    """Record the crowd's forecast from ``now``: read only the standing forecasts (cheap)."""
    standing = list(
        Forecast.objects.filter(question=question, ends_at__isnull=True)
        .order_by("starts_at", "id")
        .values_list("probability", flat=True)
    )
    median, gmo, count = aggregation.aggregate_now(standing)
    point, _ = AggregatePoint.objects.update_or_create(
        question=question,
        at=now,
        defaults={
            "median": median if count else None,
            "geometric_mean_odds": gmo if count else None,
            "forecasters": count,
        },
    )
    return point


@transaction.atomic
def questions_close_due(*, now: dt.datetime | None = None) -> int:
    """Record the close of every question whose ``closes_at`` has passed; safe to repeat."""
    now = now or timezone.now()
    due = Question.objects.filter(closes_at__lte=now, closed_at__isnull=True)
    # A question closes at its scheduled time, however late the sweep runs.
    return due.update(closed_at=F("closes_at"))


# --- resolution ------------------------------------------------------------------------------


@transaction.atomic
def question_resolve(
    *,
    question_id: int,
    resolution: str,
    resolved_by: AbstractBaseUser | None,
    effective_at: dt.datetime | None = None,
    note: str = "",
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
    if question.closed_at is None or question.closed_at > question.scoring_closes_at:
        question.closed_at = min(question.closes_at, effective_at, now)
    question.save()
    question_aggregates_rebuild(question=question)
    question_scores_compute(question=question, now=now)
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
    question.closed_at = question.closes_at if question.closes_at <= now else None
    question.save()
    question_scores_compute(question=question, now=now)
    return question


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
    points = AggregatePoint.objects.filter(question=question).order_by("at")
    if list(points.values_list("at", "median", "geometric_mean_odds", "forecasters")) == wanted:
        return 0
    points.delete()
    AggregatePoint.objects.bulk_create(
        AggregatePoint(question=question, at=at, median=m, geometric_mean_odds=g, forecasters=n)
        for at, m, g, n in wanted
    )
    return len(wanted)
