"""Charts of calibration, rendered to PNG or SVG bytes (no Django).

Each ``render_*(data, format="png", *, title=None) -> bytes`` takes the frozen dataclasses below
(or ``forecasts.maths.calibration``'s) and returns PNG (640 x 480 px; the calibration-over-time
chart 640 x 800 px) or SVG bytes; another format raises ValueError. Probabilities are in [0, 1]
(the probability of whatever was forecast). Too little data gives a chart with just the title
and "Not enough data yet" instead of an error; each function says what too little is.

The same input gives the same bytes. SVG keeps its text as text and gives the drawn parts
unique ``id`` attributes, so tests and pages can find and count them:

- reliability: ``diagonal``; per series (``slug``: its label slugged, e.g. "the-crowd")
  ``bins-<slug>`` (a group of one marker per non-empty bin), ``errorbars-<slug>`` (one Wilson bar
  per non-empty bin) and ``counts-<slug>-<k>`` (the n of bin k in the strip below);
- calibration over time: ``line-brier``, ``line-reliability``, ``line-resolution``;
  ``too-little-<i>`` for each window i (0-based, in the given order) short of data; a small axes
  ``window-<i>`` per window shown, holding ``window-<i>-diagonal`` and ``window-<i>-bins`` plus
  ``window-<i>-errorbars``, or a ``window-<i>-too-little`` text;
- PIT histogram: per series ``pit-<slug>-<k>``, its bar of tenth k (0-9, empty bars too), and
  ``expected``, the flat line n / 10 of calibrated forecasts (``expected-<slug>``, one per
  series, when the series differ in n);
- interval coverage over time: ``reference-50`` and ``reference-80``, the lines at the levels;
  per series and level ``coverage-<slug>-<level>`` (the markers of the windows with enough
  data) and ``coverage-errorbars-<slug>-<level>`` (their Wilson bars); ``too-little-<i>`` for
  each window i short of data in the first series;
- any chart without enough data: ``no-data``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from forecasts.charts.style import (
    BLUE,
    GREEN,
    GREY,
    LIGHT_GREY,
    MARKERS,
    NOTE,
    PALETTE,
    TALL_FIGSIZE,
    VERMILLION,
    check_format,
    floats,
    new_figure,
    no_data,
    percent_axis,
    plain,
    reliability_points,
    rendering,
    set_title,
    slugs,
    to_bytes,
    unit_square,
)
from forecasts.maths.calibration import CalibrationBin, CalibrationWindow
from forecasts.maths.pit import IntervalCoverage, PitHistogram, PitWindow
from forecasts.maths.score_types import BRIER

MAX_SERIES = 3
MAX_WINDOWS_SHOWN = 8
SMALL_MULTIPLE_COLUMNS = 4


@dataclass(frozen=True)
class ReliabilitySeries:
    """One forecaster's calibration bins ("you", "the crowd", "the market")."""

    label: str
    bins: Sequence[CalibrationBin]


@dataclass(frozen=True)
class WindowSummary:
    """Calibration of the ``n`` forecasts resolved in one window of time: the Brier score and
    its reliability and resolution terms (0-1, None when unknown) and the bins."""

    label: str
    n: int
    enough_data: bool
    brier: float | None
    reliability: float | None
    resolution: float | None
    bins: Sequence[CalibrationBin]


def window_summaries(
    windows: Sequence[CalibrationWindow], labels: Sequence[str]
) -> tuple[WindowSummary, ...]:
    """``WindowSummary`` of each calibration window, e.g. a ``CalibrationReport``'s."""
    return tuple(
        WindowSummary(
            label=label,
            n=w.n,
            enough_data=w.enough_data,
            brier=_known(w.decomposition.brier),
            reliability=_known(w.decomposition.reliability),
            resolution=_known(w.decomposition.resolution),
            bins=w.table,
        )
        for w, label in zip(windows, labels, strict=True)
    )


