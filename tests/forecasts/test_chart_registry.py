"""The chart registry: every entry complete and served, and a new entry served with nothing else."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from forecasts.charts import registry
from forecasts.charts.cache import chart_key
from forecasts.charts.calibration_charts import ReliabilitySeries, render_reliability
from forecasts.charts.data import ChartData
from forecasts.charts.registry import CHARTS, Chart, Kind, UserSubject
from forecasts.lifecycle import question_resolve
from forecasts.maths.calibration import calibration_table
from forecasts.services import forecast_submit
from markets.money import Order
from markets.services import market_create, market_trade
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

CONTENT_TYPES = {"png": "image/png", "svg": "image/svg+xml", "csv": "text/csv"}


@pytest.fixture(autouse=True)
def _cache():
    cache.clear()
    yield
    cache.clear()


def _address(kind: Kind) -> tuple[object, ...]:
    """A sample subject of ``kind``, as its address names it: ada, who forecast (and traded
    on) a question that has resolved, that question, or the crowd."""
    ada = UserFactory(username="ada")
    question = QuestionFactory(opens_at=T0, closes_at=T0 + dt.timedelta(days=20))
    question.resolves_at = question.closes_at
    question.save()
    forecast_submit(user=ada, question_id=question.pk, probability=0.7, now=T0)
    market = market_create(question_id=question.pk, b=Decimal(100), now=T0)
    market_trade(user=ada, market_id=market.pk, order=Order(0, "buy", "shares", Decimal(5)), now=T0)
    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None)
    return {Kind.USER: ("ada",), Kind.QUESTION: (question.pk,), Kind.CROWD: ()}[kind]


@pytest.mark.parametrize("key", list(CHARTS), ids="-".join)
def test_every_chart_is_complete(key: tuple[Kind, str]) -> None:
    chart = CHARTS[key]

    address = _address(chart.kind)
    url, api_url = chart.url(*address, fmt="png"), chart.api_url(*address)

    assert key == (chart.kind, chart.name)
    assert all(map(callable, (chart.gather, chart.render, chart.cache_subject, chart.version)))
    assert url.startswith("/charts/") and url.endswith(f"/{chart.name}.png")
    assert api_url is None if chart.kind is Kind.CROWD else api_url.endswith(f"/{chart.name}/")


@pytest.mark.parametrize("fmt", list(CONTENT_TYPES))
@pytest.mark.parametrize("key", list(CHARTS), ids="-".join)
def test_every_chart_is_served_in_every_format(key: tuple[Kind, str], fmt: str) -> None:
    chart = CHARTS[key]

    response = Client().get(chart.url(*_address(chart.kind), fmt=fmt))

    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == CONTENT_TYPES[fmt]
    assert response.content


def test_no_two_charts_share_a_cache_key() -> None:
    # The key holds a chart's name and its subject, not its kind: the subjects keep them apart.
    ada, question = UserFactory(), QuestionFactory()
    now, params = T0, QueryDict("score=peer")
    subjects = {
        Kind.USER: registry.UserSubject(user=ada, now=now, params=params),
        Kind.QUESTION: registry.QuestionSubject(
            question=question, viewer=None, now=now, params=params
        ),
        Kind.CROWD: registry.CrowdSubject(now=now, params=params),
    }

    keys = [
        chart_key(chart.name, chart.cache_subject(subjects[kind]), "v", "png")
        for (kind, _), chart in CHARTS.items()
    ]

    assert len(set(keys)) == len(keys)


def test_the_older_addresses_without_a_chart_name_are_the_same_addresses() -> None:
    question = QuestionFactory()
    history = registry.chart(Kind.QUESTION, "history")
    crowd = registry.chart(Kind.CROWD, "calibration")

    assert reverse("forecasts:question_chart", args=[question.pk, "svg"]) == history.url(
        question.pk, fmt="svg"
    )
    assert reverse("forecasts:crowd_chart", args=["csv"]) == crowd.url(fmt="csv")


def test_an_unknown_chart_is_a_404_on_the_web_and_in_the_api() -> None:
    UserFactory(username="ada")
    question = QuestionFactory()

    responses = [
        Client().get("/charts/users/ada/nonsense.png"),
        Client().post("/charts/users/ada/nonsense.png"),
        Client().get(f"/charts/questions/{question.pk}/calibration.svg"),
        Client().get("/charts/crowd/history.csv"),
        APIClient().get("/api/v1/users/ada/charts/history/", {"format": "svg"}),
        APIClient().get(f"/api/v1/questions/{question.pk}/charts/scores/", {"format": "png"}),
    ]

    assert [r.status_code for r in responses] == [404] * len(responses)


def _forecast_counts(subject: UserSubject) -> ChartData:
    table = calibration_table([0.2, 0.7, 0.9], [0, 1, 1])
    return ChartData([ReliabilitySeries("sample", table)], [{"n": 3}], "A sample")


def test_a_registered_chart_is_served_at_its_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    ada = UserFactory(username="ada")
    sample = Chart[UserSubject](
        name="sample",
        kind=Kind.USER,
        gather=_forecast_counts,
        render=render_reliability,
        cache_subject=lambda s: f"u{s.user.pk}",
        version=lambda s: "1",
    )
    before = Client().get("/charts/users/ada/sample.png")

    monkeypatch.setitem(CHARTS, (Kind.USER, "sample"), sample)
    png = Client().get(sample.url("ada", fmt="png"))
    csv = Client().get(sample.url("ada", fmt="csv"))
    api = APIClient().get(sample.api_url("ada"), {"format": "svg"})

    assert before.status_code == 404
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert csv.content.decode().splitlines() == ["n", "3"]
    assert api["Content-Type"] == "image/svg+xml" and b"A sample" in api.content
    assert cache.get(chart_key("sample", f"u{ada.pk}", "1", "png")) == png.content
