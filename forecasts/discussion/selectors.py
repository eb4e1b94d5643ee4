"""Reads of the discussion: a question's comments, who follows it, and its rationales."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from forecasts.discussion.models import Comment, Follow
from forecasts.models import Forecast, Profile, Question
from forecasts.selectors import crowd_is_public


def question_comments(*, question_id: int) -> QuerySet[Comment]:
    """A question's comments, oldest first, with their authors (and who hid them)."""
    return (
        Comment.objects.filter(question_id=question_id)
        .select_related("author", "hidden_by")
        .order_by("created_at", "id")
    )


def comment_get(*, comment_id: int) -> Comment:
    """A comment with its author and question (``Comment.DoesNotExist`` if there is none)."""
    return Comment.objects.select_related("author", "hidden_by", "question").get(pk=comment_id)


def user_follows(*, user: User | AnonymousUser, question_id: int) -> bool:
    if not user.is_authenticated:
        return False
    return Follow.objects.filter(question_id=question_id, user=user).exists()


def question_rationales(*, question: Question) -> list[Forecast]:
    """Each forecaster's latest non-empty rationale on the question, with the forecast that
    carried it, oldest first: only once the question is scored (until then forecasts are
    private, ``forecasts.selectors.crowd_is_public``), and never of someone who opted out
    (``Profile.share_rationales``)."""
    if not crowd_is_public(question.resolution):
        return []
    opted_out = Profile.objects.filter(share_rationales=False).values("user_id")
    forecasts = (
        Forecast.objects.filter(question=question)
        .exclude(rationale="")
        .exclude(user_id__in=opted_out)
        .select_related("user")
        .order_by("user_id", "-starts_at", "-id")
    )
    latest: dict[int, Forecast] = {}
    for forecast in forecasts:
        latest.setdefault(forecast.user_id, forecast)
    return sorted(latest.values(), key=lambda f: (f.starts_at, f.pk))