def _known(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def render_reliability(
    series: Sequence[ReliabilitySeries], format: str = "png", *, title: str | None = None
) -> bytes:
    """Reliability diagram of one to three series on the same axes: how often what was forecast
    happened (YES, or an option against the rest) against the mean forecast of each non-empty
    bin, Wilson 95 % bars, marker area proportional to the bin's n, and a strip below with each
    bin's n. Fewer than two forecasts in all give the "Not enough data yet" chart; more than
    three series raise ValueError."""
    check_format(format)
    if len(series) > MAX_SERIES:
        raise ValueError(f"at most {MAX_SERIES} series fit one reliability diagram")
    title = title or "Calibration"
    counts = [b.n for s in series for b in s.bins]
    with rendering():
        if sum(counts) < 2:
            return no_data(title, format)
        figure = new_figure()
        set_title(figure, title)
        ax, strip = figure.subplots(2, 1, sharex=True, height_ratios=[5, 0.25 + 0.4 * len(series)])
        unit_square(ax, "diagonal")
        bar: dict[str, Any] = {"linestyle": "none", "marker": "|", "markersize": 12, "color": GREY}
        handles = [
            Line2D([], [], linestyle="--", color=GREY, label="Perfect calibration"),
            Line2D([], [], **bar, label="95% interval (Wilson)"),
        ]
        for row, (s, slug) in enumerate(zip(series, slugs([s.label for s in series]), strict=True)):
            style: dict[str, Any] = {"color": PALETTE[row], "marker": MARKERS[row]}
            gids = (f"bins-{slug}", f"errorbars-{slug}")
            reliability_points(ax, s.bins, gids, n_max=max(counts), largest=320, **style)
            handles.append(Line2D([], [], linestyle="none", label=plain(s.label), **style))
            note = NOTE | {"color": PALETTE[row]}
            for k, b in ((k, b) for k, b in enumerate(s.bins) if b.n > 0):
                at = ((b.lower + b.upper) / 2, row)
                strip.text(*at, f"{b.n}", **note, gid=f"counts-{slug}-{k}")
        ax.set_ylabel("Observed frequency")
        ax.tick_params(labelbottom=False)
        ax.legend(handles=handles, loc="upper left")
        strip.set_ylim(len(series) - 0.5, -0.5)
        strip.set_yticks(range(len(series)), [plain(s.label) for s in series])
        strip.tick_params(left=False)
        strip.grid(False)
        strip.spines[["left", "bottom"]].set_visible(False)
        strip.set_title("Forecasts per bin (n)", loc="left", fontsize=9, color=GREY, pad=3)
        strip.set_xlabel("Forecast probability")
        return to_bytes(figure, format)


def _window_axis(ax: Axes, windows: Sequence[tuple[str, int, bool]]) -> None:
    """An x axis of windows (label, n, enough data), one per unit; those short of data hatched
    and marked "too little data"; at most ``MAX_WINDOWS_SHOWN`` labels."""
    band: dict[str, Any] = {"facecolor": "none", "edgecolor": LIGHT_GREY, "hatch": "///"}
    for i, (_, _, enough) in enumerate(windows):
        if not enough:
            ax.axvspan(i - 0.5, i + 0.5, **band, linewidth=0, gid=f"too-little-{i}")
            ax.text(
                i, 0.5, "too little data", **NOTE, rotation=90, transform=ax.get_xaxis_transform()
            )
    step = math.ceil(len(windows) / MAX_WINDOWS_SHOWN)
    ax.set_xticks(
        range(len(windows)),
        [
            f"{plain(label)}\nn = {n}" if i % step == 0 else ""
            for i, (label, n, _) in enumerate(windows)
        ],
    )
    ax.set_xlim(-0.5, len(windows) - 0.5)


def _over_time_lines(ax: Axes, windows: Sequence[WindowSummary]) -> None:
    """Brier, reliability and resolution per window; windows short of data hatched and empty."""
    x = np.arange(len(windows))
    lines = (
        ("brier", f"Brier score ({BRIER.direction.value})", BLUE, "o"),
        ("reliability", "Reliability (lower is better)", VERMILLION, "s"),
        ("resolution", "Resolution (higher is better)", GREEN, "^"),
    )
    for name, label, color, marker in lines:
        y = floats([getattr(w, name) if w.enough_data else None for w in windows])
        ax.plot(x, y, color=color, marker=marker, markersize=5, label=label, gid=f"line-{name}")
    _window_axis(ax, [(w.label, w.n, w.enough_data) for w in windows])
    ax.set_ylim(bottom=0)
    ax.grid(axis="x", visible=False)
    ax.set_xlabel("Window of resolution time (n = forecasts resolved in it)")
    ax.set_ylabel("Brier score and its terms")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=2, borderaxespad=0.2)


