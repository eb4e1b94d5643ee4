"""What clients send to the questions and forecasts endpoints: request bodies, parsed once
into the typed values the services take. They never write; the only rows they read are the ones
a request names (the question of a forecast, the source of a question), which their checks need.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from crux.api.validation import StrictSerializer
from forecasts.maths.continuous import CDF_POINTS, MAX_STEP, MIN_STEP, OPEN_BOUND_MIN
from forecasts.models import (
    CONTINUOUS_KINDS,
    OPTION_LABEL_MAX,
    OPTIONS_MAX,
    OPTIONS_MIN,
    PROBABILITY_MAX,
    PROBABILITY_MIN,
    UNIT_MAX,
    Question,
    QuestionKind,
    Resolution,
    SourceDocument,
)
from forecasts.rules import (
    NO_MARKET,
    PASSAGE_NOT_IN_SOURCE,
    auto_outcome_named,
    parse_outcome_value,
    parse_probabilities,
    parse_probability,
    parse_quantiles,
    passage_in_source,
    question_outcomes,
)
from markets.services import MAX_LIQUIDITY

PROBABILITIES_SCHEMA = {
    "type": "array",
    "items": {"type": "number", "minimum": PROBABILITY_MIN, "maximum": 1 - PROBABILITY_MIN},
    "minItems": OPTIONS_MIN,
    "maxItems": OPTIONS_MAX,
}


@extend_schema_field(PROBABILITIES_SCHEMA)
class ProbabilitiesField(serializers.Field):
    """A list, as given: what it must hold depends on its question, so the serializer parses
    it once it knows the question (``parse_probabilities``)."""

    default_error_messages = {"not_a_list": "Give a list of probabilities, one per option."}

    def to_internal_value(self, data: Any) -> list[Any]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


# A numeric question's value is a number; a date question's an ISO 8601 date or date-time
# (UTC), or UTC epoch seconds.
OUTCOME_VALUE_SCHEMA = {"oneOf": [{"type": "number"}, {"type": "string"}]}

CDF_SCHEMA = {
    "type": "array",
    "items": {"type": "number", "minimum": 0, "maximum": 1},
    "minItems": CDF_POINTS,
    "maxItems": CDF_POINTS,
}
QUANTILES_SCHEMA = {
    "type": "object",
    "additionalProperties": OUTCOME_VALUE_SCHEMA,
    "minProperties": 2,
    "example": {"0.1": 20, "0.5": 40, "0.9": 75},
}


@extend_schema_field(CDF_SCHEMA)
class CdfField(serializers.Field):
    """A list, as given: the service checks it against its question's bounds
    (``rules.parse_cdf``), naming ``cdf``."""

    default_error_messages = {"not_a_list": f"Give a list of {CDF_POINTS} numbers."}

    def to_internal_value(self, data: Any) -> list[Any]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(QUANTILES_SCHEMA)
class QuantilesField(serializers.Field):
    """A mapping, as given: what its values must be depends on the question's kind and range,
    so the serializer parses it once it knows the question (``parse_quantiles``)."""

    default_error_messages = {
        # Braces doubled: DRF formats the message.
        "not_a_mapping": 'Give the quantiles as an object, {{"0.1": value, "0.9": value}}.'
    }

    def to_internal_value(self, data: Any) -> dict[Any, Any]:
        if not isinstance(data, dict):
            self.fail("not_a_mapping")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(OUTCOME_VALUE_SCHEMA)
class OutcomeValueField(serializers.Field):
    """A number or a string, as given: what it must be depends on the question's kind, so the
    serializer parses it once it knows the kind (``parse_outcome_value``)."""

    default_error_messages = {"invalid": "Give a number, or an ISO 8601 date or date-time."}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class OptionLabelsField(serializers.ListField):
    """Option labels, a bad one named by its position in one flat list of messages (the one
    error shape has a list of messages per field, not one per item)."""

    def run_child_validation(self, data: list[Any]) -> list[Any]:
        try:
            return super().run_child_validation(data)
        except serializers.ValidationError as error:
            if not isinstance(error.detail, dict):
                raise
            raise serializers.ValidationError(
                [
                    f"Option {int(index) + 1}: {' '.join(str(m) for m in messages)}"
                    for index, messages in error.detail.items()
                ]
            ) from None


def _question_field() -> serializers.PrimaryKeyRelatedField[Question]:
    return serializers.PrimaryKeyRelatedField(
        # What a forecast's checks read: the kind, a multiple-choice question's options, a
        # numeric or date question's range (``Question.scale``).
        queryset=Question.objects.only(
            "pk",
            "kind",
            "options",
            "range_min",
            "range_max",
            "log_scale",
            "open_lower_bound",
            "open_upper_bound",
        ),
        pk_field=serializers.IntegerField(min_value=1),
        error_messages={"does_not_exist": "No such question."},
    )


def _probability_field(*, required: bool) -> serializers.FloatField:
    return serializers.FloatField(
        required=required,
        min_value=PROBABILITY_MIN,
        max_value=PROBABILITY_MAX,
        help_text=f"A binary question's probability of YES in [{PROBABILITY_MIN}, "
        f"{PROBABILITY_MAX}].",
    )


def _probabilities_field(*, required: bool) -> ProbabilitiesField:
    return ProbabilitiesField(
        required=required,
        help_text="A multiple-choice question's probability of each option, in the order of "
        f"its options: one per option, each at least {PROBABILITY_MIN}, summing to 1 within "
        "1e-6 (never normalised for you).",
    )


def _cdf_field(*, required: bool) -> CdfField:
    return CdfField(
        required=required,
        help_text=f"A numeric or date question's CDF (Metaculus's representation): {CDF_POINTS} "
        "values on evenly spaced points of the scaled range, cdf[j] the probability of an "
        f"outcome at most range_min + j/{CDF_POINTS - 1} of the way to range_max (on a log "
        f"scale, of the way in logarithms). It rises by at least {MIN_STEP:g} and at most "
        f"{MAX_STEP:g} at every step; cdf[0] is 0 with a closed lower bound, at least "
        f"{OPEN_BOUND_MIN:g} with an open one; cdf[{CDF_POINTS - 1}] is 1 with a closed upper "
        f"bound, at most {1 - OPEN_BOUND_MIN:g} with an open one. Never repaired for you.",
    )


def _quantiles_field(*, required: bool) -> QuantilesField:
    return QuantilesField(
        required=required,
        help_text="A numeric or date question's forecast as quantiles, turned into its CDF: "
        '{level: value}, such as {"0.1": 20, "0.5": 40, "0.9": 75}; at least two levels in '
        "(0, 1) (numbers or strings), values in the question's units rising with the level, "
        "a date question's as ISO 8601 dates or date-times (UTC) or UTC epoch seconds; within "
        "a closed bound.",
    )


def _rationale_field() -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class ForecastSubmitSerializer(StrictSerializer):
    """A forecast on a question of any kind: ``probability`` on a binary question,
    ``probabilities`` on a multiple-choice one, ``cdf`` or ``quantiles`` on a numeric or date
    one (the service refuses what the question does not take, naming it)."""

    question = _question_field()
    probability = _probability_field(required=False)
    probabilities = _probabilities_field(required=False)
    cdf = _cdf_field(required=False)
    quantiles = _quantiles_field(required=False)
    rationale = _rationale_field()

    def validate_probability(self, value: float) -> float:
        # The forecast form's parsing too; a NaN passes the field's min/max comparisons.
        try:
            return parse_probability(value)
        except ValidationError as error:
            raise serializers.ValidationError(error.message_dict["probability"]) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        question: Question = attrs["question"]
        if question.is_multiple_choice and "probabilities" in attrs:
            try:
                attrs["probabilities"] = parse_probabilities(
                    attrs["probabilities"], options=len(question.option_labels)
                )
            except ValidationError as error:
                raise serializers.ValidationError(error.message_dict) from None
        if question.is_continuous and "quantiles" in attrs:
            try:
                attrs["quantiles"] = parse_quantiles(
                    attrs["quantiles"], kind=question.kind, scale=question.scale
                )
            except ValidationError as error:
                raise serializers.ValidationError(error.message_dict) from None
        return attrs


class BinaryForecastSubmitSerializer(StrictSerializer):
    """A forecast on a binary question: the probability of YES."""

    question = _question_field()
    probability = _probability_field(required=True)
    rationale = _rationale_field()


class MultipleChoiceForecastSubmitSerializer(StrictSerializer):
    """A forecast on a multiple-choice question: the probability of each option."""

    question = _question_field()
    probabilities = _probabilities_field(required=True)
    rationale = _rationale_field()


class NumericCdfForecastSubmitSerializer(StrictSerializer):
    """A forecast on a numeric or date question given as its CDF."""

    question = _question_field()
    cdf = _cdf_field(required=True)
    rationale = _rationale_field()


class NumericQuantilesForecastSubmitSerializer(StrictSerializer):
    """A forecast on a numeric or date question given as quantiles, stored as their CDF."""

    question = _question_field()
    quantiles = _quantiles_field(required=True)
    rationale = _rationale_field()


# What the schema shows for a submission: one shape per kind of question (two for numeric and
# date questions: a CDF or quantiles).
FORECAST_SUBMIT_SCHEMA = PolymorphicProxySerializer(
    component_name="ForecastSubmit",
    serializers=[
        BinaryForecastSubmitSerializer,
        MultipleChoiceForecastSubmitSerializer,
        NumericCdfForecastSubmitSerializer,
        NumericQuantilesForecastSubmitSerializer,
    ],
    resource_type_field_name=None,
)


class ForecastWithdrawSerializer(StrictSerializer):
    question = serializers.IntegerField(min_value=1)


# What a resolution may say besides an outcome, on a question of any kind.
NO_OUTCOME = (Resolution.ANNULLED, Resolution.AMBIGUOUS)
# A numeric or date question's outcomes besides a value (Metaculus's names).
BEYOND_BOUNDS = (Resolution.BELOW, Resolution.ABOVE)


class ResolveSerializer(StrictSerializer):
    """A resolution of ``context["question"]``: its ``resolution`` becomes the lifecycle's
    ``resolution``, ``option`` (an index; None but for a multiple-choice outcome) and
    ``value`` (None but for a numeric or date question's value)."""

    resolution = serializers.CharField(
        help_text='A binary question: "yes", "no", "annulled" or "ambiguous". A multiple-choice '
        'question: the label of the option that happened, "annulled" or "ambiguous". A numeric '
        'or date question: "value" (with value), "below_lower_bound" or "above_upper_bound" '
        '(where that bound is open), "annulled" or "ambiguous".'
    )
    value = OutcomeValueField(
        required=False,
        help_text='With "resolution": "value" on a numeric or date question, and only then: what '
        "happened, a number (numeric), or an ISO 8601 date or date-time in UTC (date; a date "
        "alone is 00:00 UTC), or UTC epoch seconds. Within the range, or beyond an open bound.",
    )
    effective_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    def validate_resolution(self, value: str) -> str:
        question: Question = self.context["question"]
        if value in NO_OUTCOME or value in self._outcomes(question):
            return value
        if question.is_multiple_choice:
            labels = "; ".join(question.option_labels)
            message = f"Name an option ({labels}), or annulled or ambiguous."
        else:
            message = f"Choose one of: {', '.join([*self._outcomes(question), *NO_OUTCOME])}."
        raise serializers.ValidationError(message)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        question: Question = self.context["question"]
        resolution = attrs["resolution"]
        value = None
        if "value" in attrs:
            if resolution != Resolution.VALUE:
                raise serializers.ValidationError(
                    {"value": 'Only a resolution to a value ("resolution": "value") takes one.'}
                )
            try:
                value = parse_outcome_value(attrs["value"], kind=question.kind)
            except ValidationError as error:
                raise serializers.ValidationError(error.message_dict) from None
        elif resolution == Resolution.VALUE:
            raise serializers.ValidationError({"value": "Give the value that happened."})
        if not question.is_multiple_choice or resolution in NO_OUTCOME:
            return {**attrs, "option": None, "value": value}
        index = self._outcomes(question)[resolution]
        return {**attrs, "resolution": Resolution.OPTION.value, "option": index, "value": None}

    @staticmethod
    def _outcomes(question: Question) -> dict[str, int | None]:
        """What names an outcome: yes and no; a multiple-choice question's option labels; a
        value or a bound passed on a numeric or date question (where that bound is open)."""
        if question.is_continuous:
            beyond = (question.open_lower_bound, question.open_upper_bound)
            named = [
                Resolution.VALUE,
                *(r for r, o in zip(BEYOND_BOUNDS, beyond, strict=True) if o),
            ]
            return {r.value: None for r in named}
        if not question.is_multiple_choice:
            return {Resolution.YES.value: 0, Resolution.NO.value: 1}
        return {label: index for index, label in enumerate(question.option_labels)}


class QuestionCreateSerializer(StrictSerializer):
    """A new question, checked whole before anything is written."""

    key = serializers.SlugField(
        required=False,
        max_length=Question._meta.get_field("key").max_length,
        help_text="A stable key; made from the title (and unique) when not given.",
    )
    title = serializers.CharField(max_length=Question._meta.get_field("title").max_length)
    body = serializers.CharField(required=False, allow_blank=True, default="")
    resolution_criteria = serializers.CharField()
    # DRF takes the fields out of the class; its stubs see this one shadow Field.source.
    source: serializers.SlugRelatedField[SourceDocument] = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="key",
        queryset=SourceDocument.objects.only("pk", "key", "text"),
        help_text="The key of the source document the question is drawn from.",
    )
    passage = serializers.CharField(
        trim_whitespace=False, help_text="A passage that occurs verbatim in the source's text."
    )
    kind = serializers.ChoiceField(
        choices=QuestionKind.choices,
        default=QuestionKind.BINARY,
        help_text="binary (the default), multiple_choice (with options), or numeric or date "
        "(with range_min and range_max): fixed once the question opens.",
    )
    options = OptionLabelsField(
        child=serializers.CharField(max_length=OPTION_LABEL_MAX),
        required=False,
        default=list,
        max_length=OPTIONS_MAX,
        help_text=f"A multiple-choice question's {OPTIONS_MIN} to {OPTIONS_MAX} distinct option "
        "labels, in order (fixed once the question opens); none on the other kinds.",
    )
    range_min = OutcomeValueField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A numeric or date question's range, low end (Metaculus's name): a number, or "
        "for a date question an ISO 8601 date or date-time in UTC (a date alone is 00:00 UTC) "
        "or UTC epoch seconds. Required on those kinds, absent or null on the others; fixed "
        "once the question opens.",
    )
    range_max = OutcomeValueField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The range's high end, as range_min, and greater than it.",
    )
    open_lower_bound = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Numeric or date: the outcome may lie below range_min (false: it cannot).",
    )
    open_upper_bound = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Numeric or date: the outcome may lie above range_max (false: it cannot).",
    )
    log_scale = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Numeric only: forecasts are spread over the range logarithmically (then "
        "range_min > 0).",
    )
    unit = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=UNIT_MAX,
        help_text="Numeric only: the unit's label, shown after a value (e.g. km, %, $bn).",
    )
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField(help_text="After opens_at.")
    resolves_at = serializers.DateTimeField(help_text="At or after closes_at.")
    auto_outcome = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text='Applied when resolves_at passes unresolved: "yes" or "no" on a binary '
        'question, an option\'s label on a multiple-choice one, "above_upper_bound" on a '
        "numeric or date question whose upper bound is open; empty: staff resolve.",
    )
    market_liquidity = serializers.DecimalField(
        required=False,
        max_digits=14,
        decimal_places=4,
        min_value=Decimal(0),
        max_value=MAX_LIQUIDITY,
        help_text="The liquidity b of the market opened with the question (in the same "
        "transaction), in play money: a decimal string or number, at most 4 decimal places. "
        "One outcome per option (Yes and No on a binary question); the maker is subsidised "
        "b ln n. 0: no market. Default: the site's default liquidity. A question already "
        "closed to forecasts gets no market. Numeric and date questions have no market: "
        "absent or 0 on them.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        source: SourceDocument = attrs["source"]
        errors: dict[str, list[str]] = {}
        if not passage_in_source(attrs["passage"], source.text):
            errors["passage"] = [PASSAGE_NOT_IN_SOURCE]
        if not attrs["opens_at"] < attrs["closes_at"]:
            errors["closes_at"] = ["Must be after opens_at."]
        if not attrs["closes_at"] <= attrs["resolves_at"]:
            errors["resolves_at"] = ["Must be at or after closes_at."]
        kind = attrs["kind"]
        # A request names a multiple-choice question's automatic option by label, in
        # auto_outcome: the rules' auto_option is reported there.
        auto_outcome, label = auto_outcome_named(kind, attrs["auto_outcome"].strip())
        outcomes, problems = question_outcomes(
            kind=kind,
            options=attrs["options"],
            auto_outcome=auto_outcome,
            auto_option_label=label,
            **{name: attrs[name] for name in RANGE_FIELDS},
        )
        for field, messages in problems.items():
            errors.setdefault("auto_outcome" if field == "auto_option" else field, []).extend(
                messages
            )
        continuous = kind in CONTINUOUS_KINDS
        liquidity = attrs.get("market_liquidity")
        if continuous and liquidity:
            errors["market_liquidity"] = [NO_MARKET]
        if liquidity is None:
            liquidity = Decimal(0 if continuous else settings.MARKET_DEFAULT_LIQUIDITY)
        if errors:
            raise serializers.ValidationError(errors)
        assert outcomes is not None
        return {**attrs, **outcomes.columns(), "market_liquidity": liquidity}


# The range's fields, as a request and the rules name them.
RANGE_FIELDS = (
    "range_min",
    "range_max",
    "open_lower_bound",
    "open_upper_bound",
    "log_scale",
    "unit",
)


class EmptySerializer(StrictSerializer):
    pass
