"""Questions due for automatic resolution, and what a complete resolution of one looks like."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from forecasts.models import AutoOutcome, Question, Resolution, Score
from forecasts.scores.services import ScoreValues, scores_compute, scoring_inputs_load
from forecasts.services import forecast_submit
from tests.factories import QuestionFactory, UserFactory

DAY = dt.timedelta(days=1)


def due_question() -> Question:
    """Due a day ago with the automatic outcome NO; two forecasters forecast while it was open.

    Due by the real clock: the processes that resolve it read the real clock.
    """
    opened = timezone.now() - 10 * DAY
    question = QuestionFactory(
        opens_at=opened,
        closes_at=opened + 8 * DAY,
        resolves_at=opened + 9 * DAY,
        auto_outcome=AutoOutcome.NO,
    )
    for day, probability in ((1, 0.2), (3, 0.7)):
        forecast_submit(
            user=UserFactory(),
            question_id=question.pk,
            probability=probability,
            now=opened + day * DAY,
        )
    return question


def open_question() -> Question:
    opened = timezone.now() - DAY
    return QuestionFactory(
        opens_at=opened, closes_at=opened + 30 * DAY, resolves_at=opened + 31 * DAY
    )


def stored_scores(question_id: int) -> ScoreValues:
    rows = Score.objects.filter(question_id=question_id).values_list(
        "question_id", "forecaster", "user_id", "score_type", "value", "coverage"
    )
    return {
        (q, forecaster, user, kind): (value, cov) for q, forecaster, user, kind, value, cov in rows
    }


def expected_scores(question_id: int) -> ScoreValues:
    """Every score the question's forecasts earn as it stands now (computed, not written)."""
    question = Question.objects.get(pk=question_id)
    return scores_compute(scoring_inputs_load(questions=[question]))


def resolution_state(question_id: int) -> str:
    """'untouched', 'resolved' (NO automatically, with every score) or what is wrong."""
    question = Question.objects.get(pk=question_id)
    scores = Score.objects.filter(question=question).count()
    if not question.resolution and scores == 0:
        return "untouched"
    complete = stored_scores(question_id) == expected_scores(question_id) != {}
    if question.resolution == Resolution.NO and question.resolved_automatically and complete:
        return "resolved"
    return f"partial: resolution={question.resolution!r}, {scores} score rows, complete={complete}"


def is_resolved(question: Question) -> bool:
    return resolution_state(question.pk) == "resolved"