def render_calibration_over_time(
    windows: Sequence[WindowSummary], format: str = "png", *, title: str | None = None
) -> bytes:
    """Brier score, reliability and resolution across windows of resolution time (above) and a
    small reliability diagram per window (below: the latest eight, the rest summarised). Fewer
    than two windows, or none with enough data, give the "Not enough data yet" chart."""
    check_format(format)
    title = title or "Calibration over time"
    with rendering():
        if len(windows) < 2 or not any(w.enough_data for w in windows):
            return no_data(title, format, TALL_FIGSIZE)
        figure = new_figure(TALL_FIGSIZE)
        set_title(figure, title)
        first = max(len(windows) - MAX_WINDOWS_SHOWN, 0)
        shown = windows[first:]
        cols = SMALL_MULTIPLE_COLUMNS
        rows = math.ceil(len(shown) / cols)
        top, bottom = figure.subfigures(
            2, 1, squeeze=False, height_ratios=[1, 0.5 + 0.55 * (rows - 1)]
        )[:, 0]
        _over_time_lines(top.subplots(), windows)
        axes = list(bottom.subplots(rows, cols, sharex=True, sharey=True, squeeze=False).flat)
        n_max = max((b.n for w in shown if w.enough_data for b in w.bins), default=1)
        for i, (w, ax) in enumerate(zip(shown, axes, strict=False), start=first):
            name = f"window-{i}"
            ax.set_gid(name)
            unit_square(ax, f"{name}-diagonal")
            ax.set_xticks([0, 0.5, 1])
            ax.set_yticks([0, 0.5, 1])
            ax.set_title(plain(w.label), fontsize=9)
            if w.enough_data:
                gids = (f"{name}-bins", f"{name}-errorbars")
                reliability_points(ax, w.bins, gids, n_max=n_max, largest=90, color=BLUE)
            else:
                text = f"n = {w.n}:\ntoo little data"
                ax.text(0.5, 0.5, text, **NOTE, bbox={"color": "white"}, gid=f"{name}-too-little")
            ax.label_outer()
        for ax in axes[len(shown) :]:
            ax.set_visible(False)
        heading = "Reliability per window"
        if first:
            hidden = sum(w.n for w in windows[:first])
            heading += f" (latest {len(shown)}; {first} earlier, n = {hidden}, not shown)"
        bottom.suptitle(heading, x=0.02, ha="left", fontsize=10)
        bottom.supxlabel("Forecast probability", fontsize=10)
        bottom.supylabel("Observed frequency", fontsize=10)
        return to_bytes(figure, format)


# --- calibration of distributions -----------------------------------------------------------

PIT_BAR_SPAN = 0.8  # of a tenth, shared by the series' bars


@dataclass(frozen=True)
class PitSeries:
    """One forecaster's histogram of PITs ("you", "the crowd")."""

    label: str
    histogram: PitHistogram


@dataclass(frozen=True)
class CoverageWindow:
    """How many of the ``n`` distributions resolved in one window had the outcome inside each
    central interval (``coverage``, one per level); ``enough_data`` as the window's."""

    label: str
    n: int
    enough_data: bool
    coverage: Sequence[IntervalCoverage]


@dataclass(frozen=True)
class CoverageSeries:
    """One forecaster's coverage per window; every series of a chart has the same windows."""

    label: str
    windows: Sequence[CoverageWindow]


def coverage_windows(
    windows: Sequence[PitWindow], labels: Sequence[str]
) -> tuple[CoverageWindow, ...]:
    """``CoverageWindow`` of each PIT window, e.g. a ``DistributionCalibration``'s."""
    return tuple(
        CoverageWindow(label, w.n, w.enough_data, w.coverage)
        for w, label in zip(windows, labels, strict=True)
    )


def render_pit_histogram(
    series: Sequence[PitSeries], format: str = "png", *, title: str | None = None
) -> bytes:
    """Histogram of the PITs of one to three series side by side, a bar per tenth of [0, 1]
    for each, with the flat line n / 10 that calibrated distributions would give. Fewer than
    two PITs in all give the "Not enough data yet" chart; more than three series raise
    ValueError."""
    check_format(format)
    if len(series) > MAX_SERIES:
        raise ValueError(f"at most {MAX_SERIES} series fit one PIT histogram")
    title = title or "Calibration of distributions (PIT)"
    with rendering():
        if sum(s.histogram.n for s in series) < 2:
            return no_data(title, format)
        figure = new_figure()
        set_title(figure, title)
        ax = figure.subplots()
        width = PIT_BAR_SPAN / max(len(series), 1)
        one_line = len({s.histogram.n for s in series}) == 1
        for row, (s, slug) in enumerate(zip(series, slugs([s.label for s in series]), strict=True)):
            bins = s.histogram.bins
            left = (np.arange(bins) + (1 - PIT_BAR_SPAN) / 2 + row * width / PIT_BAR_SPAN) / bins
            label = f"{plain(s.label)} (n = {s.histogram.n})"
            bars = ax.bar(
                left,
                s.histogram.counts,
                width / bins,
                align="edge",
                color=PALETTE[row],
                label=label,
            )
            for k, bar in enumerate(bars):
                bar.set_gid(f"pit-{slug}-{k}")
            if not one_line or row == 0:
                color, gid = (GREY, "expected") if one_line else (PALETTE[row], f"expected-{slug}")
                ax.axhline(
                    s.histogram.expected,
                    color=color,
                    linestyle="--",
                    linewidth=1.2,
                    gid=gid,
                    label="Calibrated: n / 10 per bar" if row == 0 else None,
                )
        ax.set_xlim(0, 1)
        ax.set_xticks(np.linspace(0, 1, 11))
        percent_axis(ax.xaxis)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="x", visible=False)
        ax.set_xlabel("PIT: the forecast's probability below the outcome")
        ax.set_ylabel("Questions")
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=2, borderaxespad=0.2)
        return to_bytes(figure, format)


