"""Comments on questions, and who follows a question.

The relations name their models by string, so this module imports nothing of ``forecasts``:
``forecasts.models`` imports it, to register these models with the app, and nothing more.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

COMMENT_MAX_LENGTH = 5000


class Comment(models.Model):
    """A comment on a question, in Markdown (``crux.markdown``).

    Neither moderation nor deletion removes the row, so the thread keeps its order and a later
    comment that answers this one still reads in place. Staff hide a comment (``hidden_by``):
    its text is kept, for staff to review and restore, and others see "removed by a
    moderator". Its author deletes it: the text is erased (``body`` empty) and the row stays as
    "deleted by its author".
    """

    question = models.ForeignKey(
        "forecasts.Question", on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    body = models.TextField(max_length=COMMENT_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The staff member who hid it.",
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the question's followers were told of it."
    )

    class Meta:
        ordering = ["question_id", "created_at", "id"]
        indexes = [models.Index(fields=["question", "created_at"])]
        constraints = [
            # Only a deleted comment has no text.
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=False) | ~Q(body=""),
                name="comment_body_unless_deleted",
            ),
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=True) | Q(body=""),
                name="comment_deleted_has_no_body",
            ),
            # hidden_by may be cleared (the staff account deleted) while the comment stays hidden.
            models.CheckConstraint(
                condition=Q(hidden_at__isnull=False) | Q(hidden_by__isnull=True),
                name="comment_hidden_by_only_if_hidden",
            ),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} by {self.author_id} on {self.question_id}"

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Follow(models.Model):
    """That a user follows a question: they are e-mailed each new comment on it."""

    question = models.ForeignKey(
        "forecasts.Question", on_delete=models.CASCADE, related_name="follows"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "user"], name="follow_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.question_id}"
