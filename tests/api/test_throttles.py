"""API throttling counts per user (every token and the session together) and, for anonymous
requests, per real client address: what a client writes in X-Forwarded-For changes nothing."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine
from django.test import override_settings

from crux.api.throttling import AnonIpThrottle, TokenRateThrottle
from forecasts.services import api_token_create
from tests.api.conftest import Api, World

pytestmark = [pytest.mark.django_db(transaction=True)]

# /leaderboard/ counts through the batched path on Redis (ScoresCacheThrottling), /sources/
# through the throttles' own.
PATHS = ["/sources/", "/leaderboard/"]
# A window's start, so that no run straddles two windows.
MINUTE = dt.datetime(2031, 3, 4, 5, 6, 0, tzinfo=dt.UTC)


def _random_address() -> str:
    return ".".join(str(random.randint(1, 254)) for _ in range(4))


def test_a_random_x_forwarded_for_meets_429_at_the_same_point(world: World, api) -> None:
    from django.core.cache import cache

    client, path = api(None, world), "/leaderboard/"

    with time_machine.travel(MINUTE, tick=True):
        plain = [client.get(path).status_code for _ in range(150)]
        cache.clear()
        spoofed = [
            client.get(path, headers={"X-Forwarded-For": _random_address()}).status_code
            for _ in range(150)
        ]

    assert plain == [200] * 120 + [429] * 30  # API_THROTTLE_ANON's default, 120/min
    assert spoofed == plain


@pytest.mark.parametrize("path", PATHS)
def test_every_token_of_a_user_shares_one_allowance(
    world: World, live_server, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.setattr(TokenRateThrottle, "rate", "10/min", raising=False)
    secrets = [world.tokens["user"]]
    secrets += [api_token_create(user=world.user, name=f"extra {i}")[1] for i in range(3)]
    clients = [Api(live_server.url, secret) for secret in secrets]

    with time_machine.travel(MINUTE, tick=True):
        statuses = [clients[i % 4].get(path).status_code for i in range(47)]
        other = Api(live_server.url, world.tokens["other"]).get(path).status_code

    assert statuses.count(200) == 10
    assert other == 200  # another user has an allowance of their own


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_each_client_address_has_its_own_allowance(
    world: World, api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AnonIpThrottle, "rate", "3/min", raising=False)
    client = api(None, world)

    def get(forwarded: str) -> int:
        return client.get("/sources/", headers={"X-Forwarded-For": forwarded}).status_code

    with time_machine.travel(MINUTE, tick=True):
        first = [get(f"{_random_address()}, 198.51.100.1") for _ in range(4)]
        second = get("198.51.100.2")

    assert first == [200, 200, 200, 429]  # the spoofed left-hand entries change nothing
    assert second == 200
