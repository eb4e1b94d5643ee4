"""API shapes: what the endpoints answer with, and the tokens' request bodies (the questions'
and forecasts' are in ``forecasts.api.inputs``). Serializers validate and shape; they never
write and never query."""

from __future__ import annotations

import datetime as dt
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crux.api.validation import StrictSerializer
from forecasts.maths import score_types
from forecasts.maths.continuous import Scale, cdf_quantile
from forecasts.models import (
    CONTINUOUS_KINDS,
    AggregatePoint,
    ApiToken,
    Forecast,
    Question,
    QuestionKind,
    Score,
    SourceDocument,
    question_option_labels,
    question_outcome_index,
    question_status,
)
from forecasts.rules import outcome_value_iso
from forecasts.selectors import (
    CROWD_STEP_FIELDS,
    QUESTION_ROW_FIELDS,
    crowd_is_public,
    public_crowd_cdf,
    public_crowd_median,
    public_crowd_medians,
)


def iso(moment: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with a trailing Z, as DRF renders date-times."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# The crowd's quantiles a question shows, and those of each point of its history.
CROWD_LEVELS = (0.1, 0.25, 0.5, 0.75, 0.9)
HISTORY_LEVELS = (0.1, 0.5, 0.9)


def cdf_levels(
    cdf: Any, *, scale: Scale, levels: tuple[float, ...] = CROWD_LEVELS
) -> dict[str, float] | None:
    """The values (in the question's units, a date's in epoch seconds) at which a CDF on
    ``scale`` reaches each level, keyed as a forecast's quantiles are ("0.1"); None for no
    CDF. A level reached only beyond an open bound is given as that bound, as Metaculus's."""
    if cdf is None:
        return None
    values = scale.value(cdf_quantile(cdf, levels)).tolist()
    return {f"{level:g}": value for level, value in zip(levels, values, strict=True)}


def levels_iso(quantiles: dict[str, float] | None, *, date: bool) -> dict[str, str | None] | None:
    """A date question's quantiles (epoch seconds) in ISO 8601; None on the other kinds."""
    if not date or quantiles is None:
        return None
    return {level: outcome_value_iso(value) for level, value in quantiles.items()}


def _output(*, optional: bool) -> dict[str, Any]:
    """An answer's field, null allowed; ``optional``: left out of some answers (the schema
    lists a read-only field as always present, so an optional one is not marked read-only)."""
    return {"allow_null": True, **({"required": False} if optional else {"read_only": True})}


def _quantiles_field(help_text: str, *, optional: bool = False) -> serializers.DictField:
    return serializers.DictField(
        child=serializers.FloatField(), help_text=help_text, **_output(optional=optional)
    )


def _quantile_dates_field(help_text: str, *, optional: bool = False) -> serializers.DictField:
    return serializers.DictField(
        child=serializers.DateTimeField(), help_text=help_text, **_output(optional=optional)
    )


def _cdf_field(help_text: str, *, optional: bool = False) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FloatField(), help_text=help_text, **_output(optional=optional)
    )


class SourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = SourceDocument
        fields = ["key", "title", "author", "published_on", "url"]


class SourceDetailSerializer(SourceSerializer):
    class Meta(SourceSerializer.Meta):
        fields = [*SourceSerializer.Meta.fields, "text"]


