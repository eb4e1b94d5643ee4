"""Charts through time of a question's forecasts and of a user's scores per resolved question,
rendered to PNG or SVG bytes (no Django).

Each ``render_*(data, format="png", *, title=None) -> bytes`` takes the frozen dataclasses below
and returns PNG (640 x 480 px) or SVG bytes; another format raises ValueError. Probabilities are
in [0, 1] (P(YES), or an option's), a numeric question's values in its units, a date question's
in UTC epoch seconds, and datetimes are timezone-aware. Too little data gives a
chart with just the title and "Not enough data yet" instead of an error; each function says
what too little is.

The same input gives the same bytes. SVG keeps its text as text and gives the drawn parts
unique ``id`` attributes, so tests and pages can find and count them:

- question history: ``series-median``, ``series-gmo``, ``series-own``, ``series-market``,
  ``marker-open``, ``marker-close``, ``marker-resolution``;
- question options: ``series-option-<i>`` (the median of option i, 0-based), ``marker-open``,
  ``marker-close``, ``marker-resolution``;
- question fan (numeric and date): ``series-band`` (the crowd's 10th to 90th percentile),
  ``series-median``, ``series-own`` (your median), ``marker-open``, ``marker-close``,
  ``marker-resolution`` (when it resolved) and ``marker-outcome`` (the value that happened, or
  the bound it passed);
- score over time: ``scores-you``, ``scores-crowd`` (one marker per score; none without crowd
  scores), ``cumulative-mean``,
  ``reference``;
- any chart without enough data: ``no-data``.

The question charts' time axis spans the activity (the first forecast or price to the end),
not the whole open period: ``marker-open`` marks the opening, at the left edge with its date
when the activity began long after it. A series of few points has a dot at each
(``points-<series>``), so a single forecast is seen.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num

from forecasts.charts.style import (
    BLACK,
    BLUE,
    GREEN,
    GREY,
    LIGHT_GREY,
    ORANGE,
    PALETTE,
    SKY,
    VERMILLION,
    check_format,
    date_axis,
    floats,
    new_figure,
    no_data,
    percent_axis,
    plain,
    rendering,
    set_title,
    to_bytes,
    vertical_marker,
)

RESOLUTION_LABELS = {
    "yes": "Resolved YES",
    "no": "Resolved NO",
    "annulled": "Annulled",
    "ambiguous": "Resolved ambiguous",
}
# The options chart tells options apart by colour and line style together, so that up to
# len(PALETTE) * len(OPTION_DASHES) options never share both.
OPTION_DASHES = ("-", "--", "-.")


@dataclass(frozen=True)
class QuestionHistory:
    """The crowd's forecast of one question through time: from ``times[k]`` until the next
    time the recency-weighted ``median`` and geometric mean of odds ``gmo`` (None or NaN while
    nobody forecasts); ``own`` forecasts as (start, end or None while standing, P(YES));
    ``market`` prices as (time, P(YES)); ``resolution`` is "yes", "no", "annulled",
    "ambiguous" or None."""

    times: Sequence[dt.datetime]
    median: Sequence[float | None]
    gmo: Sequence[float | None]
    own: Sequence[tuple[dt.datetime, dt.datetime | None, float]]
    market: Sequence[tuple[dt.datetime, float]]
    opens_at: dt.datetime
    closes_at: dt.datetime
    resolution: str | None
    resolved_at: dt.datetime | None
    now: dt.datetime


@dataclass(frozen=True)
class OptionsHistory:
    """The crowd's median of each option of one question through time: from ``times[k]``
    until the next time ``medians[k]`` (one probability per option in ``labels``' order, or
    None where nothing is shown); ``resolution`` as ``QuestionHistory``'s or "option", with
    ``resolved_option`` the index of the option that happened."""

    labels: Sequence[str]
    times: Sequence[dt.datetime]
    medians: Sequence[Sequence[float] | None]
    opens_at: dt.datetime
    closes_at: dt.datetime
    resolution: str | None
    resolved_option: int | None
    resolved_at: dt.datetime | None
    now: dt.datetime


@dataclass(frozen=True)
class ScoreSeries:
    """A user's score per resolved question beside the crowd's (None where it has none);
    ``reference`` draws a level line (0 for baseline and peer scores); ``lower_is_better``
    adds a hint to the axis label when known."""

    score_label: str
    resolved_at: Sequence[dt.datetime]
    values: Sequence[float]
    crowd_values: Sequence[float | None]
    reference: float | None = None
    lower_is_better: bool | None = None


def _steps(
    times: Sequence[dt.datetime], probs: Sequence[float | None], end: dt.datetime
) -> tuple[list[dt.datetime], np.ndarray]:
    """Step points that hold each value until the next time and the last one until ``end``."""
    pairs = [(t, p) for t, p in zip(times, probs, strict=True) if t < end]
    if not pairs:
        return [], np.zeros(0)
    xs = [t for t, _ in pairs] + [end]
    ys = floats([v for _, v in pairs])
    return xs, np.append(ys, ys[-1])


def _own_path(
    own: Sequence[tuple[dt.datetime, dt.datetime | None, float]], end: dt.datetime
) -> tuple[list[dt.datetime], list[float]]:
    """A polyline of the user's forecast intervals, clipped at ``end``, broken at gaps."""
    xs: list[dt.datetime] = []
    ys: list[float] = []
    for start, stop, p in sorted(own, key=lambda f: f[0]):
        if start >= end:
            continue
        if xs and start > xs[-1]:
            xs.append(start)
            ys.append(math.nan)
        xs += [start, min(stop or end, end)]
        ys += [p, p]
    return xs, ys


