"""Scores in the database: fetch forecasts into arrays, compute with the pure maths, write.

``question_scores_compute`` is the one path that writes scores; it runs inside the caller's
transaction (resolution) or its own, and is idempotent: rows whose value did not change are
left alone, so a second run writes nothing and keeps every row's id.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from forecasts.maths import aggregation, cdf_aggregation, continuous, scoring
from forecasts.maths.intervals import Intervals, Questions, ScoreTable, outcome_columns
from forecasts.maths.score_types import SCORE_TYPES
from forecasts.models import (
    DataVersion,
    Forecast,
    Forecaster,
    Question,
    Resolution,
    Score,
)
from forecasts.scores.versions import SCORES_VERSION, scores_version_publish

CROWD_SERIES: dict[Forecaster, Literal["median", "gmo"]] = {
    Forecaster.CROWD_MEDIAN: "median",
    Forecaster.CROWD_GMO: "gmo",
}

_FIELDS = ("question", "user", "start", "end", "prob")

# (question id, forecaster, user id or None, score type) -> (value, coverage)
ScoreKey = tuple[int, str, int | None, str]
ScoreValues = dict[ScoreKey, tuple[float, float]]


@dataclass(frozen=True)
class ScoringInputs:
    """Plain arrays for the maths, and the ids to map its indices back to rows."""

    question_ids: np.ndarray
    user_ids: np.ndarray
    questions: Questions
    intervals: Intervals
    # Multiple choice: by question index, the pmfs of its intervals (rows x options), in the
    # intervals' order, for the crowd's history (binary questions have none here).
    pmfs: dict[int, np.ndarray] = field(default_factory=dict)
    # Numeric and date: by question index, the CDFs of its intervals (rows x 201), likewise,
    # and where its outcome lies on its scaled range.
    cdfs: dict[int, np.ndarray] = field(default_factory=dict)
    positions: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RescoreTimings:
    questions: int
    forecasts: int
    rows_written: int
    load_seconds: float
    compute_seconds: float
    write_seconds: float


def _seconds(moment: dt.datetime | None) -> float:
    return math.nan if moment is None else moment.timestamp()


def scoring_inputs_load(*, questions: Sequence[Question]) -> ScoringInputs:
    """Fetch the forecasts of scorable questions, ordered as the maths' fast path expects.

    A binary forecast enters as P(YES); a multiple-choice one as the probability it gave the
    option that happened and its sum of squares (``outcome_columns``), its pmf kept for the
    crowd; a numeric or date one as the mass its CDF gave the outcome's bucket and its CRPS
    (``forecasts.maths.continuous``), its CDF kept for the crowd.
    """
    scorable = sorted((q for q in questions if q.is_scorable), key=lambda q: q.pk)
    question_ids = np.array([q.pk for q in scorable], dtype=np.int64)
    columns = ["question_id", "user_id", "starts_at", "ends_at", "probability"]
    vectors = {
        name: any(test(q) for q in scorable)
        for name, test in (("probabilities", _is_multiple), ("cdf", _is_continuous))
    }
    extra = [name for name, wanted in vectors.items() if wanted]
    rows = list(
        Forecast.objects.filter(question_id__in=question_ids.tolist())
        .order_by("question_id", "user_id", "starts_at", "id")
        .values_list(*columns, *extra)
    )
    raw_questions = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    raw_users = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    user_ids, user_index = np.unique(raw_users, return_inverse=True)
    question_index = np.searchsorted(question_ids, raw_questions)
    prob = np.fromiter(
        (math.nan if r[4] is None else r[4] for r in rows), dtype=np.float64, count=len(rows)
    )
    outcome = [_outcome(q) for q in scorable]
    pmfs: dict[int, np.ndarray] = {}
    cdfs: dict[int, np.ndarray] = {}
    positions: dict[int, float] = {}
    p_outcome = sum_sq = loss = None
    if extra:
        p_outcome, sum_sq = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    if vectors["cdf"]:
        loss = np.full(len(rows), np.nan)
    for index, question in enumerate(scorable):
        if not (question.is_multiple_choice or question.is_continuous):
            continue
        assert p_outcome is not None and sum_sq is not None
        lo, hi = np.searchsorted(question_index, [index, index + 1])
        column = 5 + extra.index("cdf" if question.is_continuous else "probabilities")
        width = continuous.CDF_POINTS if question.is_continuous else len(question.option_labels)
        matrix = np.array([r[column] for r in rows[lo:hi]], dtype=np.float64).reshape(
            hi - lo, width
        )
        if question.is_multiple_choice:
            pmfs[index] = matrix
            p_outcome[lo:hi], sum_sq[lo:hi] = outcome_columns(matrix, outcome[index])
            continue
        assert loss is not None
        cdfs[index], positions[index] = matrix, _position(question)
        p_outcome[lo:hi] = continuous.bucket_mass(matrix, outcome[index])
        loss[lo:hi] = continuous.crps(matrix, positions[index])
    intervals = Intervals(
        question=question_index,
        user=user_index,
        start=np.fromiter((r[2].timestamp() for r in rows), dtype=np.float64, count=len(rows)),
        end=np.fromiter((_seconds(r[3]) for r in rows), dtype=np.float64, count=len(rows)),
        prob=prob,
        p_outcome=p_outcome,
        sum_sq=sum_sq,
        loss=loss,
    )
    arrays = Questions(
        opens_at=[q.opens_at.timestamp() for q in scorable],
        closes_at=[q.scoring_closes_at.timestamp() for q in scorable],
        outcome=outcome,
        n_options=[
            continuous.BUCKETS if q.is_continuous else len(q.option_labels) for q in scorable
        ],
        ln_base=[_ln_base(q, k) for q, k in zip(scorable, outcome, strict=True)],
    )
    return ScoringInputs(question_ids, user_ids, arrays, intervals, pmfs, cdfs, positions)


def _is_multiple(question: Question) -> bool:
    return question.is_multiple_choice


def _is_continuous(question: Question) -> bool:
    return question.is_continuous


def _position(question: Question) -> float:
    position = question.outcome_position
    assert position is not None, "a scorable numeric or date question has an outcome"
    return position


def _outcome(question: Question) -> int:
    """What the maths takes as the outcome: 1 YES / 0 NO on a binary question (P(YES) is the
    forecast), the index of the option that happened on a multiple-choice one, the bucket of
    the outcome (0..201) on a numeric or date one."""
    if question.is_continuous:
        scale = question.scale
        bucket = continuous.outcome_bucket(
            _position(question), open_lower=scale.open_lower, open_upper=scale.open_upper
        )
        return int(bucket)
    if question.is_multiple_choice:
        assert question.resolved_option is not None
        return question.resolved_option
    return 1 if question.resolution == Resolution.YES else 0


def _ln_base(question: Question, bucket: int) -> float:
    """ln base_k of the outcome's bucket on a numeric or date question; NaN on the others."""
    if not question.is_continuous:
        return math.nan
    scale = question.scale
    base = continuous.baseline_bucket_mass(open_lower=scale.open_lower, open_upper=scale.open_upper)
    return math.log(base[bucket])