class CrowdSerializer(serializers.Serializer):
    median = serializers.FloatField(
        allow_null=True,
        help_text="Recency-weighted median; null while fewer forecasts stand than the public "
        "minimum (until the question is scored).",
    )
    geometric_mean_odds = serializers.FloatField(
        allow_null=True, help_text="Geometric mean of odds; null until the question is scored."
    )
    forecasters = serializers.IntegerField(help_text="Standing forecasts the values are of.")
    as_of = serializers.DateTimeField(
        allow_null=True,
        help_text="Until the question is scored, the crowd is shown as it stood at the end of "
        "the last whole hour: that moment. Null once scored (the latest values).",
    )
    # Present on a multiple-choice question only, whose median and geometric mean are null.
    medians = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        required=False,
        help_text="Multiple choice only: each option's recency-weighted median, renormalised to "
        "sum to 1, in the order of options; shown by the rule of median.",
    )
    geometric_means = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        required=False,
        help_text="Multiple choice only: each option's geometric mean, renormalised; null "
        "until the question is scored.",
    )
    # Present on a numeric or date question only, whose median and geometric mean are null.
    cdf = _cdf_field(
        "Numeric or date only: the recency-weighted mean CDF (201 values, as a forecast's), "
        "shown by the rule of median.",
        optional=True,
    )
    quantiles = _quantiles_field(
        'Numeric or date only: where the CDF reaches 0.1, 0.25, 0.5, 0.75 and 0.9 ({"0.5": '
        "the median}), in the question's units (a date's in UTC epoch seconds); a level "
        "reached only beyond an open bound is given as that bound. Null where cdf is.",
        optional=True,
    )
    quantiles_dates = _quantile_dates_field(
        "Numeric or date only: a date question's quantiles in ISO 8601 (UTC); null on a "
        "numeric one.",
        optional=True,
    )

    def to_representation(self, crowd: Any) -> dict[str, Any]:
        shown = super().to_representation(crowd)
        if not self.context.get("multiple_choice"):
            del shown["medians"], shown["geometric_means"]
        scale: Scale | None = self.context.get("scale")
        if scale is None:
            del shown["cdf"], shown["quantiles"], shown["quantiles_dates"]
            return shown
        shown["quantiles"] = cdf_levels(crowd.cdf, scale=scale)
        shown["quantiles_dates"] = levels_iso(shown["quantiles"], date=self.context["date"])
        if not self.context.get("public"):
            shown["cdf"] = None  # the whole CDF once scored (see ``_crowd_distribution``)
        return shown


class QuestionSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    # DRF takes the fields out of the class; its stubs see this one shadow Field.source.
    source: serializers.SlugRelatedField[SourceDocument] = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="key", read_only=True
    )
    forecasters = serializers.IntegerField(
        source="crowd_forecasters", read_only=True, help_text="Forecasts standing now."
    )
    crowd_median = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="The crowd's recency-weighted median of P(YES) as the public sees it: until "
        "the question is scored, as of the end of the last whole hour and only where enough "
        "forecasts stood then (null otherwise, and on a multiple-choice question).",
    )
    options = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The outcomes, in order, on every question: a multiple-choice question's "
        'option labels, ["Yes", "No"] on a binary one, so that every question reads the same '
        "way. A forecast's probabilities, the crowd's medians and resolved_option follow this "
        "order.",
    )
    resolved_option = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="The index in options of the outcome that happened (a binary question: 0 "
        'for YES, 1 for NO; a multiple-choice one resolves "option"); null until resolved, '
        "and when annulled or ambiguous.",
    )
    resolved_option_label = serializers.CharField(
        read_only=True, allow_null=True, help_text="The label of resolved_option."
    )
    auto_option = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text='Multiple choice: the index in options applied when auto_outcome is "option".',
    )
    crowd_medians = serializers.ListField(
        child=serializers.FloatField(),
        read_only=True,
        allow_null=True,
        help_text="Multiple choice: each option's recency-weighted median, renormalised to sum "
        "to 1, in the order of options, shown by the rule of crowd_median (null where that is "
        "null, and on a binary question).",
    )
    range_min = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="Numeric or date (Metaculus's name): the range's low end; a date question's "
        "in UTC epoch seconds (see range_min_date). Null on the other kinds.",
    )
    range_max = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="Numeric or date: the range's high end, as range_min.",
    )
    range_min_date = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="A date question's range_min in ISO 8601 (UTC); null on the other kinds.",
    )
    range_max_date = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="A date question's range_max in ISO 8601 (UTC); null on the other kinds.",
    )
    open_lower_bound = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="Numeric or date: whether the outcome may lie below range_min (null on the "
        "other kinds).",
    )
    open_upper_bound = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="Numeric or date: whether the outcome may lie above range_max (null on the "
        "other kinds).",
    )
    log_scale = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="Numeric or date: whether forecasts are spread over the range "
        "logarithmically (only ever on a numeric question; null on the other kinds).",
    )
    unit = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text='Numeric or date: the unit\'s label ("" if none; a date question has none); '
        "null on the other kinds.",
    )
    resolved_value = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text='Numeric or date, resolved "value": the value that happened (a date\'s in '
        "UTC epoch seconds); null otherwise. It may lie beyond an open bound.",
    )
    resolved_value_date = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="A date question's resolved_value in ISO 8601 (UTC); null otherwise.",
    )
    crowd_cdf = _cdf_field(
        "Numeric or date: the crowd's recency-weighted mean CDF (201 values, as a forecast's "
        "cdf), given once the question is scored (until then two hourly means a forecast apart "
        "would give that forecast away: crowd_quantiles summarise it); null before, and on the "
        "other kinds."
    )
    crowd_quantiles = _quantiles_field(
        "Numeric or date: where crowd_cdf reaches 0.1, 0.25, 0.5, 0.75 and 0.9, keyed so "
        "({\"0.5\": the median}), in the question's units (a date's in UTC epoch seconds); a "
        "level reached only beyond an open bound is given as that bound. Shown by the rule of "
        "crowd_median: null while that hides the crowd."
    )
    crowd_quantiles_dates = _quantile_dates_field(
        "A date question's crowd_quantiles in ISO 8601 (UTC); null otherwise."
    )

    class Meta:
        model = Question
        fields = [
            "id",
            "key",
            "title",
            "kind",
            "options",
            "status",
            "source",
            "opens_at",
            "closes_at",
            "resolves_at",
            "resolution",
            "resolved_option",
            "resolved_option_label",
            "resolved_at",
            "resolved_automatically",
            "auto_outcome",
            "auto_option",
            "forecasters",
            "crowd_median",
            "crowd_medians",
            "range_min",
            "range_max",
            "range_min_date",
            "range_max_date",
            "open_lower_bound",
            "open_upper_bound",
            "log_scale",
            "unit",
            "resolved_value",
            "resolved_value_date",
            "crowd_cdf",
            "crowd_quantiles",
            "crowd_quantiles_dates",
        ]

    def get_status(self, question: Question) -> str:
        return question.status(self.context["now"]).value

    def to_representation(self, question: Question) -> dict[str, object]:
        values = {f: getattr(question, f) for f in QUESTION_ROW_FIELDS if "__" not in f}
        # Without the public crowd's annotations, the crowd is not shown (never the private one).
        values |= {f: getattr(question, f, None) for f in CROWD_STEP_FIELDS}
        return question_row(
            {"id": question.pk, **values, "source__key": question.source.key},
            now=self.context["now"],
        )


