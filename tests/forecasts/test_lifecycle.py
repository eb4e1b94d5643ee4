from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from forecasts.models import Question
from forecasts.tasks import sweep_question_lifecycle
from tests.factories import QuestionFactory

pytestmark = pytest.mark.django_db


def test_the_sweep_closes_a_due_question_once() -> None:
    due = QuestionFactory(closes_at=dt.datetime(2026, 7, 10, 23, 59, tzinfo=dt.UTC))
    later = QuestionFactory(closes_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))

    with time_machine.travel(dt.datetime(2026, 7, 11, 8, 0, tzinfo=dt.UTC), tick=False):
        first = sweep_question_lifecycle.apply().get()
        second = sweep_question_lifecycle.apply().get()

    due.refresh_from_db()
    later.refresh_from_db()
    assert (first, second) == ({"closed": 1}, {"closed": 0})
    assert due.closed_at == due.closes_at  # the scheduled time, however late the sweep ran
    assert later.closed_at is None


def test_the_sweep_catches_up_on_everything_missed_during_an_outage() -> None:
    QuestionFactory.create_batch(3, closes_at=dt.datetime(2026, 8, 1, tzinfo=dt.UTC))

    with time_machine.travel(dt.datetime(2026, 9, 1, tzinfo=dt.UTC), tick=False):
        result = sweep_question_lifecycle.apply().get()

    assert result == {"closed": 3}
    assert not Question.objects.filter(closed_at__isnull=True).exists()


def test_before_its_close_the_sweep_leaves_a_question_open() -> None:
    question = QuestionFactory(closes_at=dt.datetime(2026, 7, 10, tzinfo=dt.UTC))

    with time_machine.travel(dt.datetime(2026, 7, 9, 23, 59, tzinfo=dt.UTC), tick=False):
        sweep_question_lifecycle.apply()

    question.refresh_from_db()
    assert question.closed_at is None
