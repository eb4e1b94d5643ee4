"""Bad input on the web forms: refused in the form naming the field, nothing stored, no 500."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from forecasts.api.serializers import TokenCreateSerializer
from forecasts.forms import SettingsForm, TokenForm
from forecasts.models import ApiToken, Forecast, Profile, Question
from forecasts.services import api_token_create, forecast_submit
from markets.models import Account, Market, Trade
from markets.services import market_create
from tests.factories import QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db


def _email(length: int) -> str:
    """A well-formed address of exactly ``length`` characters (labels of at most 63)."""
    domain = "example.com"
    while len(domain) + 65 < length:
        domain = "d" * min(63, length - 65 - len(domain) - 1) + "." + domain
    return "a" * 64 + "@" + domain


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_email_longer_than_the_column_is_refused_naming_the_field() -> None:
    user = UserFactory(email="ada@example.com")

    response = _logged_in(user).post(reverse("forecasts:settings"), {"email": _email(255)})

    user.refresh_from_db()
    assert response.status_code == 200
    assert "<strong>Email:</strong> An email address has at most 254 characters" in response.text
    assert user.email == "ada@example.com"
    assert not Profile.objects.filter(user=user, notify_on_resolution=False).exists()


def test_an_email_of_exactly_254_characters_is_kept() -> None:
    user, email = UserFactory(), _email(254)

    _logged_in(user).post(reverse("forecasts:settings"), {"email": email})

    user.refresh_from_db()
    assert (len(email), user.email) == (254, email)


@pytest.mark.parametrize("length", [255, 320, 400])
def test_every_length_past_the_column_is_refused(length: int) -> None:
    user = UserFactory(email="")

    response = _logged_in(user).post(reverse("forecasts:settings"), {"email": _email(length)})

    user.refresh_from_db()
    assert (response.status_code, user.email) == (200, "")
    assert "at most 254 characters" in response.text


def _written() -> tuple:
    return (
        list(Forecast.objects.values_list("pk", "probability", "ends_at")),
        list(ApiToken.objects.values_list("pk", "revoked_at")),
        list(Question.objects.values_list("pk", "resolution")),
        list(get_user_model().objects.values_list("pk", "email", "password")),
        list(Market.objects.values_list("pk", "q")),
        Trade.objects.count(),
        Account.objects.count(),
    )


def test_no_web_form_reads_a_json_body() -> None:
    """Forms read form-encoded fields only: a JSON body is an empty form, refused as such."""
    staff = UserFactory(is_staff=True, is_superuser=True, email="sam@example.com")
    question = QuestionFactory()
    forecast_submit(user=staff, question_id=question.pk, probability=0.4)
    market = market_create(question_id=question.pk, b=Decimal(100))
    api_token_create(user=staff, name="script")
    client, before = _logged_in(staff), _written()
    deep = "[" * 1_000 + "]" * 1_000
    posts = [
        reverse("forecasts:question_detail", args=[question.pk]),
        reverse("forecasts:settings"),
        reverse("forecasts:token_create"),
        reverse("forecasts:staff_resolve", args=[question.pk]),
        reverse("markets:trade", args=[market.pk]),
        reverse("signup"),
        reverse("password_change"),
        reverse("admin:forecasts_question_change", args=[question.pk]),
    ]

    statuses = {
        url: client.post(url, data=deep, content_type="application/json").status_code
        for url in posts
    }

    assert all(status < 500 for status in statuses.values()), statuses
    assert _written() == before


STORED_TEXT = [
    (SettingsForm.base_fields["email"], get_user_model(), "email"),
    (TokenForm.base_fields["name"], ApiToken, "name"),
    (TokenCreateSerializer().fields["name"], ApiToken, "name"),
]


@pytest.mark.parametrize(("field", "model", "column"), STORED_TEXT)
def test_every_stored_text_field_is_bounded_by_its_column(field, model, column: str) -> None:
    limit = model._meta.get_field(column).max_length

    assert field.max_length is not None and field.max_length <= limit


@pytest.mark.parametrize(
    "url",
    ["/", "/markets/", "/markets/leaderboard/", "/markets/portfolio/"],
)
def test_a_web_page_number_far_past_the_end_shows_the_last_page(url: str) -> None:
    client = _logged_in(UserFactory())

    response = client.get(url, {"page": str(2**63 - 1)})

    assert response.status_code == 200
