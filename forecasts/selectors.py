"""Reads: querysets with their joins applied, and plain numbers for the pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, Model, OuterRef, Q, QuerySet, Subquery

from forecasts.maths.continuous import prob_below
from forecasts.models import (
    PRACTICE_SOURCE_KEY,
    SCORABLE_RESOLUTIONS,
    AggregatePoint,
    ApiToken,
    Forecast,
    Profile,
    Question,
    QuestionStatus,
    SourceDocument,
    outcome_value_text,
)

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
    # Multiple choice: the options, the one that happened or applies automatically, the crowd.
    "kind",
    "options",
    "resolved_option",
    "auto_option",
    "crowd_medians",
    # Numeric and date: the range, and the value that happened.
    "range_min",
    "range_max",
    "open_lower_bound",
    "open_upper_bound",
    "log_scale",
    "unit",
    "resolved_value",
    "crowd_cdf",
)
# The web list also names the source (and shows a multiple-choice question's leading option).
LIST_FIELDS = (*QUESTION_ROW_FIELDS, "source__title")
# What ``with_public_crowd`` annotates: the crowd as of the last step end.
CROWD_STEP_FIELDS = (
    "crowd_step_median",
    "crowd_step_forecasters",
    "crowd_step_medians",
    "crowd_step_cdf",
)


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


def _search_q(search: str) -> Q:
    """Questions matching ``search`` in the title, the background or the passage."""
    search = search.strip()
    if not search:
        return Q()
    return Q(title__icontains=search) | Q(body__icontains=search) | Q(passage__icontains=search)


PRACTICE_Q = Q(source__key=PRACTICE_SOURCE_KEY)


def question_list(
    *, now: dt.datetime, status: str = "all", search: str = "", include_practice: bool = True
) -> QuerySet[Question]:
    """Questions with a given (derived) status, matching ``search``, each with the crowd the
    public may see (``with_public_crowd``); the demo's practice questions only with
    ``include_practice``."""
    # The crowd's size and median are kept on the question by every forecast write, and its
    # public value is one indexed lookup per row, so the list needs no join over forecasts.
    questions = Question.objects.filter(_status_q(status, now), _search_q(search))
    if not include_practice:
        questions = questions.exclude(PRACTICE_Q)
    questions = with_public_crowd(questions.select_related("source").only(*LIST_FIELDS), now=now)
    if status == QuestionStatus.RESOLVED:
        return questions.order_by("-resolved_at", "-id")
    return questions.order_by("closes_at", "id")


PRACTICE_COUNT = "practice"


def question_status_counts(
    *, now: dt.datetime, search: str = "", include_practice: bool = True
) -> dict[str, int]:
    """How many questions each tab of the list holds (``LIST_FILTERS``), matching ``search``
    as ``question_list`` does, and how many of those matching are practice questions
    (``PRACTICE_COUNT``, whether or not they are included): one query of conditional counts."""
    listed = Q() if include_practice else ~PRACTICE_Q
    counts = {key: Count("pk", filter=_status_q(key, now) & listed) for key in LIST_FILTERS}
    counts[PRACTICE_COUNT] = Count("pk", filter=PRACTICE_Q)
    return Question.objects.filter(_search_q(search)).aggregate(**counts)


def question_get(*, question_id: int) -> Question:
    return Question.objects.select_related("source", "resolved_by", "rung_of").get(pk=question_id)


# --- the crowd as the public sees it ---------------------------------------------------------
#
# Forecasts are private until their question is scored (resolved YES, NO or to an option).
# Until then the public sees the crowd only as it stood at the end of each whole hour
# (``CROWD_STEP``), never between, so no value can be timed to one forecast; only at moments
# when at least ``settings.CROWD_MIN_FORECASTERS`` forecasts stood, so the median of two (from
# which either forecaster learns the other's) is never shown; and only its median: the
# geometric mean of odds is a mean, so two consecutive values and the counts would give away
# the one forecast that changed between them, whereas a median is one of the standing values
# and says nothing of whose. A multiple-choice question's crowd is a median per option, shown
# by the same rule. A numeric or date question's crowd is its recency-weighted mean CDF
# (Metaculus's), shown by the same rule: at step ends, where enough forecasts stood. Being a
# mean, it is not as discreet as a median: when a single forecast is added within one step,
# the two step ends' CDFs and counts determine it (an older forecast's weight does not change
# when a newer one arrives). How many forecasts stand now is public at once: it tells nothing
# of what they say. Once scored, every forecast is in the scores, and the whole history is
# public as recorded.

CROWD_STEP = dt.timedelta(hours=1)


def crowd_is_public(resolution: str) -> bool:
    """Whether the crowd's whole history is public: once its question is scored."""
    return resolution in SCORABLE_RESOLUTIONS


