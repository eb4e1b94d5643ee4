"""Forecasts stay private until their question is scored: what the public sees of the crowd."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from forecasts.lifecycle import question_resolve
from forecasts.services import forecast_submit, forecast_withdraw
from markets.services import market_create
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
FORECAST_AT = T0 + dt.timedelta(days=1, minutes=10)  # 12:10 UTC; the next hour's end is 13:00
STEP_END = T0 + dt.timedelta(days=1, hours=1)
LATER = T0 + dt.timedelta(days=2)
SECRETS = (0.37, 0.81)
MEAN_OF_SECRETS = 0.59  # the median of two: with one of them known, the other follows
FIVE = (0.1, 0.2, 0.3, 0.4, 0.5)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()  # rendered charts are cached under the question's id
    yield
    cache.clear()


def _question_with(probabilities: tuple[float, ...], *, at: dt.datetime = FORECAST_AT):
    question = QuestionFactory()
    market_create(question_id=question.pk, b=Decimal(100), now=at - HOUR)
    users = [UserFactory() for _ in probabilities]
    for user, p in zip(users, probabilities, strict=True):
        forecast_submit(user=user, question_id=question.pk, probability=p, now=at)
    return question, users


def _numbers(value: Any) -> list[float]:
    """Every number in parsed JSON."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [float(value)] if isinstance(value, int | float) and not isinstance(value, bool) else []


def _csv_numbers(text: str) -> list[float]:
    numbers = []
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            with contextlib.suppress(ValueError):
                numbers.append(float(cell))
    return numbers


def _public_outputs(client: Client, question) -> dict[str, Any]:
    """Everything the web and the API publish about the question, by where it came from."""
    q = question.pk
    api = f"/api/v1/questions/{q}/"
    chart = lambda fmt: reverse("forecasts:question_chart", args=[q, fmt])  # noqa: E731
    return {
        "page": client.get(reverse("forecasts:question_detail", args=[q])).text,
        "list": client.get(reverse("forecasts:question_list")).text,
        "markets": client.get(reverse("markets:market_list")).text,
        "market": client.get(reverse("markets:market_detail", args=[question.market.pk])).text,
        "api list": client.get("/api/v1/questions/", {"page_size": 500}).json(),
        "api detail": client.get(api).json(),
        "api history": client.get(f"{api}crowd-history/", {"page_size": 500}).json(),
        "chart csv": client.get(chart("csv")).content.decode(),
        "chart svg": client.get(chart("svg")).content.decode(),
        "api chart svg": client.get(f"{api}charts/history/", {"format": "svg"}).content.decode(),
    }


def _leaks(outputs: dict[str, Any], values: tuple[float, ...]) -> list[str]:
    """Where any of ``values`` can be read: as a number, a percentage or a drawn crowd line."""
    found = []
    for where, body in outputs.items():
        if where.startswith("api") and isinstance(body, dict):
            numbers = _numbers(body)
        elif where == "chart csv":
            numbers = _csv_numbers(body)
        else:
            numbers = []
            if any(f"{v * 100:.1f}%" in body for v in values):
                found.append(where)
            if "svg" in where and ('id="series-median"' in body or 'id="series-gmo"' in body):
                found.append(f"{where}: a crowd line")
        if any(abs(n - v) < 1e-9 for n in numbers for v in values):
            found.append(where)
    return found


def test_two_forecasts_on_an_open_question_cannot_be_read_from_any_public_output() -> None:
    question, (ada, _) = _question_with(SECRETS)
    own = Client()
    own.force_login(ada)

    with time_machine.travel(LATER, tick=False):
        public = _public_outputs(Client(), question)
        seen_by_ada = _public_outputs(own, question)

    assert _leaks(public, (*SECRETS, MEAN_OF_SECRETS)) == []
    # ada sees her own 0.37, but neither the other forecast nor the median that gives it away.
    assert _leaks(seen_by_ada, (0.81, MEAN_OF_SECRETS)) == []
    assert "37.0%" in seen_by_ada["page"]


def test_the_crowd_shows_once_enough_forecasters_stand_at_the_end_of_an_hour(settings) -> None:
    settings.CROWD_MIN_FORECASTERS = n = 5
    question, _ = _question_with(FIVE)
    client = Client()
    api = f"/api/v1/questions/{question.pk}/"

    with time_machine.travel(FORECAST_AT + dt.timedelta(minutes=5), tick=False):
        same_hour = client.get(api).json()["crowd"]
    with time_machine.travel(LATER, tick=False):
        detail = client.get(api).json()
        history = client.get(f"{api}crowd-history/").json()["results"]

    assert same_hour["median"] is None
    # The recency-weighted median: the newest (0.5) weighs most.
    assert detail["crowd"]["median"] == detail["crowd_median"] == 0.4
    assert detail["crowd"]["forecasters"] == n and detail["forecasters"] == n
    assert detail["crowd"]["geometric_mean_odds"] is None
    assert [(p["at"], p["forecasters"]) for p in history] == [("2026-06-13T13:00:00Z", n)]
    assert history[0]["median"] == detail["crowd"]["median"]


def test_one_forecaster_short_of_the_minimum_the_crowd_stays_hidden(settings) -> None:
    settings.CROWD_MIN_FORECASTERS = n = 5
    question, _ = _question_with(FIVE[:-1])

    with time_machine.travel(LATER, tick=False):
        outputs = _public_outputs(Client(), question)

    assert outputs["api detail"]["crowd"]["median"] is None
    assert outputs["api detail"]["forecasters"] == n - 1
    assert [p["median"] for p in outputs["api history"]["results"]] == [None]
    assert 'id="series-median"' not in outputs["chart svg"]


def test_a_forecaster_who_leaves_before_the_hour_ends_is_not_counted_there(settings) -> None:
    settings.CROWD_MIN_FORECASTERS = n = 5
    question, users = _question_with(FIVE)
    forecast_withdraw(user=users[0], question_id=question.pk, now=FORECAST_AT + 5 * MINUTE)

    with time_machine.travel(LATER, tick=False):
        history = Client().get(f"/api/v1/questions/{question.pk}/crowd-history/").json()

    assert [(p["forecasters"], p["median"]) for p in history["results"]] == [(n - 1, None)]


def test_once_scored_the_whole_history_is_public_as_it_happened() -> None:
    question, _ = _question_with(SECRETS)
    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None, now=LATER)

    with time_machine.travel(LATER + HOUR, tick=False):
        outputs = _public_outputs(Client(), question)

    history = outputs["api history"]["results"]
    assert [(p["at"], p["forecasters"]) for p in history] == [("2026-06-13T12:10:00Z", 2)]
    assert history[0]["median"] == pytest.approx(MEAN_OF_SECRETS)
    assert outputs["api detail"]["crowd"]["geometric_mean_odds"] is not None
    assert 'id="series-median"' in outputs["chart svg"]
