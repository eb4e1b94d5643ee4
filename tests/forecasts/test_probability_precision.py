"""What is stored is what the forecast form shows: a probability is kept to the form's step,
0.001, at the edge (the form and the API share the parsing)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from forecasts.models import Forecast
from forecasts.rules import PROBABILITY_ERROR, parse_probability
from tests.factories import QuestionFactory, UserFactory


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("0.7234", 0.723), ("0.7235", 0.724), (0.12345678, 0.123), ("0.99849", 0.998), ("0.5", 0.5)],
)
def test_a_probability_is_kept_to_the_forms_step(raw: object, stored: float) -> None:
    assert parse_probability(raw) == stored


@pytest.mark.parametrize("raw", ["0.9996", "0.0009"])
def test_a_probability_is_checked_before_it_is_rounded(raw: str) -> None:
    with pytest.raises(ValidationError) as error:
        parse_probability(raw)

    assert error.value.message_dict == {"probability": [PROBABILITY_ERROR]}


@pytest.mark.django_db
def test_the_form_stores_what_it_shows() -> None:
    question, user = QuestionFactory(), UserFactory()
    client = Client()
    client.force_login(user)

    client.post(
        reverse("forecasts:question_detail", args=[question.pk]), {"probability": "0.61789"}
    )

    assert Forecast.objects.get(user=user).probability == 0.618
