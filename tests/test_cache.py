"""The Redis cache's hot-path helpers and the scores' version kept in Redis (real Redis)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
from django.core.cache import caches
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from config.cache import ResilientRedisCache
from forecasts import versions
from forecasts.score_services import scores_version_bump
from tests.conftest import skip_or_fail

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def _cache_settings(location: str, prefix: str) -> dict[str, object]:
    return {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def redis_cache() -> Iterator[ResilientRedisCache]:
    """The default cache on a real Redis, under a key prefix of this test's own."""
    prefix = f"test-{uuid.uuid4().hex}"
    with override_settings(CACHES=_cache_settings(REDIS_URL, prefix)):
        backend = caches["default"]
        try:
            backend._cache.get_client(write=True).ping()
        except OSError as error:
            skip_or_fail(f"Redis at {REDIS_URL} is unreachable: {error}")
        yield backend
        client = backend._cache.get_client(write=True)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


def _ttl(cache: ResilientRedisCache, key: str) -> int:
    full = cache.make_and_validate_key(key)
    return cache._cache.get_client(full).ttl(full)


def test_count_counts_and_expires_from_the_first_count(redis_cache) -> None:
    counts = [redis_cache.count("window", 30) for _ in range(3)]

    assert counts == [1, 2, 3]
    assert 0 < _ttl(redis_cache, "window") <= 30


def test_a_number_is_only_ever_raised_and_expires(redis_cache) -> None:
    redis_cache.raise_number("v", 7, 60)
    redis_cache.raise_number("v", 3, 60)  # a slow writer with an old number

    assert redis_cache.get_number("v") == 7
    redis_cache.raise_number("v", 9, 60)
    assert redis_cache.get_number("v") == 9
    assert redis_cache.get_number("absent") is None
    assert 0 < _ttl(redis_cache, "v") <= 60


def test_the_client_is_built_once_per_pool(redis_cache) -> None:
    client = redis_cache._cache.get_client("a", write=True)

    assert redis_cache._cache.get_client("b") is client


def test_an_unreachable_redis_counts_nothing_and_stores_nothing() -> None:
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    with override_settings(CACHES=_cache_settings(dead, "dead")):
        backend = caches["default"]
        backend.raise_number("v", 1, 5)
        assert (backend.count("w", 5), backend.get_number("v")) == (None, None)


@pytest.mark.django_db(transaction=True)
def test_a_bump_reaches_redis_when_it_commits_and_not_before(redis_cache) -> None:
    assert versions.scores_version() == 0  # read from the database, copied to Redis
    assert redis_cache.get_number(versions.REDIS_KEY) == 0

    with transaction.atomic():
        scores_version_bump(now=timezone.now())
        assert versions.scores_version() == 0  # Redis still has the committed number
    assert versions.scores_version() == redis_cache.get_number(versions.REDIS_KEY) == 1

    with pytest.raises(RuntimeError), transaction.atomic():
        scores_version_bump(now=timezone.now())
        raise RuntimeError("the resolution failed")
    assert versions.scores_version() == 1
    assert 0 < _ttl(redis_cache, versions.REDIS_KEY) <= versions.REDIS_COPY_SECONDS


@pytest.mark.django_db(transaction=True)
def test_a_read_inside_a_transaction_does_not_publish_what_it_sees(redis_cache) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        scores_version_bump(now=timezone.now())
        redis_cache.delete(versions.REDIS_KEY)
        assert versions.scores_version() == 1  # its own uncommitted bump, from the database
        raise RuntimeError("rolled back")

    assert redis_cache.get_number(versions.REDIS_KEY) is None
    assert versions.scores_version() == 0


def test_count_and_get_number_is_one_step_for_several_counters(redis_cache) -> None:
    redis_cache.raise_number("version", 4, 60)

    first = redis_cache.count_and_get_number([("a", 30), ("b", 60)], "version")
    second = redis_cache.count_and_get_number([("a", 30)], "version")
    absent = redis_cache.count_and_get_number([("b", 60)], "no-such-number")

    assert first == ([1, 1], 4)
    assert second == ([2], 4)
    assert absent == ([2], None)
    assert 0 < _ttl(redis_cache, "a") <= 30 and 30 < _ttl(redis_cache, "b") <= 60
