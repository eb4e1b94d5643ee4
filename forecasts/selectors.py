"""Reads: querysets with their joins applied, and plain numbers for the pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Q, QuerySet

from forecasts.models import ApiToken, Forecast, Profile, Question, QuestionStatus, SourceDocument

CLOSING_SOON = dt.timedelta(days=30)

LIST_FILTERS = {
    "open": "Open",
    "closing": "Closing soon",
    "awaiting": "Awaiting resolution",
    "resolved": "Resolved",
    "all": "All",
}


# What a list shows of a question: its dates, status and crowd, not its long texts. The API's
# question list reads exactly these values (``.values(*QUESTION_ROW_FIELDS)``).
QUESTION_ROW_FIELDS = (
    "id",
    "key",
    "title",
    "opens_at",
    "closes_at",
    "resolves_at",
    "closed_at",
    "resolution",
    "resolved_at",
    "resolved_automatically",
    "auto_outcome",
    "crowd_median",
    "crowd_forecasters",
    "source__key",
)
# The web list also names the source.
LIST_FIELDS = (*QUESTION_ROW_FIELDS, "source__title")


def _status_q(status: str, now: dt.datetime) -> Q:
    unresolved = Q(resolution="")
    is_open = unresolved & Q(opens_at__lte=now, closes_at__gt=now, closed_at__isnull=True)
    match status:
        case QuestionStatus.UPCOMING:
            return unresolved & Q(opens_at__gt=now)
        case QuestionStatus.OPEN:
            return is_open
        case "closing":
            return is_open & Q(closes_at__lte=now + CLOSING_SOON)
        case QuestionStatus.CLOSED:
            return unresolved & Q(resolves_at__gt=now) & ~is_open & Q(opens_at__lte=now)
        case QuestionStatus.AWAITING:
            return unresolved & Q(resolves_at__lte=now)
        case QuestionStatus.RESOLVED:
            return ~unresolved
    return Q()


def question_list(*, now: dt.datetime, status: str = "all", search: str = "") -> QuerySet[Question]:
    """Questions with a given (derived) status, matching ``search``."""
    # The crowd's size and median are kept on the question by every forecast write, so the
    # list needs no join over forecasts.
    questions = (
        Question.objects.filter(_status_q(status, now)).select_related("source").only(*LIST_FIELDS)
    )
    search = search.strip()
    if search:
        questions = questions.filter(
            Q(title__icontains=search) | Q(body__icontains=search) | Q(passage__icontains=search)
        )
    if status == QuestionStatus.RESOLVED:
        return questions.order_by("-resolved_at", "-id")
    return questions.order_by("closes_at", "id")


def question_status_counts(*, now: dt.datetime) -> dict[str, int]:
    return {key: Question.objects.filter(_status_q(key, now)).count() for key in LIST_FILTERS}


def question_get(*, question_id: int) -> Question:
    return Question.objects.select_related("source", "resolved_by").get(pk=question_id)


@dataclass(frozen=True)
class CrowdNow:
    """The crowd's forecast in force now: recency-weighted median and geometric mean of odds."""

    median: float | None
    geometric_mean_odds: float | None
    forecasters: int


def question_crowd_now(*, question: Question) -> CrowdNow:
    """The latest point of the crowd's history (kept up to date on every forecast write)."""
    point = question.aggregates.order_by("-at").first()
    if point is None or not point.forecasters:
        return CrowdNow(median=None, geometric_mean_odds=None, forecasters=0)
    return CrowdNow(
        median=point.median,
        geometric_mean_odds=point.geometric_mean_odds,
        forecasters=point.forecasters,
    )


def forecast_history(*, question: Question, user: AbstractBaseUser) -> QuerySet[Forecast]:
    return Forecast.objects.filter(question=question, user=user).order_by("-starts_at", "-id")


def user_standing_forecast(*, question: Question, user: AbstractBaseUser) -> Forecast | None:
    return Forecast.objects.filter(question=question, user=user, ends_at__isnull=True).first()


def user_forecasts(*, user: AbstractBaseUser) -> QuerySet[Forecast]:
    """Every forecast the user has made, newest first, with the question loaded."""
    return (
        Forecast.objects.filter(user=user).select_related("question").order_by("-starts_at", "-id")
    )


@dataclass(frozen=True)
class QuestionSummary:
    """A user's latest forecast on one question and how often they updated it."""

    question: Question
    latest: Forecast
    forecast_count: int


def user_question_summaries(*, user: AbstractBaseUser) -> list[QuestionSummary]:
    latest: dict[int, Forecast] = {}
    counts: dict[int, int] = {}
    for forecast in user_forecasts(user=user):
        latest.setdefault(forecast.question_id, forecast)
        counts[forecast.question_id] = counts.get(forecast.question_id, 0) + 1
    return [
        QuestionSummary(question=f.question, latest=f, forecast_count=counts[qid])
        for qid, f in latest.items()
    ]


def source_get(*, key: str) -> SourceDocument | None:
    return SourceDocument.objects.filter(key=key).first()


def profile_get(*, user: AbstractBaseUser) -> Profile:
    """The user's preferences, or the defaults if they never changed them (nothing written)."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)


def user_tokens(*, user: AbstractBaseUser) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
