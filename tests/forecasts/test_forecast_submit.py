from __future__ import annotations

import datetime as dt
import math

import pytest
from django.core.exceptions import ValidationError

from forecasts.models import Forecast
from forecasts.rules import PROBABILITY_ERROR, parse_probability
from forecasts.services import forecast_submit, forecast_withdraw
from tests.factories import ForecastFactory, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_new_forecast_ends_the_previous_one_and_keeps_history(now: dt.datetime) -> None:
    question, user = QuestionFactory(), UserFactory()
    first = forecast_submit(user=user, question_id=question.pk, probability=0.3, now=now)
    later = now + dt.timedelta(hours=5)

    second = forecast_submit(user=user, question_id=question.pk, probability=0.72, now=later)

    first.refresh_from_db()
    assert (first.probability, first.starts_at, first.ends_at) == (0.3, now, later)
    assert (second.probability, second.starts_at, second.ends_at) == (0.72, later, None)
    assert Forecast.objects.filter(question=question, user=user).count() == 2


def test_forecasts_of_other_users_are_left_standing(now: dt.datetime) -> None:
    question = QuestionFactory()
    theirs = ForecastFactory(question=question, probability=0.9)

    forecast_submit(user=UserFactory(), question_id=question.pk, probability=0.1, now=now)

    theirs.refresh_from_db()
    assert theirs.ends_at is None and theirs.probability == 0.9


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5, math.nan, math.inf, -math.inf])
def test_out_of_range_probabilities_are_refused_and_nothing_is_written(
    bad: float, now: dt.datetime
) -> None:
    question = QuestionFactory()
    standing = ForecastFactory(question=question, probability=0.4)

    with pytest.raises(ValidationError) as error:
        forecast_submit(user=standing.user, question_id=question.pk, probability=bad, now=now)

    assert error.value.message_dict == {"probability": [PROBABILITY_ERROR]}
    standing.refresh_from_db()
    assert standing.ends_at is None
    assert Forecast.objects.count() == 1


@pytest.mark.parametrize("edge", [0.001, 0.999, 0.5])
def test_the_bounds_themselves_are_accepted(edge: float, now: dt.datetime) -> None:
    question = QuestionFactory()

    forecast = forecast_submit(
        user=UserFactory(), question_id=question.pk, probability=edge, now=now
    )

    assert forecast.probability == edge


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (0, PROBABILITY_ERROR),
        ("1", PROBABILITY_ERROR),
        (" 1.5 ", PROBABILITY_ERROR),
        ("nan", PROBABILITY_ERROR),
        ("inf", PROBABILITY_ERROR),
        ("abc", "The probability must be a number."),
        ([0.5], "The probability must be a number."),
        ("", "A probability is required."),
        ("  ", "A probability is required."),
        (None, "A probability is required."),
        (True, "A probability is required."),
    ],
)
def test_the_edge_refuses_bad_probabilities_naming_the_field(raw: object, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        parse_probability(raw)

    assert error.value.message_dict == {"probability": [message]}


@pytest.mark.parametrize(("raw", "value"), [("0.72", 0.72), (" 0.001 ", 0.001), (0.999, 0.999)])
def test_the_edge_parses_a_probability_into_a_float(raw: object, value: float) -> None:
    assert parse_probability(raw) == value


def test_a_closed_question_refuses_forecasts(now: dt.datetime) -> None:
    question = QuestionFactory(closes_at=now, resolves_at=now)

    with pytest.raises(ValidationError) as error:
        forecast_submit(user=UserFactory(), question_id=question.pk, probability=0.5, now=now)

    assert "question" in error.value.message_dict
    assert not Forecast.objects.exists()


def test_a_question_not_yet_open_refuses_forecasts(now: dt.datetime) -> None:
    question = QuestionFactory(opens_at=now + dt.timedelta(days=1))

    with pytest.raises(ValidationError):
        forecast_submit(user=UserFactory(), question_id=question.pk, probability=0.5, now=now)

    assert not Forecast.objects.exists()


def test_withdraw_ends_only_the_users_own_standing_forecast(now: dt.datetime) -> None:
    question = QuestionFactory()
    mine, theirs = ForecastFactory(question=question), ForecastFactory(question=question)

    ended = forecast_withdraw(user=mine.user, question_id=question.pk, now=now)

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert ended == 1
    assert mine.ends_at == now and theirs.ends_at is None


def test_the_database_refuses_two_standing_forecasts_for_one_user(now: dt.datetime) -> None:
    from django.db import IntegrityError, transaction

    standing = ForecastFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        ForecastFactory(question=standing.question, user=standing.user)
