"""Charts on the web and in the API: images of the right type, cached, numbers as CSV."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from forecasts.lifecycle import question_resolve
from forecasts.services import forecast_submit
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _cache():
    cache.clear()
    yield
    cache.clear()


def _resolved_world():
    ada, bob = UserFactory(username="ada"), UserFactory(username="bob")
    for i in range(4):
        question = QuestionFactory(opens_at=T0, closes_at=T0 + dt.timedelta(days=20 + i))
        question.resolves_at = question.closes_at
        question.save()
        forecast_submit(user=ada, question_id=question.pk, probability=0.2 + i / 5, now=T0)
        forecast_submit(user=bob, question_id=question.pk, probability=0.5, now=T0)
        question_resolve(
            question_id=question.pk, resolution="yes" if i % 2 else "no", resolved_by=None
        )
    return ada, question


@pytest.mark.parametrize("name", ["calibration", "calibration-over-time", "scores"])
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_user_charts_render_on_the_web(name: str, fmt: str) -> None:
    _resolved_world()

    response = Client().get(reverse("forecasts:user_chart", args=["ada", name, fmt]))

    assert response.status_code == 200
    assert response["Content-Type"] == {"png": "image/png", "svg": "image/svg+xml"}[fmt]
    assert response.content.startswith(PNG) if fmt == "png" else b"<svg" in response.content


def test_the_calibration_csv_has_the_same_n_per_bin_as_the_api() -> None:
    _resolved_world()

    table = Client().get(reverse("forecasts:user_chart", args=["ada", "calibration", "csv"]))
    api = APIClient().get("/api/v1/users/ada/calibration/").json()

    rows = [r for r in csv.DictReader(io.StringIO(table.content.decode())) if r["series"] == "ada"]
    assert [int(r["n"]) for r in rows] == [b["n"] for b in api["forecaster"]["bins"]]
    assert sum(int(r["n"]) for r in rows) == 4


def test_the_api_serves_png_or_svg_by_format_or_accept() -> None:
    _, question = _resolved_world()
    client = APIClient()

    by_format = client.get("/api/v1/users/ada/charts/calibration/", {"format": "svg"})
    by_accept = client.get(
        f"/api/v1/questions/{question.pk}/charts/history/", HTTP_ACCEPT="image/png"
    )
    missing = client.get("/api/v1/users/nobody/charts/calibration/")

    assert by_format["Content-Type"] == "image/svg+xml"
    assert by_accept["Content-Type"] == "image/png" and by_accept.content.startswith(PNG)
    assert missing.status_code == 404 and missing.json()["message"]


def test_a_rendered_chart_is_served_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from forecasts.charts.registry import CHARTS, Kind

    _resolved_world()
    calls = []
    entry = CHARTS[(Kind.USER, "calibration")]
    counting = dataclasses.replace(
        entry, render=lambda *a, **k: calls.append(1) or entry.render(*a, **k)
    )
    monkeypatch.setitem(CHARTS, (Kind.USER, "calibration"), counting)
    url = reverse("forecasts:user_chart", args=["ada", "calibration", "png"])

    first, second = Client().get(url), Client().get(url)

    assert first.content == second.content
    assert len(calls) == 1


def test_a_resolution_renders_the_question_chart_ahead_of_visitors() -> None:
    _, question = _resolved_world()
    from forecasts.charts import data as chart_data
    from forecasts.charts.cache import chart_key
    from forecasts.notices import question_followups_task

    question_followups_task.apply(args=[question.pk])

    question.refresh_from_db()
    version = chart_data.question_chart_version(question=question, user=None, now=T0)
    key = chart_key("history", f"q{question.pk}-public", version, "png")
    assert cache.get(key, b"").startswith(PNG)


def test_the_pages_show_their_charts() -> None:
    ada, question = _resolved_world()
    client = Client()
    client.force_login(ada)

    record = client.get(reverse("forecasts:track_record", args=["ada"]))
    page = client.get(reverse("forecasts:question_detail", args=[question.pk]))
    board = client.get(reverse("forecasts:leaderboard"))

    assert record.text.count("data-chart=") == 3
    assert 'data-chart="history"' in page.text
    assert 'data-chart="crowd-calibration"' in board.text
