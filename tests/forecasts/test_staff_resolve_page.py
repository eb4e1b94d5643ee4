"""The staff resolution page: each outcome's radio inside its label, and the form answered in
place with htmx (the redirect to the question without JavaScript, as before)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from forecasts.models import Question
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

CLOSE = T0 + dt.timedelta(days=100)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(CLOSE + dt.timedelta(days=2), tick=False):
        yield


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    return client


def _url(question: Question) -> str:
    return reverse("forecasts:staff_resolve", args=[question.pk])


def test_each_outcome_radio_sits_inside_its_label(staff: Client) -> None:
    question = QuestionFactory(closes_at=CLOSE, resolves_at=CLOSE)

    html = staff.get(_url(question)).content.decode()

    labels = re.findall(r'<label for="[^"]+">\s*<input type="radio"[^>]*>\s*(\w+)</label>', html)
    assert labels == ["Yes", "No", "Annulled", "Ambiguous"]


def test_resolving_with_htmx_answers_the_resolution_in_place(staff: Client) -> None:
    question = QuestionFactory(closes_at=CLOSE, resolves_at=CLOSE)

    response = staff.post(_url(question), {"resolution": "no"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Resolved NO." in html and "Unresolve…" in html
    assert Question.objects.get(pk=question.pk).resolution == "no"


def test_a_refused_resolution_with_htmx_shows_the_error_beside_the_field(staff: Client) -> None:
    question = QuestionFactory(closes_at=CLOSE, resolves_at=CLOSE)

    response = staff.post(_url(question), {"effective_at": "2026-08-01T12:00"}, **HTMX)

    assert response.status_code == 400
    assert 'id="resolution-errors"' in response.content.decode()
    assert Question.objects.get(pk=question.pk).resolution == ""
