"""Writes: every change to questions and forecasts goes through these functions."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from forecasts.maths import aggregation, cdf_aggregation
from forecasts.maths.continuous import CDF_POINTS
from forecasts.maths.quantiles import cdf_from_quantiles
from forecasts.models import (
    CROWD_COLUMNS,
    AggregatePoint,
    ApiToken,
    AutoOutcome,
    Forecast,
    Profile,
    Question,
    QuestionKind,
    SourceDocument,
)
from forecasts.rules import (
    PASSAGE_NOT_IN_SOURCE,
    parse_cdf,
    parse_probabilities,
    passage_in_source,
    probability_in_range,
    recorded_close,
)


@transaction.atomic
def forecast_submit(
    *,
    user: User,
    question_id: int,
    probability: float | None = None,
    probabilities: Sequence[float] | None = None,
    cdf: Sequence[float] | None = None,
    quantiles: Mapping[float, float] | None = None,
    rationale: str = "",
    now: dt.datetime | None = None,
) -> Forecast:
    """Record ``user``'s forecast, ending the one they had standing on the question: on a
    binary question ``probability`` of YES in [0.001, 0.999]; on a multiple-choice one
    ``probabilities``, one per option in order, each at least 0.001, summing to 1 within 1e-6;
    on a numeric or date one either its ``cdf`` (201 values, ``forecasts.maths.continuous``)
    or ``quantiles`` ``{level: value}`` (values in the question's units, a date's as epoch
    seconds: ``rules.parse_quantiles`` reads them at the edge), turned into a CDF
    (``forecasts.maths.quantiles``) and kept beside it.
    """
    # Locking the question serialises concurrent submissions on the same question (PostgreSQL);
    # SQLite serialises writers through its IMMEDIATE transactions. The clock is read once the
    # lock is held, so a forecast never starts before the one it ends.
    question = Question.objects.select_for_update().get(pk=question_id)
    given = {
        "probability": probability,
        "probabilities": probabilities,
        "cdf": cdf,
        "quantiles": quantiles,
    }
    values = _forecast_values(question, {k: v for k, v in given.items() if v is not None})
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
        question=question, user=user, rationale=rationale.strip(), starts_at=now, **values
    )
    _aggregate_append(question=question, now=now)
    return forecast


# What a forecast on each kind of question gives, and how a refusal says so.
_TAKES = {
    QuestionKind.BINARY: ("probability", "is yes or no: give the probability of YES (probability)"),
    QuestionKind.MULTIPLE_CHOICE: (
        "probabilities",
        "is multiple choice: give one probability per option (probabilities)",
    ),
    QuestionKind.NUMERIC: ("cdf", "is numeric: give its distribution (cdf or quantiles)"),
    QuestionKind.DATE: ("cdf", "is a date question: give its distribution (cdf or quantiles)"),
}


def _forecast_values(question: Question, given: dict[str, object]) -> dict[str, object]:
    """The forecast's columns for the question's kind, from the fields ``given`` (those not
    None); a field the kind does not take is refused, naming it."""
    field, takes = _TAKES[QuestionKind(question.kind)]
    accepted = {"cdf", "quantiles"} if question.is_continuous else {field}
    for name in given:
        if name not in accepted:
            raise ValidationError({name: f"This question {takes}, not {name}."})
    if question.is_continuous:
        if len(given) != 1:
            raise ValidationError(
                {"cdf": "Give either the cdf or quantiles, not both."}
                if given
                else {"cdf": f"This question {takes}."}
            )
        scale = question.scale
        if "cdf" in given:
            return {"cdf": parse_cdf(given["cdf"], scale=scale)}
        levels = dict(sorted(cast("Mapping[float, float]", given["quantiles"]).items()))
        try:
            values = cdf_from_quantiles(levels, scale)
        except ValueError as error:
            raise ValidationError({"quantiles": str(error)}) from None
        return {"cdf": values.tolist(), "quantiles": {f"{k:g}": v for k, v in levels.items()}}
    if field not in given:
        required = (
            "A probability is required."
            if field == "probability"
            else "Give one probability per option."
        )
        raise ValidationError({field: required})
    if field == "probabilities":
        vector = parse_probabilities(
            list(cast("Sequence[float]", given[field])), options=len(question.option_labels)
        )
        return {"probabilities": list(vector)}
    return {"probability": probability_in_range(cast(float, given[field]))}


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
    """Record the crowd's forecast from ``now``: read only the standing forecasts (cheap).

    A binary question's crowd is a P(YES) (``median``, ``geometric_mean_odds``); a
    multiple-choice question's is a vector per option, renormalised (``medians``,
    ``geometric_means``); a numeric or date question's the recency-weighted mean CDF (``cdf``),
    each in the columns of its kind (``CROWD_COLUMNS``)."""
    columns = CROWD_COLUMNS[QuestionKind(question.kind)]
    standing = list(
        Forecast.objects.filter(question=question, ends_at__isnull=True)
        .order_by("starts_at", "id")
        .values_list(columns.forecast, flat=True)
    )
    values, count = _crowd_now(question, standing)
    shown = [value if count else None for value in values]
    Question.objects.filter(pk=question.pk).update(
        **{columns.question: shown[0], "crowd_forecasters": count}
    )
    point, _ = AggregatePoint.objects.update_or_create(
        question=question,
        at=now,
        defaults={**dict(zip(columns.points, shown, strict=True)), "forecasters": count},
    )
    return point


def _crowd_now(question: Question, standing: list[Any]) -> tuple[tuple[Any, ...], int]:
    """The aggregates of the standing forecasts (oldest first), in the order of the kind's
    ``CrowdColumns.points``, and how many stand. Every forecast carries its kind's value:
    forecast_submit refuses another kind's, and forecast_one_kind_of_probability holds."""
    if question.is_continuous:
        matrix = np.array(standing, dtype=np.float64).reshape(len(standing), CDF_POINTS)
        crowd = cdf_aggregation.aggregate_cdf_now(matrix)
        return (crowd.cdf.tolist(),), crowd.n_forecasters
    if question.is_multiple_choice:
        n = len(question.option_labels)
        matrix = np.array(standing, dtype=np.float64).reshape(len(standing), n)
        vectors = aggregation.aggregate_pmf_now(matrix)
        return (vectors.median.tolist(), vectors.gmo.tolist()), vectors.n_forecasters
    median, gmo, count = aggregation.aggregate_now(cast("list[float]", standing))
    return (median, gmo), count


