"""Source documents, questions drawn from them, and forecasts as interval records."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

PROBABILITY_MIN = 0.001
PROBABILITY_MAX = 0.999


class SourceDocument(models.Model):
    """A text that questions are drawn from (the essay, an article, a report)."""

    key = models.SlugField(max_length=100, unique=True, help_text="Stable key used by imports.")
    title = models.CharField(max_length=300)
    author = models.CharField(max_length=200, blank=True)
    published_on = models.DateField()
    url = models.URLField(blank=True)
    text = models.TextField()

    class Meta:
        ordering = ["-published_on", "title"]

    def __str__(self) -> str:
        return self.title


class QuestionKind(models.TextChoices):
    BINARY = "binary", "Binary (yes/no)"


class Resolution(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    ANNULLED = "annulled", "Annulled"
    AMBIGUOUS = "ambiguous", "Ambiguous"


class AutoOutcome(models.TextChoices):
    NONE = "", "None (staff must resolve)"
    YES = "yes", "Yes"
    NO = "no", "No"


class QuestionStatus(models.TextChoices):
    UPCOMING = "upcoming", "Upcoming"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    AWAITING = "awaiting", "Awaiting resolution"
    RESOLVED = "resolved", "Resolved"


class Question(models.Model):
    """A binary question with its dates; its status is derived from them and its resolution."""

    key = models.SlugField(max_length=100, unique=True, help_text="Stable key used by imports.")
    source = models.ForeignKey(SourceDocument, on_delete=models.PROTECT, related_name="questions")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    resolution_criteria = models.TextField()
    passage = models.TextField(help_text="The verbatim passage of the source it was drawn from.")
    kind = models.CharField(max_length=20, choices=QuestionKind, default=QuestionKind.BINARY)
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField(help_text="No forecasts or trades from this moment.")
    resolves_at = models.DateTimeField(help_text="When the question is due to be resolved.")
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the lifecycle sweep recorded the close."
    )
    auto_outcome = models.CharField(
        max_length=10,
        choices=AutoOutcome,
        default=AutoOutcome.NONE,
        blank=True,
        help_text="Outcome applied when resolves_at passes without a resolution.",
    )
    resolution = models.CharField(max_length=10, choices=Resolution, blank=True)
    resolved_at = models.DateTimeField(
        null=True, blank=True, help_text="Effective time of the resolution."
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["closes_at", "id"]
        indexes = [models.Index(fields=["resolution", "closes_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__lt=models.F("closes_at")),
                name="question_opens_before_close",
            ),
            models.CheckConstraint(
                condition=Q(closes_at__lte=models.F("resolves_at")),
                name="question_closes_before_resolve",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def status(self, now: dt.datetime) -> QuestionStatus:
        if self.resolution:
            return QuestionStatus.RESOLVED
        if now < self.opens_at:
            return QuestionStatus.UPCOMING
        if now < self.closes_at and self.closed_at is None:
            return QuestionStatus.OPEN
        if now < self.resolves_at:
            return QuestionStatus.CLOSED
        return QuestionStatus.AWAITING

    def is_open_for_forecasts(self, now: dt.datetime) -> bool:
        return self.status(now) == QuestionStatus.OPEN


class Forecast(models.Model):
    """One probability in force from ``starts_at`` until ``ends_at`` (open-ended while standing).

    A user's new forecast ends their previous one; history is never rewritten.
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="forecasts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forecasts"
    )
    probability = models.FloatField(help_text="Probability of YES, in [0.001, 0.999].")
    rationale = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["question_id", "starts_at", "id"]
        indexes = [
            models.Index(fields=["question", "starts_at"]),
            models.Index(fields=["user", "question", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=PROBABILITY_MIN, probability__lte=PROBABILITY_MAX),
                name="forecast_probability_in_range",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
                name="forecast_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["question", "user"],
                condition=Q(ends_at__isnull=True),
                name="forecast_one_standing_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.question_id}: {self.probability:.3f}"

    @property
    def is_standing(self) -> bool:
        return self.ends_at is None

    @property
    def percent(self) -> float:
        return self.probability * 100
