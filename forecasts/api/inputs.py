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
from forecasts.models import (
    OPTION_LABEL_MAX,
    OPTIONS_MAX,
    OPTIONS_MIN,
    PROBABILITY_MAX,
    PROBABILITY_MIN,
    AutoOutcome,
    Question,
    QuestionKind,
    Resolution,
    SourceDocument,
)
from forecasts.rules import (
    PASSAGE_NOT_IN_SOURCE,
    option_errors,
    parse_probabilities,
    parse_probability,
    passage_in_source,
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


def _question_field() -> serializers.PrimaryKeyRelatedField[Question]:
    return serializers.PrimaryKeyRelatedField(
        queryset=Question.objects.only("pk", "kind", "options"),
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


def _rationale_field() -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class ForecastSubmitSerializer(StrictSerializer):
    """A forecast on a question of either kind: ``probability`` on a binary question,
    ``probabilities`` on a multiple-choice one (the service refuses the other, naming it)."""

    question = _question_field()
    probability = _probability_field(required=False)
    probabilities = _probabilities_field(required=False)
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


# What the schema shows for a submission: one shape per kind of question.
FORECAST_SUBMIT_SCHEMA = PolymorphicProxySerializer(
    component_name="ForecastSubmit",
    serializers=[BinaryForecastSubmitSerializer, MultipleChoiceForecastSubmitSerializer],
    resource_type_field_name=None,
)


class ForecastWithdrawSerializer(StrictSerializer):
    question = serializers.IntegerField(min_value=1)


# What a resolution may say besides an outcome, on a question of either kind.
NO_OUTCOME = (Resolution.ANNULLED, Resolution.AMBIGUOUS)


class ResolveSerializer(StrictSerializer):
    """A resolution of ``context["question"]``: its ``resolution`` becomes the lifecycle's
    ``resolution`` and ``option`` (an index; None but for a multiple-choice outcome)."""

    resolution = serializers.CharField(
        help_text='A binary question: "yes", "no", "annulled" or "ambiguous". A multiple-choice '
        'question: the label of the option that happened, "annulled" or "ambiguous".'
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
            message = "Choose one of: yes, no, annulled, ambiguous."
        raise serializers.ValidationError(message)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        question: Question = self.context["question"]
        resolution = attrs["resolution"]
        if not question.is_multiple_choice or resolution in NO_OUTCOME:
            return {**attrs, "option": None}
        index = self._outcomes(question)[resolution]
        return {**attrs, "resolution": Resolution.OPTION.value, "option": index}

    @staticmethod
    def _outcomes(question: Question) -> dict[str, int]:
        """What names an outcome: yes and no; a multiple-choice question's option labels."""
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
    kind = serializers.ChoiceField(choices=QuestionKind.choices, default=QuestionKind.BINARY)
    options = serializers.ListField(
        child=serializers.CharField(max_length=OPTION_LABEL_MAX),
        required=False,
        default=list,
        max_length=OPTIONS_MAX,
        help_text=f"A multiple-choice question's {OPTIONS_MIN} to {OPTIONS_MAX} distinct option "
        "labels, in order (fixed once the question opens); none on a binary question.",
    )
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField(help_text="After opens_at.")
    resolves_at = serializers.DateTimeField(help_text="At or after closes_at.")
    auto_outcome = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text='Applied when resolves_at passes unresolved: "yes" or "no" on a binary '
        "question, an option's label on a multiple-choice one; empty: staff resolve.",
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
        "closed to forecasts gets no market.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("market_liquidity", Decimal(settings.MARKET_DEFAULT_LIQUIDITY))
        source: SourceDocument = attrs["source"]
        errors: dict[str, list[str]] = {}
        if not passage_in_source(attrs["passage"], source.text):
            errors["passage"] = [PASSAGE_NOT_IN_SOURCE]
        if not attrs["opens_at"] < attrs["closes_at"]:
            errors["closes_at"] = ["Must be after opens_at."]
        if not attrs["closes_at"] <= attrs["resolves_at"]:
            errors["resolves_at"] = ["Must be at or after closes_at."]
        options = [label.strip() for label in attrs["options"]]
        multiple_choice = attrs["kind"] == QuestionKind.MULTIPLE_CHOICE
        if multiple_choice:
            if problems := option_errors(options):
                errors["options"] = problems
        elif options:
            errors["options"] = ["Only a multiple-choice question has options."]
        auto = _automatic_outcome(attrs["auto_outcome"].strip(), options, multiple_choice)
        if auto is None and "options" not in errors:  # bad options: nothing to name yet
            errors["auto_outcome"] = [
                "Name one of the options' labels, or leave it empty."
                if multiple_choice
                else 'Must be "yes", "no" or empty.'
            ]
        if errors:
            raise serializers.ValidationError(errors)
        assert auto is not None
        attrs["auto_outcome"], attrs["auto_option"] = auto
        return {**attrs, "options": options}


def _automatic_outcome(
    given: str, options: list[str], multiple_choice: bool
) -> tuple[str, int | None] | None:
    """The stored automatic outcome and option index of what a request names: "yes" or "no"
    on a binary question, an option's label on a multiple-choice one, or nothing; None if it
    names none of these."""
    if not given:
        return AutoOutcome.NONE.value, None
    if multiple_choice:
        return (AutoOutcome.OPTION.value, options.index(given)) if given in options else None
    return (given, None) if given in (AutoOutcome.YES, AutoOutcome.NO) else None


class EmptySerializer(StrictSerializer):
    pass
