"""The lifecycle sweep and the tasks it drives (tasks run inline; time set by time-machine)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from config.celery import OnCommitSend
from forecasts.lifecycle import (
    lifecycle_sweep_task,
    question_aggregates_rebuild,
    question_auto_resolve_task,
    question_resolve,
    question_unresolve,
)
from forecasts.models import AggregatePoint, Question, Resolution, ResolutionNotice, Score
from forecasts.notices import question_followups_task, questions_remind_staff_task
from forecasts.services import forecast_submit, profile_update
from tests.factories import T0, QuestionFactory, UserFactory, buy
from tests.mail_backends import FailingBackend

pytestmark = pytest.mark.django_db

CLOSE = dt.datetime(2026, 7, 10, 23, 59, tzinfo=dt.UTC)
DUE = CLOSE + dt.timedelta(hours=12)


def _sweep(moment: dt.datetime, capture) -> dict:
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return lifecycle_sweep_task.apply().get()


def _due_question(**kwargs) -> Question:
    return QuestionFactory(opens_at=T0, closes_at=CLOSE, resolves_at=DUE, **kwargs)


@pytest.fixture
def failing_mail(settings) -> Iterator[type[FailingBackend]]:
    """The SMTP server refuses the next ``FailingBackend.failures`` sends."""
    settings.EMAIL_BACKEND = "tests.mail_backends.FailingBackend"
    yield FailingBackend
    FailingBackend.failures = 0


def test_the_sweep_closes_a_due_question_once(django_capture_on_commit_callbacks) -> None:
    due = QuestionFactory(closes_at=CLOSE, resolves_at=DUE + dt.timedelta(days=30))
    later = QuestionFactory(closes_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))

    first = _sweep(CLOSE + dt.timedelta(hours=8), django_capture_on_commit_callbacks)
    second = _sweep(CLOSE + dt.timedelta(hours=9), django_capture_on_commit_callbacks)

    due.refresh_from_db()
    later.refresh_from_db()
    assert (first["closed"], second["closed"]) == (1, 0)
    assert due.closed_at == due.closes_at  # the scheduled time, however late the sweep ran
    assert later.closed_at is None


def test_the_sweep_catches_up_on_everything_missed_during_an_outage(
    django_capture_on_commit_callbacks,
) -> None:
    QuestionFactory.create_batch(3, closes_at=CLOSE, resolves_at=DUE)
    auto = _due_question(auto_outcome="no")

    result = _sweep(DUE + dt.timedelta(days=30), django_capture_on_commit_callbacks)

    assert result["closed"] == 4
    assert result["auto_resolve_enqueued"] == [auto.pk]
    assert len(result["reminders_due"]) == 3
    assert not Question.objects.filter(closed_at__isnull=True).exists()


def test_before_its_close_the_sweep_leaves_a_question_open(
    django_capture_on_commit_callbacks,
) -> None:
    question = QuestionFactory(closes_at=CLOSE)

    _sweep(CLOSE - dt.timedelta(minutes=1), django_capture_on_commit_callbacks)

    question.refresh_from_db()
    assert question.closed_at is None


def test_an_automatic_outcome_is_applied_when_due_scored_and_marked_automatic(
    django_capture_on_commit_callbacks,
) -> None:
    question, ada = _due_question(auto_outcome="no"), UserFactory(email="ada@example.org")
    forecast_submit(user=ada, question_id=question.pk, probability=0.2, now=T0)

    _sweep(DUE - dt.timedelta(minutes=1), django_capture_on_commit_callbacks)
    untouched = Question.objects.get(pk=question.pk).resolution
    _sweep(DUE, django_capture_on_commit_callbacks)

    question.refresh_from_db()
    assert untouched == ""
    assert (question.resolution, question.resolved_automatically) == ("no", True)
    assert question.resolved_at == CLOSE and question.resolved_by is None
    assert Score.objects.get(
        question=question, user=ada, score_type="brier"
    ).value == pytest.approx(0.04)
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    assert "0.040" in mail.outbox[0].body


def test_the_automatic_resolution_task_is_idempotent() -> None:
    question = _due_question(auto_outcome="yes")
    forecast_submit(user=UserFactory(), question_id=question.pk, probability=0.7, now=T0)

    with time_machine.travel(DUE, tick=False):
        first = question_auto_resolve_task.apply(args=[question.pk]).get()
        scores = list(Score.objects.order_by("pk").values())
        second = question_auto_resolve_task.apply(args=[question.pk]).get()

    assert (first, second) == (True, False)
    assert list(Score.objects.order_by("pk").values()) == scores


def test_staff_are_reminded_once_of_a_question_without_an_automatic_outcome(
    django_capture_on_commit_callbacks,
) -> None:
    question = _due_question()
    UserFactory(is_staff=True, email="staff@example.org")

    _sweep(DUE, django_capture_on_commit_callbacks)
    _sweep(DUE + dt.timedelta(minutes=1), django_capture_on_commit_callbacks)

    assert Question.objects.get(pk=question.pk).resolution == ""
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["staff@example.org"]
    assert question.title in mail.outbox[0].body


def test_a_reminder_waits_for_a_staff_user_with_an_email_then_goes_out_once(
    django_capture_on_commit_callbacks,
) -> None:
    question = _due_question()
    UserFactory(is_staff=True, email="")  # a fresh install: the admin has no e-mail yet

    _sweep(DUE, django_capture_on_commit_callbacks)
    unsent = Question.objects.get(pk=question.pk).staff_reminded_at
    UserFactory(is_staff=True, email="staff@example.org")
    _sweep(DUE + dt.timedelta(minutes=1), django_capture_on_commit_callbacks)
    _sweep(DUE + dt.timedelta(minutes=2), django_capture_on_commit_callbacks)

    assert unsent is None
    assert [m.to for m in mail.outbox] == [["staff@example.org"]]
    assert Question.objects.get(pk=question.pk).staff_reminded_at == DUE + dt.timedelta(minutes=1)


def test_a_reminder_the_mail_server_refuses_once_is_retried_and_sent_once(
    django_capture_on_commit_callbacks, failing_mail
) -> None:
    question = _due_question()
    UserFactory(is_staff=True, email="staff@example.org")
    failing_mail.failures = 1

    _sweep(DUE, django_capture_on_commit_callbacks)

    assert failing_mail.failures == 0  # the first send was refused
    assert [m.to for m in mail.outbox] == [["staff@example.org"]]
    assert Question.objects.get(pk=question.pk).staff_reminded_at == DUE


def test_a_reminder_is_a_text_and_html_email_with_a_link_to_each_question(
    django_capture_on_commit_callbacks, settings
) -> None:
    settings.SITE_URL = "http://crux.example:8123"
    question = _due_question(title="Will R&D <stop> by 2027?")
    UserFactory(is_staff=True, email="staff@example.org")

    _sweep(DUE, django_capture_on_commit_callbacks)

    message = mail.outbox[0]
    html, kind = message.alternatives[0]
    assert message.subject == "[Crux] 1 question awaiting resolution"
    assert "Will R&D <stop> by 2027?" in message.body
    assert f"http://crux.example:8123/questions/{question.pk}/" in message.body
    assert kind == "text/html"
    assert "Will R&amp;D &lt;stop&gt; by 2027?" in html
    assert f'href="http://crux.example:8123/questions/{question.pk}/"' in html


def test_a_notice_the_mail_server_refuses_once_is_retried_and_sent_once(failing_mail) -> None:
    question = _due_question()
    ada, bob = UserFactory(email="ada@example.org"), UserFactory(email="bob@example.org")
    for user in (ada, bob):
        forecast_submit(user=user, question_id=question.pk, probability=0.6, now=T0)
    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None, now=DUE)
    failing_mail.failures = 1

    sent = question_followups_task.apply(args=[question.pk]).get()  # raises unless a retry sent it
    again = question_followups_task.apply(args=[question.pk]).get()

    assert (failing_mail.failures, sent, again) == (0, 2, 0)
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.org", "bob@example.org"]
    assert ResolutionNotice.objects.filter(question=question).count() == 2
    assert Question.objects.get(pk=question.pk).followups_done_at is not None


def test_a_notice_is_a_text_and_html_email() -> None:
    question = _due_question(title="Will R&D <stop> by 2027?")
    ada = UserFactory(email="ada@example.org")
    forecast_submit(user=ada, question_id=question.pk, probability=0.6, now=T0)
    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None, now=DUE)

    question_followups_task.apply(args=[question.pk])

    message = mail.outbox[0]
    html, kind = message.alternatives[0]
    assert message.subject == "[Crux] Resolved Yes: Will R&D <stop> by 2027?"
    assert message.body.startswith("Will R&D <stop> by 2027?\nresolved YES.")
    assert "Brier (time-averaged): 0.160" in message.body
    assert kind == "text/html"
    assert "Will R&amp;D &lt;stop&gt; by 2027?" in html
    assert "0.160" in html


def test_forecasters_are_told_once_with_their_scores_unless_they_opted_out() -> None:
    question = _due_question()
    ada, bob = UserFactory(email="ada@example.org"), UserFactory(email="bob@example.org")
    profile_update(user=bob, email="bob@example.org", notify_on_resolution=False)
    for user in (ada, bob):
        forecast_submit(user=user, question_id=question.pk, probability=0.6, now=T0)
    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None, now=DUE)

    sent = [question_followups_task.apply(args=[question.pk]).get() for _ in range(2)]

    assert sent == [1, 0]
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    assert "Resolved Yes" in mail.outbox[0].subject


def test_after_an_unresolve_a_new_resolution_is_told_again() -> None:
    question, ada = _due_question(), UserFactory(email="ada@example.org")
    forecast_submit(user=ada, question_id=question.pk, probability=0.6, now=T0)
    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None, now=DUE)
    question_followups_task.apply(args=[question.pk])

    question_unresolve(question_id=question.pk, now=DUE)
    question_resolve(
        question_id=question.pk, resolution=Resolution.ANNULLED, resolved_by=None, now=DUE
    )
    question_followups_task.apply(args=[question.pk])

    assert [m.subject.split(":")[0] for m in mail.outbox] == [
        "[Crux] Resolved Yes",
        "[Crux] Resolved Annulled",
    ]


def test_a_resolution_enqueues_its_followups_on_commit(
    django_capture_on_commit_callbacks,
) -> None:
    question, ada = _due_question(), UserFactory(email="ada@example.org")
    forecast_submit(user=ada, question_id=question.pk, probability=0.6, now=T0)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        question_resolve(question_id=question.pk, resolution="no", resolved_by=None, now=DUE)

    # The follow-ups' task, sent once (with Redis as the cache, the scores' version is also
    # published on commit).
    sends = [c for c in callbacks if isinstance(c, OnCommitSend)]
    assert sends == [OnCommitSend(question_followups_task, (question.pk,), {})]
    assert Question.objects.get(pk=question.pk).followups_done_at is not None
    assert len(mail.outbox) == 1


def test_the_sweep_sends_each_due_task_on_commit(django_capture_on_commit_callbacks) -> None:
    auto, resolved = _due_question(auto_outcome="no"), _due_question()
    _due_question()  # due without an automatic outcome: staff are reminded
    question_resolve(question_id=resolved.pk, resolution="yes", resolved_by=None, now=DUE)

    with time_machine.travel(DUE, tick=False), django_capture_on_commit_callbacks() as callbacks:
        lifecycle_sweep_task.apply().get()

    assert [c for c in callbacks if isinstance(c, OnCommitSend)] == [
        OnCommitSend(question_auto_resolve_task, (auto.pk,), {}),
        OnCommitSend(questions_remind_staff_task, (), {}),
        OnCommitSend(question_followups_task, (resolved.pk,), {}),
    ]


@pytest.mark.parametrize(("outcome", "verdict"), [("yes", "profit"), ("no", "loss")])
def test_traders_are_told_what_the_market_paid_them(outcome: str, verdict: str) -> None:

    from markets.services import market_create

    question = _due_question()
    market = market_create(question_id=question.pk, b=Decimal(100), now=T0)
    ada = UserFactory(email="ada@example.org")  # forecasts and trades
    bob = UserFactory(email="bob@example.org")  # trades only
    forecast_submit(user=ada, question_id=question.pk, probability=0.6, now=T0)
    buy(ada, market, outcome="yes", shares=10, now=T0)
    bought = buy(bob, market, outcome="yes", shares=20, now=T0)

    question_resolve(question_id=question.pk, resolution=outcome, resolved_by=None, now=DUE)
    question_followups_task(question.pk)

    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert set(bodies) == {"ada@example.org", "bob@example.org"}
    paid = "20.00" if outcome == "yes" else "0.00"
    assert (
        f"The market paid you {paid} for positions that cost you {bought.cost:,.2f}"
        in (bodies["bob@example.org"])
    )
    assert f"a {verdict} of" in bodies["bob@example.org"]
    assert "Brier" in bodies["ada@example.org"]
    assert "The market paid you" in bodies["ada@example.org"]
    assert "carries no scores" not in bodies["bob@example.org"]


def test_the_crowd_history_is_rebuilt_for_the_question_of_that_id() -> None:
    question, other = _due_question(), _due_question()
    for q in (question, other):
        forecast_submit(user=UserFactory(), question_id=q.pk, probability=0.3, now=T0)
    AggregatePoint.objects.all().delete()

    rewritten = question_aggregates_rebuild(question_id=question.pk)

    assert rewritten == 1
    assert list(AggregatePoint.objects.values_list("question_id", "median")) == [(question.pk, 0.3)]