# The hottest list's rows are shaped straight from QUESTION_ROW_FIELDS' values (and the public
# crowd's, CROWD_STEP_FIELDS), without model instances; QuestionSerializer gives its schema.
def question_row(values: dict[str, Any], *, now: dt.datetime) -> dict[str, object]:
    status = question_status(
        opens_at=values["opens_at"],
        closes_at=values["closes_at"],
        resolves_at=values["resolves_at"],
        closed_at=values["closed_at"],
        resolution=values["resolution"],
        now=now,
    )
    labels = question_option_labels(kind=values["kind"], options=values["options"])
    outcome = question_outcome_index(
        resolution=values["resolution"], resolved_option=values["resolved_option"]
    )
    medians = public_crowd_medians(
        resolution=values["resolution"],
        crowd_medians=values["crowd_medians"],
        step_medians=values.get("crowd_step_medians"),
        step_forecasters=values.get("crowd_step_forecasters"),
    )
    return {
        "id": values["id"],
        "key": values["key"],
        "title": values["title"],
        "kind": values["kind"],
        "options": list(labels),
        "status": status.value,
        "source": values["source__key"],
        "opens_at": iso(values["opens_at"]),
        "closes_at": iso(values["closes_at"]),
        "resolves_at": iso(values["resolves_at"]),
        "resolution": values["resolution"],
        "resolved_option": outcome,
        "resolved_option_label": None if outcome is None else labels[outcome],
        "resolved_at": iso(values["resolved_at"]),
        "resolved_automatically": values["resolved_automatically"],
        "auto_outcome": values["auto_outcome"],
        "auto_option": values["auto_option"],
        "forecasters": values["crowd_forecasters"],
        "crowd_median": public_crowd_median(
            resolution=values["resolution"],
            crowd_median=values["crowd_median"],
            step_median=values.get("crowd_step_median"),
            step_forecasters=values.get("crowd_step_forecasters"),
        ),
        "crowd_medians": None if medians is None else list(medians),
        **_range_values(values),
        **_crowd_distribution(values),
    }


def _range_values(values: dict[str, Any]) -> dict[str, object]:
    """A numeric or date question's range and resolved value, a date question's also in ISO
    8601; null on the other kinds."""
    continuous = values["kind"] in CONTINUOUS_KINDS
    date = values["kind"] == QuestionKind.DATE
    shown: dict[str, object] = {
        name: values[name] if continuous else None
        for name in (
            "range_min",
            "range_max",
            "open_lower_bound",
            "open_upper_bound",
            "log_scale",
            "unit",
        )
    }
    for name in ("range_min", "range_max"):
        shown[f"{name}_date"] = outcome_value_iso(values[name]) if date else None
    shown["resolved_value"] = values["resolved_value"]
    shown["resolved_value_date"] = outcome_value_iso(values["resolved_value"]) if date else None
    return shown


