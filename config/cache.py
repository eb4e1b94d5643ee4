"""A Redis cache that treats an unreachable Redis as an empty cache, with two atomic helpers
for the API's hot path (a fixed-window counter and a version number that only grows)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


# INCR, and EXPIRE on the first count of a window: one command, one round trip.
_COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""
# The same for several keys, then GET one more: a request's throttles and the version its
# cached answer is keyed on, in one round trip. A missing key comes back as nil (Lua false).
_COUNT_AND_GET = """
local out = {}
for i = 1, #ARGV do
  local n = redis.call('INCR', KEYS[i])
  if n == 1 then redis.call('EXPIRE', KEYS[i], ARGV[i]) end
  out[i] = n
end
out[#ARGV + 1] = redis.call('GET', KEYS[#KEYS])
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


class _ReusedClient(RedisCacheClient):
    """Django's client builds a ``redis.Redis`` object on every operation (about 0.1 ms, as
    much as the round trip itself on loopback); these are thread-safe, so keep one per pool."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    """Reads miss and writes are dropped while Redis is down; requests carry on."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusedClient
        self._scripts: dict[tuple[int, str], Any] = {}

    def _script(self, client: Any, text: str) -> Any:
        """A script run by EVALSHA (loaded on first use and again after a Redis restart)."""
        script = self._scripts.get((id(client), text))
        if script is None:
            script = self._scripts[(id(client), text)] = client.register_script(text)
        return script

    def count(self, key: str, ttl: int) -> int | None:
        """Count one more under ``key`` (expiring ``ttl`` s after its first count); None if
        Redis is unreachable."""
        full = self.make_and_validate_key(key)
        try:
            client = self._cache.get_client(full, write=True)
            return int(self._script(client, _COUNT)(keys=[full], args=[ttl]))
        except UNREACHABLE:
            return self._degrade("count", None)

    def count_and_get_number(
        self, counts: list[tuple[str, int]], key: str
    ) -> tuple[list[int], int | None] | None:
        """``count`` each (key, ttl) and ``get_number(key)``, atomically, in one round trip;
        None if Redis is unreachable."""
        keys = [self.make_and_validate_key(k) for k, _ in counts]
        full = self.make_and_validate_key(key)
        try:
            client = self._cache.get_client(full, write=True)
            *counted, number = self._script(client, _COUNT_AND_GET)(
                keys=[*keys, full], args=[ttl for _, ttl in counts]
            )
        except UNREACHABLE:
            return self._degrade("count_and_get_number", None)
        return [int(n) for n in counted], None if number is None else int(number)

    def get_number(self, key: str) -> int | None:
        """A number stored by ``raise_number``; None if absent or Redis is unreachable."""
        full = self.make_and_validate_key(key)
        try:
            raw = self._cache.get_client(full).get(full)
        except UNREACHABLE:
            return self._degrade("get_number", None)
        return None if raw is None else int(raw)

    def raise_number(self, key: str, value: int, ttl: int) -> None:
        """Store ``value`` under ``key`` for ``ttl`` s unless a larger number is there."""
        full = self.make_and_validate_key(key)
        try:
            client = self._cache.get_client(full, write=True)
            self._script(client, _RAISE)(keys=[full], args=[value, ttl])
        except UNREACHABLE:
            self._degrade("raise_number", None)

    def _degrade(self, operation: str, default: Any) -> Any:
        logger.warning("cache %s skipped: Redis is unreachable", operation, exc_info=True)
        return default

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNREACHABLE:
            return self._degrade("get", default)

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except UNREACHABLE:
            self._degrade("set", None)

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except UNREACHABLE:
            return self._degrade("add", False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except UNREACHABLE:
            return self._degrade("delete", False)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except UNREACHABLE:
            return self._degrade("get_many", {})

    def clear(self) -> None:
        try:
            super().clear()
        except UNREACHABLE:
            self._degrade("clear", None)
