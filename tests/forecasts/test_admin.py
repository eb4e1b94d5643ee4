from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from forecasts.lifecycle import question_resolve, questions_close_due
from forecasts.models import Question, QuestionStatus, SourceDocument
from forecasts.services import forecast_submit
from markets.services import market_create
from tests.factories import (
    T0,
    ForecastFactory,
    QuestionFactory,
    SourceDocumentFactory,
    UserFactory,
)

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


NOW = T0 + dt.timedelta(days=60)


def _question_form(question: Question, **changes: object) -> dict[str, object]:
    """The admin change form as a browser would post it, with ``changes`` applied."""
    values: dict[str, object] = {
        "key": question.key,
        "source": question.source_id,
        "title": question.title,
        "body": question.body,
        "resolution_criteria": question.resolution_criteria,
        "passage": question.passage,
        "kind": question.kind,
        "options": "\r\n".join(question.options),
        "opens_at": question.opens_at,
        "closes_at": question.closes_at,
        "resolves_at": question.resolves_at,
        "auto_outcome": question.auto_outcome,
        "auto_option": "" if question.auto_option is None else question.auto_outcome_label,
        **changes,
    }
    data: dict[str, object] = {}
    for name, value in values.items():
        if isinstance(value, dt.datetime):
            data[f"{name}_0"], data[f"{name}_1"] = f"{value:%Y-%m-%d}", f"{value:%H:%M:%S}"
        else:
            data[name] = "" if value is None else value
    forecasts = list(question.forecasts.order_by("starts_at", "id")) if question.pk else []
    data.update(
        {
            "forecasts-TOTAL_FORMS": len(forecasts),
            "forecasts-INITIAL_FORMS": len(forecasts),
            "forecasts-MIN_NUM_FORMS": 0,
            "forecasts-MAX_NUM_FORMS": 1000,
        }
    )
    for number, forecast in enumerate(forecasts):
        data[f"forecasts-{number}-id"] = forecast.pk
        data[f"forecasts-{number}-question"] = question.pk
    return data


def _post_question(question: Question, **changes: object):
    url = reverse("admin:forecasts_question_change", args=[question.pk])
    return _staff_client().post(url, _question_form(question, **changes), follow=True)


def _closed_question(*, market: bool = False) -> Question:
    question = QuestionFactory(closes_at=T0 + dt.timedelta(days=10))
    if market:
        market_create(question_id=question.pk, b=Decimal(100), now=T0 + dt.timedelta(days=1))
    questions_close_due(now=T0 + dt.timedelta(days=11))
    question.refresh_from_db()
    return question


def test_the_admin_refuses_a_passage_that_is_not_in_the_source() -> None:
    question = QuestionFactory()

    page = _post_question(question, passage="Nobody wrote this.")

    question.refresh_from_db()
    assert "does not occur verbatim in the source" in page.text
    assert question.passage == "The control may be lifted within a few weeks."


def test_the_admin_refuses_to_add_a_question_whose_passage_is_elsewhere() -> None:
    source = SourceDocumentFactory(text="Only this sentence.")
    new = QuestionFactory.build(source=source, key="new-one", passage="Other labs may be next.")

    page = _staff_client().post(reverse("admin:forecasts_question_add"), _question_form(new))

    assert "does not occur verbatim in the source" in page.text
    assert not Question.objects.filter(key="new-one").exists()


def test_the_admin_refuses_to_move_a_question_to_a_source_without_its_passage() -> None:
    question, elsewhere = QuestionFactory(), SourceDocumentFactory(text="Something else.")

    page = _post_question(question, source=elsewhere.pk)

    question.refresh_from_db()
    assert "does not occur verbatim in the source" in page.text
    assert question.source_id != elsewhere.pk


def test_the_admin_keeps_a_passage_that_occurs_in_the_source() -> None:
    question = QuestionFactory()

    _post_question(question, passage="Other labs may be next.")

    question.refresh_from_db()
    assert question.passage == "Other labs may be next."


def _source_form(source: SourceDocument, **changes: object) -> dict[str, object]:
    values = {
        "key": source.key,
        "title": source.title,
        "author": source.author,
        "published_on": f"{source.published_on:%Y-%m-%d}",
        "url": source.url,
        "text": source.text,
    }
    return {**values, **changes}


