"""Throttling per user (all their tokens and their session together) and, for anonymous
requests, per client address."""

from __future__ import annotations

import math
import time

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from rest_framework import throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings

from crux.cache import COUNTS, CountingRedisCache, count_hit
from crux.clients import client_address


class WindowThrottle(throttling.BaseThrottle):
    """A fixed-window request counter: one atomic increment per request.

    DRF's SimpleRateThrottle keeps a list of timestamps per client and reads and rewrites it
    on every request (two cache round trips and a pickle); on Redis this was half the cost of
    a cached API response. A fixed window allows at most twice the rate across a window's
    edge, which is acceptable for abuse protection. A cache outage lets requests through.
    """

    scope = ""
    rate: str | None = None

    def __init__(self) -> None:
        rate = self.rate or api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        if not isinstance(rate, str):
            raise ImproperlyConfigured(f"no throttle rate for the scope {self.scope!r}")
        count, period = rate.split("/")
        self.limit = int(count)
        self.period = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
        self.retry_after = 0

    def ident_for(self, request: Request) -> str | None:
        raise NotImplementedError

    def window(self, request: Request) -> tuple[str, int] | None:
        """The counter this request counts against and its lifetime; None: not throttled.

        Also sets ``retry_after``: the seconds until that window ends."""
        ident = self.ident_for(request)
        if ident is None:
            return None
        now = time.time()
        window = int(now // self.period)
        self.retry_after = max(1, math.ceil((window + 1) * self.period - now))
        return f"throttle:{self.scope}:{ident}:{window}", self.period

    def allows(self, count: int) -> bool:
        return count <= self.limit

    def allow_request(self, request: Request, view: object) -> bool:
        window = self.window(request)
        return window is None or self.allows(_increment(*window, self.limit))

    def wait(self) -> float | None:
        return self.retry_after


def _increment(key: str, ttl: int, limit: int) -> int:
    """Count one more under ``key``; 0 (allowed) if the cache is unreachable."""
    backend = caches["default"]
    if isinstance(backend, CountingRedisCache):  # batched while far below the limit
        counted = COUNTS.count(backend, [(key, ttl, limit)])
        return 0 if counted is None else counted[0][0]
    return count_hit(key, ttl)


class TokenRateThrottle(WindowThrottle):
    """Per user: every token of theirs and their browser session share one allowance (a new
    token is no new allowance)."""

    scope = "token"

    def ident_for(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return f"user-{request.user.pk}"
        return None


class AnonIpThrottle(WindowThrottle):
    """Per client address for anonymous requests: the address ``TRUSTED_PROXY_COUNT`` names,
    never what a client writes in X-Forwarded-For (DRF's own ``get_ident`` trusts it)."""

    scope = "anon"

    def ident_for(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return f"ip-{client_address(request) or 'unknown'}"