def _row_scale(values: dict[str, Any]) -> Scale | None:
    """A numeric or date question's ``Question.scale`` from its row; None on the other kinds."""
    if values["kind"] not in CONTINUOUS_KINDS:
        return None
    return Scale(
        values["range_min"],
        values["range_max"],
        log_scale=values["log_scale"],
        open_lower=values["open_lower_bound"],
        open_upper=values["open_upper_bound"],
    )


def _crowd_distribution(values: dict[str, Any]) -> dict[str, object]:
    """A numeric or date question's public crowd CDF and its quantiles; null on the others."""
    scale = _row_scale(values)
    cdf = public_crowd_cdf(
        resolution=values["resolution"],
        crowd_cdf=values["crowd_cdf"],
        step_cdf=values.get("crowd_step_cdf"),
        step_forecasters=values.get("crowd_step_forecasters"),
    )
    if scale is None or cdf is None:
        return {"crowd_cdf": None, "crowd_quantiles": None, "crowd_quantiles_dates": None}
    quantiles = cdf_levels(cdf, scale=scale)
    return {
        # The whole CDF only once scored: a mean moves by each new forecast's own CDF, so two
        # hourly CDFs a single forecast apart would give that forecast away. Five quantiles
        # summarise the crowd meanwhile.
        "crowd_cdf": list(cdf) if crowd_is_public(values["resolution"]) else None,
        "crowd_quantiles": quantiles,
        "crowd_quantiles_dates": levels_iso(quantiles, date=values["kind"] == QuestionKind.DATE),
    }


class QuestionDetailSerializer(QuestionSerializer):
    """A question with its crowd now, which the view reads and passes as ``context["crowd"]``
    (a serializer never queries)."""

    crowd = CrowdSerializer(read_only=True)

    def to_representation(self, question: Question) -> dict[str, object]:
        return {
            **super().to_representation(question),
            "body": question.body,
            "resolution_criteria": question.resolution_criteria,
            "passage": question.passage,
            "resolution_note": question.resolution_note,
            "crowd": CrowdSerializer(
                self.context["crowd"],
                context={
                    "multiple_choice": question.is_multiple_choice,
                    "scale": question.scale if question.is_continuous else None,
                    "date": question.kind == QuestionKind.DATE,
                    "public": crowd_is_public(question.resolution),
                },
            ).data,
        }

    class Meta(QuestionSerializer.Meta):
        fields = [
            *QuestionSerializer.Meta.fields,
            "body",
            "resolution_criteria",
            "passage",
            "resolution_note",
            "crowd",
        ]


class AggregatePointSerializer(serializers.ModelSerializer):
    medians = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        read_only=True,
        help_text="Multiple choice: each option's median, renormalised, in the order of the "
        "question's options, shown by the rule of median (null on a binary question).",
    )
    geometric_means = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        read_only=True,
        help_text="Multiple choice: each option's geometric mean, renormalised, in the order "
        "of the question's options, shown by the rule of geometric_mean_odds (null until the "
        "question is scored, and on a binary question).",
    )
    quantiles = _quantiles_field(
        "Numeric or date: the crowd's median and 80% interval, where its mean CDF reaches 0.1, "
        '0.5 and 0.9 ({"0.1": low, "0.5": median, "0.9": high}), in the question\'s units (a '
        "date's in UTC epoch seconds), shown by the rule of median; a level reached only "
        "beyond an open bound is given as that bound. Null where not shown, and on the other "
        "kinds."
    )
    quantiles_dates = _quantile_dates_field(
        "A date question's quantiles in ISO 8601 (UTC); null otherwise."
    )
    cdf = _cdf_field(
        "Numeric or date, with ?cdf=1 only: the crowd's mean CDF (201 values), shown by the "
        "rule of median (null where not shown, and on the other kinds).",
        optional=True,
    )

    class Meta:
        model = AggregatePoint
        fields = [
            "at",
            "median",
            "geometric_mean_odds",
            "medians",
            "geometric_means",
            "quantiles",
            "quantiles_dates",
            "cdf",
            "forecasters",
        ]

    def to_representation(self, point: Any) -> dict[str, Any]:
        """A point, given in ``context`` its question's ``scale`` (None but on a numeric or
        date question), whether it is a ``date`` question, and whether to show the ``cdf``."""
        shown = super().to_representation(point)
        scale: Scale | None = self.context["scale"]
        quantiles = None
        if scale is not None:
            quantiles = cdf_levels(point.cdf, scale=scale, levels=HISTORY_LEVELS)
        shown["quantiles"] = quantiles
        shown["quantiles_dates"] = levels_iso(quantiles, date=self.context["date"])
        if not self.context["cdf"]:
            del shown["cdf"]
        elif not self.context.get("public"):
            shown["cdf"] = None  # the whole CDF once scored (see ``_crowd_distribution``)
        return shown


