"""API tests speak real HTTP to a live server, authenticated by personal tokens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import requests
from django.core.cache import cache

from forecasts.lifecycle import question_resolve
from forecasts.models import Forecast, Question
from forecasts.services import api_token_create, forecast_submit
from markets.models import Market, Trade
from markets.services import market_create
from tests.factories import T0, QuestionFactory, UserFactory, buy


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Throttle counters and cached responses must not leak between tests."""
    cache.clear()
    yield
    cache.clear()


class Api:
    """A small HTTP client: ``api.get("/questions/")`` against ``/api/v1``."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = f"{base}/api/v1"
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)


@dataclass
class World:
    """An open question, a resolved one, two users and staff, each with a token; a market on
    the open question where "user" holds 10 YES, and an open question without a market."""

    open_question: Question
    resolved_question: Question
    forecast: Forecast
    user: Any
    other: Any
    staff: Any
    tokens: dict[str, str]
    token_ids: dict[str, int]
    market: Market
    trade: Trade
    bare_question: Question


@pytest.fixture
def world() -> World:
    now = dt.datetime.now(tz=dt.UTC)
    open_question = QuestionFactory(opens_at=T0, closes_at=now + dt.timedelta(days=300))
    resolved = QuestionFactory(opens_at=T0, closes_at=T0 + dt.timedelta(days=10))
    resolved.resolves_at = resolved.closes_at
    resolved.save()
    user = UserFactory(username="ada")
    other = UserFactory(username="bob")
    staff = UserFactory(username="sam", is_staff=True)
    forecast = forecast_submit(user=user, question_id=open_question.pk, probability=0.7)
    forecast_submit(user=user, question_id=resolved.pk, probability=0.8, now=T0)
    forecast_submit(user=other, question_id=resolved.pk, probability=0.3, now=T0)
    question_resolve(question_id=resolved.pk, resolution="yes", resolved_by=None)
    tokens, ids = {}, {}
    for role, who in (("user", user), ("other", other), ("staff", staff)):
        token, secret = api_token_create(user=who, name=f"{role} script")
        tokens[role], ids[role] = secret, token.pk
    market = market_create(question_id=open_question.pk, b=Decimal(100))
    trade = buy(user, market, outcome="yes", shares="10")
    bare = QuestionFactory(opens_at=T0, closes_at=now + dt.timedelta(days=300))
    return World(
        open_question, resolved, forecast, user, other, staff, tokens, ids, market, trade, bare
    )


@pytest.fixture
def api(live_server) -> Any:
    def make(role: str | None = None, world: World | None = None) -> Api:
        token = world.tokens[role] if role and world else None
        return Api(live_server.url, token)

    return make
