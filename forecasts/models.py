"""Source documents, questions drawn from them, and forecasts as interval records."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Q

from forecasts.maths.continuous import Scale

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
    MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
    NUMERIC = "numeric", "Numeric"
    DATE = "date", "Date"


# Numeric and date questions: a forecast is a CDF on this many evenly spaced points of the
# (scaled) range, as Metaculus's (``forecasts.maths.continuous``).
CONTINUOUS_KINDS = (QuestionKind.NUMERIC, QuestionKind.DATE)


@dataclass(frozen=True)
class CrowdColumns:
    """Where a kind of question keeps its forecasts and its crowd: the ``Forecast`` column, the
    ``AggregatePoint`` columns of its aggregates (the headline one first) and the ``Question``
    column that keeps the headline one now."""

    forecast: str
    points: tuple[str, ...]
    question: str


_DISTRIBUTION_CROWD = CrowdColumns("cdf", ("cdf",), "crowd_cdf")
CROWD_COLUMNS = {
    QuestionKind.BINARY: CrowdColumns(
        "probability", ("median", "geometric_mean_odds"), "crowd_median"
    ),
    QuestionKind.MULTIPLE_CHOICE: CrowdColumns(
        "probabilities", ("medians", "geometric_means"), "crowd_medians"
    ),
    QuestionKind.NUMERIC: _DISTRIBUTION_CROWD,
    QuestionKind.DATE: _DISTRIBUTION_CROWD,
}
UNIT_MAX = 30


# A multiple-choice question's options: at least two, at most twenty, each label this long.
OPTIONS_MIN = 2
OPTIONS_MAX = 20
OPTION_LABEL_MAX = 100
# The options of a binary question, in the order of ``outcome_index`` (and of markets.lmsr).
BINARY_OPTIONS = ("Yes", "No")


class Resolution(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    # A multiple-choice question resolved to one of its options (``resolved_option``).
    OPTION = "option", "An option"
    # A numeric or date question resolved to a value (``resolved_value``), or beyond an open
    # bound of its range (Metaculus's names).
    VALUE = "value", "A value"
    BELOW = "below_lower_bound", "Below the lower bound"
    ABOVE = "above_upper_bound", "Above the upper bound"
    ANNULLED = "annulled", "Annulled"
    AMBIGUOUS = "ambiguous", "Ambiguous"


# The resolutions that name what happened, and so carry scores (annulled and ambiguous don't).
SCORABLE_RESOLUTIONS = (
    Resolution.YES,
    Resolution.NO,
    Resolution.OPTION,
    Resolution.VALUE,
    Resolution.BELOW,
    Resolution.ABOVE,
)


class AutoOutcome(models.TextChoices):
    NONE = "", "None (staff must resolve)"
    YES = "yes", "Yes"
    NO = "no", "No"
    # A multiple-choice question's default option (``auto_option``).
    OPTION = "option", "An option"
    # A numeric or date question with an open upper bound: "not by the end of the range".
    ABOVE = "above_upper_bound", "Above the upper bound"


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


def question_option_labels(*, kind: str, options: Sequence[str]) -> tuple[str, ...]:
    """A question's ``option_labels`` from its kind and options alone (for rows read as values)."""
    return tuple(options) if kind == QuestionKind.MULTIPLE_CHOICE else BINARY_OPTIONS


def outcome_value_text(*, kind: str, value: float, unit: str = "") -> str:
    """How a page shows a numeric question's value (to 10 significant digits, with its unit)
    or a date question's (UTC epoch seconds): YYYY-MM-DD, with the time (UTC) unless it is
    midnight."""
    if kind == QuestionKind.DATE:
        moment = dt.datetime.fromtimestamp(value, dt.UTC)
        if moment.time() == dt.time():
            return f"{moment:%Y-%m-%d}"
        shown = f"{moment:%Y-%m-%d %H:%M:%S}" if moment.second else f"{moment:%Y-%m-%d %H:%M}"
        return f"{shown} UTC"
    text = format(value + 0.0, ",.10g")  # + 0.0: never "-0"
    return f"{text} {unit}" if unit else text


