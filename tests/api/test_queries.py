"""Every list endpoint makes the same number of queries for 2 rows as for 12 (no N+1)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from forecasts.lifecycle import question_resolve
from forecasts.models import QuestionKind
from forecasts.services import api_token_create, forecast_submit
from markets.models import Market
from markets.services import market_create
from tests.factories import T0, QuestionFactory, UserFactory, buy

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/questions/",
    "/api/v1/questions/?status=resolved",
    "/api/v1/forecasts/",
    "/api/v1/scores/",
    "/api/v1/scores/?user=ada",
    "/api/v1/leaderboard/",
    "/api/v1/sources/",
    "/api/v1/tokens/",
    "/api/v1/users/ada/track-record/",
    "/api/v1/users/ada/calibration/",
]
# Fixed budgets: session-less token auth (1) + the page's count and rows, plus a few reads.
BUDGET = 6
# The calibration holds four reports: the forecaster's, the crowd's, the market's, and the
# forecaster's and crowd's distributions (their forecasts, then the crowd's CDFs).
BUDGETS = {"/api/v1/users/ada/calibration/": 8}


def _populate(ada, n: int) -> None:
    for i in range(n):
        question = QuestionFactory(opens_at=T0, closes_at=T0 + dt.timedelta(days=10 + i))
        question.resolves_at = question.closes_at
        question.save()
        for user in (ada, UserFactory()):
            forecast_submit(user=user, question_id=question.pk, probability=0.3 + i / 50, now=T0)
        question_resolve(question_id=question.pk, resolution="yes", resolved_by=None)
        api_token_create(user=ada, name=f"token {i}")


def _queries(client: APIClient, path: str) -> int:
    client.get(path)  # the token's last use is written at most every few minutes: not here
    cache.clear()  # measure the uncached path
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.content[:200])
    return len(captured)


@pytest.mark.parametrize("path", LISTS)
def test_list_endpoints_do_not_grow_with_their_rows(path: str) -> None:
    ada = UserFactory(username="ada")
    client = APIClient()
    _, secret = api_token_create(user=ada, name="counting")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    _populate(ada, 2)
    few = _queries(client, path)

    _populate(ada, 10)
    many = _queries(client, path)

    assert few == many, f"{path}: {few} queries for few rows, {many} for many"
    assert many <= BUDGETS.get(path, BUDGET), f"{path}: {many} queries"


MARKET_LISTS = [
    "/api/v1/markets/",
    "/api/v1/markets/?status=open",
    "/api/v1/markets/leaderboard/",
    "/api/v1/markets/{market}/trades/",
    "/api/v1/markets/{market}/price-history/",
    "/api/v1/me/positions/",
    "/api/v1/me/trades/",
]


def _trade_around(ada, n: int) -> None:
    """n more trades by ada and by new users on the first market, and n more markets ada holds."""
    now = T0 + dt.timedelta(hours=1)
    first = Market.objects.order_by("pk").first() or market_create(
        question_id=QuestionFactory().pk, b=Decimal(100), now=T0
    )
    for i in range(n):
        for user in (ada, UserFactory()):
            buy(user, first, outcome=i % 2, shares="2", now=now)
        market = market_create(question_id=QuestionFactory().pk, b=Decimal(50), now=T0)
        buy(ada, market, outcome="no", shares="3", now=now)


@pytest.mark.parametrize("path", MARKET_LISTS)
def test_market_lists_do_not_grow_with_their_rows(path: str) -> None:
    ada = UserFactory(username="ada")
    client = APIClient()
    _, secret = api_token_create(user=ada, name="counting")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    _trade_around(ada, 2)
    path = path.format(market=Market.objects.order_by("pk").first().pk)
    few = _queries(client, path)

    _trade_around(ada, 10)
    many = _queries(client, path)

    assert few == many, f"{path}: {few} queries for few rows, {many} for many"
    assert many <= BUDGET, f"{path}: {many} queries"


def test_a_cached_leaderboard_costs_one_query() -> None:
    ada = UserFactory(username="ada")
    _populate(ada, 3)
    client = APIClient()
    client.get("/api/v1/leaderboard/")

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/leaderboard/")

    assert response.status_code == 200
    assert len(captured) == 1  # the scores' version


MULTIPLE_CHOICE_LISTS = [
    "/api/v1/questions/",
    "/api/v1/questions/?kind=multiple_choice",
    "/api/v1/forecasts/",
]


def _populate_multiple_choice(ada, n: int) -> None:
    for _ in range(n):
        question = QuestionFactory(kind=QuestionKind.MULTIPLE_CHOICE, options=["A", "B", "C"])
        for user in (ada, UserFactory()):
            forecast_submit(
                user=user, question_id=question.pk, probabilities=[0.2, 0.3, 0.5], now=T0
            )


@pytest.mark.parametrize("path", MULTIPLE_CHOICE_LISTS)
def test_lists_of_multiple_choice_rows_do_not_grow_with_their_options(path: str) -> None:
    ada = UserFactory(username="ada")
    client = APIClient()
    _, secret = api_token_create(user=ada, name="counting")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    _populate_multiple_choice(ada, 2)
    few = _queries(client, path)

    _populate_multiple_choice(ada, 10)
    many = _queries(client, path)

    assert few == many, f"{path}: {few} queries for few rows, {many} for many"
    assert many <= BUDGET, f"{path}: {many} queries"
