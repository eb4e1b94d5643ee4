"""The question lifecycle with real processes: beat, a worker, the database and the broker.

Nothing here calls a service or task to resolve: beat schedules the sweep (every second), the
worker runs it, and the sweep enqueues the automatic resolution, which the worker runs too.
"""

from __future__ import annotations

import pytest

from forecasts.models import Question
from tests.integration.conftest import Celery, Processes
from tests.integration.questions import due_question, is_resolved, resolution_state

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_beat_and_a_worker_resolve_a_due_question_automatically(
    celery: Celery, processes: Processes
) -> None:
    question = due_question()

    celery.worker()
    celery.beat()

    processes.wait_until(lambda: is_resolved(question), "the question resolved automatically")
    # The follow-ups were enqueued by the worker when the resolution committed.
    processes.wait_until(
        lambda: Question.objects.get(pk=question.pk).followups_done_at,
        "the follow-ups of the resolution done",
    )
    question.refresh_from_db()
    assert resolution_state(question.pk) == "resolved"
    assert (question.resolution, question.resolved_automatically) == ("no", True)
    assert question.closed_at == question.closes_at
