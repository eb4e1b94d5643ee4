"""Concurrent submissions: exactly one standing forecast and a gap-free history.

On PostgreSQL the question's row lock serialises them; on SQLite, IMMEDIATE transactions do.
"""

from __future__ import annotations

import itertools
import threading

import pytest
from django.db import connections

from forecasts.models import Forecast
from forecasts.services import forecast_submit
from tests.factories import QuestionFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_one_users_simultaneous_submissions_leave_one_standing_forecast() -> None:
    question, user = QuestionFactory(), UserFactory()
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def submit(probability: float) -> None:
        try:
            barrier.wait()
            forecast_submit(user=user, question_id=question.pk, probability=probability)
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(0.1 + i / 10,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    history = list(Forecast.objects.filter(user=user).order_by("starts_at", "id"))
    assert errors == []
    assert len(history) == 8
    assert [f.ends_at is None for f in history] == [False] * 7 + [True]
    assert all(a.ends_at == b.starts_at for a, b in itertools.pairwise(history))