def question_outcome_index(*, resolution: str, resolved_option: int | None) -> int | None:
    """A question's ``outcome_index`` from its resolution alone (for rows read as values)."""
    if resolution == Resolution.YES:
        return 0
    if resolution == Resolution.NO:
        return 1
    if resolution == Resolution.OPTION:
        return resolved_option
    return None


class Question(models.Model):
    """A binary question with its dates; its status is derived from them and its resolution."""

    key = models.SlugField(max_length=100, unique=True, help_text="Stable key used by imports.")
    source = models.ForeignKey(SourceDocument, on_delete=models.PROTECT, related_name="questions")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    resolution_criteria = models.TextField()
    passage = models.TextField(help_text="The verbatim passage of the source it was drawn from.")
    kind = models.CharField(max_length=20, choices=QuestionKind, default=QuestionKind.BINARY)
    options = models.JSONField(
        default=list,
        blank=True,
        help_text="A multiple-choice question's option labels, in order; fixed once it opens.",
    )
    # Numeric and date questions (Metaculus's names): the range, a date's as UTC epoch seconds.
    range_min = models.FloatField(
        null=True, blank=True, help_text="Numeric or date: the range's low end."
    )
    range_max = models.FloatField(
        null=True, blank=True, help_text="Numeric or date: the range's high end."
    )
    open_lower_bound = models.BooleanField(
        default=False, help_text="Numeric or date: the outcome may lie below the range."
    )
    open_upper_bound = models.BooleanField(
        default=False, help_text="Numeric or date: the outcome may lie above the range."
    )
    log_scale = models.BooleanField(
        default=False, help_text="Numeric: the range is spaced logarithmically (range_min > 0)."
    )
    unit = models.CharField(max_length=UNIT_MAX, blank=True, help_text="Numeric: the unit's label.")
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField(help_text="No forecasts or trades from this moment.")
    resolves_at = models.DateTimeField(help_text="When the question is due to be resolved.")
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the lifecycle sweep recorded the close."
    )
    auto_outcome = models.CharField(
        max_length=20,
        choices=AutoOutcome,
        default=AutoOutcome.NONE,
        blank=True,
        help_text="Outcome applied when resolves_at passes without a resolution.",
    )
    auto_option = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The option applied automatically (multiple choice)."
    )
    resolution = models.CharField(max_length=20, choices=Resolution, blank=True)
    resolved_option = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The index of the option that happened (multiple choice)."
    )
    resolved_value = models.FloatField(
        null=True,
        blank=True,
        help_text="The value that happened (numeric; a date's epoch seconds).",
    )
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
    crowd_medians = models.JSONField(
        null=True,
        blank=True,
        help_text="Multiple choice: the crowd's current medians (kept with each forecast).",
    )
    crowd_cdf = models.JSONField(
        null=True,
        blank=True,
        help_text="Numeric or date: the crowd's current CDF (kept with each forecast).",
    )
    crowd_forecasters = models.PositiveIntegerField(
        default=0, help_text="How many forecasts stand now (kept with each forecast)."
    )
    staff_reminded_at = models.DateTimeField(
        null=True, blank=True, help_text="When staff were told it awaits resolution."
    )
    # A yes/no question may be a rung of a numeric or date question: it resolves YES iff that
    # question's outcome is at most ``rung_value``. PROTECT, not SET_NULL: clearing the link
    # alone would leave a value without its question, which the constraint below refuses.
    rung_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rungs",
        help_text="Binary: the numeric or date question this one is a rung of.",
    )
    rung_value = models.FloatField(
        null=True,
        blank=True,
        help_text="Binary rung: YES iff the outcome is at most this (a date's epoch seconds).",
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
            # An option is named exactly when the resolution (or automatic outcome) is one.
            models.CheckConstraint(
                condition=Q(resolution=Resolution.OPTION, resolved_option__isnull=False)
                | (~Q(resolution=Resolution.OPTION) & Q(resolved_option__isnull=True)),
                name="question_option_resolution_names_its_option",
            ),
            models.CheckConstraint(
                condition=Q(auto_outcome=AutoOutcome.OPTION, auto_option__isnull=False)
                | (~Q(auto_outcome=AutoOutcome.OPTION) & Q(auto_option__isnull=True)),
                name="question_option_auto_outcome_names_its_option",
            ),
            models.CheckConstraint(
                condition=Q(resolution=Resolution.VALUE, resolved_value__isnull=False)
                | (~Q(resolution=Resolution.VALUE) & Q(resolved_value__isnull=True)),
                name="question_value_resolution_names_its_value",
            ),
            # A numeric or date question has a range, low < high; no other kind has one.
            models.CheckConstraint(
                condition=Q(
                    kind__in=CONTINUOUS_KINDS,
                    range_min__isnull=False,
                    range_max__isnull=False,
                    range_min__lt=models.F("range_max"),
                )
                | (
                    ~Q(kind__in=CONTINUOUS_KINDS)
                    & Q(range_min__isnull=True, range_max__isnull=True)
                ),
                name="question_range_iff_continuous",
            ),
            models.CheckConstraint(
                condition=Q(log_scale=False) | Q(kind=QuestionKind.NUMERIC, range_min__gt=0),
                name="question_log_scale_positive_numeric",
            ),
            models.CheckConstraint(
                condition=Q(rung_of__isnull=True, rung_value__isnull=True)
                | Q(rung_of__isnull=False, rung_value__isnull=False),
                name="question_rung_of_and_value_together",
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
    def is_multiple_choice(self) -> bool:
        return self.kind == QuestionKind.MULTIPLE_CHOICE

    @property
    def is_continuous(self) -> bool:
        """A numeric or date question: a forecast is a CDF over its range."""
        return self.kind in CONTINUOUS_KINDS

    @property
    def scale(self) -> Scale:
        """A numeric or date question's range as the maths takes it (ValueError on others)."""
        if not self.is_continuous or self.range_min is None or self.range_max is None:
            raise ValueError(f"question {self.pk} is not a numeric or date question")
        return Scale(
            self.range_min,
            self.range_max,
            log_scale=self.log_scale,
            open_lower=self.open_lower_bound,
            open_upper=self.open_upper_bound,
        )

    @property
    def option_labels(self) -> tuple[str, ...]:
        """The outcomes a forecast spreads its probability over, in order: Yes and No for a
        binary question (the n = 2 case), the options of a multiple-choice one."""
        return question_option_labels(kind=self.kind, options=self.options)

    @property
    def outcome_index(self) -> int | None:
        """The index of what happened in ``option_labels``; None until resolved to one."""
        return question_outcome_index(
            resolution=self.resolution, resolved_option=self.resolved_option
        )

    @property
    def resolution_label(self) -> str:
        """How a page names the resolution: the option's label on a multiple-choice question
        resolved to one, the value on a numeric or date question resolved to one
        (``outcome_value_text``), else the resolution's own ("Yes", "Annulled")."""
        if self.resolution == Resolution.OPTION and self.resolved_option is not None:
            return self.option_labels[self.resolved_option]
        if self.resolution == Resolution.VALUE and self.resolved_value is not None:
            return outcome_value_text(kind=self.kind, value=self.resolved_value, unit=self.unit)
        return self.get_resolution_display()

    @property
    def range_label(self) -> str:
        """How a page names a numeric or date question's range ("0 km to 100 km; lower bound
        closed, upper bound open"); "" on the other kinds."""
        if self.range_min is None or self.range_max is None:
            return ""
        low, high = (
            outcome_value_text(kind=self.kind, value=value, unit=self.unit)
            for value in (self.range_min, self.range_max)
        )
        lower, upper = (
            "open" if o else "closed" for o in (self.open_lower_bound, self.open_upper_bound)
        )
        return f"{low} to {high}; lower bound {lower}, upper bound {upper}"

    @property
    def auto_outcome_label(self) -> str:
        """How a page names the automatic outcome, as ``resolution_label``."""
        if self.auto_outcome == AutoOutcome.OPTION and self.auto_option is not None:
            return self.option_labels[self.auto_option]
        return self.get_auto_outcome_display()

    @property
    def is_scorable(self) -> bool:
        """Resolved to an outcome: annulled and ambiguous questions carry no scores."""
        return self.resolution in SCORABLE_RESOLUTIONS

    @property
    def outcome_position(self) -> float | None:
        """Where a numeric or date question's outcome lies on its scaled range (0 and 1 its
        bounds; beyond an open bound, just past it); None unless resolved to one."""
        if self.resolution == Resolution.VALUE and self.resolved_value is not None:
            return float(self.scale.position(self.resolved_value))
        if self.resolution == Resolution.BELOW:
            return math.nextafter(0.0, -1.0)
        if self.resolution == Resolution.ABOVE:
            return math.nextafter(1.0, 2.0)
        return None

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
    probability = models.FloatField(
        null=True, blank=True, help_text="Binary: the probability of YES, in [0.001, 0.999]."
    )
    probabilities = models.JSONField(
        null=True,
        blank=True,
        help_text="Multiple choice: one probability per option, each >= 0.001, summing to 1.",
    )
    cdf = models.JSONField(
        null=True,
        blank=True,
        help_text="Numeric or date: the CDF on 201 evenly spaced points of the scaled range.",
    )
    quantiles = models.JSONField(
        null=True,
        blank=True,
        help_text="Numeric or date: the quantiles the CDF was made from, if given so.",
    )
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
                condition=Q(probability__isnull=True)
                | Q(probability__gte=PROBABILITY_MIN, probability__lte=PROBABILITY_MAX),
                name="forecast_probability_in_range",
            ),
            # Exactly one of the three: a binary forecast's P(YES), a multiple-choice vector or
            # a numeric or date question's CDF.
            models.CheckConstraint(
                condition=Q(probability__isnull=False, probabilities__isnull=True, cdf__isnull=True)
                | Q(probability__isnull=True, probabilities__isnull=False, cdf__isnull=True)
                | Q(probability__isnull=True, probabilities__isnull=True, cdf__isnull=False),
                name="forecast_one_kind_of_probability",
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
        if self.probability is None:
            values = ", ".join(f"{p:.3f}" for p in self.probabilities or ())
            return f"{self.user} on {self.question_id}: ({values})"
        return f"{self.user} on {self.question_id}: {self.probability:.3f}"

    @property
    def is_standing(self) -> bool:
        return self.ends_at is None

    @property
    def percent(self) -> float | None:
        """A binary forecast's P(YES) in percent (None for multiple choice)."""
        return None if self.probability is None else self.probability * 100

    @property
    def pmf(self) -> tuple[float, ...]:
        """The probability of each outcome, in the order of the question's ``option_labels``:
        (P(YES), P(NO)) for a binary forecast."""
        if self.probability is not None:
            return (self.probability, 1.0 - self.probability)
        return tuple(float(p) for p in self.probabilities or ())


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
    # Multiple choice: per option, renormalised to sum to 1 (binary: null).
    medians = models.JSONField(
        null=True, blank=True, help_text="Per option: the recency-weighted median, renormalised."
    )
    geometric_means = models.JSONField(
        null=True, blank=True, help_text="Per option: the geometric mean, renormalised."
    )
    # Numeric or date: the recency-weighted mean of the standing CDFs (binary: null).
    cdf = models.JSONField(null=True, blank=True, help_text="The recency-weighted mean CDF.")
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
    # Numeric and date questions, in Brier's place.
    CRPS = "crps", "CRPS (time-averaged)"
    CRPS_AT_CLOSE = "crps_at_close", "CRPS at close"


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
    share_rationales = models.BooleanField(
        default=True,
        help_text="Show my latest rationale on a question to everyone once it is scored.",
    )

    def __str__(self) -> str:
        return f"Profile of {self.user_id}"


class ResolutionNotice(models.Model):
    """That a forecaster was told of a question's resolution: each is told once."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="notices")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    resolution = models.CharField(max_length=20, choices=Resolution)
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


# Models of the features that live in sub-packages, registered with the app here.
from forecasts.discussion.models import Comment, Follow  # noqa: E402, F401