def crowd_step_end(now: dt.datetime) -> dt.datetime:
    """The end of the last whole step (hour, UTC) at ``now``: what the public sees is as of it."""
    step = CROWD_STEP.total_seconds()
    return dt.datetime.fromtimestamp(now.timestamp() // step * step, tz=dt.UTC)


def _first_step_end_from(moment: dt.datetime) -> dt.datetime:
    """The first step end at or after ``moment``: when a point made then is first seen."""
    start = crowd_step_end(moment)
    return start if start == moment else start + CROWD_STEP


def crowd_median_shown(median: float | None, forecasters: int | None) -> float | None:
    """The median of ``forecasters`` standing forecasts, or None below the public minimum."""
    if forecasters is None or forecasters < settings.CROWD_MIN_FORECASTERS:
        return None
    return median


def crowd_medians_shown(
    medians: list[float] | None, forecasters: int | None
) -> tuple[float, ...] | None:
    """``crowd_median_shown`` of a multiple-choice crowd: its medians per option, or None."""
    if medians is None or forecasters is None or forecasters < settings.CROWD_MIN_FORECASTERS:
        return None
    return tuple(medians)


def crowd_cdf_shown(cdf: list[float] | None, forecasters: int | None) -> tuple[float, ...] | None:
    """``crowd_median_shown`` of a numeric or date crowd: its mean CDF, or None."""
    return crowd_medians_shown(cdf, forecasters)


_Row = TypeVar("_Row", bound=Model)


def with_public_crowd(
    queryset: QuerySet[_Row], *, now: dt.datetime, question: str = "pk"
) -> QuerySet[_Row]:
    """Annotate each row (a question, or a row whose field ``question`` is one) with the crowd
    as of the last step end: ``crowd_step_median``, ``crowd_step_forecasters``, (multiple
    choice) ``crowd_step_medians`` and (numeric or date) ``crowd_step_cdf``; read the public
    value with ``public_crowd_median`` (or ``public_crowd_medians``, ``public_crowd_cdf``).
    One indexed subquery each, no extra query."""
    point = AggregatePoint.objects.filter(
        question=OuterRef(question), at__lte=crowd_step_end(now)
    ).order_by("-at")
    # django-stubs' plugin types annotate() on a queryset of a type variable as one of Model.
    return queryset.annotate(  # type: ignore[return-value]
        crowd_step_median=Subquery(point.values("median")[:1]),
        crowd_step_forecasters=Subquery(point.values("forecasters")[:1]),
        crowd_step_medians=Subquery(point.values("medians")[:1]),
        crowd_step_cdf=Subquery(point.values("cdf")[:1]),
    )


def public_crowd_median(
    *,
    resolution: str,
    crowd_median: float | None,
    step_median: float | None,
    step_forecasters: int | None,
) -> float | None:
    """The crowd's median as anyone may see it: the current one once the question is scored,
    else the one at the last step end if enough forecasts stood then (see above)."""
    if crowd_is_public(resolution):
        return crowd_median
    return crowd_median_shown(step_median, step_forecasters)


def question_public_crowd_median(question: Question) -> float | None:
    """``public_crowd_median`` of a question from ``question_list`` (or ``with_public_crowd``);
    without the annotations nothing is shown, rather than the private current value."""
    return public_crowd_median(
        resolution=question.resolution,
        crowd_median=question.crowd_median,
        step_median=getattr(question, "crowd_step_median", None),
        step_forecasters=getattr(question, "crowd_step_forecasters", None),
    )


def public_crowd_medians(
    *,
    resolution: str,
    crowd_medians: list[float] | None,
    step_medians: list[float] | None,
    step_forecasters: int | None,
) -> tuple[float, ...] | None:
    """``public_crowd_median`` of a multiple-choice crowd: its medians per option, or None."""
    if crowd_is_public(resolution):
        return None if crowd_medians is None else tuple(crowd_medians)
    return crowd_medians_shown(step_medians, step_forecasters)


def question_public_crowd_medians(question: Question) -> tuple[float, ...] | None:
    """A multiple-choice question's medians per option as anyone may see them (as
    ``question_public_crowd_median``); None for a binary question or where not shown."""
    return public_crowd_medians(
        resolution=question.resolution,
        crowd_medians=question.crowd_medians,
        step_medians=getattr(question, "crowd_step_medians", None),
        step_forecasters=getattr(question, "crowd_step_forecasters", None),
    )


def public_crowd_cdf(
    *,
    resolution: str,
    crowd_cdf: list[float] | None,
    step_cdf: list[float] | None,
    step_forecasters: int | None,
) -> tuple[float, ...] | None:
    """``public_crowd_median`` of a numeric or date crowd: its mean CDF, or None."""
    if crowd_is_public(resolution):
        return None if crowd_cdf is None else tuple(crowd_cdf)
    return crowd_cdf_shown(step_cdf, step_forecasters)


def question_public_crowd_cdf(question: Question) -> tuple[float, ...] | None:
    """A numeric or date question's crowd CDF as anyone may see it (as
    ``question_public_crowd_median``); None on the other kinds or where not shown."""
    return public_crowd_cdf(
        resolution=question.resolution,
        crowd_cdf=question.crowd_cdf,
        step_cdf=getattr(question, "crowd_step_cdf", None),
        step_forecasters=getattr(question, "crowd_step_forecasters", None),
    )


@dataclass(frozen=True)
class CrowdNow:
    """The crowd's forecast as the public sees it: recency-weighted median and geometric mean
    of odds (None where not shown) of ``forecasters`` standing forecasts, as of ``as_of``
    (a step end while forecasts are private; None once the question is scored: the latest).
    A multiple-choice question's are per option, ``medians`` and ``geometric_means`` (where
    shown; ``median`` and ``geometric_mean_odds`` are None); a numeric or date question's is
    its mean ``cdf`` (where shown, by the median's rule)."""

    median: float | None
    geometric_mean_odds: float | None
    forecasters: int
    as_of: dt.datetime | None = None
    medians: tuple[float, ...] | None = None
    geometric_means: tuple[float, ...] | None = None
    cdf: tuple[float, ...] | None = None

    @property
    def withheld(self) -> bool:
        """Forecasts stood, but too few to show their crowd."""
        return self.forecasters > 0 and self.median is None


def question_crowd_now(*, question: Question, now: dt.datetime) -> CrowdNow:
    """The crowd as the public sees it now (one query): the latest point of its history once
    the question is scored, else the point in force at the last step end."""
    points = question.aggregates.order_by("-at")
    if crowd_is_public(question.resolution):
        point = points.first()
        if point is None or not point.forecasters:
            return CrowdNow(median=None, geometric_mean_odds=None, forecasters=0)
        return CrowdNow(
            point.median,
            point.geometric_mean_odds,
            point.forecasters,
            medians=_vector(point.medians),
            geometric_means=_vector(point.geometric_means),
            cdf=_vector(point.cdf),
        )
    as_of = crowd_step_end(now)
    point = points.filter(at__lte=as_of).first()
    if point is None:
        return CrowdNow(median=None, geometric_mean_odds=None, forecasters=0, as_of=as_of)
    return CrowdNow(
        median=crowd_median_shown(point.median, point.forecasters),
        geometric_mean_odds=None,
        forecasters=point.forecasters,
        as_of=as_of,
        medians=crowd_medians_shown(point.medians, point.forecasters),
        cdf=crowd_cdf_shown(point.cdf, point.forecasters),
    )


def _vector(values: list[float] | None) -> tuple[float, ...] | None:
    return None if values is None else tuple(values)


@dataclass(frozen=True)
class CrowdPoint:
    """The crowd from ``at`` until the next point: as ``AggregatePoint``, where not shown None
    (``medians`` and ``geometric_means``: a multiple-choice question's, per option; ``cdf``:
    a numeric or date question's mean CDF)."""

    at: dt.datetime
    median: float | None
    geometric_mean_odds: float | None
    forecasters: int
    medians: tuple[float, ...] | None = None
    geometric_means: tuple[float, ...] | None = None
    cdf: tuple[float, ...] | None = None


def question_crowd_history(*, question: Question, now: dt.datetime) -> list[CrowdPoint]:
    """The crowd's history as the public sees it, oldest first (one query).

    Once the question is scored: every point as recorded. Before: one point per step end up to
    the last one, the crowd in force at that moment (stamped with it), its median only and only
    where enough forecasts stood; a step in which nothing visible changed adds no point.
    """
    points = question.aggregates.order_by("at")
    if crowd_is_public(question.resolution):
        return [
            CrowdPoint(
                p.at,
                p.median,
                p.geometric_mean_odds,
                p.forecasters,
                _vector(p.medians),
                _vector(p.geometric_means),
                _vector(p.cdf),
            )
            for p in points
        ]
    history: list[CrowdPoint] = []
    for at, median, medians, cdf, forecasters in points.filter(
        at__lte=crowd_step_end(now)
    ).values_list("at", "median", "medians", "cdf", "forecasters"):
        point = CrowdPoint(
            _first_step_end_from(at),
            crowd_median_shown(median, forecasters),
            None,
            forecasters,
            crowd_medians_shown(medians, forecasters),
            cdf=crowd_cdf_shown(cdf, forecasters),
        )
        if history and history[-1].at == point.at:
            history.pop()  # a later point in the same step is the one in force at its end
        last = history[-1] if history else None
        if last and (last.median, last.medians, last.cdf, last.forecasters) == (
            point.median,
            point.medians,
            point.cdf,
            point.forecasters,
        ):
            continue
        history.append(point)
    return history


# --- coherence: a numeric or date question's ladder of yes/no rungs ----------------------------
#
# A rung resolves YES iff its question's outcome is at most its value, so if the two crowds were
# coherent the rung's P(YES) would equal P(outcome <= value) by the question's crowd CDF. Each
# crowd is shown as the public may see it (above), so a crowd not shown leaves its side empty.


@dataclass(frozen=True)
class LadderRow:
    """One rung of a numeric or date question: the rung, its value (a date's UTC epoch seconds)
    and how a page names it, its crowd's P(YES) and the P(outcome <= value) its question's
    crowd implies, each as the public sees it (None where not shown)."""

    question: Question
    value: float
    value_text: str
    crowd: float | None
    implied: float | None

    @property
    def gap(self) -> float | None:
        """The rung's crowd less what its question's crowd implies, in percentage points."""
        if self.crowd is None or self.implied is None:
            return None
        return (self.crowd - self.implied) * 100


def _implied(question: Question, now: dt.datetime, values: list[float]) -> list[float | None]:
    """P(outcome <= value) for each value by ``question``'s public crowd CDF (one query)."""
    cdf = question_crowd_now(question=question, now=now).cdf
    if cdf is None:
        return [None] * len(values)
    return [float(p) for p in prob_below(cdf, question.scale.position(values))]


def question_ladder(*, question: Question, now: dt.datetime) -> list[LadderRow]:
    """A numeric or date question's rungs by value, each with its crowd beside what the
    question's crowd implies for it (two queries; none on the other kinds)."""
    if not question.is_continuous:
        return []
    rungs = [
        (rung, rung.rung_value)
        for rung in with_public_crowd(question.rungs.all(), now=now).order_by("rung_value", "id")
        if rung.rung_value is not None
    ]
    if not rungs:
        return []
    implied = _implied(question, now, [value for _, value in rungs])
    return [
        LadderRow(
            question=rung,
            value=value,
            value_text=outcome_value_text(kind=question.kind, value=value, unit=question.unit),
            crowd=question_public_crowd_median(rung),
            implied=p,
        )
        for (rung, value), p in zip(rungs, implied, strict=True)
    ]


@dataclass(frozen=True)
class RungImplied:
    """What the crowd of the question a rung is a rung of (``of``) implies for it,
    P(outcome <= the rung's value), as the public sees it (None where not shown)."""

    of: Question
    value_text: str
    implied: float | None


def rung_implied(*, question: Question, now: dt.datetime) -> RungImplied | None:
    """For a rung's own page (``question_get`` loads its ``rung_of``): what its question's
    crowd implies for it (one query); None if it is no rung."""
    parent, value = question.rung_of, question.rung_value
    if parent is None or value is None or not parent.is_continuous:
        return None
    return RungImplied(
        of=parent,
        value_text=outcome_value_text(kind=parent.kind, value=value, unit=parent.unit),
        implied=_implied(parent, now, [value])[0],
    )


def forecast_history(*, question: Question, user: User) -> QuerySet[Forecast]:
    return Forecast.objects.filter(question=question, user=user).order_by("-starts_at", "-id")


def user_standing_forecast(*, question: Question, user: User) -> Forecast | None:
    return Forecast.objects.filter(question=question, user=user, ends_at__isnull=True).first()


def user_forecasts(*, user: User) -> QuerySet[Forecast]:
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


def user_question_summaries(*, user: User) -> list[QuestionSummary]:
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


def profile_get(*, user: User) -> Profile:
    """The user's preferences, or the defaults if they never changed them (nothing written)."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)


def user_tokens(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