def _table_values(table: ScoreTable, inputs: ScoringInputs, forecaster: Forecaster) -> ScoreValues:
    values: ScoreValues = {}
    questions = inputs.question_ids[table.question].tolist()
    users = inputs.user_ids[table.user].tolist() if forecaster == Forecaster.USER else None
    coverage = np.clip(table.coverage, 0.0, 1.0).tolist()
    # Brier on discrete questions, the CRPS in its column on numeric and date ones.
    continuous = inputs.questions.continuous[table.question].tolist()
    for score_type in SCORE_TYPES:
        column_values = score_type.column(table).tolist()
        for i, value in enumerate(column_values):
            if math.isnan(value):  # no forecast standing (at close), or none at all (Brier)
                continue
            if not score_type.kinds.covers(continuous=continuous[i]):
                continue
            user = users[i] if users is not None else None
            values[(questions[i], forecaster.value, user, score_type.name)] = (value, coverage[i])
    return values


def _crowd_intervals(inputs: ScoringInputs, series: Literal["median", "gmo"]) -> Intervals:
    """The crowd's history on every question, as intervals of one pseudo-forecaster. A numeric
    or date question has one crowd, the recency-weighted mean CDF, scored as "median" (the
    headline aggregate) and not as "gmo"."""
    pieces: list[Intervals] = []
    bounds = np.searchsorted(inputs.intervals.question, np.arange(len(inputs.question_ids) + 1))
    iv = inputs.intervals
    vectors = iv.p_outcome is not None
    for index in range(len(inputs.question_ids)):
        lo, hi = bounds[index], bounds[index + 1]
        if lo == hi or (index in inputs.cdfs and series != "median"):
            continue
        outcome = int(inputs.questions.outcome[index])
        if index in inputs.cdfs:
            crowd = _cdf_crowd(inputs, index, iv.start[lo:hi], iv.end[lo:hi])
        elif index in inputs.pmfs:
            options = aggregation.aggregate_pmf_history(
                iv.start[lo:hi], iv.end[lo:hi], inputs.pmfs[index]
            )
            crowd = options.as_intervals(series, outcome=outcome)
        else:
            crowd = aggregation.aggregate_history(
                iv.start[lo:hi], iv.end[lo:hi], iv.prob[lo:hi]
            ).as_intervals(series)
        size = len(crowd)
        pieces.append(
            Intervals(
                np.full(size, index),
                crowd.user,
                crowd.start,
                crowd.end,
                crowd.prob,
                p_outcome=_or_nan(crowd.p_outcome, size) if vectors else None,
                sum_sq=_or_nan(crowd.sum_sq, size) if vectors else None,
                loss=_or_nan(crowd.loss, size) if iv.loss is not None else None,
            )
        )
    if not pieces:
        return Intervals([], [], [], [], [])
    joined = {f: np.concatenate([getattr(p, f) for p in pieces]) for f in _FIELDS}
    optional = {
        name: np.concatenate([_or_nan(getattr(p, name), len(p)) for p in pieces])
        for name, wanted in (
            ("p_outcome", vectors),
            ("sum_sq", vectors),
            ("loss", iv.loss is not None),
        )
        if wanted
    }
    return Intervals(**joined, **optional)


