from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import ForecastFactory, UserFactory

pytestmark = pytest.mark.django_db


def _staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_a_question_shows_its_forecasts_inline_read_only() -> None:
    forecast = ForecastFactory(probability=0.37)

    page = _staff_client().get(
        reverse("admin:forecasts_question_change", args=[forecast.question.pk])
    )

    assert page.status_code == 200
    assert "0.37" in page.text
    assert 'name="forecasts-0-probability"' not in page.text  # displayed, not editable


def test_forecasts_cannot_be_edited_or_added_in_the_admin() -> None:
    forecast = ForecastFactory()
    client = _staff_client()

    change = client.post(
        reverse("admin:forecasts_forecast_change", args=[forecast.pk]), {"probability": "0.9"}
    )
    add = client.get(reverse("admin:forecasts_forecast_add"))

    forecast.refresh_from_db()
    assert forecast.probability == 0.5
    assert change.status_code == 403 and add.status_code == 403


def test_the_admin_is_closed_to_non_staff() -> None:
    client = Client()
    client.force_login(UserFactory())

    response = client.get(reverse("admin:forecasts_question_changelist"))

    assert response.status_code == 302
