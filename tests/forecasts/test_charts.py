from __future__ import annotations

import datetime as dt
import functools
import math
import struct
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from forecasts.charts.calibration_charts import (
    ReliabilitySeries,
    WindowSummary,
    render_calibration_over_time,
    render_reliability,
    window_summaries,
)
from forecasts.charts.question_charts import (
    OptionsHistory,
    QuestionHistory,
    ScoreSeries,
    render_question_history,
    render_question_options,
    render_score_over_time,
)
from forecasts.maths.calibration import CalibrationWindow, MurphyDecomposition, calibration_table

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
T0 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)

# Non-empty bins: 0, 1, 5 and 9 for "you"; 3 and 7 for "the crowd".
YOU = ReliabilitySeries(
    "you",
    calibration_table([0.05, 0.12, 0.15, 0.55, 0.58, 0.91, 0.93, 0.97], [0, 0, 1, 1, 0, 1, 1, 1]),
)
CROWD = ReliabilitySeries("the crowd", calibration_table([0.32, 0.35, 0.7], [0, 1, 1]))


def days(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def window(label: str, n: int, enough: bool = True) -> WindowSummary:
    bins = calibration_table([0.25, 0.75, 0.85][: min(n, 3)], [0, 1, 1][: min(n, 3)])
    return WindowSummary(label, n, enough, 0.1, 0.02, 0.15, bins)


def history(**changes: object) -> QuestionHistory:
    fields: dict[str, object] = {
        "times": [days(1), days(3), days(8)],
        "median": [0.3, 0.4, 0.6],
        "gmo": [0.32, 0.41, 0.62],
        "own": [(days(2), days(6), 0.2), (days(6), None, 0.7)],
        "market": [(days(0), 0.5), (days(5), 0.55)],
        "opens_at": T0,
        "closes_at": days(20),
        "resolution": "yes",
        "resolved_at": days(22),
        "now": days(30),
    }
    return QuestionHistory(**(fields | changes))  # type: ignore[arg-type]


def options(**changes: object) -> OptionsHistory:
    fields: dict[str, object] = {
        "labels": ["Lifted", "Narrowed", "Still in force"],
        "times": [days(1), days(3), days(8)],
        "medians": [None, (0.5, 0.3, 0.2), (0.2, 0.6, 0.2)],
        "opens_at": T0,
        "closes_at": days(20),
        "resolution": "option",
        "resolved_option": 1,
        "resolved_at": days(22),
        "now": days(30),
    }
    return OptionsHistory(**(fields | changes))  # type: ignore[arg-type]


def scores(n: int = 4, reference: float | None = 0.0) -> ScoreSeries:
    values = [10.0, -5.0, 20.0, 3.0][:n]
    crowd = [5.0, None, 12.0, 8.0][:n]
    return ScoreSeries("Peer score", [days(10 * k) for k in range(n)], values, crowd, reference)


CHARTS: dict[str, tuple[Callable[..., bytes], object, tuple[int, int]]] = {
    "reliability": (render_reliability, [YOU, CROWD], (640, 480)),
    "over-time": (
        render_calibration_over_time,
        [window("2024 Q1", 12), window("2024 Q2", 3, enough=False), window("2024 Q3", 15)],
        (640, 800),
    ),
    "history": (render_question_history, history(), (640, 480)),
    "options": (render_question_options, options(), (640, 480)),
    "score": (render_score_over_time, scores(), (640, 480)),
}


@functools.cache
def rendered(name: str, format: str) -> bytes:
    """Each chart of ``CHARTS`` rendered once per test run: rendering takes ~0.5 s."""
    render, data, _ = CHARTS[name]
    return render(data, format)


def svg(render: Callable[..., bytes], data: object, **kwargs: object) -> ET.Element:
    return ET.fromstring(render(data, "svg", **kwargs))  # noqa: S314 (our own output)


def element(root: ET.Element, gid: str) -> ET.Element:
    found = [e for e in root.iter() if e.get("id") == gid]
    assert len(found) == 1, f"expected one element with id {gid!r}, found {len(found)}"
    return found[0]


def ids(root: ET.Element, prefix: str = "") -> list[str]:
    return [i for e in root.iter() if (i := e.get("id")) and i.startswith(prefix)]


def marks(group: ET.Element) -> int:
    """Markers or bars drawn in a collection's group: <use> references, or else paths."""
    uses = group.findall(f".//{SVG}use")
    return len(uses) if uses else len(group.findall(f"{SVG}path"))


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")]


def text(root: ET.Element) -> str:
    return "\n".join(texts(root))


@pytest.mark.parametrize("name", CHARTS)
def test_png_has_the_signature_and_the_expected_pixel_size(name: str) -> None:
    size = CHARTS[name][2]

    png = rendered(name, "png")

    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == size


@pytest.mark.parametrize("name", CHARTS)
def test_svg_parses_with_unique_ids(name: str) -> None:
    root = ET.fromstring(rendered(name, "svg"))  # noqa: S314 (our own output)

    assert root.tag == f"{SVG}svg"
    assert [i for i, k in Counter(ids(root)).items() if k > 1] == []


@pytest.mark.parametrize("format", ["png", "svg"])
@pytest.mark.parametrize("name", CHARTS)
def test_same_input_renders_the_same_bytes(name: str, format: str) -> None:
    render, data, _ = CHARTS[name]

    again = render(data, format)

    assert again == rendered(name, format)


def test_renders_in_parallel_threads_match_serial_ones() -> None:
    def render_svg(name: str) -> bytes:
        render, data, _ = CHARTS[name]
        return render(data, "svg")

    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = dict(zip(CHARTS, pool.map(render_svg, CHARTS), strict=True))

    assert parallel == {name: rendered(name, "svg") for name in CHARTS}


@pytest.mark.parametrize("name", CHARTS)
def test_an_unknown_format_is_rejected(name: str) -> None:
    render, data, _ = CHARTS[name]

    with pytest.raises(ValueError, match="unknown chart format"):
        render(data, "jpeg")


def test_reliability_draws_each_series_non_empty_bins() -> None:
    root = svg(render_reliability, [YOU, CROWD])

    assert sorted(ids(root, "bins-")) == ["bins-the-crowd", "bins-you"]
    assert marks(element(root, "bins-you")) == 4
    assert marks(element(root, "errorbars-you")) == 4
    assert marks(element(root, "bins-the-crowd")) == 2
    assert marks(element(root, "diagonal")) == 1


def test_reliability_shows_n_per_bin_in_the_strip() -> None:
    root = svg(render_reliability, [YOU])

    counts = {gid: "".join(element(root, gid).itertext()).strip() for gid in ids(root, "counts-")}

    assert counts == {
        "counts-you-0": "1",
        "counts-you-1": "2",
        "counts-you-5": "2",
        "counts-you-9": "3",
    }


def test_reliability_keeps_labels_and_title_as_literal_text() -> None:
    root = svg(render_reliability, [YOU, CROWD], title="Bets from $5 to $10")

    words = text(root)

    assert "Bets from $5 to $10" in words
    assert "Observed frequency" in words
    assert "Forecast probability" in words
    assert "the crowd" in words


def test_a_long_title_wraps_between_words_instead_of_running_off_the_chart() -> None:
    title = "Calibration of a-forecaster-with-a-long-name, the crowd and the market, binary only"

    lines = texts(svg(render_reliability, [YOU], title=title))

    assert "Calibration of a-forecaster-with-a-long-name, the crowd and" in lines
    assert "the market, binary only" in lines


def test_reliability_rejects_a_fourth_series() -> None:
    with pytest.raises(ValueError, match="at most 3"):
        render_reliability([YOU, CROWD, YOU, CROWD])


def test_calibration_over_time_marks_the_windows_short_of_data() -> None:
    root = ET.fromstring(rendered("over-time", "svg"))  # noqa: S314 (our own output)

    assert sorted(ids(root, "line-")) == ["line-brier", "line-reliability", "line-resolution"]
    assert ids(root, "too-little-") == ["too-little-1"]
    assert sorted(ids(root, "window-")) == sorted(
        [f"window-{i}{part}" for i in (0, 2) for part in ("", "-diagonal", "-bins", "-errorbars")]
        + ["window-1", "window-1-diagonal", "window-1-too-little"]
    )
    assert marks(element(root, "window-0-bins")) == 3
    assert "n = 3:\ntoo little data" in text(root)


def test_calibration_over_time_shows_the_latest_eight_windows() -> None:
    windows = [window(f"2024-{m:02d}", 12) for m in range(1, 13)]

    root = svg(render_calibration_over_time, windows)

    shown = [i for i in ids(root, "window-") if i.count("-") == 1]
    assert shown == [f"window-{i}" for i in range(4, 12)]
    assert "4 earlier, n = 48, not shown" in text(root)


def test_window_summaries_turn_unknown_terms_into_none() -> None:
    nan = math.nan
    empty = CalibrationWindow(0.0, 1.0, 0, False, (), MurphyDecomposition(*[nan] * 6, n=0))

    (summary,) = window_summaries([empty], ["2024 Q1"])

    assert (summary.label, summary.n, summary.enough_data) == ("2024 Q1", 0, False)
    assert (summary.brier, summary.reliability, summary.resolution) == (None, None, None)


def test_question_history_draws_every_series_and_the_resolution() -> None:
    root = svg(render_question_history, history())

    assert sorted(ids(root, "series-")) == [
        "series-gmo",
        "series-market",
        "series-median",
        "series-own",
    ]
    assert len(ids(root, "marker-close")) == len(ids(root, "marker-resolution")) == 1
    assert "Resolved YES" in text(root)
    assert "Probability of YES" in text(root)


def test_question_history_of_an_open_question_without_market() -> None:
    open_question = history(market=[], resolution=None, resolved_at=None, now=days(10))

    root = svg(render_question_history, open_question)

    assert sorted(ids(root, "series-")) == ["series-gmo", "series-median", "series-own"]
    assert ids(root, "marker-") == ["marker-open"]  # not closed, not resolved: only opened


def test_question_options_draws_a_line_per_option_and_names_the_one_that_happened() -> None:
    root = svg(render_question_options, options())

    assert ids(root, "series-option-") == [f"series-option-{i}" for i in range(3)]
    assert len(ids(root, "marker-close")) == len(ids(root, "marker-resolution")) == 1
    assert {"Lifted", "Narrowed", "Still in force", "Resolved: Narrowed"} <= set(texts(root))


def test_question_options_tells_twenty_options_apart() -> None:
    labels = [f"Lab {k}" for k in range(20)]
    twenty = options(
        labels=labels, times=[days(1)], medians=[[0.05] * 20], resolution=None, resolved_at=None
    )

    root = svg(render_question_options, twenty)

    assert len(ids(root, "series-option-")) == 20
    assert set(labels) <= set(texts(root))


def test_score_over_time_draws_scores_mean_and_reference() -> None:
    root = svg(render_score_over_time, scores())

    assert marks(element(root, "scores-you")) == 4
    assert marks(element(root, "scores-crowd")) == 3
    assert len(ids(root, "cumulative-mean")) == len(ids(root, "reference")) == 1
    assert "Peer score over time" in text(root)


def test_score_over_time_without_a_reference_has_no_level_line() -> None:
    root = svg(render_score_over_time, scores(reference=None))

    assert ids(root, "reference") == []


EMPTY: dict[str, tuple[Callable[..., bytes], object, str]] = {
    "reliability, no forecasts": (render_reliability, [], "Calibration"),
    "reliability, one forecast": (
        render_reliability,
        [ReliabilitySeries("you", calibration_table([0.7], [1]))],
        "Calibration",
    ),
    "over time, no windows": (render_calibration_over_time, [], "Calibration over time"),
    "over time, one window": (
        render_calibration_over_time,
        [window("2024 Q1", 12)],
        "Calibration over time",
    ),
    "over time, all sparse": (
        render_calibration_over_time,
        [window("2024 Q1", 2, False), window("2024 Q2", 1, False)],
        "Calibration over time",
    ),
    "history, no forecasts": (
        render_question_history,
        history(times=[], median=[], gmo=[], own=[], market=[]),
        "Forecast history",
    ),
    "history, only gaps": (
        render_question_history,
        history(times=[days(1)], median=[None], gmo=[math.nan], own=[], market=[]),
        "Forecast history",
    ),
    "options, nothing shown": (
        render_question_options,
        options(medians=[None, None, None]),
        "The crowd's median of each option",
    ),
    "score, none": (render_score_over_time, scores(0), "Peer score over time"),
    "score, one": (render_score_over_time, scores(1), "Peer score over time"),
}


@pytest.mark.parametrize("case", EMPTY)
def test_too_little_data_renders_a_notice_with_the_title(case: str) -> None:
    render, data, title = EMPTY[case]

    root = svg(render, data)

    assert len(ids(root, "no-data")) == 1
    assert sorted(texts(root)) == sorted(["Not enough data yet", title])
    assert render(data, "png").startswith(PNG_SIGNATURE)
