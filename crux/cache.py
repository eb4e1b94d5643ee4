"""The Redis cache (django-redis, which degrades to misses while Redis is down) with two
atomic helpers for the API's hot path (a fixed-window counter and a version number that only
grows), and the throttles' fixed-window counter on whatever cache is configured."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django_redis.cache import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
# What django-redis's IGNORE_EXCEPTIONS ignores too (ResponseError: e.g. LOADING while a
# restarted Redis reads its data back).
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, ResponseError, OSError)


# Add to several counters (ARGV: increment, ttl, increment, ttl, ...; the creator of a window
# sets its expiry), then GET one more key: a request's throttles and the version its cached
# answer is keyed on, in one round trip. A missing key comes back as nil (Lua false).
_COUNT_AND_GET = """
local out = {}
for i = 1, #KEYS - 1 do
  local by = tonumber(ARGV[2 * i - 1])
  local n = redis.call('INCRBY', KEYS[i], by)
  if n == by then redis.call('EXPIRE', KEYS[i], ARGV[2 * i]) end
  out[i] = n
end
out[#KEYS] = redis.call('GET', KEYS[#KEYS])
return out
"""
# SET only if the key is absent or holds a smaller number: a stale writer never wins.
_RAISE = """
local current = tonumber(redis.call('GET', KEYS[1]))
if current == nil or current < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""


class CountingRedisCache(RedisCache):
    """django-redis (run with ``IGNORE_EXCEPTIONS``: reads miss and writes are dropped while
    Redis is down) plus the hot path's counters, which degrade the same way.

    django-redis keeps one ``redis.Redis`` client per server for the backend's life, so a
    cache operation costs one round trip and no client construction."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._scripts: dict[tuple[int, str], Any] = {}

    def _script(self, client: Any, text: str) -> Any:
        """A script run by EVALSHA (loaded on first use and again after a Redis restart)."""
        script = self._scripts.get((id(client), text))
        if script is None:
            script = self._scripts[(id(client), text)] = client.register_script(text)
        return script

    def _redis(self) -> Any:
        return self.client.get_client(write=True)

    def count_and_get_number(
        self, counts: list[tuple[str, int, int]], key: str
    ) -> tuple[list[int], int | None] | None:
        """Add ``by`` to each (key, ttl, by) counter (expiring ``ttl`` s after it was made) and
        ``get_number(key)``, atomically, in one round trip; None if Redis is unreachable."""
        keys = [self.make_and_validate_key(k) for k, _, _ in counts]
        full = self.make_and_validate_key(key)
        args = [value for _, ttl, by in counts for value in (by, ttl)]
        try:
            client = self._redis()
            *counted, number = self._script(client, _COUNT_AND_GET)(keys=[*keys, full], args=args)
        except UNREACHABLE:
            return self._degrade("count_and_get_number", None)
        return [int(n) for n in counted], None if number is None else int(number)

    def get_number(self, key: str) -> int | None:
        """A number stored by ``raise_number``; None if absent or Redis is unreachable."""
        full = self.make_and_validate_key(key)
        try:
            raw = self._redis().get(full)
        except UNREACHABLE:
            return self._degrade("get_number", None)
        return None if raw is None else int(raw)

    def raise_number(self, key: str, value: int, ttl: int) -> None:
        """Store ``value`` under ``key`` for ``ttl`` s unless a larger number is there."""
        full = self.make_and_validate_key(key)
        try:
            self._script(self._redis(), _RAISE)(keys=[full], args=[value, ttl])
        except UNREACHABLE:
            self._degrade("raise_number", None)

    def _degrade(self, operation: str, default: Any) -> Any:
        logger.warning("cache %s skipped: Redis is unreachable", operation, exc_info=True)
        return default

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        # django-redis's client lets touch's connection errors through, IGNORE_EXCEPTIONS or not.
        try:
            return bool(super().touch(key, timeout, version=version))
        except UNREACHABLE:
            return self._degrade("touch", False)

    def clear(self) -> None:
        COUNTS.reset()
        super().clear()


def count_hit(key: str, ttl: int) -> int:
    """Count one more under ``key`` in a fixed window of ``ttl`` s (one atomic ``add`` or
    ``incr``); returns the window's count, this one included, or 0 if the cache is down."""
    backend = caches["default"]
    try:
        if backend.add(key, 1, ttl):
            return 1
        return backend.incr(key) or 0  # None: Redis went away between the two
    except ValueError:  # expired between add and incr
        backend.add(key, 1, ttl)
        return 1


class BatchedCounts:
    """Fixed-window request counters kept in the process and sent to Redis in batches while
    they are far below their limit, with one number (the scores' version) read alongside.

    A window's count goes to Redis (one round trip for all of a request's windows) when this
    process last saw it at half its limit or more, when ``batch`` requests have been counted
    here since, or when its last exchange is ``max_age`` seconds old; between times the
    request is counted here only. Near a limit every request is sent, so refusals are exact
    there; far below it, what several processes have not yet sent is at most
    ``batch - 1`` requests each. The number is at most ``max_age`` seconds old, except that
    ``remember`` raises it in this process at once (after a commit that bumped it).
    """

    def __init__(
        self,
        *,
        batch: int = 16,
        max_age: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.batch, self.max_age, self._clock = batch, max_age, clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._numbers: dict[str, tuple[int, float]] = {}

    def count(
        self,
        backend: CountingRedisCache,
        windows: list[tuple[str, int, int]],
        number_key: str | None = None,
    ) -> tuple[list[int], int | None] | None:
        """Count one request against each (key, ttl, limit) window.

        Returns each window's count as this process knows it, this request included, and the
        number under ``number_key`` (None if not asked for, or absent from Redis); None if Redis
        is unreachable (the caller lets the request through, as the cache degrades).
        """
        now = self._clock()
        with self._lock:
            states = [self._window(key, ttl, now) for key, ttl, _ in windows]
            number = self._numbers.get(number_key) if number_key else None
            send = number_key is not None and (number is None or now - number[1] >= self.max_age)
            for state, (_, _, limit) in zip(states, windows, strict=True):
                state.pending += 1
                send = send or (
                    2 * (state.sent + state.pending) > limit
                    or state.pending >= self.batch
                    or now - state.sent_at >= self.max_age
                )
            if not send:
                return [s.sent + s.pending for s in states], number[0] if number else None
            outgoing = [s.pending for s in states]
            for state in states:
                state.pending = 0
        result = backend.count_and_get_number(
            [(key, ttl, by) for (key, ttl, _), by in zip(windows, outgoing, strict=True)],
            number_key or _NO_NUMBER,
        )
        with self._lock:
            if result is None:
                for state, by in zip(states, outgoing, strict=True):
                    state.pending += by  # sent with the next exchange
                return None
            totals, fetched = result
            for state, total in zip(states, totals, strict=True):
                state.sent, state.sent_at = max(state.sent, total), now
            if number_key and fetched is not None:
                self._raise(number_key, fetched, now)
            return [s.sent + s.pending for s in states], fetched

    def reset(self) -> None:
        """Forget everything this process knows (the cache it mirrors was cleared)."""
        with self._lock:
            self._windows.clear()
            self._numbers.clear()

    def remember(self, key: str, value: int) -> None:
        """Raise this process's copy of a number at once (others see it within ``max_age``)."""
        with self._lock:
            self._raise(key, value, self._clock())

    def _raise(self, key: str, value: int, now: float) -> None:
        known = self._numbers.get(key)
        self._numbers[key] = (max(value, known[0]) if known else value, now)

    def _window(self, key: str, ttl: int, now: float) -> _Window:
        state = self._windows.get(key)
        if state is None:
            if len(self._windows) >= _MAX_WINDOWS:  # drop the windows that have ended
                self._windows = {k: w for k, w in self._windows.items() if w.ends > now}
            state = self._windows[key] = _Window(sent_at=now, ends=now + ttl)
        return state


@dataclass
class _Window:
    sent_at: float
    ends: float
    sent: int = 0  # the count in Redis when this process last sent
    pending: int = 0  # counted here since


_MAX_WINDOWS = 10_000
_NO_NUMBER = "no-number"  # a key never written: the script always reads one


# This process's counters (one per process: gunicorn's workers each have theirs).
COUNTS = BatchedCounts()