class ForecastSerializer(serializers.ModelSerializer):
    question: serializers.PrimaryKeyRelatedField[Question] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
    standing = serializers.BooleanField(source="is_standing", read_only=True)
    probabilities = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        read_only=True,
        help_text="Multiple choice: one probability per option, in the order of the "
        "question's options (null on a binary question, whose forecast is probability). In "
        "CSV, one cell holding a JSON array, such as [0.2, 0.5, 0.3] (empty when null).",
    )
    cdf = _cdf_field(
        "Numeric or date: the forecast's CDF, 201 values on evenly spaced points of the "
        "question's scaled range (as it was given, or made from quantiles); null on the other "
        "kinds. In CSV, one cell holding a JSON array."
    )
    quantiles = _quantiles_field(
        'Numeric or date, given as quantiles: those quantiles, {"0.1": 20.0, "0.9": 75.0}, '
        "values in the question's units (a date's in UTC epoch seconds); null if the CDF was "
        "given, and on the other kinds. In CSV, one cell holding a JSON object."
    )
    quantiles_dates = serializers.SerializerMethodField(
        help_text="A date question's quantiles in ISO 8601 (UTC), keyed as quantiles; null "
        "otherwise."
    )

    class Meta:
        model = Forecast
        fields = [
            "id",
            "question",
            "probability",
            "probabilities",
            "cdf",
            "quantiles",
            "quantiles_dates",
            "rationale",
            "starts_at",
            "ends_at",
            "standing",
        ]

    # Reads the forecast's question, which every queryset here loads with it.
    @extend_schema_field(serializers.DictField(child=serializers.DateTimeField(), allow_null=True))
    def get_quantiles_dates(self, forecast: Forecast) -> dict[str, str | None] | None:
        return levels_iso(forecast.quantiles, date=forecast.question.kind == QuestionKind.DATE)


class WithdrawResultSerializer(serializers.Serializer):
    withdrawn = serializers.IntegerField()


def _outcome_label(question: Question) -> str | None:
    """The label of what happened, as ``question_row``'s ``resolved_option_label``."""
    index = question.outcome_index
    return None if index is None else question.option_labels[index]


RESOLVED_OPTION_HELP = (
    "The index in the question's options of the outcome that happened (a binary question: 0 "
    'for YES, 1 for NO; a multiple-choice one resolves "option"); null if none did.'
)
RESOLVED_OPTION_LABEL_HELP = 'The label of resolved_option ("Yes", "No", or the option\'s).'
RESOLVED_VALUE_HELP = (
    'A numeric or date question resolved "value": the value that happened (a date\'s in UTC '
    "epoch seconds); null otherwise (beyond an open bound, resolution says which)."
)
RESOLVED_VALUE_DATE_HELP = "A date question's resolved_value in ISO 8601 (UTC); null otherwise."


def _resolved_value_date(question: Question) -> str | None:
    date = question.kind == QuestionKind.DATE
    return outcome_value_iso(question.resolved_value) if date else None


