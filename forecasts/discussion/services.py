"""Writes of the discussion: comments (post, edit, delete; staff hide and unhide) and follows.

People edit and delete only their own comments; staff hide and unhide any. A refusal is a
``ValidationError`` naming the field, or ``PermissionDenied`` for someone else's comment.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from forecasts.discussion.models import COMMENT_MAX_LENGTH, Comment, Follow
from forecasts.discussion.notices import comment_notify_task
from forecasts.models import Question

BODY_EMPTY = "Write something: a comment cannot be empty."
HIDDEN_NO_EDIT = "A moderator removed this comment: it can no longer be edited."
DELETED_NO_EDIT = "This comment was deleted: it can no longer be edited."


def comment_body_checked(body: str) -> str:
    """The text a comment keeps (stripped), or a ``ValidationError`` naming ``body``."""
    text = body.strip()
    if not text:
        raise ValidationError({"body": BODY_EMPTY})
    if len(text) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {
                "body": f"A comment has at most {COMMENT_MAX_LENGTH} characters "
                f"(this one has {len(text)})."
            }
        )
    if "\x00" in text:
        raise ValidationError({"body": "A comment cannot contain NUL characters."})
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which no database column takes
        raise ValidationError({"body": "A comment must be valid Unicode text."}) from None
    return text


@transaction.atomic
def comment_post(
    *, user: User, question_id: int, body: str, now: dt.datetime | None = None
) -> Comment:
    """Post ``user``'s comment on a question (any status): they follow it from now on, and its
    other followers are e-mailed the comment once this commits."""
    text = comment_body_checked(body)
    question = Question.objects.only("pk").get(pk=question_id)
    now = now or timezone.now()
    comment = Comment.objects.create(question=question, author=user, body=text, created_at=now)
    Follow.objects.get_or_create(question=question, user=user, defaults={"created_at": now})
    comment_notify_task.delay_on_commit(comment.pk)
    return comment


def _own_comment_locked(*, user: User, comment_id: int) -> Comment:
    comment = Comment.objects.select_for_update().get(pk=comment_id)
    if comment.author_id != user.pk:
        raise PermissionDenied("Only its author may change a comment.")
    return comment


@transaction.atomic
def comment_edit(
    *, user: User, comment_id: int, body: str, now: dt.datetime | None = None
) -> Comment:
    """Replace the text of ``user``'s own comment; a hidden or deleted one cannot change."""
    comment = _own_comment_locked(user=user, comment_id=comment_id)
    if comment.is_deleted:
        raise ValidationError({"body": DELETED_NO_EDIT})
    if comment.is_hidden:
        raise ValidationError({"body": HIDDEN_NO_EDIT})
    text = comment_body_checked(body)
    if text != comment.body:
        comment.body = text
        comment.edited_at = now or timezone.now()
        comment.save(update_fields=["body", "edited_at"])
    return comment


@transaction.atomic
def comment_delete(*, user: User, comment_id: int, now: dt.datetime | None = None) -> Comment:
    """Delete ``user``'s own comment: its text is erased, its place in the thread stays.
    Deleting it again changes nothing."""
    comment = _own_comment_locked(user=user, comment_id=comment_id)
    if not comment.is_deleted:
        comment.body = ""
        comment.deleted_at = now or timezone.now()
        comment.save(update_fields=["body", "deleted_at"])
    return comment


def _staff_locked(*, user: User, comment_id: int) -> Comment:
    if not (user.is_active and user.is_staff):
        raise PermissionDenied("Only staff moderate comments.")
    return Comment.objects.select_for_update().get(pk=comment_id)


@transaction.atomic
def comment_hide(*, user: User, comment_id: int, now: dt.datetime | None = None) -> Comment:
    """Staff: hide a comment from everyone else ("removed by a moderator"), keeping its text.
    Hiding a hidden comment changes nothing."""
    comment = _staff_locked(user=user, comment_id=comment_id)
    if not comment.is_hidden:
        comment.hidden_at = now or timezone.now()
        comment.hidden_by = user
        comment.save(update_fields=["hidden_at", "hidden_by"])
    return comment


@transaction.atomic
def comment_unhide(*, user: User, comment_id: int) -> Comment:
    """Staff: show a hidden comment again, as it was."""
    comment = _staff_locked(user=user, comment_id=comment_id)
    if comment.is_hidden:
        comment.hidden_at = None
        comment.hidden_by = None
        comment.save(update_fields=["hidden_at", "hidden_by"])
    return comment


@transaction.atomic
def question_follow(*, user: User, question_id: int, now: dt.datetime | None = None) -> Follow:
    """``user`` follows the question (again, harmlessly, if they already do)."""
    question = Question.objects.only("pk").get(pk=question_id)
    follow, _ = Follow.objects.get_or_create(
        question=question, user=user, defaults={"created_at": now or timezone.now()}
    )
    return follow


@transaction.atomic
def question_unfollow(*, user: User, question_id: int) -> bool:
    """``user`` stops following the question; False if they did not follow it."""
    deleted, _ = Follow.objects.filter(question_id=question_id, user=user).delete()
    return deleted > 0