def _cdf_crowd(inputs: ScoringInputs, index: int, start: np.ndarray, end: np.ndarray) -> Intervals:
    """The crowd of numeric or date question ``index`` over time, with what each of its CDFs
    gave the outcome's bucket and its CRPS."""
    history = cdf_aggregation.aggregate_cdf_history(start, end, inputs.cdfs[index])
    on = history.n_forecasters > 0
    p_outcome, loss = np.full(on.size, np.nan), np.full(on.size, np.nan)
    position = inputs.positions[index]
    p_outcome[on] = continuous.bucket_mass(history.cdf[on], int(inputs.questions.outcome[index]))
    loss[on] = continuous.crps(history.cdf[on], position)
    return history.as_intervals(p_outcome=p_outcome, loss=loss)


def _or_nan(values: np.ndarray | None, size: int) -> np.ndarray:
    return np.full(size, np.nan) if values is None else values


def scores_compute(inputs: ScoringInputs) -> ScoreValues:
    """Every user's and the crowd's scores on the given questions (pure: no database)."""
    values = _table_values(
        scoring.score_questions(inputs.intervals, inputs.questions), inputs, Forecaster.USER
    )
    for forecaster, series in CROWD_SERIES.items():
        crowd = _crowd_intervals(inputs, series)
        table = scoring.score_questions(crowd, inputs.questions, field=inputs.intervals)
        values.update(_table_values(table, inputs, forecaster))
    return values


