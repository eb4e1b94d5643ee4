from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models

from forecasts.models import (
    PROBABILITY_MAX,
    PROBABILITY_MIN,
    ApiToken,
    Question,
    QuestionKind,
    outcome_value_text,
)
from forecasts.rules import parse_outcome_value, parse_probabilities, parse_probability


def _rationale_field() -> forms.CharField:
    return forms.CharField(
        label="Rationale (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ForecastForm(forms.Form):
    """Parses the forecast form once, with the API's parsing (``parse_probability``)."""

    probability = forms.CharField(
        label="Probability of YES",
        help_text=f"A number from {PROBABILITY_MIN} to {PROBABILITY_MAX}, e.g. 0.72 for 72%.",
        widget=forms.NumberInput(
            attrs={
                "min": PROBABILITY_MIN,
                "max": PROBABILITY_MAX,
                "step": PROBABILITY_MIN,
                "inputmode": "decimal",
                "data-probability-input": "",
            }
        ),
        error_messages={"required": "A probability is required."},
    )
    rationale = _rationale_field()

    def clean_probability(self) -> float:
        try:
            return parse_probability(self.cleaned_data.get("probability"))
        except ValidationError as error:
            raise ValidationError(error.message_dict["probability"]) from None


class OptionNumbers(forms.Widget):
    """One number per option, every one named ``probabilities``: the value is their list.
    The template draws the rows (``MultipleChoiceForecastForm.rows``), a label for each."""

    def value_from_datadict(self, data: Mapping[str, Any], files: object, name: str) -> Any:
        getlist = getattr(data, "getlist", None)
        return getlist(name) if getlist is not None else data.get(name)

    def value_omitted_from_data(self, data: Mapping[str, Any], files: object, name: str) -> bool:
        return name not in data


@dataclass(frozen=True)
class OptionRow:
    """One option's row of the form: its label, the number in its field (as typed, or the
    standing forecast's) and the crowd's median beside it (None where not shown)."""

    index: int
    label: str
    value: str
    input_id: str
    crowd: float | None


class MultipleChoiceForecastForm(forms.Form):
    """A multiple-choice forecast, one number per option, parsed once with the API's parsing
    (``parse_probabilities``): a vector that does not add up to 1 is refused, never scaled."""

    probabilities = forms.Field(
        label="Probability of each option",
        help_text=f"One probability per option, each at least {PROBABILITY_MIN}, adding up to "
        "1 (e.g. 0.5, 0.3 and 0.2).",
        widget=OptionNumbers,
        error_messages={"required": "Give a probability for each option."},
    )
    rationale = _rationale_field()

    def __init__(self, *args: Any, options: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options = tuple(options)

    def clean_probabilities(self) -> tuple[float, ...]:
        raw = self.cleaned_data.get("probabilities")
        if isinstance(raw, list) and len(raw) == len(self.options):
            blank = [
                label
                for label, value in zip(self.options, raw, strict=True)
                if isinstance(value, str) and not value.strip()
            ]
            if blank:  # a friendlier "required" than "Probability 2 is not a number"
                raise ValidationError(
                    f"Give a probability for each option (none for: {', '.join(blank)})."
                )
        try:
            return parse_probabilities(raw, options=len(self.options))
        except ValidationError as error:
            raise ValidationError(error.message_dict["probabilities"]) from None

    def rows(self, crowd: Sequence[float] | None = None) -> list[OptionRow]:
        """The form's rows, with the crowd's medians beside them when given."""
        values = self["probabilities"].value()
        if not isinstance(values, list | tuple):
            values = []
        base_id = self["probabilities"].auto_id
        return [
            OptionRow(
                index=i,
                label=label,
                value=str(values[i]) if i < len(values) else "",
                input_id=f"{base_id}_{i}",
                crowd=crowd[i] if crowd is not None and i < len(crowd) else None,
            )
            for i, label in enumerate(self.options)
        ]


# The quantiles the web form asks for, by field: the median, the 80% interval and (optional,
# as any quantile but two) the quartiles.
QUANTILE_FIELDS = {"q10": 0.1, "q25": 0.25, "q50": 0.5, "q75": 0.75, "q90": 0.9}
QUANTILE_LABELS = {
    "q10": "10th percentile",
    "q25": "25th percentile",
    "q50": "Median (50th percentile)",
    "q75": "75th percentile",
    "q90": "90th percentile",
}
# How the maths names a quantile in a refusal ("quantile 0.9: ..."), to show it by its field.
_NAMED_QUANTILE = re.compile(r"^quantile (?P<level>[0-9.e-]+):", re.IGNORECASE)


def quantile_field(message: str) -> str | None:
    """The field of the quantile a refusal of the maths names (``forecasts.maths.quantiles``),
    or None when it names none of the form's."""
    match = _NAMED_QUANTILE.match(message)
    if match is None:
        return None
    try:
        level = float(match["level"])
    except ValueError:
        return None
    return next((name for name, q in QUANTILE_FIELDS.items() if q == level), None)


def quantile_input_text(*, kind: str, value: float) -> str:
    """A quantile's value as its input holds it: a date question's as YYYY-MM-DD (its day,
    UTC), a numeric one's to 6 significant digits, never in exponent notation."""
    if kind == QuestionKind.DATE:
        return f"{dt.datetime.fromtimestamp(value, dt.UTC):%Y-%m-%d}"
    text = format(float(f"{value:.6g}") + 0.0, "f")  # + 0.0: never "-0"
    return text.rstrip("0").rstrip(".") if "." in text else text


class QuantileForecastForm(forms.Form):
    """A numeric or date forecast as a few quantiles, each a value in the question's units (a
    date question's a day, YYYY-MM-DD), parsed once with the API's parsing
    (``parse_outcome_value``). Any field may be left empty: the service turns the quantiles
    given into a CDF, and refuses fewer than two. A value beyond a closed bound of the range,
    or not above the one of a lower percentile, is refused here, beside its field, in the
    question's own terms; whatever else the maths refuses comes back beside the field it names
    (``quantile_field``)."""

    def __init__(self, *args: Any, question: Question, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.question = question
        date = question.kind == QuestionKind.DATE
        unit = "" if date else question.unit
        for name in QUANTILE_FIELDS:
            widget: forms.Widget = (
                forms.DateInput(attrs={"type": "date", "data-quantile-input": name})
                if date
                else forms.NumberInput(
                    attrs={"step": "any", "inputmode": "decimal", "data-quantile-input": name}
                )
            )
            self.fields[name] = forms.CharField(
                label=QUANTILE_LABELS[name],
                required=False,
                max_length=100,
                widget=widget,
                help_text=unit,
            )
        self.fields["rationale"] = _rationale_field()

    def quantile_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in QUANTILE_FIELDS]

    def _value_text(self, value: float) -> str:
        return outcome_value_text(kind=self.question.kind, value=value, unit=self.question.unit)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        question, date = self.question, self.question.kind == QuestionKind.DATE
        given: list[tuple[str, float]] = []
        for name in QUANTILE_FIELDS:
            raw = str(cleaned.get(name) or "").strip()
            if not raw:
                continue
            try:
                value = parse_outcome_value(raw, kind=question.kind, field=name)
            except ValidationError as error:
                self.add_error(name, error.message_dict[name])
                continue
            assert question.range_min is not None and question.range_max is not None
            if not question.open_lower_bound and value < question.range_min:
                self.add_error(
                    name,
                    f"{'Before' if date else 'Below'} the range, which starts at "
                    f"{self._value_text(question.range_min)}: nothing lies "
                    f"{'before' if date else 'below'} it.",
                )
            elif not question.open_upper_bound and value > question.range_max:
                self.add_error(
                    name,
                    f"{'After' if date else 'Above'} the range, which ends at "
                    f"{self._value_text(question.range_max)}: nothing lies "
                    f"{'after' if date else 'above'} it.",
                )
            elif given and not value > given[-1][1]:
                lower, at = given[-1]
                self.add_error(
                    name,
                    f"Must be {'later' if date else 'higher'} than the "
                    f"{QUANTILE_LABELS[lower].lower()} ({self._value_text(at)}).",
                )
            else:
                given.append((name, value))
        cleaned["quantiles"] = {QUANTILE_FIELDS[name]: value for name, value in given}
        return cleaned

    @property
    def quantiles(self) -> dict[float, float]:
        """The quantiles given, ``{level: value}`` (a date's as epoch seconds); after
        ``is_valid``."""
        quantiles: dict[float, float] = self.cleaned_data["quantiles"]
        return quantiles

    def add_service_error(self, field: str | None, messages: Sequence[str]) -> None:
        """A refusal of the service, beside the quantile it names where it names one."""
        for message in messages:
            named = quantile_field(message) if field in (None, "quantiles", "cdf") else None
            shown = message[:1].upper() + message[1:]
            self.add_error(named or (field if field in self.fields else None), shown)


def _max_length(model: type[models.Model], field: str) -> int:
    """The column's own limit, so a form never passes what the database would refuse (or,
    on SQLite, store oversize)."""
    column = model._meta.get_field(field)
    if not isinstance(column, models.Field) or column.max_length is None:
        raise TypeError(f"{model.__name__}.{field} has no max_length")
    return column.max_length


EMAIL_MAX_LENGTH = _max_length(get_user_model(), "email")


class SettingsForm(forms.Form):
    email = forms.EmailField(
        required=False,
        max_length=EMAIL_MAX_LENGTH,
        help_text="Where resolution notices go. Leave empty for none.",
        error_messages={
            "max_length": "An email address has at most %(limit_value)d characters "
            "(this one has %(show_value)d)."
        },
    )
    notify_on_resolution = forms.BooleanField(
        required=False, label="Email me my scores when a question I forecast resolves"
    )
    share_rationales = forms.BooleanField(
        required=False,
        label="Share my rationales once a question resolves",
        help_text="Once a question is scored, its page shows each forecaster's latest "
        "rationale, with the forecast and its time. Until then they stay yours alone.",
    )


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=_max_length(ApiToken, "name"),
        help_text="What uses it, e.g. “weekly scores script”.",
        label="Token name",
    )
