from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.db import models

from forecasts.models import PROBABILITY_MAX, PROBABILITY_MIN, ApiToken
from forecasts.rules import parse_probabilities, parse_probability


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


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username",)


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


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=_max_length(ApiToken, "name"),
        help_text="What uses it, e.g. “weekly scores script”.",
        label="Token name",
    )
