"""Rationales: private until the question is scored, then each forecaster's latest is public,
unless they opted out in their settings."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from forecasts.discussion.selectors import question_rationales
from forecasts.lifecycle import question_resolve
from forecasts.models import Profile
from forecasts.services import forecast_submit, profile_update
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def question():
    """A question that closed, with ada's two forecasts (the later with a rationale and the
    latest without one) and bob's one."""
    question = QuestionFactory(closes_at=T0 + dt.timedelta(days=10))
    ada, bob = UserFactory(username="ada"), UserFactory(username="bob")
    day = dt.timedelta(days=1)
    forecast_submit(user=ada, question_id=question.pk, probability=0.2, rationale="Early", now=T0)
    forecast_submit(
        user=ada, question_id=question.pk, probability=0.35, rationale="Talks!", now=T0 + day
    )
    forecast_submit(user=ada, question_id=question.pk, probability=0.4, now=T0 + 2 * day)
    forecast_submit(
        user=bob, question_id=question.pk, probability=0.8, rationale="Lobbying", now=T0 + day
    )
    return question


def _page(question) -> str:
    url = reverse("forecasts:question_detail", args=[question.pk])
    return Client().get(url).content.decode()


def test_before_resolution_no_rationale_is_public(question) -> None:
    page = _page(question)

    assert question_rationales(question=question) == []
    assert "Talks!" not in page and "Lobbying" not in page


def test_once_scored_each_latest_rationale_is_shown_with_its_forecast(question) -> None:
    question = question_resolve(question_id=question.pk, resolution="yes", resolved_by=None)

    page = _page(question)

    rationales = question_rationales(question=question)
    shown = [(f.user.username, f.rationale, f.probability) for f in rationales]
    assert shown == [("ada", "Talks!", 0.35), ("bob", "Lobbying", 0.8)]
    assert "Talks!" in page and "35.0% YES" in page and "Early" not in page
    assert "13 Jun 2026, 12:00 UTC" in page


def test_an_opted_out_forecaster_s_rationale_stays_private(question) -> None:
    bob = UserFactory(username="bob")  # the fixture's (get or create)
    profile_update(user=bob, email="", notify_on_resolution=True, share_rationales=False)
    question_resolve(question_id=question.pk, resolution="no", resolved_by=None)

    page = _page(question)

    assert "Lobbying" not in page and "Talks!" in page


def test_an_annulled_question_keeps_its_rationales_private(question) -> None:
    question = question_resolve(question_id=question.pk, resolution="annulled", resolved_by=None)

    assert question_rationales(question=question) == []
    assert "Talks!" not in _page(question)


def test_the_settings_page_saves_the_opt_out() -> None:
    ada = UserFactory()
    client = Client()
    client.force_login(ada)

    page = client.get(reverse("forecasts:settings")).content.decode()
    client.post(reverse("forecasts:settings"), {"email": "", "notify_on_resolution": "on"})

    assert "Share my rationales once a question resolves" in page
    assert re.search(r'<input type="checkbox" name="share_rationales"[^>]* checked>', page)
    assert Profile.objects.get(user=ada).share_rationales is False