@transaction.atomic
def profile_update(
    *, user: User, email: str, notify_on_resolution: bool, share_rationales: bool = True
) -> Profile:
    """Change a user's email and preferences together."""
    user.email = email.strip()
    user.save(update_fields=["email"])
    profile, _ = Profile.objects.update_or_create(
        user=user,
        defaults={
            "notify_on_resolution": notify_on_resolution,
            "share_rationales": share_rationales,
        },
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


@transaction.atomic
def question_create(
    *,
    source_id: int,
    title: str,
    resolution_criteria: str,
    passage: str,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    resolves_at: dt.datetime,
    body: str = "",
    kind: str = QuestionKind.BINARY,
    options: Sequence[str] = (),
    auto_outcome: str = AutoOutcome.NONE,
    auto_option: int | None = None,
    range_min: float | None = None,
    range_max: float | None = None,
    open_lower_bound: bool = False,
    open_upper_bound: bool = False,
    log_scale: bool = False,
    unit: str = "",
    key: str = "",
    now: dt.datetime | None = None,
) -> Question:
    """Create a question drawn from a source, its ``passage`` verbatim in the source's text.

    A multiple-choice question has its option labels in order (binary: none), and its
    automatic outcome, ``auto_outcome="option"``, names an option by index. A numeric or date
    question has its range (a date's in UTC epoch seconds), bounds, scale and unit, as
    ``forecasts.rules.question_outcomes`` checks them. Without a ``key`` one is made from the
    title, unique. A question whose close has passed is recorded closed, as the sweep would
    record it.
    """
    # Locked so that the source's text cannot change between the check and the write.
    source = SourceDocument.objects.select_for_update().get(pk=source_id)
    if not passage_in_source(passage, source.text):
        raise ValidationError({"passage": PASSAGE_NOT_IN_SOURCE})
    if key and Question.objects.filter(key=key).exists():
        raise ValidationError({"key": "A question with this key exists already."})
    now = now or timezone.now()
    return Question.objects.create(
        key=key or _question_key_from(title),
        source=source,
        title=title,
        body=body,
        resolution_criteria=resolution_criteria,
        passage=passage,
        kind=kind,
        options=list(options),
        opens_at=opens_at,
        closes_at=closes_at,
        resolves_at=resolves_at,
        closed_at=recorded_close(closes_at=closes_at, now=now),
        auto_outcome=auto_outcome,
        auto_option=auto_option,
        range_min=range_min,
        range_max=range_max,
        open_lower_bound=open_lower_bound,
        open_upper_bound=open_upper_bound,
        log_scale=log_scale,
        unit=unit,
    )


def _question_key_from(title: str) -> str:
    """A key no question has: the title as a slug, numbered from 2 if that one is taken."""
    limit = Question._meta.get_field("key").max_length or 100
    base = slugify(title)[:limit].strip("-") or "question"
    # Room for a numeric suffix: every key the loop below may try starts with this.
    stem = base[: limit - 8].rstrip("-")
    taken = set(Question.objects.filter(key__startswith=stem).values_list("key", flat=True))
    if base not in taken:
        return base
    numbered = (f"{stem}-{number}" for number in itertools.count(2))
    return next(key for key in numbered if key not in taken)