# The time axis spans at least this, so that a single forecast is a stretch, not a sliver.
MIN_SPAN = dt.timedelta(hours=6)
# Activity that starts this close to the opening (a share of the span) is drawn from it.
OPENING_SLACK = 0.15
# A series with at most this many points gets a dot at each, so that a lone one is seen.
FEW_POINTS = 3


def _time_span(
    opens_at: dt.datetime, right: dt.datetime, activity: Sequence[dt.datetime]
) -> tuple[dt.datetime, dt.datetime]:
    """The time axis's ends: from the first activity (a forecast, a price) to ``right``, with
    a margin; from the opening instead when the activity starts soon after it."""
    first = max(min(activity, default=opens_at), opens_at)
    if first - opens_at <= max(right - opens_at, MIN_SPAN) * OPENING_SLACK:
        first = opens_at
    span = max(right - first, MIN_SPAN)
    pad = span * 0.03
    return first - pad, max(right, first + span) + pad


def _opening(ax: Axes, opens_at: dt.datetime, left: dt.datetime) -> None:
    """The opening as a dotted vertical line labelled "Opened", reading into the chart; when
    the axis starts later (the activity came long after), at the left edge, with its date."""
    inside = opens_at >= left
    where = opens_at if inside else left
    text = " Opened" if inside else f" \u2190 Opened {opens_at:%-d %b %Y}"
    # Matplotlib plots datetimes through its unit converters; its stubs take only floats.
    ax.axvline(where, color=GREY, linestyle=":", linewidth=1.2, gid="marker-open")  # type: ignore[arg-type]
    ax.text(
        where,  # type: ignore[arg-type]
        0.03,
        text,
        ha="left",
        va="bottom",
        fontsize=9,
        transform=ax.get_xaxis_transform(),
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
    )


def _few_points(
    ax: Axes, xs: Sequence[dt.datetime], ys: np.ndarray, name: str, **style: Any
) -> None:
    """Dots at the points of a step line that has few (its last point only holds the value
    to the end): a forecast standing alone is then visible, not a hairline at the edge."""
    if 0 < len(xs) - 1 <= FEW_POINTS:
        finite = np.isfinite(ys[:-1])
        if finite.any():
            at = [x for x, ok in zip(xs[:-1], finite, strict=True) if ok]
            dots: dict[str, Any] = {"linestyle": "none", "marker": "o", "markersize": 5}
            ax.plot(at, ys[:-1][finite], gid=f"points-{name}", **dots, **style)  # type: ignore[arg-type]


