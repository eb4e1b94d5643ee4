"""The fan chart of a numeric or date question: the crowd's median and 80% interval through
time, your own median, the opening, the close and the outcome; its data within the crowd's
privacy rule, and its addresses."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import xml.etree.ElementTree as ET
from typing import Any

import numpy as np
import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from forecasts.charts.data import question_fan_chart
from forecasts.charts.question_charts import FanHistory, render_question_fan
from forecasts.maths.continuous import CDF_POINTS
from forecasts.models import AggregatePoint, Question, Resolution
from forecasts.services import forecast_submit
from tests.factories import T0, QuestionFactory, UserFactory

SVG = "{http://www.w3.org/2000/svg}"
DAY = dt.timedelta(days=1)
UNIFORM = np.linspace(0.0, 1.0, CDF_POINTS).tolist()


def _fan(**fields: Any) -> FanHistory:
    defaults: dict[str, Any] = {
        "times": [T0, T0 + 2 * DAY, T0 + 5 * DAY],
        "low": [10.0, 20.0, None],
        "median": [40.0, 45.0, None],
        "high": [80.0, 70.0, None],
        "own": [(T0 + DAY, T0 + 4 * DAY, 50.0), (T0 + 4 * DAY, None, 55.0)],
        "range_min": 0.0,
        "range_max": 100.0,
        "log_scale": False,
        "open_lower": False,
        "open_upper": True,
        "date": False,
        "unit": "$bn",
        "opens_at": T0,
        "closes_at": T0 + 8 * DAY,
        "resolution": "value",
        "resolved_at": T0 + 9 * DAY,
        "outcome": 43.2,
        "outcome_label": "Outcome: 43.2 $bn",
        "now": T0 + 10 * DAY,
    }
    return FanHistory(**{**defaults, **fields})


def _svg(fan: FanHistory) -> ET.Element:
    return ET.fromstring(render_question_fan(fan, "svg"))  # noqa: S314 (our own output)


def _ids(root: ET.Element) -> set[str]:
    return {i for e in root.iter() if (i := e.get("id")) and not i.startswith(("patch", "text"))}


def _texts(root: ET.Element) -> str:
    return "\n".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))


def test_the_fan_draws_the_band_the_medians_and_the_markers() -> None:
    root = _svg(_fan())

    drawn = {i for i in _ids(root) if i.startswith(("series-", "marker-"))}
    assert drawn == {
        "series-band",
        "series-median",
        "series-own",
        "marker-open",
        "marker-close",
        "marker-resolution",
        "marker-outcome",
    }
    assert "Outcome: 43.2 $bn" in _texts(root) and "$bn" in _texts(root)


def test_without_a_crowd_shown_the_fan_draws_your_median_alone() -> None:
    root = _svg(
        _fan(
            low=[None] * 3,
            median=[None] * 3,
            high=[None] * 3,
            resolution=None,
            resolved_at=None,
            outcome=None,
            outcome_label="",
        )
    )

    drawn = {i for i in _ids(root) if i.startswith(("series-", "marker-"))}
    assert drawn == {"series-own", "marker-open", "marker-close"}


def test_nothing_to_draw_is_not_enough_data() -> None:
    root = _svg(_fan(median=[None] * 3, own=[]))

    assert "no-data" in _ids(root) and "Not enough data yet" in _texts(root)


def test_a_date_fan_has_a_date_axis_and_a_log_fan_a_log_axis() -> None:
    start = dt.datetime(2026, 6, 12, tzinfo=dt.UTC).timestamp()
    days = [start + d * 86400 for d in (40, 120, 300)]
    date = _fan(
        low=[days[0]] * 3,
        median=[days[1]] * 3,
        high=[days[2]] * 3,
        own=[],
        date=True,
        range_min=start,
        range_max=start + 400 * 86400,
        unit="",
        outcome=days[1],
    )
    log = _fan(range_min=1.0, range_max=1000.0, log_scale=True)

    date_text, log_root = _texts(_svg(date)), _svg(log)

    assert "Date (UTC)" in date_text and "2027" in date_text
    assert {"series-band", "series-median"} <= _ids(log_root)


def test_the_same_fan_renders_the_same_bytes() -> None:
    assert render_question_fan(_fan(), "png") == render_question_fan(_fan(), "png")
    assert dataclasses.replace(_fan()) == _fan()


# --- its data and addresses -----------------------------------------------------------------


@pytest.fixture
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def _numeric(**fields: Any) -> Question:
    return QuestionFactory(
        kind="numeric",
        range_min=0.0,
        range_max=100.0,
        unit="$bn",
        closes_at=T0 + 30 * DAY,
        **fields,
    )


@pytest.mark.django_db
def test_the_fan_data_is_the_public_crowd_and_your_own_median() -> None:
    question, ada = _numeric(), UserFactory()
    forecast_submit(user=ada, question_id=question.pk, cdf=UNIFORM, now=T0 + DAY / 2)
    AggregatePoint.objects.create(question=question, at=T0 + DAY, cdf=UNIFORM, forecasters=5)
    AggregatePoint.objects.create(question=question, at=T0 + 2 * DAY, cdf=UNIFORM, forecasters=2)

    drawn = question_fan_chart(question=question, user=ada, now=T0 + 3 * DAY)

    fan = drawn.data
    shown = [
        (m is not None, lo, hi) for m, lo, hi in zip(fan.median, fan.low, fan.high, strict=True)
    ]
    assert shown == [
        (False, None, None),  # one forecaster, then two: withheld
        (True, pytest.approx(10.0), pytest.approx(90.0)),
        (False, None, None),
    ]
    assert [(start, round(m, 6)) for start, _, m in fan.own] == [(T0 + DAY / 2, 50.0)]
    assert (drawn.rows[1]["p10"], drawn.rows[1]["median"]) == (10.0, 50.0)


@pytest.mark.django_db
def test_a_date_questions_table_gives_iso_dates() -> None:
    start = dt.datetime(2026, 6, 12, tzinfo=dt.UTC).timestamp()
    question = QuestionFactory(
        kind="date", range_min=start, range_max=start + 200 * 86400, closes_at=T0 + 30 * DAY
    )
    AggregatePoint.objects.create(question=question, at=T0 + DAY, cdf=UNIFORM, forecasters=5)

    rows = question_fan_chart(question=question, user=None, now=T0 + 3 * DAY).rows

    assert rows[0]["median"] == "2026-09-20T00:00:00Z"


@pytest.mark.django_db
def test_a_resolved_question_marks_its_outcome() -> None:
    question = _numeric(open_upper_bound=True)
    Question.objects.filter(pk=question.pk).update(
        resolution=Resolution.ABOVE, resolved_at=T0 + 31 * DAY
    )
    question.refresh_from_db()

    fan = question_fan_chart(question=question, user=None, now=T0 + 40 * DAY).data

    assert (fan.outcome, fan.outcome_label) == (100.0, "Above the upper bound")


@pytest.mark.django_db
@pytest.mark.usefixtures("_clean_cache")
def test_the_fan_is_served_as_png_svg_and_csv() -> None:
    question = _numeric()
    AggregatePoint.objects.create(question=question, at=T0 + DAY, cdf=UNIFORM, forecasters=5)

    with time_machine.travel(T0 + 3 * DAY, tick=False):
        svg = Client().get(f"/charts/questions/{question.pk}/fan.svg")
        table = Client().get(f"/charts/questions/{question.pk}/fan.csv")
        api = Client().get(f"/api/v1/questions/{question.pk}/charts/fan/", {"format": "png"})

    assert b'id="series-band"' in svg.content
    rows = list(csv.DictReader(io.StringIO(table.content.decode())))
    assert rows[0]["median"] == "50.0" and rows[0]["forecasters"] == "5"
    assert api["Content-Type"] == "image/png"


@pytest.mark.django_db
@pytest.mark.usefixtures("_clean_cache")
def test_a_binary_question_has_no_fan_to_draw() -> None:
    response = Client().get(f"/charts/questions/{QuestionFactory().pk}/fan.svg")

    assert response.status_code == 200 and b'id="no-data"' in response.content
