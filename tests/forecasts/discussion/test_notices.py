"""A new comment is e-mailed once to the question's other followers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core import mail

from forecasts.discussion.models import Comment
from forecasts.discussion.notices import comment_notify, comment_notify_task
from forecasts.discussion.services import (
    comment_delete,
    comment_hide,
    comment_post,
    question_follow,
    question_unfollow,
)
from tests.factories import QuestionFactory, UserFactory
from tests.mail_backends import FailingBackend

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing_mail(settings) -> Iterator[type[FailingBackend]]:
    settings.EMAIL_BACKEND = "tests.mail_backends.FailingBackend"
    yield FailingBackend
    FailingBackend.failures = 0


def _followers(question, *names: str, email: bool = True) -> list:
    users = [UserFactory(username=n, email=f"{n}@example.org" if email else "") for n in names]
    for user in users:
        question_follow(user=user, question_id=question.pk)
    return users


def test_a_comment_is_mailed_to_the_other_followers_once_it_commits(
    django_capture_on_commit_callbacks,
) -> None:
    question = QuestionFactory(title="Will the control be lifted?")
    ada, _bob, _cy = _followers(question, "ada", "bob", "cy")
    UserFactory(username="dee", email="dee@example.org")  # does not follow

    with django_capture_on_commit_callbacks(execute=True):
        comment = comment_post(user=ada, question_id=question.pk, body="See *this* report.")

    [message] = mail.outbox
    assert message.to == []
    assert sorted(message.bcc) == ["bob@example.org", "cy@example.org"]
    assert message.subject == "[Crux] ada commented on: Will the control be lifted?"
    assert "See *this* report." in message.body
    assert f"#comment-{comment.pk}" in message.body
    html, _ = message.alternatives[0]
    assert "<em>this</em>" in html


def test_sending_twice_sends_once() -> None:
    question = QuestionFactory()
    ada, _bob = _followers(question, "ada", "bob")
    comment = comment_post(user=ada, question_id=question.pk, body="Hello")

    first = comment_notify_task.apply(args=[comment.pk]).get()
    second = comment_notify_task.apply(args=[comment.pk]).get()

    assert (first, second, len(mail.outbox)) == (1, 0, 1)
    assert Comment.objects.get(pk=comment.pk).notified_at is not None


def test_nobody_without_an_address_or_unfollowed_or_inactive_is_mailed() -> None:
    question = QuestionFactory()
    ada, bob, cy = _followers(question, "ada", "bob", "cy")
    _followers(question, "noaddress", email=False)
    question_unfollow(user=bob, question_id=question.pk)
    cy.is_active = False
    cy.save()
    comment = comment_post(user=ada, question_id=question.pk, body="Hello")

    sent = comment_notify(comment_id=comment.pk)

    assert (sent, mail.outbox) == (0, [])


@pytest.mark.parametrize("removal", ["deleted", "hidden"])
def test_a_comment_removed_before_the_send_is_mailed_to_nobody(removal: str) -> None:
    question = QuestionFactory()
    ada, _bob = _followers(question, "ada", "bob")
    comment = comment_post(user=ada, question_id=question.pk, body="Oops")
    if removal == "deleted":
        comment_delete(user=ada, comment_id=comment.pk)
    else:
        comment_hide(user=UserFactory(is_staff=True), comment_id=comment.pk)

    assert comment_notify(comment_id=comment.pk) == 0
    assert mail.outbox == []


def test_a_refused_send_is_retried_and_sent_once(failing_mail) -> None:
    question = QuestionFactory()
    ada, _bob = _followers(question, "ada", "bob")
    comment = comment_post(user=ada, question_id=question.pk, body="Hello")
    failing_mail.failures = 1

    with pytest.raises(OSError):
        comment_notify(comment_id=comment.pk)
    assert Comment.objects.get(pk=comment.pk).notified_at is None

    assert comment_notify(comment_id=comment.pk) == 1
    assert len(mail.outbox) == 1


def test_the_mail_renders_the_comment_safely() -> None:
    question = QuestionFactory()
    ada, _bob = _followers(question, "ada", "bob")
    comment = comment_post(
        user=ada, question_id=question.pk, body="<script>alert(1)</script> [x](javascript:y)"
    )

    comment_notify(comment_id=comment.pk)

    html, _ = mail.outbox[0].alternatives[0]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html
