"""Numbers as shown on pages and in e-mails: fixed decimals, never a negative zero."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from crux.formatting import fixed
from forecasts.lifecycle import question_resolve
from forecasts.models import Score, ScoreType
from forecasts.notices import question_followups
from forecasts.services import forecast_submit
from forecasts.templatetags.crux import number, percent, score
from markets.services import market_create
from markets.templatetags.market_tags import money
from tests.factories import T0, QuestionFactory, UserFactory, buy, sell

# A minus (ASCII, or U+2212 as charts write it) before a zero with no other digit: "-0.0".
DAY = dt.timedelta(days=1)
NEGATIVE_ZERO = re.compile(r"[-\u2212]0(?:[.,]0*)?(?![\d.,])")


@pytest.mark.parametrize(
    ("value", "places", "options", "shown"),
    [
        (-0.0001, 1, {}, "0.0"),
        (-0.0, 3, {}, "0.000"),
        (-0.0004, 3, {}, "0.000"),
        (Decimal("-0.0001"), 2, {"grouping": True}, "0.00"),
        (-0.0001, 1, {"sign": True}, "+0.0"),
        (-0.06, 1, {}, "-0.1"),
        (-1234.5, 2, {"grouping": True}, "-1,234.50"),
        (float("-inf"), 1, {}, "-inf"),
    ],
)
def test_a_value_that_rounds_to_zero_is_written_without_a_minus(
    value: float | Decimal, places: int, options: dict[str, bool], shown: str
) -> None:
    text = fixed(value, places, **options)

    assert text == shown


def test_every_filter_writes_a_tiny_negative_as_a_plain_zero() -> None:
    tiny = -0.0001

    shown = [score(tiny, "peer"), score(tiny, "brier"), number(tiny), percent(tiny / 100)]

    assert shown == ["0.0", "0.000", "0.000", "0.0%"]
    assert money(Decimal("-0.0001")) == money(tiny) == "0.00"


@pytest.mark.django_db
def test_the_leaderboard_and_the_track_record_show_no_negative_zero() -> None:
    ada, bob = UserFactory(username="ada"), UserFactory(username="bob")
    question = QuestionFactory(opens_at=T0, closes_at=T0 + 10 * DAY, resolves_at=T0 + 10 * DAY)
    for user in (ada, bob):
        forecast_submit(user=user, question_id=question.pk, probability=0.6, now=T0)
    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None, now=T0 + 20 * DAY)
    Score.objects.filter(score_type=ScoreType.PEER).update(value=-0.0001)
    client = Client()

    board = client.get(reverse("forecasts:leaderboard"), {"score": "peer"}).text
    record = client.get(reverse("forecasts:track_record", args=["ada"])).text

    assert "ada" in board and NEGATIVE_ZERO.search(board) is None
    assert NEGATIVE_ZERO.search(record) is None


@pytest.mark.django_db
@time_machine.travel(T0 + 30 * DAY, tick=False)
def test_a_round_trip_lost_to_the_makers_rounding_shows_no_negative_zero() -> None:
    trader = UserFactory()
    market = market_create(question_id=QuestionFactory().pk, b=Decimal(100))
    buy(trader, market, outcome="yes", shares="1")
    sell(trader, market, outcome="yes", shares="1")
    question_resolve(question_id=market.question_id, resolution="no", resolved_by=None)
    client = Client()
    client.force_login(trader)

    page = client.get(reverse("markets:portfolio")).text

    assert "data-settled-positions" in page
    assert NEGATIVE_ZERO.search(page) is None


@pytest.mark.django_db
def test_the_resolution_email_shows_no_negative_zero() -> None:
    ada = UserFactory(email="ada@example.org")
    question = QuestionFactory(opens_at=T0, closes_at=T0 + 10 * DAY, resolves_at=T0 + 10 * DAY)
    forecast_submit(user=ada, question_id=question.pk, probability=0.6, now=T0)
    forecast_submit(user=UserFactory(), question_id=question.pk, probability=0.6, now=T0)
    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None, now=T0 + 20 * DAY)
    Score.objects.filter(user=ada, score_type=ScoreType.PEER).update(value=-0.0001)
    Score.objects.filter(user=ada, score_type=ScoreType.BASELINE).update(value=-0.0)

    question_followups(question_id=question.pk, now=T0 + 20 * DAY)

    (message,) = mail.outbox
    assert "Peer (time-averaged): " in message.body
    assert NEGATIVE_ZERO.search(message.body) is None
    assert NEGATIVE_ZERO.search(message.alternatives[0][0]) is None
