"""The question charts' title and time axis: a long title wraps within the image, the time
axis spans the activity with the opening marked, and a lone forecast is a visible dot."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from matplotlib.figure import Figure

from forecasts.charts.question_charts import QuestionHistory, render_question_history
from forecasts.charts.style import new_figure, set_title

OPENS = dt.datetime(2026, 6, 12, 12, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 12, 1, 18, tzinfo=dt.UTC)


def _history(**changes: object) -> QuestionHistory:
    fields: dict[str, object] = {
        "times": [NOW - dt.timedelta(days=2)],
        "median": [0.4],
        "gmo": [None],
        "own": [],
        "market": [],
        "opens_at": OPENS,
        "closes_at": dt.datetime(2026, 12, 31, tzinfo=dt.UTC),
        "resolution": None,
        "resolved_at": None,
        "now": NOW,
    }
    return QuestionHistory(**(fields | changes))  # type: ignore[arg-type]


def _svg(history: QuestionHistory) -> ET.Element:
    return ET.fromstring(render_question_history(history, "svg"))  # noqa: S314 (our own output)


def _texts(root: ET.Element) -> list[str]:
    return ["".join(e.itertext()).strip() for e in root.iter() if e.tag.endswith("text")]


def test_a_title_of_wide_letters_wraps_within_the_image() -> None:
    figure: Figure = new_figure()
    # Sixty characters of these run past 640 px: wrapping by a count of letters is not enough.
    title = "WILL MMWW WAWW MWMW WWMM MMMW WMWM MWWM WWWM MWMM WMMW MMWW WMWW MWMW WWMM MMMW"

    set_title(figure, title)

    text = figure._suptitle
    assert text is not None and "\n" in text.get_text()
    extent = text.get_window_extent(figure.canvas.get_renderer())  # type: ignore[attr-defined]
    assert extent.x1 <= figure.bbox.width


def test_the_time_axis_spans_the_activity_and_marks_the_opening_before_it() -> None:
    root = _svg(_history())

    texts = _texts(root)
    assert "← Opened 12 Jun 2026" in texts
    assert not any(label in texts for label in ("Jul", "Aug", "Sep"))  # not the whole year
    assert [e.get("id") for e in root.iter() if e.get("id") == "marker-open"] == ["marker-open"]


def test_activity_soon_after_the_opening_is_drawn_from_the_opening() -> None:
    root = _svg(_history(times=[OPENS + dt.timedelta(days=3)]))

    assert "Opened" in _texts(root)


def test_a_lone_median_has_a_dot() -> None:
    root = _svg(_history())

    assert any(e.get("id") == "points-median" for e in root.iter())
