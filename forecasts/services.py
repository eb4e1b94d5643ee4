"""Writes: every change to questions and forecasts goes through these functions."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from forecasts.maths import aggregation
from forecasts.models import AggregatePoint, ApiToken, Forecast, Profile, Question
from forecasts.rules import probability_in_range


@transaction.atomic
def forecast_submit(
    *,
    user: User,
    question_id: int,
    probability: float,
    rationale: str = "",
    now: dt.datetime | None = None,
) -> Forecast:
    """Record ``user``'s forecast of YES, ``probability`` in [0.001, 0.999], ending the one they
    had standing on the question."""
    value = probability_in_range(probability)
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
def forecast_withdraw(*, user: User, question_id: int, now: dt.datetime | None = None) -> int:
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
    Question.objects.filter(pk=question.pk).update(
        crowd_median=median if count else None, crowd_forecasters=count
    )
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
def profile_update(*, user: User, email: str, notify_on_resolution: bool) -> Profile:
    """Change a user's email and notification preference together."""
    user.email = email.strip()
    user.save(update_fields=["email"])
    profile, _ = Profile.objects.update_or_create(
        user=user, defaults={"notify_on_resolution": notify_on_resolution}
    )
    return profile


TOKEN_PREFIX = "crux_"  # noqa: S105 - a public marker, not a secret


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, user: User, name: str, now: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a named token; returns it and the secret, which is never stored or shown again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the script that uses it."})
    if len(name) > 100:
        raise ValidationError({"name": "Keep the name under 100 characters."})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        key_hash=token_hash(secret),
        created_at=now or timezone.now(),
    )
    return token, secret


def api_token_revoke(*, user: User, token_id: int, now: dt.datetime | None = None) -> ApiToken:
    """Revoke one of the user's own tokens (another user's token is "not found")."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise ApiToken.DoesNotExist("No such token.")
    if token.revoked_at is None:
        token.revoked_at = now or timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_tokens_revoke_all(*, user: User, now: dt.datetime | None = None) -> int:
    """Revoke every active token of the user (their password changed: whoever knew the old
    one may have made tokens with it); returns how many were revoked."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now()
    )
