"""The scores' version: what every cached leaderboard, score list and ETag is keyed on.

The database row (``DataVersion``) is the truth; ``scores_version_bump`` raises it in the
transaction that changes scores. A cached API response reads the version on every request, so
with Redis as the cache the number is also kept there: published after each bump commits, and
otherwise refilled from the database whenever it is missing. Redis only ever takes a larger
number (a slow reader cannot put an old one back), and each copy expires after
``REDIS_COPY_SECONDS``: if a publish is lost (Redis unreachable at that moment), readers see
the old version for at most that long. The cached API views read it with their throttle counts
(``crux.cache.BatchedCounts``): the process that commits a bump uses the new version at once,
other processes within ``COUNTS.max_age`` (half a second).
"""

from __future__ import annotations

from django.core.cache import caches
from django.db import connection, transaction

from crux.cache import COUNTS, CountingRedisCache
from forecasts.models import DataVersion

SCORES_VERSION = "scores"
REDIS_KEY = "data-version:scores"
REDIS_COPY_SECONDS = 5


def _redis() -> CountingRedisCache | None:
    backend = caches["default"]
    return backend if isinstance(backend, CountingRedisCache) else None


def scores_version() -> int:
    """The current version: from Redis when it holds it, else one primary-key read."""
    redis = _redis()
    if redis is not None:
        cached = redis.get_number(REDIS_KEY)
        if cached is not None:
            return cached
    version = _stored()
    # Never publish what an open transaction sees: it may hold its own uncommitted bump.
    if redis is not None and not connection.in_atomic_block:
        redis.raise_number(REDIS_KEY, version, REDIS_COPY_SECONDS)
    return version


def scores_version_publish() -> None:
    """After a bump commits: put the new version in Redis, so readers move on at once."""
    redis = _redis()
    if redis is None:
        return

    def publish() -> None:
        version = _stored()
        redis.raise_number(REDIS_KEY, version, REDIS_COPY_SECONDS)
        COUNTS.remember(REDIS_KEY, version)  # this process at once; others within max_age

    transaction.on_commit(publish)


def _stored() -> int:
    """The committed version (plain SQL: on the hot path the ORM's compiling costs more)."""
    table = connection.ops.quote_name(DataVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {table} WHERE name = %s", [SCORES_VERSION])  # noqa: S608
        row = cursor.fetchone()
    return row[0] if row else 0