def test_a_source_text_edit_that_breaks_a_passage_is_refused_naming_the_question() -> None:
    question = QuestionFactory(key="lifted-soon")
    source = question.source
    url = reverse("admin:forecasts_sourcedocument_change", args=[source.pk])

    page = _staff_client().post(url, _source_form(source, text="Other labs may be next."))

    source.refresh_from_db()
    assert "lifted-soon" in page.text and "no longer occur verbatim" in page.text
    assert source.text == "The control may be lifted within a few weeks. Other labs may be next."


def test_a_source_text_edit_that_keeps_every_passage_is_saved() -> None:
    question = QuestionFactory()
    source = question.source
    url = reverse("admin:forecasts_sourcedocument_change", args=[source.pk])
    text = "Preface. The control may be lifted within a few weeks."

    _staff_client().post(url, _source_form(source, text=text))

    source.refresh_from_db()
    assert source.text == text


@pytest.mark.parametrize("url", ["ftp://example.com/essay", "javascript:alert(1)"])
def test_a_source_url_must_be_a_web_address(url: str) -> None:
    source = SourceDocumentFactory()
    change = reverse("admin:forecasts_sourcedocument_change", args=[source.pk])

    page = _staff_client().post(change, _source_form(source, url=url))

    source.refresh_from_db()
    assert "Enter a web address (http or https)." in page.text
    assert source.url == ""


def test_extending_a_closed_question_reopens_it_for_forecasts_and_trading() -> None:
    question = _closed_question(market=True)
    market = question.market

    with time_machine.travel(NOW, tick=False):
        page = _post_question(
            question,
            closes_at=NOW + dt.timedelta(days=30),
            resolves_at=NOW + dt.timedelta(days=31),
        )
        forecast = forecast_submit(user=UserFactory(), question_id=question.pk, probability=0.3)

    question.refresh_from_db()
    market.refresh_from_db()
    assert "reopened" in page.text
    assert question.closed_at is None and question.status(NOW) == QuestionStatus.OPEN
    assert forecast.probability == 0.3
    assert market.is_trading(NOW, question=question)


def test_a_reopened_question_closes_again_at_its_new_date() -> None:
    question = _closed_question()
    with time_machine.travel(NOW, tick=False):
        _post_question(
            question,
            closes_at=NOW + dt.timedelta(days=30),
            resolves_at=NOW + dt.timedelta(days=31),
        )

    questions_close_due(now=NOW + dt.timedelta(days=31))

    question.refresh_from_db()
    assert question.closed_at == NOW + dt.timedelta(days=30)


def test_moving_a_closed_questions_close_within_the_past_keeps_it_closed() -> None:
    question = _closed_question()
    earlier = T0 + dt.timedelta(days=5)

    with time_machine.travel(NOW, tick=False):
        page = _post_question(question, closes_at=earlier)

    question.refresh_from_db()
    assert "reopened" not in page.text
    assert (question.closed_at, question.status(NOW)) == (earlier, QuestionStatus.AWAITING)


def test_a_later_resolve_date_sends_the_staff_reminder_again_when_it_falls_due() -> None:
    question = _closed_question()
    Question.objects.filter(pk=question.pk).update(staff_reminded_at=NOW)
    question.refresh_from_db()

    with time_machine.travel(NOW, tick=False):
        _post_question(question, resolves_at=NOW + dt.timedelta(days=3))

    question.refresh_from_db()
    assert question.staff_reminded_at is None


@pytest.mark.parametrize("field", ["opens_at", "closes_at", "resolves_at"])
def test_the_dates_of_a_resolved_question_cannot_change(field: str) -> None:
    question = _closed_question()
    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None, now=NOW)
    question.refresh_from_db()
    before = (question.opens_at, question.closes_at, question.resolves_at, question.closed_at)

    with time_machine.travel(NOW, tick=False):
        page = _post_question(question, **{field: getattr(question, field) + dt.timedelta(days=1)})

    question.refresh_from_db()
    assert "unresolve it first" in page.text
    assert (question.opens_at, question.closes_at, question.resolves_at, question.closed_at) == (
        before
    )