def _activity(
    times: Sequence[dt.datetime], values: Sequence[object], *more: Sequence[dt.datetime]
) -> list[dt.datetime]:
    """When something was drawn: the times of shown values, and the other series' times."""
    shown = [t for t, v in zip(times, values, strict=True) if v is not None and v == v]
    return shown + [t for series in more for t in series]


def render_question_history(
    history: QuestionHistory, format: str = "png", *, title: str | None = None
) -> bytes:
    """The crowd's median and geometric mean of odds, the user's own forecasts and the market
    price as step lines (P(YES) as a percentage) from the question's opening until the earliest
    of now, its close and its resolution, with markers at the close and the resolution. No
    forecast and no price give the "Not enough data yet" chart."""
    check_format(format)
    title = title or "Forecast history"
    h = history
    end = min([h.now, h.closes_at] + ([h.resolved_at] if h.resolved_at else []))
    median, gmo = _steps(h.times, h.median, end), _steps(h.times, h.gmo, end)
    own = _own_path(h.own, end)
    market = _steps([t for t, _ in h.market], [p for _, p in h.market], end)
    with rendering():
        if end <= h.opens_at or not (
            np.isfinite(median[1]).any() or np.isfinite(gmo[1]).any() or own[0] or market[0]
        ):
            return no_data(title, format)
        figure = new_figure()
        set_title(figure, title)
        ax = figure.subplots()
        lines = (
            (median, "Crowd median", BLUE, "-", "series-median"),
            (gmo, "Crowd geometric mean of odds", SKY, "--", "series-gmo"),
            (market, "Market price", GREEN, "-.", "series-market"),
        )
        # Matplotlib plots datetimes through its unit converters; its stubs take only floats,
        # hence the ignores on the time axis below.
        for (xs, ys), label, color, style, gid in lines:
            # A line with nothing to show (the crowd while it is not public) has no legend entry.
            if np.isfinite(ys).any():
                ax.step(xs, ys, where="post", color=color, linestyle=style, label=label, gid=gid)  # type: ignore[arg-type]
                _few_points(ax, xs, ys, gid.removeprefix("series-"), color=color)
        if own[0]:
            ax.plot(*own, color=VERMILLION, linewidth=2.4, label="Your forecasts", gid="series-own")  # type: ignore[arg-type]
            starts = [f for f in h.own if f[0] < end]
            dots: dict[str, Any] = {
                "linestyle": "none",
                "marker": "o",
                "markersize": 4,
                "color": VERMILLION,
            }
            ax.plot([f[0] for f in starts], [f[2] for f in starts], **dots)  # type: ignore[arg-type]
        right = max(end, h.resolved_at or end)
        shown = [
            *_activity(h.times, h.median),
            *_activity(h.times, h.gmo),
            *(f[0] for f in h.own),
            *(t for t, _ in h.market),
        ]
        left, right_edge = _time_span(h.opens_at, right, [t for t in shown if t < end])
        _opening(ax, h.opens_at, left)
        if h.closes_at <= right:
            vertical_marker(ax, h.closes_at, "Closed", "marker-close", top=False)
        if h.resolution and h.resolved_at:
            label = RESOLUTION_LABELS.get(h.resolution, f"Resolved {h.resolution}")
            vertical_marker(ax, h.resolved_at, label, "marker-resolution", top=True)
        ax.set_xlim(left, right_edge)  # type: ignore[arg-type]
        ax.set_ylim(0, 1)
        percent_axis(ax.yaxis)
        ax.set_ylabel("Probability of YES")
        date_axis(ax, h.now, "Date")
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=2, borderaxespad=0.2)
        return to_bytes(figure, format)


