"""Multiple-choice questions in the admin: written with their options one per line, checked as
the importer and the API check them, and fixed once forecasts or trades may rest on them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from forecasts.models import AutoOutcome, Question, QuestionKind
from forecasts.services import forecast_submit
from markets.services import market_create
from tests.factories import T0, ForecastFactory, QuestionFactory, UserFactory
from tests.forecasts.test_admin import _question_form, _staff_client

pytestmark = pytest.mark.django_db

OPTIONS = ["Lifted", "Narrowed", "Still in force"]
BEFORE_OPENING = T0 - dt.timedelta(days=1)


def _multiple_choice(**fields: Any) -> Question:
    return QuestionFactory(kind=QuestionKind.MULTIPLE_CHOICE, options=list(OPTIONS), **fields)


def _add(client: Client | None = None, **changes: Any):
    new = QuestionFactory.build(key="new-one", source=QuestionFactory().source)
    given = {"kind": "multiple_choice", "options": "\r\n".join(OPTIONS), **changes}
    form = _question_form(new, **given)
    return (client or _staff_client()).post(reverse("admin:forecasts_question_add"), form)


def _change(question: Question, **changes: Any):
    url = reverse("admin:forecasts_question_change", args=[question.pk])
    return _staff_client().post(url, _question_form(question, **changes))


def _errors(page: Any) -> dict[str, list[str]]:
    return dict(page.context["adminform"].form.errors) if page.context else {}


def _stored(question: Question) -> tuple[Any, ...]:
    question.refresh_from_db()
    return (question.kind, question.options, question.auto_outcome, question.auto_option)


def test_staff_add_a_multiple_choice_question_its_options_in_order_and_stripped() -> None:
    options = "  Lifted \r\n\r\nNarrowed\r\n Still in force\r\n"

    page = _add(options=options, auto_outcome="option", auto_option="still in force ")

    question = Question.objects.get(key="new-one")
    assert page.status_code == 302, _errors(page)
    assert _stored(question) == (QuestionKind.MULTIPLE_CHOICE, OPTIONS, AutoOutcome.OPTION, 2)


def test_the_change_form_shows_the_options_one_per_line_and_the_automatic_option_by_label() -> None:
    question = _multiple_choice(auto_outcome=AutoOutcome.OPTION, auto_option=1)

    page = _staff_client().get(reverse("admin:forecasts_question_change", args=[question.pk]))

    assert "Lifted\nNarrowed\nStill in force</textarea>" in page.text
    assert 'name="auto_option" value="Narrowed"' in page.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"options": "Lifted"}, "options"),
        ({"options": ""}, "options"),
        ({"options": "Lifted\r\nlifted"}, "options"),
        ({"options": "Lifted", "auto_outcome": "option", "auto_option": "Lifted"}, "auto_option"),
        ({"options": "Lifted\r\nAnnulled"}, "options"),
        ({"options": "x" * 101 + "\r\nLifted"}, "options"),
        ({"kind": "binary"}, "options"),
        ({"kind": "ranked"}, "kind"),
        ({"auto_outcome": "option", "auto_option": "Repealed"}, "auto_option"),
        ({"auto_outcome": "option", "auto_option": ""}, "auto_option"),
        ({"auto_outcome": "yes"}, "auto_outcome"),
        ({"auto_outcome": "", "auto_option": "Lifted"}, "auto_option"),
        ({"kind": "binary", "options": "", "auto_outcome": "option"}, "auto_outcome"),
        ({"kind": "binary", "options": "", "auto_option": "Lifted"}, "auto_option"),
    ],
)
def test_a_bad_question_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    page = _add(**changes)

    assert page.status_code == 200
    assert field in _errors(page) and "__all__" not in _errors(page), _errors(page)
    assert not Question.objects.filter(key="new-one").exists()


def test_a_binary_question_is_added_without_options() -> None:
    page = _add(kind="binary", options="", auto_outcome="no")

    assert page.status_code == 302, _errors(page)
    assert _stored(Question.objects.get(key="new-one")) == ("binary", [], "no", None)


def test_the_options_of_an_opened_question_are_fixed() -> None:
    question = _multiple_choice()

    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        page = _change(question, options="Lifted\r\nNarrowed\r\nRepealed")

    assert "options" in _errors(page)
    assert _stored(question)[1] == OPTIONS


def test_the_kind_of_an_opened_question_is_fixed() -> None:
    question = QuestionFactory()

    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        page = _change(question, kind="multiple_choice", options="\r\n".join(OPTIONS))

    assert "kind" in _errors(page)
    assert _stored(question)[:2] == (QuestionKind.BINARY, [])


def test_an_upcoming_question_may_change_its_options() -> None:
    question = _multiple_choice()

    with time_machine.travel(BEFORE_OPENING, tick=False):
        page = _change(
            question, options="Lifted\r\nRepealed", auto_outcome="option", auto_option="Repealed"
        )

    assert page.status_code == 302, _errors(page)
    assert _stored(question) == (QuestionKind.MULTIPLE_CHOICE, ["Lifted", "Repealed"], "option", 1)


@pytest.mark.parametrize("what", ["forecast", "market"])
def test_the_options_of_an_upcoming_question_with_a_forecast_or_market_are_fixed(what: str) -> None:
    question = _multiple_choice()
    if what == "forecast":
        ForecastFactory(question=question, probability=None, probabilities=[0.2, 0.3, 0.5])
    else:
        market_create(question_id=question.pk, b=Decimal(100), now=BEFORE_OPENING)

    with time_machine.travel(BEFORE_OPENING, tick=False):
        page = _change(question, options="Lifted\r\nRepealed")

    assert what in " ".join(_errors(page).get("options", []))
    assert _stored(question)[1] == OPTIONS


def test_a_question_shows_its_multiple_choice_forecasts_inline() -> None:
    question = _multiple_choice()
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        forecast_submit(
            user=UserFactory(), question_id=question.pk, probabilities=[0.1, 0.25, 0.65]
        )

    page = _staff_client().get(reverse("admin:forecasts_question_change", args=[question.pk]))

    assert "0.1, 0.25, 0.65" in page.text
