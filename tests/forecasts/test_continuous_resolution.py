"""Resolving numeric and date questions: to a value within the range or beyond an open bound, or
beyond the bound itself; by staff (service and web page) and by the sweep's automatic outcome.
Every bad outcome is refused naming its field, with nothing written."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from forecasts.lifecycle import lifecycle_sweep_task, question_resolve, question_unresolve
from forecasts.models import Question, Score
from markets.models import Market
from markets.services import market_create
from tests.factories import T0, ForecastFactory, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

CLOSE = T0 + dt.timedelta(days=100)
DUE = CLOSE + dt.timedelta(days=1)
NOW = DUE + dt.timedelta(days=1)
SEPT_1 = dt.datetime(2026, 9, 1, tzinfo=dt.UTC).timestamp()
JULY_10 = dt.datetime(2026, 7, 10, tzinfo=dt.UTC).timestamp()
JUNE_30_2027 = dt.datetime(2027, 6, 30, tzinfo=dt.UTC).timestamp()


@pytest.fixture(autouse=True)
def _now() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def _numeric(**fields: Any) -> Question:
    return QuestionFactory(
        kind="numeric",
        range_min=0.0,
        range_max=500.0,
        unit="$bn",
        closes_at=CLOSE,
        resolves_at=DUE,
        **fields,
    )


def _date(**fields: Any) -> Question:
    return QuestionFactory(
        kind="date",
        range_min=JULY_10,
        range_max=JUNE_30_2027,
        closes_at=CLOSE,
        resolves_at=DUE,
        **fields,
    )


def _stored(question: Question) -> tuple[Any, ...]:
    question.refresh_from_db()
    return (question.resolution, question.resolved_value, question.resolved_option)


def test_a_numeric_question_resolves_to_a_value_shown_with_its_unit() -> None:
    question = _numeric()

    resolved = question_resolve(
        question_id=question.pk, resolution="value", value=312.5, resolved_by=None
    )

    assert _stored(question) == ("value", 312.5, None)
    assert resolved.resolution_label == "312.5 $bn"


def test_a_date_question_resolves_to_a_day() -> None:
    question = _date()

    resolved = question_resolve(
        question_id=question.pk, resolution="value", value=SEPT_1, resolved_by=None
    )

    assert _stored(question) == ("value", SEPT_1, None)
    assert resolved.resolution_label == "2026-09-01"


@pytest.mark.parametrize(
    ("bounds", "resolution", "value"),
    [
        ({"open_upper_bound": True}, "value", 900.0),
        ({"open_lower_bound": True}, "value", -3.0),
        ({"open_upper_bound": True}, "above_upper_bound", None),
        ({"open_lower_bound": True}, "below_lower_bound", None),
    ],
)
def test_an_open_bound_may_be_passed(
    bounds: dict[str, bool], resolution: str, value: float | None
) -> None:
    question = _numeric(**bounds)

    question_resolve(question_id=question.pk, resolution=resolution, value=value, resolved_by=None)

    assert _stored(question) == (resolution, value, None)


@pytest.mark.parametrize(
    ("outcome", "field"),
    [
        ({"resolution": "value", "value": 500.01}, "value"),  # past the closed upper bound
        ({"resolution": "value", "value": -0.01}, "value"),  # below the closed lower bound
        ({"resolution": "value", "value": math.nan}, "value"),
        ({"resolution": "value", "value": math.inf}, "value"),
        ({"resolution": "value"}, "value"),
        ({"resolution": "annulled", "value": 12.0}, "value"),
        ({"resolution": "above_upper_bound"}, "resolution"),  # the bound is closed
        ({"resolution": "below_lower_bound"}, "resolution"),
        ({"resolution": "yes"}, "resolution"),
        ({"resolution": "option", "option": 0}, "resolution"),
        ({"resolution": "value", "value": 12.0, "option": 0}, "option"),
    ],
)
def test_a_bad_outcome_is_refused_naming_the_field(outcome: dict[str, Any], field: str) -> None:
    question = _numeric()

    with pytest.raises(ValidationError) as refused:
        question_resolve(question_id=question.pk, resolved_by=None, **outcome)

    assert list(refused.value.message_dict) == [field]
    assert _stored(question) == ("", None, None)


def test_a_value_on_a_binary_question_is_refused_naming_it() -> None:
    question = QuestionFactory(closes_at=CLOSE, resolves_at=DUE)

    with pytest.raises(ValidationError) as refused:
        question_resolve(question_id=question.pk, resolution="yes", value=1.0, resolved_by=None)

    assert list(refused.value.message_dict) == ["value"]
    assert _stored(question) == ("", None, None)


def test_resolving_again_with_the_same_value_changes_nothing_another_needs_an_unresolve() -> None:
    question = _numeric()
    question_resolve(question_id=question.pk, resolution="value", value=42.0, resolved_by=None)
    before = Question.objects.filter(pk=question.pk).values().get()

    question_resolve(question_id=question.pk, resolution="value", value=42.0, resolved_by=None)
    with pytest.raises(ValidationError) as refused:
        question_resolve(question_id=question.pk, resolution="value", value=43.0, resolved_by=None)
    unresolved = question_unresolve(question_id=question.pk)

    assert "Already resolved 42 $bn" in refused.value.message_dict["resolution"][0]
    assert before["resolved_value"] == 42.0
    assert (unresolved.resolution, unresolved.resolved_value) == ("", None)


def test_a_question_with_forecasts_standing_resolves_and_its_followups_run(
    django_capture_on_commit_callbacks,
) -> None:
    question = _date()
    cdf = [i / 200 for i in range(201)]
    ForecastFactory(question=question, probability=None, cdf=cdf, user=UserFactory(email="a@b.c"))

    with django_capture_on_commit_callbacks(execute=True):
        question_resolve(
            question_id=question.pk, resolution="value", value=SEPT_1, resolved_by=None
        )

    question.refresh_from_db()
    assert (question.resolution, question.followups_done_at) == ("value", NOW)


def test_the_sweep_applies_above_the_upper_bound_when_due(
    django_capture_on_commit_callbacks,
) -> None:
    question = _date(open_upper_bound=True, auto_outcome="above_upper_bound")

    with django_capture_on_commit_callbacks(execute=True):
        result = lifecycle_sweep_task.apply().get()

    question.refresh_from_db()
    assert result["auto_resolve_enqueued"] == [question.pk]
    assert (question.resolution, question.resolved_automatically) == ("above_upper_bound", True)
    assert (question.resolved_at, question.resolution_label) == (CLOSE, "Above the upper bound")


def test_a_numeric_question_gets_no_market() -> None:
    question = QuestionFactory(kind="numeric", range_min=0.0, range_max=500.0)  # open a year

    with pytest.raises(ValidationError) as refused:
        market_create(question_id=question.pk, b=Decimal(100))

    assert refused.value.message_dict == {
        "question": ["Numeric and date questions have no market."]
    }
    assert not Market.objects.exists()


# --- the staff resolution page -----------------------------------------------------------------


def _page(question: Question, data: dict[str, str] | None = None) -> Any:
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    url = reverse("forecasts:staff_resolve", args=[question.pk])
    return client.get(url) if data is None else client.post(url, data)


def test_the_page_offers_a_value_a_date_input_and_only_the_open_bound() -> None:
    question = _date(open_upper_bound=True)

    page = _page(question)

    assert page.status_code == 200
    assert 'type="date" name="value"' in page.text
    assert 'value="above_upper_bound"' in page.text
    assert 'value="below_lower_bound"' not in page.text
    assert "2026-07-10 to 2027-06-30; lower bound closed, upper bound open" in page.text


def test_staff_resolve_a_date_question_on_the_page() -> None:
    question = _date()

    page = _page(question, {"resolution": "value", "value": "2026-09-01"})

    assert page.status_code == 302
    assert _stored(question) == ("value", SEPT_1, None)
    assert not Score.objects.filter(question=question).exists()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"resolution": "value", "value": "600"}, "Value:"),
        ({"resolution": "value", "value": ""}, "Value:"),
        ({"resolution": "value", "value": "nan"}, "Value:"),
        ({"resolution": "annulled", "value": "12"}, "Value:"),
        ({"resolution": "above_upper_bound"}, "Resolution:"),  # closed: not offered
    ],
)
def test_a_bad_value_on_the_page_is_shown_beside_its_field(data: dict[str, str], says: str) -> None:
    question = _numeric()

    page = _page(question, data)

    assert page.status_code == 400
    assert says in page.text
    assert _stored(question) == ("", None, None)
