"""A multiple-choice crowd follows the binary rule: its medians per option are public as of the
last hour's end, only where enough forecasts stood; all of it once scored."""

from __future__ import annotations

import datetime as dt

import pytest

from forecasts import selectors
from forecasts.lifecycle import question_resolve
from forecasts.models import Question, QuestionKind
from forecasts.services import forecast_submit
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

FORECAST_AT = T0 + dt.timedelta(days=1, minutes=10)  # the next hour's end is 13:00
STEP_END = T0 + dt.timedelta(days=1, hours=1)
VECTORS = ([0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.4, 0.4, 0.2], [0.6, 0.2, 0.2], [0.3, 0.5, 0.2])


def _question_with(vectors: tuple[list[float], ...]) -> Question:
    question = QuestionFactory(kind=QuestionKind.MULTIPLE_CHOICE, options=["A", "B", "C"])
    for vector in vectors:
        forecast_submit(
            user=UserFactory(), question_id=question.pk, probabilities=vector, now=FORECAST_AT
        )
    question.refresh_from_db()
    return question


def test_the_medians_show_from_the_end_of_the_hour_once_enough_forecasts_stand(settings) -> None:
    settings.CROWD_MIN_FORECASTERS = 5
    question = _question_with(VECTORS)

    before = selectors.question_crowd_now(question=question, now=STEP_END - dt.timedelta(minutes=1))
    after = selectors.question_crowd_now(question=question, now=STEP_END)
    history = selectors.question_crowd_history(question=question, now=STEP_END)

    assert before.medians is None
    assert after.medians == pytest.approx(question.crowd_medians)
    assert after.geometric_means is None  # a mean would give a forecast away
    assert [p.medians is not None for p in history] == [True]


def test_below_the_minimum_the_medians_stay_hidden_until_scored(settings) -> None:
    settings.CROWD_MIN_FORECASTERS = 5
    question = _question_with(VECTORS[:2])
    later = T0 + dt.timedelta(days=400)

    hidden = selectors.question_crowd_now(question=question, now=STEP_END)
    question_resolve(question_id=question.pk, resolution="option", option=0, resolved_by=None)
    question.refresh_from_db()
    scored = selectors.question_crowd_now(question=question, now=later)

    assert hidden.medians is None and hidden.forecasters == 2
    assert scored.medians == pytest.approx(question.crowd_medians)
    assert scored.geometric_means is not None
    assert selectors.question_public_crowd_medians(question) == pytest.approx(
        question.crowd_medians
    )