def render_question_options(
    history: OptionsHistory, format: str = "png", *, title: str | None = None
) -> bytes:
    """The crowd's median of each option as step lines (a percentage) from the question's
    opening until the earliest of now, its close and its resolution, the option that happened
    drawn thicker, with markers at the close and the resolution. No median shown gives the
    "Not enough data yet" chart."""
    check_format(format)
    title = title or "The crowd's median of each option"
    h = history
    end = min([h.now, h.closes_at] + ([h.resolved_at] if h.resolved_at else []))
    lines = [
        _steps(h.times, [None if m is None else m[i] for m in h.medians], end)
        for i in range(len(h.labels))
    ]
    with rendering():
        if end <= h.opens_at or not any(np.isfinite(ys).any() for _, ys in lines):
            return no_data(title, format)
        figure = new_figure()
        set_title(figure, title)
        ax = figure.subplots()
        for i, ((xs, ys), label) in enumerate(zip(lines, h.labels, strict=True)):
            style: dict[str, Any] = {
                "color": PALETTE[i % len(PALETTE)],
                "linestyle": OPTION_DASHES[i // len(PALETTE) % len(OPTION_DASHES)],
                "linewidth": 3.0 if i == h.resolved_option else 1.8,
            }
            # Matplotlib plots datetimes through its unit converters; its stubs take only
            # floats, hence the ignores on the time axis below.
            ax.step(xs, ys, where="post", label=plain(label), gid=f"series-option-{i}", **style)  # type: ignore[arg-type]
            _few_points(ax, xs, ys, f"option-{i}", color=style["color"])
        right = max(end, h.resolved_at or end)
        shown = [t for t, m in zip(h.times, h.medians, strict=True) if m is not None and t < end]
        left, right_edge = _time_span(h.opens_at, right, shown)
        _opening(ax, h.opens_at, left)
        if h.closes_at <= right:
            vertical_marker(ax, h.closes_at, "Closed", "marker-close", top=False)
        if h.resolution and h.resolved_at:
            if h.resolution == "option" and h.resolved_option is not None:
                label = f"Resolved: {h.labels[h.resolved_option]}"
            else:
                label = RESOLUTION_LABELS.get(h.resolution, f"Resolved {h.resolution}")
            vertical_marker(ax, h.resolved_at, plain(label), "marker-resolution", top=True)
        ax.set_xlim(left, right_edge)  # type: ignore[arg-type]
        ax.set_ylim(0, 1)
        percent_axis(ax.yaxis)
        ax.set_ylabel("Crowd median")
        date_axis(ax, h.now, "Date")
        columns = 2 if len(h.labels) <= 4 else 3
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=columns, borderaxespad=0.2)
        return to_bytes(figure, format)


def render_score_over_time(
    points: ScoreSeries, format: str = "png", *, title: str | None = None
) -> bytes:
    """The user's score on each resolved question beside the crowd's, and the user's running
    mean, against the resolution date; a dashed level line at ``reference`` when given. Fewer
    than two scores give the "Not enough data yet" chart."""
    check_format(format)
    title = title or f"{points.score_label} over time"
    with rendering():
        if len(points.values) < 2:
            return no_data(title, format)
        order = sorted(range(len(points.values)), key=lambda k: points.resolved_at[k])
        when = [points.resolved_at[k] for k in order]
        mine = np.array([points.values[k] for k in order], dtype=np.float64)
        crowd = floats([points.crowd_values[k] for k in order])
        figure = new_figure()
        set_title(figure, title)
        ax = figure.subplots()
        if points.reference is not None:
            ax.axhline(points.reference, color=GREY, linestyle="--", linewidth=1, gid="reference")
        # Matplotlib plots datetimes through its unit converters; its stubs take only floats,
        # hence the ignores on the time axis below.
        ax.vlines(when, np.fmin(mine, crowd), np.fmax(mine, crowd), colors=LIGHT_GREY, linewidth=1)  # type: ignore[arg-type]
        has_crowd = np.isfinite(crowd)
        ax.scatter(when, mine, s=28, color=BLUE, label="You", zorder=4, gid="scores-you")  # type: ignore[arg-type]
        if has_crowd.any():
            hollow: dict[str, Any] = {
                "marker": "s",
                "facecolors": "none",
                "edgecolors": ORANGE,
                "linewidths": 1.4,
            }
            crowd_when = np.array(when)[has_crowd]
            ax.scatter(
                crowd_when,
                crowd[has_crowd],
                s=28,
                **hollow,
                label="Crowd",
                zorder=3,
                gid="scores-crowd",
            )
        running = np.cumsum(mine) / np.arange(1, mine.size + 1)
        mean_style: dict[str, Any] = {
            "color": BLUE,
            "linewidth": 2,
            "alpha": 0.8,
            "label": "Your running mean",
        }
        ax.step(when, running, where="post", **mean_style, gid="cumulative-mean")  # type: ignore[arg-type]
        pad = max((when[-1] - when[0]) * 0.04, dt.timedelta(days=1))
        ax.set_xlim(when[0] - pad, when[-1] + pad)  # type: ignore[arg-type]
        hint = {True: " (lower is better)", False: " (higher is better)", None: ""}
        ax.set_ylabel(plain(points.score_label) + hint[points.lower_is_better])
        date_axis(ax, when[-1], "Resolution date")
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=3, borderaxespad=0.2)
        return to_bytes(figure, format)


