"""Comment and follow services: what they write, and what they refuse."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from forecasts.discussion.models import COMMENT_MAX_LENGTH, Comment, Follow
from forecasts.discussion.services import (
    comment_delete,
    comment_edit,
    comment_hide,
    comment_post,
    comment_unhide,
    question_follow,
    question_unfollow,
)
from forecasts.models import Question
from tests.factories import QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_posting_a_comment_keeps_its_text_and_follows_the_question(now) -> None:
    question, ada = QuestionFactory(), UserFactory()

    comment = comment_post(user=ada, question_id=question.pk, body="  Talks resumed.  ", now=now)

    assert (comment.body, comment.author, comment.created_at) == ("Talks resumed.", ada, now)
    assert Follow.objects.filter(question=question, user=ada).exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("   \n ", "cannot be empty"),
        ("x" * (COMMENT_MAX_LENGTH + 1), f"at most {COMMENT_MAX_LENGTH} characters"),
        ("nul \x00 byte", "NUL"),
        ("lone \ud800 surrogate", "valid Unicode"),
    ],
)
def test_a_bad_body_is_refused_by_name_and_nothing_is_written(body: str, message: str) -> None:
    question, ada = QuestionFactory(), UserFactory()

    with pytest.raises(ValidationError) as refused:
        comment_post(user=ada, question_id=question.pk, body=body)

    assert message in refused.value.message_dict["body"][0]
    assert not Comment.objects.exists() and not Follow.objects.exists()


def test_a_comment_on_no_question_is_refused() -> None:
    with pytest.raises(Question.DoesNotExist):
        comment_post(user=UserFactory(), question_id=987654, body="Hello")


def test_the_author_edits_their_comment(now) -> None:
    ada = UserFactory()
    comment = comment_post(user=ada, question_id=QuestionFactory().pk, body="First")

    edited = comment_edit(user=ada, comment_id=comment.pk, body="Second", now=now)

    assert (edited.body, edited.edited_at) == ("Second", now)


def test_an_edit_that_changes_nothing_is_not_marked_edited() -> None:
    ada = UserFactory()
    comment = comment_post(user=ada, question_id=QuestionFactory().pk, body="Same")

    edited = comment_edit(user=ada, comment_id=comment.pk, body=" Same ")

    assert edited.edited_at is None


@pytest.mark.parametrize("is_staff", [False, True])
def test_nobody_else_edits_or_deletes_a_comment(is_staff: bool) -> None:
    comment = comment_post(user=UserFactory(), question_id=QuestionFactory().pk, body="Mine")
    other = UserFactory(is_staff=is_staff)

    with pytest.raises(PermissionDenied):
        comment_edit(user=other, comment_id=comment.pk, body="Theirs")
    with pytest.raises(PermissionDenied):
        comment_delete(user=other, comment_id=comment.pk)

    comment.refresh_from_db()
    assert (comment.body, comment.deleted_at) == ("Mine", None)


def test_deleting_erases_the_text_and_keeps_the_place(now) -> None:
    ada = UserFactory()
    comment = comment_post(user=ada, question_id=QuestionFactory().pk, body="Oops")

    comment_delete(user=ada, comment_id=comment.pk, now=now)
    comment_delete(user=ada, comment_id=comment.pk)  # again: nothing changes

    comment.refresh_from_db()
    assert (comment.body, comment.deleted_at) == ("", now)


def test_a_deleted_comment_cannot_be_edited() -> None:
    ada = UserFactory()
    comment = comment_post(user=ada, question_id=QuestionFactory().pk, body="Oops")
    comment_delete(user=ada, comment_id=comment.pk)

    with pytest.raises(ValidationError) as refused:
        comment_edit(user=ada, comment_id=comment.pk, body="Back")

    assert "deleted" in refused.value.message_dict["body"][0]


def test_staff_hide_and_unhide_keeping_the_text(now) -> None:
    ada, sam = UserFactory(), UserFactory(is_staff=True)
    comment = comment_post(user=ada, question_id=QuestionFactory().pk, body="Spam")

    hidden = comment_hide(user=sam, comment_id=comment.pk, now=now)
    assert (hidden.hidden_at, hidden.hidden_by, hidden.body) == (now, sam, "Spam")

    shown = comment_unhide(user=sam, comment_id=comment.pk)
    assert (shown.hidden_at, shown.hidden_by, shown.body) == (None, None, "Spam")


def test_only_staff_hide() -> None:
    ada = UserFactory()
    comment = comment_post(user=ada, question_id=QuestionFactory().pk, body="Mine")

    with pytest.raises(PermissionDenied):
        comment_hide(user=ada, comment_id=comment.pk)
    with pytest.raises(PermissionDenied):
        comment_unhide(user=UserFactory(), comment_id=comment.pk)

    comment.refresh_from_db()
    assert comment.hidden_at is None


def test_a_hidden_comment_cannot_be_edited_but_can_be_deleted() -> None:
    ada = UserFactory()
    comment = comment_post(user=ada, question_id=QuestionFactory().pk, body="Rude")
    comment_hide(user=UserFactory(is_staff=True), comment_id=comment.pk)

    with pytest.raises(ValidationError) as refused:
        comment_edit(user=ada, comment_id=comment.pk, body="Nice")
    assert "moderator" in refused.value.message_dict["body"][0]

    assert comment_delete(user=ada, comment_id=comment.pk).is_deleted


def test_follow_and_unfollow_are_idempotent() -> None:
    question, ada = QuestionFactory(), UserFactory()

    question_follow(user=ada, question_id=question.pk)
    question_follow(user=ada, question_id=question.pk)
    assert Follow.objects.filter(question=question, user=ada).count() == 1

    assert question_unfollow(user=ada, question_id=question.pk) is True
    assert question_unfollow(user=ada, question_id=question.pk) is False
    assert not Follow.objects.exists()
