from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.db import models

from forecasts.models import PROBABILITY_MAX, PROBABILITY_MIN, ApiToken
from forecasts.rules import parse_probability


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
    rationale = forms.CharField(
        label="Rationale (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_probability(self) -> float:
        try:
            return parse_probability(self.cleaned_data.get("probability"))
        except ValidationError as error:
            raise ValidationError(error.message_dict["probability"]) from None


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