class ScoreSerializer(serializers.ModelSerializer):
    user = serializers.CharField(
        source="user.username",
        default=None,
        allow_null=True,
        read_only=True,
        help_text="Username; null for the crowd's aggregates.",
    )
    question_title = serializers.CharField(source="question.title", read_only=True)
    resolution = serializers.CharField(source="question.resolution", read_only=True)
    resolved_option = serializers.IntegerField(
        source="question.outcome_index",
        read_only=True,
        allow_null=True,
        help_text=RESOLVED_OPTION_HELP,
    )
    resolved_option_label = serializers.SerializerMethodField(help_text=RESOLVED_OPTION_LABEL_HELP)
    resolved_value = serializers.FloatField(
        source="question.resolved_value",
        read_only=True,
        allow_null=True,
        help_text=RESOLVED_VALUE_HELP,
    )
    resolved_value_date = serializers.SerializerMethodField(help_text=RESOLVED_VALUE_DATE_HELP)
    resolved_at = serializers.DateTimeField(source="question.resolved_at", read_only=True)

    class Meta:
        model = Score
        fields = [
            "id",
            "question",
            "question_title",
            "resolution",
            "resolved_option",
            "resolved_option_label",
            "resolved_value",
            "resolved_value_date",
            "resolved_at",
            "forecaster",
            "user",
            "score_type",
            "value",
            "coverage",
            "computed_at",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_resolved_option_label(self, score: Score) -> str | None:
        return _outcome_label(score.question)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_resolved_value_date(self, score: Score) -> str | None:
        return _resolved_value_date(score.question)


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    user = serializers.CharField(source="username")
    questions = serializers.IntegerField()
    total = serializers.FloatField()
    mean = serializers.FloatField()
    adjusted = serializers.FloatField(help_text="Mean with the prior of uninformed questions.")
    coverage = serializers.FloatField()


class TrackRecordRowSerializer(serializers.Serializer):
    question = serializers.IntegerField(source="question.pk")
    title = serializers.CharField(source="question.title")
    resolution = serializers.CharField(source="question.resolution")
    resolved_option = serializers.IntegerField(
        source="question.outcome_index", allow_null=True, help_text=RESOLVED_OPTION_HELP
    )
    resolved_option_label = serializers.SerializerMethodField(help_text=RESOLVED_OPTION_LABEL_HELP)
    resolved_value = serializers.FloatField(
        source="question.resolved_value", allow_null=True, help_text=RESOLVED_VALUE_HELP
    )
    resolved_value_date = serializers.SerializerMethodField(help_text=RESOLVED_VALUE_DATE_HELP)
    resolved_at = serializers.DateTimeField(source="question.resolved_at")
    coverage = serializers.FloatField()
    scores = serializers.DictField(child=serializers.FloatField())
    crowd = serializers.DictField(child=serializers.FloatField())

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_resolved_option_label(self, row: Any) -> str | None:
        return _outcome_label(row.question)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_resolved_value_date(self, row: Any) -> str | None:
        return _resolved_value_date(row.question)


class TrackRecordSerializer(serializers.Serializer):
    user = serializers.CharField()
    means = serializers.DictField(child=serializers.FloatField())
    crowd_means = serializers.DictField(child=serializers.FloatField())
    questions = TrackRecordRowSerializer(many=True, source="rows")


class CalibrationBinSerializer(serializers.Serializer):
    lower = serializers.FloatField()
    upper = serializers.FloatField()
    n = serializers.IntegerField()
    yes_count = serializers.IntegerField()
    mean_forecast = serializers.FloatField(allow_null=True)
    observed_frequency = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)


class MurphySerializer(serializers.Serializer):
    brier = serializers.FloatField()
    reliability = serializers.FloatField()
    resolution = serializers.FloatField()
    uncertainty = serializers.FloatField()
    wbv = serializers.FloatField(help_text="Within-bin variance of the forecasts.")
    wbc = serializers.FloatField(help_text="Within-bin covariance of forecasts and outcomes.")
    n = serializers.IntegerField()


class CalibrationWindowSerializer(serializers.Serializer):
    # DRF takes the fields out of the class; its stubs see this one shadow Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    n = serializers.IntegerField()
    enough_data = serializers.BooleanField()
    bins = CalibrationBinSerializer(many=True)
    decomposition = MurphySerializer(allow_null=True)


class CalibrationReportSerializer(serializers.Serializer):
    n = serializers.IntegerField()
    bins = CalibrationBinSerializer(many=True)
    decomposition = MurphySerializer(allow_null=True)
    windows = CalibrationWindowSerializer(many=True)


class CalibrationSerializer(serializers.Serializer):
    user = serializers.CharField()
    forecaster = CalibrationReportSerializer()
    crowd = CalibrationReportSerializer(help_text="The crowd's median on the same questions.")
    market = CalibrationReportSerializer(
        help_text="The market's price on those of the same questions that had a market."
    )


class TokenSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "active"]


class TokenCreatedSerializer(TokenSerializer):
    token = serializers.CharField(help_text="The secret. Shown once: store it now.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]


class TokenCreateSerializer(StrictSerializer):
    # The column's own limit: a longer name would fail on PostgreSQL and be stored on SQLite.
    name = serializers.CharField(max_length=ApiToken._meta.get_field("name").max_length)


SCORE_TYPE_CHOICES = score_types.CHOICES
