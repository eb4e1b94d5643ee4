"""Reads of scores: leaderboards, track records and calibration, as plain numbers.

Leaderboard rule (so a single lucky forecast cannot top it): forecasters are ranked by an
adjusted mean that adds ``PRIOR_QUESTIONS`` pseudo-questions scored as an uninformed 50%
forecast would be (the score type's ``uninformed``: Brier 0.25, log ln 0.5, baseline 0, peer 0):

    adjusted = (sum of scores + k * prior) / (questions + k),   k = PRIOR_QUESTIONS = 5

One question at a peer score of +80 gives an adjusted mean of 13.3; ten questions averaging
+20 give 13.3 as well. The raw mean, the count and the mean coverage are shown beside it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from django.contrib.auth.models import User
from django.db.models import Avg, Count, F, FloatField, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast

from forecasts.maths import calibration, score_types
from forecasts.maths.intervals import Intervals, Questions
from forecasts.models import (
    PRACTICE_SOURCE_KEY,
    AggregatePoint,
    Forecast,
    Forecaster,
    Question,
    Resolution,
    Score,
)
from markets.lmsr import YES
from markets.selectors import price_vector_steps

PRIOR_QUESTIONS = 5
TRACK_RECORD_TYPES = tuple(t.name for t in score_types.TRACK_RECORD)
CALIBRATION_MIN_N = 10
QUARTER_MONTHS = (1, 4, 7, 10)

# Which questions calibration counts: every kind (a multiple-choice question one-vs-rest, a
# pair per option), or the binary ones alone (one P(YES) each, as before multiple choice).
CalibrationKinds = Literal["all", "binary"]
CALIBRATION_KINDS: tuple[CalibrationKinds, ...] = ("all", "binary")
DEFAULT_CALIBRATION_KINDS: CalibrationKinds = "all"


def calibration_kinds(value: str | None) -> CalibrationKinds | None:
    """The kinds that ``value`` names (``DEFAULT_CALIBRATION_KINDS`` when it is None); None
    when it names none, for the caller to refuse or to fall back on the default."""
    if value is None:
        return DEFAULT_CALIBRATION_KINDS
    for kinds in CALIBRATION_KINDS:
        if value == kinds:
            return kinds
    return None


def _period_q(
    since: dt.datetime | None, until: dt.datetime | None, include_practice: bool = False
) -> Q:
    condition = Q() if include_practice else ~Q(question__source__key=PRACTICE_SOURCE_KEY)
    if since is not None:
        condition &= Q(question__resolved_at__gte=since)
    if until is not None:
        condition &= Q(question__resolved_at__lt=until)
    return condition


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    user_id: int
    username: str
    questions: int
    total: float
    mean: float
    adjusted: float
    coverage: float


@dataclass(frozen=True)
class Leaderboard:
    score_type: str
    lower_is_better: bool
    rows: list[LeaderboardRow]
    crowd_mean: float | None
    crowd_questions: int


def leaderboard_queryset(
    *,
    score_type: str,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    include_practice: bool = False,
):
    """Per-user aggregates of one score type, ordered by the adjusted mean (best first);
    UnknownScoreType for a name that is no score type's."""
    spec = score_types.score_type(score_type)
    prior = spec.uninformed
    adjusted = (Sum("value") + Value(PRIOR_QUESTIONS * prior)) / Cast(
        Count("id") + Value(PRIOR_QUESTIONS), FloatField()
    )
    ordering = "adjusted" if spec.lower_is_better else "-adjusted"
    return (
        Score.objects.filter(
            _period_q(since, until, include_practice),
            score_type=score_type,
            forecaster=Forecaster.USER,
        )
        .values("user_id", username=F("user__username"))
        .annotate(
            questions=Count("id"),
            total=Sum("value"),
            mean=Avg("value"),
            coverage=Avg("coverage"),
            adjusted=adjusted,
        )
        .order_by(ordering, "-questions", "user_id")
    )


def leaderboard(
    *,
    score_type: str,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    include_practice: bool = False,
    limit: int = 100,
) -> Leaderboard:
    rows = leaderboard_queryset(
        score_type=score_type, since=since, until=until, include_practice=include_practice
    )
    ranked = [LeaderboardRow(rank=i, **row) for i, row in enumerate(rows[:limit], start=1)]
    crowd = Score.objects.filter(
        _period_q(since, until, include_practice),
        score_type=score_type,
        forecaster=Forecaster.CROWD_MEDIAN,
    ).aggregate(mean=Avg("value"), questions=Count("id"))
    return Leaderboard(
        score_type=score_type,
        lower_is_better=score_types.score_type(score_type).lower_is_better,
        rows=ranked,
        crowd_mean=crowd["mean"],
        crowd_questions=crowd["questions"],
    )


