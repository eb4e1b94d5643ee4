"""Source documents, questions drawn from them, and forecasts as interval records."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

# The source of the practice questions that ``seed_demo`` creates: kept out of leaderboards
# and the crowd's calibration unless asked for, so demo data never mixes in silently.
PRACTICE_SOURCE_KEY = "demo-practice"
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


def question_status(
    *,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    resolves_at: dt.datetime,
    closed_at: dt.datetime | None,
    resolution: str,
    now: dt.datetime,
) -> QuestionStatus:
    """A question's status at ``now``, from its dates and resolution alone."""
    if resolution:
        return QuestionStatus.RESOLVED
    if now < opens_at:
        return QuestionStatus.UPCOMING
    if now < closes_at and closed_at is None:
        return QuestionStatus.OPEN
    if now < resolves_at:
        return QuestionStatus.CLOSED
    return QuestionStatus.AWAITING


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
    resolved_automatically = models.BooleanField(
        default=False, help_text="Resolved by the lifecycle job from its automatic outcome."
    )
    followups_done_at = models.DateTimeField(
        null=True, blank=True, help_text="When the post-resolution notifications were done."
    )
    crowd_median = models.FloatField(
        null=True, blank=True, help_text="The crowd's current median (kept with each forecast)."
    )
    crowd_forecasters = models.PositiveIntegerField(
        default=0, help_text="How many forecasts stand now (kept with each forecast)."
    )
    staff_reminded_at = models.DateTimeField(
        null=True, blank=True, help_text="When staff were told it awaits resolution."
    )
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
        return question_status(
            opens_at=self.opens_at,
            closes_at=self.closes_at,
            resolves_at=self.resolves_at,
            closed_at=self.closed_at,
            resolution=self.resolution,
            now=now,
        )

    def is_open_for_forecasts(self, now: dt.datetime) -> bool:
        return self.status(now) == QuestionStatus.OPEN

    @property
    def is_scorable(self) -> bool:
        """Resolved YES or NO: annulled and ambiguous questions carry no scores."""
        return self.resolution in (Resolution.YES, Resolution.NO)

    @property
    def scoring_closes_at(self) -> dt.datetime:
        """The actual close: the scheduled one, or the effective resolution time if earlier."""
        if self.resolved_at is not None and self.resolved_at < self.closes_at:
            return self.resolved_at
        return self.closes_at

    @property
    def open_fraction(self) -> float:
        """Share of the scheduled open period that was open: the attainable coverage."""
        scheduled = (self.closes_at - self.opens_at).total_seconds()
        actual = (self.scoring_closes_at - self.opens_at).total_seconds()
        return max(0.0, min(1.0, actual / scheduled))


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


class AggregatePoint(models.Model):
    """The crowd's forecast in force from ``at`` until the question's next point.

    Appended on every forecast write (from the standing forecasts only, so the cost does not
    grow with the question's history) and rebuilt from the full history at resolution.
    ``forecasters`` = 0 marks a stretch in which nobody has a standing forecast.
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="aggregates")
    at = models.DateTimeField()
    median = models.FloatField(null=True, help_text="Recency-weighted median of P(YES).")
    geometric_mean_odds = models.FloatField(null=True, help_text="Geometric mean of odds.")
    forecasters = models.PositiveIntegerField()

    class Meta:
        ordering = ["question_id", "at"]
        constraints = [
            models.UniqueConstraint(fields=["question", "at"], name="aggregate_one_point_per_time")
        ]

    def __str__(self) -> str:
        return f"{self.question_id} at {self.at:%Y-%m-%d %H:%M}: {self.median}"


class Forecaster(models.TextChoices):
    """Who a score belongs to: a user, or one of the crowd's aggregates."""

    USER = "user", "User"
    CROWD_MEDIAN = "crowd_median", "Crowd (recency-weighted median)"
    CROWD_GMO = "crowd_gmo", "Crowd (geometric mean of odds)"


class ScoreType(models.TextChoices):
    """The stored score types: the names and labels of ``forecasts.maths.score_types``, which
    says everything else about them (a test keeps the two equal). Spelled out, not built from
    the registry at run time, because the type checker cannot see the members of such an enum."""

    BRIER = "brier", "Brier (time-averaged)"
    LOG = "log", "Log (time-averaged)"
    BASELINE = "baseline", "Baseline (time-averaged)"
    PEER = "peer", "Peer (time-averaged)"
    BRIER_AT_CLOSE = "brier_at_close", "Brier at close"
    LOG_AT_CLOSE = "log_at_close", "Log at close"
    BASELINE_AT_CLOSE = "baseline_at_close", "Baseline at close"
    PEER_AT_CLOSE = "peer_at_close", "Peer at close"


class Score(models.Model):
    """One score of one forecaster (a user or the crowd) on one resolved question.

    Derived data: recomputed from forecasts at resolution, deleted on unresolve or annulment.
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="scores")
    forecaster = models.CharField(max_length=20, choices=Forecaster, default=Forecaster.USER)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="scores"
    )
    score_type = models.CharField(max_length=20, choices=ScoreType)
    value = models.FloatField()
    coverage = models.FloatField(help_text="Share of the open period with a standing forecast.")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["question_id", "score_type", "user_id"]
        indexes = [
            models.Index(fields=["score_type", "forecaster", "user"]),
            models.Index(fields=["user", "score_type"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "user", "score_type"],
                condition=Q(user__isnull=False),
                name="score_one_per_user_question_type",
            ),
            models.UniqueConstraint(
                fields=["question", "forecaster", "score_type"],
                condition=Q(user__isnull=True),
                name="score_one_per_crowd_question_type",
            ),
            models.CheckConstraint(
                condition=(Q(forecaster="user") & Q(user__isnull=False))
                | (~Q(forecaster="user") & Q(user__isnull=True)),
                name="score_user_iff_user_forecaster",
            ),
            models.CheckConstraint(
                condition=Q(coverage__gte=0, coverage__lte=1), name="score_coverage_in_range"
            ),
        ]

    def __str__(self) -> str:
        who = self.user_id if self.user_id else self.forecaster
        return f"{self.score_type} of {who} on {self.question_id}: {self.value:.4f}"


class Profile(models.Model):
    """A user's preferences; created on first use."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="crux_profile"
    )
    notify_on_resolution = models.BooleanField(
        default=True, help_text="Email me my score when a question I forecast resolves."
    )

    def __str__(self) -> str:
        return f"Profile of {self.user_id}"


class ResolutionNotice(models.Model):
    """That a forecaster was told of a question's resolution: each is told once."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="notices")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    resolution = models.CharField(max_length=10, choices=Resolution)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "user"], name="notice_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} told of {self.question_id}"


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 hash of the secret is kept; it is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The start of the token, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class DataVersion(models.Model):
    """A counter bumped whenever derived data changes, to key caches and ETags on it."""

    name = models.CharField(max_length=50, primary_key=True)
    version = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