def scores_write(*, question_ids: Iterable[int], values: ScoreValues, now: dt.datetime) -> int:
    """Make the stored scores of ``question_ids`` equal ``values``; returns rows touched."""
    existing: dict[ScoreKey, tuple[int, float, float]] = {
        (question_id, forecaster, user_id, score_type): (pk, value, coverage)
        for pk, question_id, forecaster, user_id, score_type, value, coverage in (
            Score.objects.filter(question_id__in=list(question_ids)).values_list(
                "pk", "question_id", "forecaster", "user_id", "score_type", "value", "coverage"
            )
        )
    }
    stale = [row[0] for key, row in existing.items() if key not in values]
    changed: list[Score] = []
    new: list[tuple[int, str, int | None, str, float, float]] = []
    for key, (value, coverage) in values.items():
        row = existing.get(key)
        if row is None:
            new.append((*key, value, coverage))
        elif row[1] != value or row[2] != coverage:
            question_id, forecaster, user_id, score_type = key
            changed.append(
                Score(
                    pk=row[0],
                    question_id=question_id,
                    forecaster=forecaster,
                    user_id=user_id,
                    score_type=score_type,
                    value=value,
                    coverage=coverage,
                    computed_at=now,
                )
            )
    if stale:
        Score.objects.filter(pk__in=stale).delete()
    if changed:
        Score.objects.bulk_update(changed, ["value", "coverage", "computed_at"], batch_size=500)
    if new:
        _insert(new, now=now)
    touched = len(stale) + len(changed) + len(new)
    if touched:
        scores_version_bump(now=now)
    return touched


def scores_version_bump(*, now: dt.datetime) -> None:
    """Invalidate every cache keyed on the scores (leaderboards, score lists, ETags)."""
    updated = DataVersion.objects.filter(name=SCORES_VERSION).update(
        version=F("version") + 1, changed_at=now
    )
    if not updated:
        DataVersion.objects.get_or_create(
            name=SCORES_VERSION, defaults={"version": 1, "changed_at": now}
        )
    scores_version_publish()


_INSERT_FIELDS = (
    "question",
    "forecaster",
    "user",
    "score_type",
    "value",
    "coverage",
    "computed_at",
)


def _insert(
    rows: list[tuple[int, str, int | None, str, float, float]], *, now: dt.datetime
) -> None:
    """Multi-row INSERTs with bound values, as many rows per statement as the database takes.

    bulk_create spent ~90% of a full rescoring building model instances; executemany is fast
    on SQLite but costs a round trip per row on PostgreSQL (5,500 rows/s measured).
    """
    quote = connection.ops.quote_name
    column = {f.name: f.column for f in Score._meta.concrete_fields if f.column}
    columns = ", ".join(quote(column[f]) for f in _INSERT_FIELDS)
    row_marks = "(" + ", ".join(["%s"] * len(_INSERT_FIELDS)) + ")"
    limit = connection.features.max_query_params or 65535
    per_statement = max(1, min(1000, limit // len(_INSERT_FIELDS)))
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            # Table and column names come from the model; every value is a bound parameter.
            sql = (
                f"INSERT INTO {quote(Score._meta.db_table)} ({columns}) "  # noqa: S608
                f"VALUES {', '.join([row_marks] * len(batch))}"
            )
            cursor.execute(sql, [value for row in batch for value in (*row, stamp)])


@transaction.atomic
def question_scores_compute(*, question: Question, now: dt.datetime | None = None) -> int:
    """(Re)compute one question's stored scores; annulled or unresolved: none. Idempotent."""
    now = now or timezone.now()
    values = (
        scores_compute(scoring_inputs_load(questions=[question])) if question.is_scorable else {}
    )
    return scores_write(question_ids=[question.pk], values=values, now=now)


def scores_recompute_all(*, now: dt.datetime | None = None) -> RescoreTimings:
    """Rescore every resolved question in one pass (after a change to the scoring rules)."""
    now = now or timezone.now()
    with transaction.atomic():
        started = time.perf_counter()
        questions = list(Question.objects.exclude(resolution=""))
        inputs = scoring_inputs_load(questions=questions)
        loaded = time.perf_counter()
        values = scores_compute(inputs)
        computed = time.perf_counter()
        written = scores_write(question_ids=[q.pk for q in questions], values=values, now=now)
        done = time.perf_counter()
    return RescoreTimings(
        questions=len(inputs.question_ids),
        forecasts=len(inputs.intervals),
        rows_written=written,
        load_seconds=loaded - started,
        compute_seconds=computed - loaded,
        write_seconds=done - computed,
    )