# --- track record ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackRecordRow:
    question: Question
    coverage: float
    scores: dict[str, float]
    crowd: dict[str, float]


@dataclass(frozen=True)
class TrackRecord:
    rows: list[TrackRecordRow]
    means: dict[str, float] = field(default_factory=dict)
    crowd_means: dict[str, float] = field(default_factory=dict)


def _means(rows: list[dict[str, float]]) -> dict[str, float]:
    means: dict[str, float] = {}
    for score_type in TRACK_RECORD_TYPES:
        values = [r[score_type] for r in rows if score_type in r]
        if values:
            means[score_type] = sum(values) / len(values)
    return means


def user_track_record(*, user: User) -> TrackRecord:
    """The user's time-averaged scores per resolved question, beside the crowd's (2 queries)."""
    mine: dict[int, tuple[Question, float, dict[str, float]]] = {}
    for score in (
        Score.objects.filter(user=user, score_type__in=TRACK_RECORD_TYPES)
        .select_related("question")
        .order_by("-question__resolved_at", "question_id")
    ):
        entry = mine.setdefault(score.question_id, (score.question, score.coverage, {}))
        entry[2][score.score_type] = score.value
    crowd: dict[int, dict[str, float]] = {}
    for question_id, score_type, value in Score.objects.filter(
        question_id__in=list(mine),
        forecaster=Forecaster.CROWD_MEDIAN,
        score_type__in=TRACK_RECORD_TYPES,
    ).values_list("question_id", "score_type", "value"):
        crowd.setdefault(question_id, {})[score_type] = value
    rows = [
        TrackRecordRow(question=q, coverage=c, scores=s, crowd=crowd.get(q.pk, {}))
        for q, c, s in mine.values()
    ]
    return TrackRecord(
        rows=rows,
        means=_means([r.scores for r in rows]),
        crowd_means=_means([r.crowd for r in rows if r.crowd]),
    )


# --- calibration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationReport:
    """Calibration of one forecaster: one time-weighted probability per binary question (its
    P(YES)) and per option of a multiple-choice question (one-vs-rest); ``n`` counts these
    forecasts, ``questions`` the questions they come from."""

    n: int
    table: tuple[calibration.CalibrationBin, ...]
    decomposition: calibration.MurphyDecomposition | None
    windows: tuple[calibration.CalibrationWindow, ...]
    window_labels: tuple[str, ...]
    questions: int = 0


def quarter_edges(times: np.ndarray) -> tuple[list[float], list[str]]:
    first = dt.datetime.fromtimestamp(float(times.min()), tz=dt.UTC)
    last = dt.datetime.fromtimestamp(float(times.max()), tz=dt.UTC)
    year, month = first.year, max(m for m in QUARTER_MONTHS if m <= first.month)
    edges: list[float] = []
    labels: list[str] = []
    while True:
        start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
        edges.append(start.timestamp())
        if start > last:
            return edges, labels
        labels.append(f"{year} Q{QUARTER_MONTHS.index(month) + 1}")
        year, month = (year + 1, 1) if month == 10 else (year, month + 3)


def _report(
    probs: np.ndarray, outcomes: np.ndarray, times: np.ndarray, ids: list[int]
) -> CalibrationReport:
    keep = ~np.isnan(probs)
    probs, outcomes, times = probs[keep], outcomes[keep], times[keep]
    if probs.size == 0:
        return CalibrationReport(0, calibration.calibration_table([], []), None, (), ())
    edges, labels = quarter_edges(times)
    return CalibrationReport(
        n=int(probs.size),
        table=calibration.calibration_table(probs, outcomes),
        decomposition=calibration.murphy_decomposition(probs, outcomes),
        windows=calibration.calibration_over_time(
            probs, outcomes, times, np.asarray(edges), min_n=CALIBRATION_MIN_N
        ),
        window_labels=tuple(labels),
        questions=len({q for q, k in zip(ids, keep, strict=True) if k}),
    )


def _counted_resolutions(kinds: CalibrationKinds) -> list[str]:
    """YES/NO, and for every kind a multiple-choice question resolved to an option (annulled
    and ambiguous questions never count)."""
    binary: list[str] = [Resolution.YES, Resolution.NO]
    return binary if kinds == "binary" else [*binary, Resolution.OPTION]