@dataclass(frozen=True)
class FanHistory:
    """The crowd's distribution of a numeric or date question through time: from ``times[k]``
    until the next time its 10th percentile ``low[k]``, ``median[k]`` and 90th percentile
    ``high[k]`` (None while nothing is shown), values in the question's units (a date
    question's in UTC epoch seconds, ``date``), a quantile beyond an open bound at that bound;
    ``own`` medians as (start, end or None while standing, value). The range is
    [``range_min``, ``range_max``] (``log_scale``: spaced logarithmically), each bound open or
    not; ``outcome`` is the value that happened (below or above the range: beyond the bound),
    ``outcome_label`` how it is named; ``resolution`` as ``QuestionHistory``'s or "value",
    "below_lower_bound", "above_upper_bound"."""

    times: Sequence[dt.datetime]
    low: Sequence[float | None]
    median: Sequence[float | None]
    high: Sequence[float | None]
    own: Sequence[tuple[dt.datetime, dt.datetime | None, float]]
    range_min: float
    range_max: float
    log_scale: bool
    open_lower: bool
    open_upper: bool
    date: bool
    unit: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    resolution: str | None
    resolved_at: dt.datetime | None
    outcome: float | None
    outcome_label: str
    now: dt.datetime


def _fan_limits(fan: FanHistory) -> tuple[float, float]:
    """The value axis: the range, and a margin beyond an open bound for what lies past it."""
    low, high = fan.range_min, fan.range_max
    margin = 0.06
    if fan.log_scale:
        span = math.log(high / low)
        return (
            low * math.exp(-margin * span) if fan.open_lower else low,
            high * math.exp(margin * span) if fan.open_upper else high,
        )
    span = high - low
    return (
        low - margin * span if fan.open_lower else low,
        high + margin * span if fan.open_upper else high,
    )


def _fan_values(fan: FanHistory, values: np.ndarray) -> np.ndarray:
    """Values as the axis takes them: a date question's epoch seconds as matplotlib's dates."""
    if not fan.date:
        return values
    epoch = float(date2num(dt.datetime(1970, 1, 1, tzinfo=dt.UTC)))
    return epoch + values / 86400.0


def _fan_value_axis(ax: Axes, fan: FanHistory) -> None:
    low, high = _fan_values(fan, np.array(_fan_limits(fan)))
    if fan.log_scale:
        ax.set_yscale("log")
    ax.set_ylim(float(low), float(high))
    if fan.date:
        locator = AutoDateLocator(tz=dt.UTC, minticks=3, maxticks=7)
        ax.yaxis.set_major_locator(locator)
        ax.yaxis.set_major_formatter(ConciseDateFormatter(locator, tz=dt.UTC, show_offset=False))
        ax.set_ylabel("Date (UTC)")
    else:
        ax.set_ylabel(plain(fan.unit) if fan.unit else "Value")
    for bound, is_open in ((fan.range_min, fan.open_lower), (fan.range_max, fan.open_upper)):
        if is_open:  # past an open bound lies the outcomes beyond the range
            where = float(_fan_values(fan, np.array([bound]))[0])
            ax.axhline(where, color=GREY, linestyle=(0, (1, 3)), linewidth=0.8)


