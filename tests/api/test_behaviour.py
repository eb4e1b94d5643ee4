"""What a script relies on: the crowd, ETags on immutable scores, throttling, CSV, tokens."""

from __future__ import annotations

import csv
import io

import pytest

from crux.api.throttling import AnonIpThrottle
from forecasts.lifecycle import question_unresolve
from tests.api.conftest import World

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_bot_submits_updates_and_withdraws_with_a_token(world: World, api) -> None:
    bot = api("other", world)
    question = world.open_question.pk

    first = bot.post("/forecasts/", {"question": question, "probability": 0.2}).json()
    second = bot.post("/forecasts/", {"question": question, "probability": 0.35}).json()
    withdrawn = bot.post("/forecasts/withdraw/", {"question": question}).json()
    history = bot.get("/forecasts/", params={"question": question}).json()["results"]

    assert withdrawn == {"withdrawn": 1}
    assert [(f["id"], f["standing"]) for f in history] == [
        (second["id"], False),
        (first["id"], False),
    ]


def test_the_question_shows_the_crowd_and_its_history(world: World, api) -> None:
    client = api(None, world)

    detail = client.get(f"/questions/{world.resolved_question.pk}/").json()
    history = client.get(f"/questions/{world.resolved_question.pk}/crowd-history/").json()

    # Scored: the crowd of ada's 0.8 and bob's 0.3 in full, from the moment they forecast.
    assert detail["crowd"] == {
        "median": 0.55,
        "geometric_mean_odds": pytest.approx((4 * 3 / 7) ** 0.5 / (1 + (4 * 3 / 7) ** 0.5)),
        "forecasters": 2,
        "as_of": None,
    }
    assert detail["crowd_median"] == 0.55
    first = history["results"][0]
    assert (first["at"], first["forecasters"]) == ("2026-06-12T12:00:00Z", 2)


def test_an_open_questions_crowd_of_two_stays_private(world: World, api) -> None:
    client = api(None, world)
    api("other", world).post(
        "/forecasts/", {"question": world.open_question.pk, "probability": 0.3}
    )

    detail = client.get(f"/questions/{world.open_question.pk}/").json()
    history = client.get(f"/questions/{world.open_question.pk}/crowd-history/").json()

    assert detail["forecasters"] == 2
    assert detail["crowd_median"] is None
    assert (detail["crowd"]["median"], detail["crowd"]["geometric_mean_odds"]) == (None, None)
    assert all(p["median"] is None for p in history["results"])


def test_resolved_scores_carry_an_etag_that_changes_only_with_them(world: World, api) -> None:
    client = api(None, world)
    path = f"/questions/{world.resolved_question.pk}/scores/"

    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    question_unresolve(question_id=world.resolved_question.pk)
    after = client.get(path, headers={"If-None-Match": first.headers["ETag"]})

    assert first.status_code == 200 and first.json()["count"] > 0
    assert again.status_code == 304
    assert after.status_code == 200 and after.json()["count"] == 0


def test_anonymous_clients_are_throttled_with_retry_after(
    world: World, api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AnonIpThrottle, "rate", "3/min", raising=False)
    client = api(None, world)

    statuses = [client.get("/questions/").status_code for _ in range(4)]
    throttled = client.get("/questions/")

    assert statuses == [200, 200, 200, 429]
    assert int(throttled.headers["Retry-After"]) > 0
    assert "throttled" in throttled.json()["message"].lower()


# /leaderboard/ answers from the scores' cache: on Redis its throttle counts in the same round
# trip as the version read (ScoresCacheThrottling); /forecasts/ throttles the plain DRF way.
@pytest.mark.parametrize("path", ["/forecasts/", "/leaderboard/"])
def test_throttling_is_per_token(
    world: World, api, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    from crux.api.throttling import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "rate", "2/min", raising=False)
    ada, bob = api("user", world), api("other", world)

    ada_statuses = [ada.get(path).status_code for _ in range(3)]
    bob_status = bob.get(path).status_code

    assert ada_statuses == [200, 200, 429]
    assert bob_status == 200


def test_scores_export_as_csv_with_the_same_numbers(world: World, api) -> None:
    client = api(None, world)

    as_json = client.get("/scores/", params={"user": "ada", "score_type": "brier"}).json()
    as_csv = client.get("/scores/", params={"user": "ada", "score_type": "brier", "format": "csv"})

    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    assert [float(r["value"]) for r in rows] == [s["value"] for s in as_json["results"]]
    assert float(rows[0]["value"]) == pytest.approx(0.04)  # 0.8 on YES


def test_a_users_scores_and_track_record_agree(world: World, api) -> None:
    client = api(None, world)

    scores = client.get("/scores/", params={"user": "ada", "score_type": "log"}).json()
    record = client.get("/users/ada/track-record/").json()

    assert record["means"]["log"] == pytest.approx(scores["results"][0]["value"])
    assert record["questions"][0]["question"] == world.resolved_question.pk


def test_every_list_is_paginated(world: World, api) -> None:
    client = api("user", world)

    for path in (
        "/questions/",
        "/forecasts/",
        "/scores/",
        "/leaderboard/",
        "/sources/",
        "/tokens/",
        f"/questions/{world.open_question.pk}/crowd-history/",
    ):
        body = client.get(path, params={"page_size": 1}).json()
        assert {"count", "next", "previous", "results"} <= set(body), path
        assert len(body["results"]) <= 1, path


def test_the_api_keeps_answering_when_the_redis_cache_is_down(world: World, api) -> None:
    import socket

    from django.test import override_settings

    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    cache_down = {
        "default": {
            "BACKEND": "crux.cache.CountingRedisCache",
            "LOCATION": dead,
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
            },
        }
    }

    with override_settings(CACHES=cache_down):
        questions = api(None, world).get("/questions/")
        board = api("user", world).get("/leaderboard/")

    assert (questions.status_code, board.status_code) == (200, 200)
    assert board.json()["count"] == 2