def _counted_questions(now: dt.datetime, kinds: CalibrationKinds) -> Q:
    """Only questions of ``kinds`` whose scheduled resolve time has passed (no early-YES bias)."""
    return counted_questions(now, _counted_resolutions(kinds))


def counted_questions(now: dt.datetime, resolutions: Sequence[str]) -> Q:
    """Forecasts on questions resolved to one of ``resolutions`` whose scheduled resolve time
    has passed: calibration's rule for every kind (no bias from questions settled early)."""
    return Q(question__resolution__in=resolutions, question__resolves_at__lte=now)


@dataclass(frozen=True)
class CalibrationWaiting:
    """A user's scored questions that calibration leaves out for now: they resolved before
    their scheduled resolve time and count from it (``first_counts_at`` is the earliest)."""

    questions: int
    first_counts_at: dt.datetime | None


def user_calibration_waiting(
    *, user: User, now: dt.datetime, kinds: CalibrationKinds = DEFAULT_CALIBRATION_KINDS
) -> CalibrationWaiting:
    """How many of the user's scored questions wait for their scheduled resolve time (1 query)."""
    waiting = Score.objects.filter(
        user=user,
        question__resolution__in=_counted_resolutions(kinds),
        question__resolves_at__gt=now,
    ).aggregate(questions=Count("question", distinct=True), first=Min("question__resolves_at"))
    return CalibrationWaiting(questions=waiting["questions"], first_counts_at=waiting["first"])


# The option of a binary question's one calibrated forecast, P(YES): calibration counts it
# once, not again as P(NO), so binary numbers stay those of a forecast per question.
YES_ONLY = -1


def _one_vs_rest(
    rows: list[tuple], question_rows: list[tuple]
) -> tuple[list[tuple[int, int]], Intervals, Questions]:
    """Each (question, option) as a question of its own, whose forecast is the probability of
    that option and whose outcome is 1 if it happened: a binary question is one such, its
    P(YES) against YES; a multiple-choice question of n options is n."""
    units: dict[tuple[int, int], int] = {}
    index: list[int] = []
    start: list[float] = []
    end: list[float] = []
    prob: list[float] = []
    for question_id, starts, ends, p in rows:
        options = enumerate(p) if isinstance(p, Sequence) else ((YES_ONLY, p),)
        for option, value in options:
            index.append(units.setdefault((question_id, option), len(units)))
            start.append(starts.timestamp())
            end.append(math.nan if ends is None else ends.timestamp())
            prob.append(value)
    by_id = {r[0]: r for r in question_rows}

    def happened(question_id: int, option: int) -> bool:
        _, _, _, _, resolution, resolved_option = by_id[question_id]
        if option == YES_ONLY:
            return bool(resolution == Resolution.YES)
        return bool(resolution == Resolution.OPTION and option == resolved_option)

    questions = [by_id[q] for q, _ in units]
    return (
        list(units),
        Intervals(
            question=index,
            user=np.zeros(len(index), dtype=np.int64),
            start=start,
            end=end,
            prob=prob,
        ),
        Questions(
            opens_at=[r[1].timestamp() for r in questions],
            closes_at=[min(r[2], r[3]).timestamp() for r in questions],
            outcome=[int(happened(q, option)) for q, option in units],
        ),
    )


