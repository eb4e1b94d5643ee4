"""The one look of Crux's charts and the pieces they share (no Django).

Colours are the Okabe-Ito palette, which stays distinguishable under the common colour-vision
deficiencies; each series also gets its own marker so colour is never the only cue. Figures are
built with the object API (``Figure`` + ``FigureCanvasAgg``), never pyplot. Matplotlib reads its
style and the SVG options (text kept as text, a fixed hash salt) from the process-wide rcParams,
so ``rendering`` holds a lock while it applies them: two requests rendering at once take turns
instead of seeing each other's settings.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import textwrap
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.rcsetup import cycler
from matplotlib.ticker import PercentFormatter

from forecasts.maths.calibration import CalibrationBin

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
SKY = "#56B4E9"
YELLOW = "#F0E442"
BLACK = "#000000"
GREY = "#777777"
LIGHT_GREY = "#DDDDDD"
PALETTE = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW, BLACK)
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")

DPI = 100
FIGSIZE = (6.4, 4.8)  # inches: 640 x 480 px in PNG
TALL_FIGSIZE = (6.4, 8.0)  # 640 x 800 px, for charts with small multiples
FORMATS = ("png", "svg")
NO_DATA = "Not enough data yet"
MIN_MARKER_AREA = 10.0  # pt^2, so a bin of one forecast stays visible
# Keyword arguments for matplotlib (its artists' properties are of many types).
NOTE: dict[str, Any] = {"ha": "center", "va": "center", "fontsize": 9, "color": GREY}

STYLE: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": GREY,
    "axes.labelcolor": "#222222",
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "axes.grid": True,
    "grid.color": LIGHT_GREY,
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "lines.linewidth": 1.8,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "svg.fonttype": "none",
    "svg.hashsalt": "crux-charts",
}

_LOCK = threading.Lock()


def check_format(format: str) -> str:
    """``format`` if it is "png" or "svg"; ValueError otherwise."""
    if format not in FORMATS:
        raise ValueError(f"unknown chart format {format!r}; expected one of {FORMATS}")
    return format


@contextmanager
def rendering() -> Iterator[None]:
    """Apply the house style while a figure is built and saved, one render at a time."""
    with _LOCK, matplotlib.rc_context(STYLE):
        yield


def new_figure(figsize: tuple[float, float] = FIGSIZE) -> Figure:
    """A blank figure with constrained layout, so labels fit without changing its pixel size."""
    figure = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


# About what one line of the title holds across a 640 px chart (12 pt bold); fewer when its
# letters are wide (capitals, digits), as measured.
TITLE_CHARS = 60
# The share of the figure's width a title line may take, from its left margin.
TITLE_WIDTH = 0.96


def set_title(figure: Figure, title: str) -> None:
    """The chart's title, left-aligned above everything else; a long one (a question's title,
    a calibration chart's choice of questions) wraps between words rather than running off the
    image: each line measured as drawn, and wrapped shorter until every line fits."""
    text = figure.suptitle(plain(title), x=0.02, ha="left")
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    room = figure.bbox.width * TITLE_WIDTH
    for width in range(TITLE_CHARS, 9, -2):
        wrapped = textwrap.fill(title, width, break_long_words=False, break_on_hyphens=False)
        text.set_text(plain(wrapped))
        if text.get_window_extent(renderer).width <= room:
            return


def to_bytes(figure: Figure, format: str) -> bytes:
    """The figure as PNG or SVG bytes, identical for identical figures (no dates, fixed ids)."""
    metadata: dict[str, str | None] = {"Software": None} if format == "png" else {"Date": None}
    buffer = io.BytesIO()
    figure.savefig(buffer, format=format, dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def no_data(title: str, format: str, figsize: tuple[float, float] = FIGSIZE) -> bytes:
    """A chart of the given size holding only its title and "Not enough data yet"."""
    figure = new_figure(figsize)
    set_title(figure, title)
    figure.text(0.5, 0.5, NO_DATA, ha="center", va="center", fontsize=14, color=GREY, gid="no-data")
    return to_bytes(figure, format)


def plain(text: str) -> str:
    """``text`` shown literally: a pair of "$" would otherwise start mathtext."""
    return text.replace("$", r"\$")


def slugs(labels: list[str]) -> list[str]:
    """A distinct id-safe slug per label ("the crowd" -> "the-crowd"), numbered on clashes."""
    seen: set[str] = set()
    result = []
    for label in labels:
        base = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "series"
        slug, k = base, 2
        while slug in seen:
            slug, k = f"{base}-{k}", k + 1
        seen.add(slug)
        result.append(slug)
    return result


def floats(numbers: Sequence[float | None]) -> np.ndarray:
    """``numbers`` as floats, None as NaN (a gap in a line)."""
    return np.array([math.nan if v is None else v for v in numbers], dtype=np.float64)


def percent_axis(axis: Axis) -> None:
    """Tick labels of a probability axis as whole percentages."""
    axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))


def date_axis(ax: Axes, moment: dt.datetime, label: str) -> None:
    """Concise dates on the x axis in the time zone of ``moment``, named in the label."""
    tz = moment.tzinfo or dt.UTC
    locator = AutoDateLocator(tz=tz, minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=tz, show_offset=False))
    ax.set_xlabel(f"{label} ({moment.tzname() or 'UTC'})")


def unit_square(ax: Axes, gid: str) -> None:
    """Both axes 0-100 % with the dashed diagonal of perfect calibration, named ``gid``."""
    ax.plot([0, 1], [0, 1], linestyle="--", color=GREY, linewidth=1, gid=gid)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    percent_axis(ax.xaxis)
    percent_axis(ax.yaxis)


def reliability_points(
    ax: Axes,
    bins: Sequence[CalibrationBin],
    gids: tuple[str, str],
    *,
    n_max: int,
    largest: float,
    color: str,
    marker: str = "o",
) -> None:
    """Observed frequency against mean forecast of the non-empty bins with their Wilson bars;
    marker areas are proportional to n, ``largest`` pt^2 for ``n_max``; ``gids`` names the
    markers and the bars."""
    full = [b for b in bins if b.n > 0]
    x = [b.mean_forecast for b in full]
    low, high = [b.ci_low for b in full], [b.ci_high for b in full]
    ax.vlines(x, low, high, colors=color, linewidth=1.2, alpha=0.6, clip_on=False, gid=gids[1])
    areas = largest * np.array([b.n for b in full], dtype=np.float64) / max(n_max, 1)
    ax.scatter(
        x,
        [b.observed_frequency for b in full],
        s=np.maximum(areas, MIN_MARKER_AREA),
        c=color,
        marker=marker,
        edgecolors="white",
        linewidths=0.8,
        alpha=0.9,
        zorder=3,
        clip_on=False,
        gid=gids[0],
    )


def vertical_marker(ax: Axes, when: dt.datetime, text: str, gid: str, *, top: bool) -> None:
    """A vertical line labelled at the top (solid) or the bottom (dotted), so two can sit
    close together without their labels colliding."""
    style: dict[str, Any] = (
        {"color": BLACK, "linestyle": "-"} if top else {"color": GREY, "linestyle": ":"}
    )
    # Matplotlib plots datetimes through its unit converters; its stubs take only floats.
    ax.axvline(when, linewidth=1.2, gid=gid, **style)  # type: ignore[arg-type]
    ax.text(
        when,  # type: ignore[arg-type]
        0.97 if top else 0.03,
        f"{text} ",
        ha="right",
        va="top" if top else "bottom",
        fontsize=9,
        transform=ax.get_xaxis_transform(),
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
    )
