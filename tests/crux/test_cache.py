"""The Redis cache: every operation degrades while Redis is down, the hot-path helpers, and the
scores' version kept in Redis (real Redis)."""

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

from crux.cache import BatchedCounts, CountingRedisCache
from forecasts.scores import versions
from forecasts.scores.services import scores_version_bump
from tests.conftest import skip_or_fail

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def _cache_settings(location: str, prefix: str) -> dict[str, object]:
    return {
        "default": {
            "BACKEND": "crux.cache.CountingRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }


@pytest.fixture
def redis_cache() -> Iterator[CountingRedisCache]:
    """The default cache on a real Redis, under a key prefix of this test's own."""
    prefix = f"test-{uuid.uuid4().hex}"
    with override_settings(CACHES=_cache_settings(REDIS_URL, prefix)):
        backend = caches["default"]
        try:
            backend.client.get_client(write=True).ping()
        except OSError as error:
            skip_or_fail(f"Redis at {REDIS_URL} is unreachable: {error}")
        yield backend
        client = backend.client.get_client(write=True)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


def _ttl(cache: CountingRedisCache, key: str) -> int:
    full = cache.make_and_validate_key(key)
    return cache.client.get_client().ttl(full)


def test_counters_add_and_expire_from_their_first_count(redis_cache) -> None:
    counts = [redis_cache.count_and_get_number([("window", 30, by)], "v")[0] for by in (1, 1, 5)]

    assert counts == [[1], [2], [7]]
    assert 0 < _ttl(redis_cache, "window") <= 30


def test_a_number_is_only_ever_raised_and_expires(redis_cache) -> None:
    redis_cache.raise_number("v", 7, 60)
    redis_cache.raise_number("v", 3, 60)  # a slow writer with an old number

    assert redis_cache.get_number("v") == 7
    redis_cache.raise_number("v", 9, 60)
    assert redis_cache.get_number("v") == 9
    assert redis_cache.get_number("absent") is None
    assert 0 < _ttl(redis_cache, "v") <= 60


def test_the_client_is_built_once(redis_cache) -> None:
    client = redis_cache.client.get_client(write=True)

    assert redis_cache.client.get_client(write=False) is client


def _dead_redis() -> str:
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{probe.getsockname()[1]}/0"


def test_an_unreachable_redis_counts_nothing_and_stores_nothing() -> None:
    with override_settings(CACHES=_cache_settings(_dead_redis(), "dead")):
        backend = caches["default"]
        backend.raise_number("v", 1, 5)
        assert backend.count_and_get_number([("w", 5, 1)], "v") is None
        assert backend.get_number("v") is None


def test_every_cache_operation_degrades_while_redis_is_unreachable() -> None:
    with override_settings(CACHES=_cache_settings(_dead_redis(), "dead")):
        backend = caches["default"]

        reads = (
            backend.get("k", "default"),
            backend.get_many(["k", "l"]),
            backend.has_key("k"),
            backend.get_or_set("k", "computed"),
        )
        backend.set("k", 1)
        backend.set_many({"k": 1, "l": 2})
        backend.add("k", 1)
        backend.incr("k")
        backend.decr("k")
        backend.touch("k", 5)
        backend.delete("k")
        backend.delete_many(["k", "l"])
        backend.clear()

    assert reads == ("default", {}, None, "computed")


@pytest.mark.django_db
def test_a_failed_log_in_and_a_token_request_while_redis_is_down_are_not_500s() -> None:
    from django.test import Client

    from forecasts.services import api_token_create
    from tests.factories import UserFactory

    user = UserFactory(username="ada")
    _, secret = api_token_create(user=user, name="script")

    with override_settings(CACHES=_cache_settings(_dead_redis(), "dead")):
        login = Client().post("/accounts/login/", {"login": "ada", "password": "wrong"})
        api = Client().get("/api/v1/tokens/", HTTP_AUTHORIZATION=f"Bearer {secret}")
        reset = Client().post("/accounts/password/reset/", {"email": "ada@example.org"})

    assert login.status_code == 200 and "password you specified are not correct" in login.text
    assert api.status_code == 200
    assert reset.status_code == 302


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

    first = redis_cache.count_and_get_number([("a", 30, 1), ("b", 60, 3)], "version")
    second = redis_cache.count_and_get_number([("a", 30, 2)], "version")
    absent = redis_cache.count_and_get_number([("b", 60, 1)], "no-such-number")

    assert first == ([1, 3], 4)
    assert second == ([3], 4)
    assert absent == ([4], None)
    assert 0 < _ttl(redis_cache, "a") <= 30 and 30 < _ttl(redis_cache, "b") <= 60


# --- BatchedCounts: counts batched far below a limit, exact near it ---------------------------


class FakeRedis:
    """Counters and numbers in a dict, with the exchanges recorded (a stand-in for Redis)."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self.numbers: dict[str, int] = {}
        self.exchanges = 0
        self.down = False

    def count_and_get_number(self, counts, key):
        if self.down:
            return None
        self.exchanges += 1
        for name, _, by in counts:
            self.counters[name] = self.counters.get(name, 0) + by
        return [self.counters[name] for name, _, _ in counts], self.numbers.get(key)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_far_below_the_limit_counts_travel_in_batches() -> None:
    redis, counts = FakeRedis(), BatchedCounts(batch=16, max_age=0.5, clock=Clock())

    seen = [counts.count(redis, [("w", 60, 1000)])[0][0] for _ in range(40)]

    assert seen == list(range(1, 41))  # this process's own count is always exact
    assert redis.exchanges == 2 and redis.counters["w"] == 32  # 8 still to send


def test_from_half_the_limit_every_request_is_sent_and_refusals_are_exact() -> None:
    redis, clock = FakeRedis(), Clock()
    first, second = BatchedCounts(clock=clock), BatchedCounts(clock=clock)  # two processes

    for _ in range(40):
        first.count(redis, [("w", 60, 100)])
    for _ in range(16):  # the other process sends its first batch
        second.count(redis, [("w", 60, 100)])
    before = redis.exchanges
    counts = [first.count(redis, [("w", 60, 100)])[0][0] for _ in range(60)]

    allowed = 40 + 16 + sum(n <= 100 for n in counts)
    assert allowed == 100  # nothing unsent anywhere: exact
    assert counts[-16:] == list(range(101, 117))
    assert redis.exchanges - before == 1 + 52  # a batch (it crosses half), then every request


def test_what_other_processes_have_not_sent_is_the_only_overshoot() -> None:
    redis, clock = FakeRedis(), Clock()
    first, second = BatchedCounts(clock=clock), BatchedCounts(clock=clock)

    for _ in range(10):  # under a batch, far below half: kept in that process
        second.count(redis, [("w", 60, 100)])
    counts = [first.count(redis, [("w", 60, 100)])[0][0] for _ in range(120)]

    assert sum(n <= 100 for n in counts) + 10 == 110  # at most batch - 1 per other process


def test_a_window_is_sent_when_its_last_exchange_is_max_age_old() -> None:
    redis, clock = FakeRedis(), Clock()
    counts = BatchedCounts(batch=16, max_age=0.5, clock=clock)

    counts.count(redis, [("w", 60, 1000)])
    clock.now += 0.6
    counts.count(redis, [("w", 60, 1000)])

    assert redis.counters["w"] == 2


def test_the_number_is_read_with_the_counts_and_kept_for_max_age() -> None:
    redis, clock = FakeRedis(), Clock()
    counts = BatchedCounts(max_age=0.5, clock=clock)
    redis.numbers["v"] = 3

    assert counts.count(redis, [("w", 60, 1000)], "v")[1] == 3
    redis.numbers["v"] = 4  # another process committed a bump
    assert counts.count(redis, [("w", 60, 1000)], "v")[1] == 3  # within max_age
    clock.now += 0.5
    assert counts.count(redis, [("w", 60, 1000)], "v")[1] == 4
    counts.remember("v", 5)  # this process committed one
    assert counts.count(redis, [], "v")[1] == 5


def test_when_redis_is_down_nothing_is_counted_and_the_counts_wait() -> None:
    redis, clock = FakeRedis(), Clock()
    counts = BatchedCounts(max_age=0.5, clock=clock)
    redis.down = True

    assert counts.count(redis, [("w", 60, 1)]) is None
    redis.down = False
    assert counts.count(redis, [("w", 60, 1)])[0] == [2]
    assert redis.counters["w"] == 2


def test_batched_counts_on_a_real_redis(redis_cache) -> None:
    first, second = BatchedCounts(), BatchedCounts()

    allowed = 0
    for i in range(200):
        counts = (first if i % 2 else second).count(redis_cache, [("w", 60, 100)], "v")[0]
        allowed += counts[0] <= 100

    assert allowed == 100


def test_clearing_the_cache_forgets_this_process_counts(redis_cache) -> None:
    from crux.cache import COUNTS

    COUNTS.count(redis_cache, [("w", 60, 1)], "v")
    redis_cache.clear()

    assert COUNTS.count(redis_cache, [("w", 60, 1)], "v")[0] == [1]