def render_question_fan(fan: FanHistory, format: str = "png", *, title: str | None = None) -> bytes:
    """The crowd's median as a step line inside its 10th-90th percentile band, and the user's
    own median, in the question's units (a date axis for a date question) from the question's
    opening until the earliest of now, its close and its resolution; markers at the opening,
    the close and the resolution, and a level line at the outcome. Nothing shown (no crowd
    point, no own forecast) gives the "Not enough data yet" chart."""
    check_format(format)
    title = title or "The crowd's median and 80% interval"
    h = fan
    end = min([h.now, h.closes_at] + ([h.resolved_at] if h.resolved_at else []))
    lines = [_steps(h.times, series, end) for series in (h.low, h.median, h.high)]
    (xs, low), (_, median), (_, high) = lines
    own_xs, own_ys = _own_path(h.own, end)
    with rendering():
        if end <= h.opens_at or not (np.isfinite(median).any() or own_xs):
            return no_data(title, format)
        figure = new_figure()
        set_title(figure, title)
        ax = figure.subplots()
        _fan_value_axis(ax, h)
        # Matplotlib plots datetimes through its unit converters; its stubs take only floats,
        # hence the ignores on the time axis below.
        if np.isfinite(median).any():
            # Each value holds from its time to the next: as pairs of points, so that a band
            # followed by nothing shown (NaN) still covers its own stretch.
            band_xs = [x for pair in itertools.pairwise(xs) for x in pair]
            ax.fill_between(
                band_xs,  # type: ignore[arg-type]
                np.repeat(_fan_values(h, low)[:-1], 2),
                np.repeat(_fan_values(h, high)[:-1], 2),
                color=SKY,
                alpha=0.35,
                linewidth=0,
                label="Crowd: 10th to 90th percentile",
                gid="series-band",
            )
            crowd: dict[str, Any] = {"color": BLUE, "label": "Crowd median", "gid": "series-median"}
            ax.step(xs, _fan_values(h, median), where="post", **crowd)  # type: ignore[arg-type]
            _few_points(ax, xs, _fan_values(h, median), "median", color=BLUE)
        if own_xs:
            own = _fan_values(h, np.array(own_ys, dtype=np.float64))
            mine: dict[str, Any] = {"color": VERMILLION, "linewidth": 2.4, "label": "Your median"}
            ax.plot(own_xs, own, gid="series-own", **mine)  # type: ignore[arg-type]
        right = max(end, h.resolved_at or end)
        shown = [*_activity(h.times, h.median), *(f[0] for f in h.own)]
        left, right_edge = _time_span(h.opens_at, right, [t for t in shown if t < end])
        _opening(ax, h.opens_at, left)
        if h.closes_at <= right:
            vertical_marker(ax, h.closes_at, "Closed", "marker-close", top=False)
        if h.resolution and h.resolved_at:
            label = RESOLUTION_LABELS.get(h.resolution, "Resolved")
            vertical_marker(ax, h.resolved_at, label, "marker-resolution", top=True)
        if h.outcome is not None:
            where = float(_fan_values(h, np.array([h.outcome]))[0])
            ax.axhline(where, color=BLACK, linewidth=1.4, linestyle="--", gid="marker-outcome")
            ax.text(
                0.01,
                where,
                f" {plain(h.outcome_label)} ",
                transform=ax.get_yaxis_transform(),
                ha="left",
                va="bottom",
                fontsize=9,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
            )
        ax.set_xlim(left, right_edge)  # type: ignore[arg-type]
        date_axis(ax, h.now, "Date")
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=3, borderaxespad=0.2)
        return to_bytes(figure, format)