def _time_weighted(
    rows: list[tuple], question_rows: list[tuple]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """rows: (question_id, start, end, p), p a binary question's P(YES) or a multiple-choice
    question's probability of each option (a forecast's ``probabilities``, the crowd's
    ``medians``, the market's prices); returns, per (question, option) forecast (see
    ``_one_vs_rest``), its time-weighted probability, outcome, resolve time and question."""
    if not rows:
        empty = np.zeros(0)
        return empty, empty, empty, []
    units, intervals, questions = _one_vs_rest(rows, question_rows)
    weighted = calibration.time_weighted_probability(intervals, questions)
    resolved = {r[0]: r[3].timestamp() for r in question_rows}
    ids = [units[i][0] for i in weighted.question]
    return (
        weighted.prob,
        questions.outcome[weighted.question].astype(np.float64),
        np.array([resolved[q] for q in ids]),
        ids,
    )


_QUESTION_FIELDS = ("id", "opens_at", "closes_at", "resolved_at", "resolution", "resolved_option")


def user_calibration(
    *, user: User, now: dt.datetime, kinds: CalibrationKinds = DEFAULT_CALIBRATION_KINDS
) -> tuple[CalibrationReport, CalibrationReport]:
    """The user's calibration and the crowd's on the same questions (3 queries)."""
    rows = [
        (question_id, start, end, probabilities if probability is None else probability)
        for question_id, start, end, probability, probabilities in Forecast.objects.filter(
            _counted_questions(now, kinds), user=user
        )
        .order_by("question_id", "starts_at", "id")
        .values_list("question_id", "starts_at", "ends_at", "probability", "probabilities")
    ]
    question_rows = list(
        Question.objects.filter(pk__in={r[0] for r in rows}).values_list(*_QUESTION_FIELDS)
    )
    mine = _time_weighted(rows, question_rows)
    crowd_rows = _crowd_rows(question_ids=sorted(set(mine[3])))
    return _report(*mine), _report(*_time_weighted(crowd_rows, question_rows))


def _crowd_rows(*, question_ids: list[int]) -> list[tuple]:
    """The crowd median's history as (question_id, start, end, probability) intervals: the
    median of P(YES), or of each option renormalised (``AggregatePoint.medians``)."""
    points = list(
        AggregatePoint.objects.filter(question_id__in=question_ids)
        .order_by("question_id", "at")
        .values_list("question_id", "at", "median", "medians")
    )
    rows = []
    for i, (question_id, at, median, medians) in enumerate(points):
        following = points[i + 1] if i + 1 < len(points) else None
        end = following[1] if following and following[0] == question_id else None
        value = median if median is not None else medians
        if value is not None:
            rows.append((question_id, at, end, value))
    return rows


def scores_list() -> QuerySet[Score]:
    """Scores with their question and user loaded, in a stable order."""
    return Score.objects.select_related("question", "user").order_by(
        "-question__resolved_at", "question_id", "score_type", "forecaster", "user_id"
    )


def user_market_calibration(
    *, user: User, now: dt.datetime, kinds: CalibrationKinds = DEFAULT_CALIBRATION_KINDS
) -> CalibrationReport:
    """The market's calibration on the questions the user's calibration counts (3 queries)."""
    counted = (
        Forecast.objects.filter(_counted_questions(now, kinds), user=user)
        .values_list("question_id", flat=True)
        .distinct()
    )
    return _market_report(Question.objects.filter(pk__in=counted))


def market_calibration(
    *,
    now: dt.datetime,
    include_practice: bool = False,
    kinds: CalibrationKinds = DEFAULT_CALIBRATION_KINDS,
) -> CalibrationReport:
    """The market price's calibration over every counted question with a market."""
    return _market_report(
        _counted_resolved(now=now, include_practice=include_practice, kinds=kinds)
    )


def _market_report(questions: QuerySet[Question]) -> CalibrationReport:
    """Time-weighted price of each question's market over its open period: P(YES) of a binary
    question, each option's price of a multiple-choice one."""
    question_rows = list(questions.filter(market__isnull=False).values_list(*_QUESTION_FIELDS))
    # A two-option multiple-choice market has two prices too: the question's kind decides.
    multiple = {r[0] for r in question_rows if r[4] == Resolution.OPTION}
    rows = [
        (question_id, start, end, prices if question_id in multiple else prices[YES])
        for question_id, start, end, prices in price_vector_steps(
            question_ids=[r[0] for r in question_rows]
        )
    ]
    return _report(*_time_weighted(rows, question_rows))


def _counted_resolved(
    *, now: dt.datetime, include_practice: bool, kinds: CalibrationKinds
) -> QuerySet[Question]:
    questions = Question.objects.filter(
        resolution__in=_counted_resolutions(kinds), resolves_at__lte=now
    )
    if not include_practice:
        questions = questions.exclude(source__key=PRACTICE_SOURCE_KEY)
    return questions


def crowd_calibration(
    *,
    now: dt.datetime,
    include_practice: bool = False,
    kinds: CalibrationKinds = DEFAULT_CALIBRATION_KINDS,
) -> CalibrationReport:
    """The crowd median's calibration over every counted question (time-weighted, one forecast
    per binary question and per option of a multiple-choice one)."""
    questions = _counted_resolved(now=now, include_practice=include_practice, kinds=kinds)
    question_rows = list(questions.values_list(*_QUESTION_FIELDS))
    rows = _crowd_rows(question_ids=[r[0] for r in question_rows])
    return _report(*_time_weighted(rows, question_rows))
