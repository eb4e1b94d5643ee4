"""Charts of the calibration of distributions: the PIT histogram and interval coverage over
time, rendered from plain data, and gathered from a user's numeric and date forecasts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import struct
from collections import Counter
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from forecasts.charts import data
from forecasts.charts.calibration_charts import (
    CoverageSeries,
    PitSeries,
    coverage_windows,
    render_interval_coverage,
    render_pit_histogram,
)
from forecasts.charts.registry import Kind, chart
from forecasts.lifecycle import question_resolve
from forecasts.maths.pit import pit_histogram, pit_over_time
from forecasts.services import forecast_submit
from tests.factories import T0, QuestionFactory, UserFactory
from tests.forecasts.test_charts import PNG_SIGNATURE, SVG, element, ids, svg, text

YOU = PitSeries("you", pit_histogram([0.05, 0.08, 0.31, 0.52, 0.55, 0.97]))
CROWD = PitSeries("the crowd", pit_histogram([0.15, 0.45, 0.5, 0.62, 0.7, 0.88]))
# Three quarters; the middle one has too few PITs (min_n = 3 here).
PITS = [0.1, 0.3, 0.5, 0.7, 0.95, 0.4, 0.2, 0.45, 0.6, 0.55]
TIMES = [0.5, 0.5, 0.5, 0.5, 0.5, 1.5, 2.5, 2.5, 2.5, 2.5]
LABELS = ["2026 Q3", "2026 Q4", "2027 Q1"]


def _coverage(label: str, pits: list[float] = PITS) -> CoverageSeries:
    windows = pit_over_time(pits, TIMES, [0.0, 1.0, 2.0, 3.0], min_n=3)
    return CoverageSeries(label, coverage_windows(windows, LABELS))


def test_the_histogram_has_a_bar_per_tenth_for_each_series_and_one_flat_line() -> None:
    root = svg(render_pit_histogram, [YOU, CROWD])

    assert len(ids(root, "pit-you-")) == len(ids(root, "pit-the-crowd-")) == 10
    assert ids(root, "expected") == ["expected"]
    assert "you (n = 6)" in text(root)


def test_bar_heights_follow_the_counts() -> None:
    root = svg(render_pit_histogram, [YOU])

    heights = [_height(element(root, f"pit-you-{k}")) for k in range(10)]

    # Counts 2, 0, 0, 1, 0, 2, 0, 0, 0, 1: the bars of 2 twice as tall as those of 1.
    assert heights[0] == pytest.approx(heights[5]) == pytest.approx(2 * heights[3])
    assert heights[1] == heights[2] == 0


def _height(group: Any) -> float:
    """The height of a bar, drawn as a path of four corners "M x y L x y L x y L x y z"."""
    numbers = [float(v) for v in re.findall(r"-?[\d.]+", group.find(f".//{SVG}path").get("d"))]
    return round(max(numbers[1::2]) - min(numbers[1::2]), 3)


def test_series_of_different_sizes_get_a_flat_line_each() -> None:
    fewer = PitSeries("the crowd", pit_histogram([0.5, 0.6]))

    root = svg(render_pit_histogram, [YOU, fewer])

    assert sorted(ids(root, "expected")) == ["expected-the-crowd", "expected-you"]


def test_coverage_draws_each_level_of_each_series_in_the_windows_with_enough_data() -> None:
    root = svg(render_interval_coverage, [_coverage("you"), _coverage("the crowd")])

    assert sorted(ids(root, "reference-")) == ["reference-50", "reference-80"]
    assert sorted(ids(root, "coverage-you-")) == ["coverage-you-50", "coverage-you-80"]
    assert len(ids(root, "coverage-errorbars-the-crowd-")) == 2
    assert ids(root, "too-little-") == ["too-little-1"]
    assert "too little data" in text(root)


def test_coverage_points_sit_at_the_share_inside() -> None:
    # Q3: 0.3, 0.5, 0.7 inside 50 % (3 of 5); Q1: all four inside 80 %.
    series = _coverage("you")

    shares = [[c.share for c in w.coverage] for w in series.windows if w.enough_data]

    assert shares == [[pytest.approx(0.6), pytest.approx(0.8)], [pytest.approx(0.75), 1.0]]


@pytest.mark.parametrize(
    ("render", "empty"),
    [
        (render_pit_histogram, [PitSeries("you", pit_histogram([0.4]))]),
        (render_interval_coverage, []),
    ],
)
def test_too_little_data_gives_the_no_data_chart(render: Any, empty: Any) -> None:
    root = svg(render, empty)

    assert ids(root, "no-data") == ["no-data"]


def test_coverage_without_a_window_with_enough_data_gives_the_no_data_chart() -> None:
    windows = pit_over_time([0.5, 0.4], [0.5, 1.5], [0.0, 1.0, 2.0], min_n=3)
    sparse = CoverageSeries("you", coverage_windows(windows, LABELS[:2]))

    root = svg(render_interval_coverage, [sparse])

    assert ids(root, "no-data") == ["no-data"]


@pytest.mark.parametrize(
    ("render", "series"),
    [(render_pit_histogram, [YOU, CROWD]), (render_interval_coverage, [_coverage("you")])],
)
def test_png_is_640_by_480_and_svg_ids_are_unique_and_stable(render: Any, series: Any) -> None:
    png = render(series, "png")
    root = svg(render, series)

    assert png.startswith(PNG_SIGNATURE)
    assert struct.unpack(">II", png[16:24]) == (640, 480)
    assert [i for i, k in Counter(ids(root)).items() if k > 1] == []
    assert render(series, "png") == png


@pytest.mark.parametrize("render", [render_pit_histogram, render_interval_coverage])
def test_bad_formats_and_too_many_series_are_refused(render: Any) -> None:
    series = [YOU] * 4 if render is render_pit_histogram else [_coverage("you")] * 4

    with pytest.raises(ValueError, match="unknown chart format"):
        render(series[:1], "jpeg")
    with pytest.raises(ValueError, match="at most 3 series"):
        render(series, "svg")


# --- gathered from the database ---------------------------------------------------------------

DAY = dt.timedelta(days=1)
UNIFORM = [j / 200 for j in range(201)]


@pytest.fixture
def ada() -> Any:
    """ada gave uniform distributions on two numeric questions resolved at 30 and 95 on [0, 100]."""
    cache.clear()
    user = UserFactory(username="ada")
    for value in (30.0, 95.0):
        question = QuestionFactory(
            kind="numeric",
            range_min=0.0,
            range_max=100.0,
            closes_at=T0 + 20 * DAY,
            resolves_at=T0 + 20 * DAY,
        )
        forecast_submit(user=user, question_id=question.pk, cdf=UNIFORM, now=T0)
        question_resolve(
            question_id=question.pk,
            resolution="value",
            value=value,
            resolved_by=None,
            now=T0 + 30 * DAY,
        )
    return user


@pytest.mark.django_db
def test_the_histogram_data_has_a_row_per_tenth_and_series(ada: Any) -> None:
    gathered = data.user_pit_histogram_chart(user=ada, now=T0 + 60 * DAY)

    counts = {(r["series"], r["bin"]): r["n"] for r in gathered.rows if r["n"]}
    assert counts == {
        ("ada", "0.3-0.4"): 1,
        ("ada", "0.9-1.0"): 1,
        ("the crowd, same questions", "0.3-0.4"): 1,
        ("the crowd, same questions", "0.9-1.0"): 1,
    }
    assert len(gathered.rows) == 20
    assert gathered.title.startswith("PIT histogram of ada and the crowd")


@pytest.mark.django_db
def test_the_coverage_data_has_a_row_per_series_window_and_level(ada: Any) -> None:
    gathered = data.user_interval_coverage_chart(user=ada, now=T0 + 60 * DAY)

    mine = [(r["window"], r["level"], r["inside"], r["n"]) for r in gathered.rows[:4]]
    assert mine == [
        ("All", 0.5, 1, 2),
        ("All", 0.8, 1, 2),
        ("2026 Q3", 0.5, 1, 2),
        ("2026 Q3", 0.8, 1, 2),
    ]
    assert {r["enough_data"] for r in gathered.rows} == {False}
    assert len(gathered.rows) == 8


@pytest.mark.django_db
def test_the_coverage_table_has_the_whole_record_even_without_distributions() -> None:
    bob = UserFactory()

    gathered = data.user_interval_coverage_chart(user=bob, now=T0)

    assert [(r["window"], r["n"], r["share"]) for r in gathered.rows] == [
        ("All", 0, None),
        ("All", 0, None),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["pit-histogram", "interval-coverage"])
def test_the_charts_are_served_with_their_csv(ada: Any, name: str) -> None:
    entry = chart(Kind.USER, name)

    image = Client().get(entry.url("ada", fmt="svg"))
    table = Client().get(entry.url("ada", fmt="csv"))

    assert image.status_code == table.status_code == 200
    assert b"ada" in image.content
    assert next(csv.DictReader(io.StringIO(table.content.decode())))["series"] == "ada"