def render_interval_coverage(
    series: Sequence[CoverageSeries], format: str = "png", *, title: str | None = None
) -> bytes:
    """Share of outcomes inside the central 50% and 80% intervals (each level a colour, each
    series a marker; the first series solid, the others hollow) per window of resolution time,
    with Wilson 95% bars and dotted lines at the levels. Windows short of data are hatched
    and drawn for no series. No window with enough data gives the "Not enough data yet"
    chart; more than three series raise ValueError."""
    check_format(format)
    if len(series) > MAX_SERIES:
        raise ValueError(f"at most {MAX_SERIES} series fit one coverage chart")
    title = title or "Interval coverage over time"
    with rendering():
        if not any(w.enough_data for s in series for w in s.windows):
            return no_data(title, format)
        figure = new_figure()
        set_title(figure, title)
        ax = figure.subplots()
        windows = series[0].windows
        levels = [c.level for c in windows[0].coverage]
        colors = {level: PALETTE[i] for i, level in enumerate(levels)}
        marks = len(series) * len(levels)
        # The legend names each level by its colour and each series by its marker and line.
        handles = [
            Line2D([], [], color=colors[level], label=f"{round(level * 100)}% central interval")
            for level in levels
        ]
        for level in levels:
            gid = f"reference-{round(level * 100)}"
            ax.axhline(level, color=colors[level], linestyle=":", linewidth=1.2, gid=gid)
        names = slugs([s.label for s in series])
        for row, (s, slug) in enumerate(zip(series, names, strict=True)):
            look: dict[str, Any] = {
                "marker": MARKERS[row],
                "linestyle": "-" if row == 0 else "--",
                "clip_on": False,
            }
            handles.append(
                Line2D(
                    [],
                    [],
                    **look,
                    color=GREY,
                    markerfacecolor=GREY if row == 0 else "white",
                    label=plain(s.label),
                )
            )
            for j, level in enumerate(levels):
                shown = [
                    (i, w.coverage[j]) for i, w in enumerate(s.windows) if w.enough_data and w.n
                ]
                x = (
                    np.array([i for i, _ in shown])
                    + (row * len(levels) + j - (marks - 1) / 2) * 0.08
                )
                pct = round(level * 100)
                ax.vlines(
                    x,
                    [c.low for _, c in shown],
                    [c.high for _, c in shown],
                    colors=colors[level],
                    linewidth=1.2,
                    alpha=0.6,
                    gid=f"coverage-errorbars-{slug}-{pct}",
                )
                ax.plot(
                    x,
                    [c.share for _, c in shown],
                    **look,
                    color=colors[level],
                    markerfacecolor=colors[level] if row == 0 else "white",
                    gid=f"coverage-{slug}-{pct}",
                )
        handles.append(Line2D([], [], color=GREY, linestyle=":", label="Calibrated: at the level"))
        _window_axis(ax, [(w.label, w.n, w.enough_data) for w in windows])
        ax.set_ylim(0, 1)
        percent_axis(ax.yaxis)
        ax.grid(axis="x", visible=False)
        ax.set_xlabel("Window of resolution time (n = questions resolved in it)")
        ax.set_ylabel("Outcomes inside the interval (95% Wilson bars)")
        legend: dict[str, Any] = {"loc": "lower left", "bbox_to_anchor": (0, 1), "ncols": 2}
        ax.legend(handles=handles, **legend, borderaxespad=0.2)
        return to_bytes(figure, format)
