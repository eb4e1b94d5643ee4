"""A market's prices through time, rendered to PNG or SVG bytes (no Django).

``render_market_prices(data, format="png", *, title=None) -> bytes`` takes the frozen
dataclass below and returns PNG (640 x 480 px) or SVG bytes; another format raises
ValueError. Prices are in [0, 1] and datetimes are timezone-aware. A question without a market
gives the chart with just the title and "Not enough data yet".

The same input gives the same bytes. SVG keeps its text as text and names the drawn parts:
``series-outcome-<i>`` (the price of outcome i, 0-based), ``marker-close``,
``marker-resolution``; without data, ``no-data``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from forecasts.charts.style import (
    MARKERS,
    PALETTE,
    check_format,
    date_axis,
    new_figure,
    no_data,
    percent_axis,
    plain,
    rendering,
    set_title,
    to_bytes,
    vertical_marker,
)

# Up to this many prices, each one is marked: a market traded a few times still shows when.
MARKED_POINTS = 40
DASHES = ("-", "--", "-.")


@dataclass(frozen=True)
class MarketPrices:
    """Every outcome's price of one market: from ``times[k]`` (its opening, then each trade)
    until the next time, ``prices[k]`` (one per outcome in ``labels``' order, summing to 1).
    ``resolved_option`` is the index of the outcome that happened, ``resolution_label`` how
    the resolution reads ("Resolved YES", "Annulled"), both None until it resolves."""

    labels: Sequence[str]
    times: Sequence[dt.datetime]
    prices: Sequence[Sequence[float]]
    closes_at: dt.datetime
    resolved_option: int | None
    resolution_label: str | None
    resolved_at: dt.datetime | None
    now: dt.datetime


def render_market_prices(
    history: MarketPrices, format: str = "png", *, title: str | None = None
) -> bytes:
    """Each outcome's price as a step line (a percentage) from the market's opening until the
    earliest of now and the resolution, the outcome that happened drawn thicker, each price
    marked while there are few, with markers at the close and the resolution. No prices (no
    market) give the "Not enough data yet" chart."""
    check_format(format)
    title = title or "The market's prices"
    h = history
    with rendering():
        if not h.times or not h.labels:
            return no_data(title, format)
        opened = h.times[0]
        end = min([h.now] + ([h.resolved_at] if h.resolved_at else []))
        end = max(end, opened)
        xs = [*h.times, end]
        figure = new_figure()
        set_title(figure, title)
        ax = figure.subplots()
        marked = len(h.times) <= MARKED_POINTS
        for i, label in enumerate(h.labels):
            ys = np.array([p[i] for p in h.prices] + [h.prices[-1][i]], dtype=np.float64)
            style: dict[str, Any] = {
                "color": PALETTE[i % len(PALETTE)],
                "linestyle": DASHES[i // len(PALETTE) % len(DASHES)],
                "linewidth": 3.0 if i == h.resolved_option else 1.8,
            }
            if marked:
                style |= {
                    "marker": MARKERS[i % len(MARKERS)],
                    "markersize": 4,
                    "markevery": list(range(len(h.times))),  # not the end of the last step
                }
            # Matplotlib plots datetimes through its unit converters; its stubs take only
            # floats, hence the ignores on the time axis below.
            ax.step(xs, ys, where="post", label=plain(label), gid=f"series-outcome-{i}", **style)  # type: ignore[arg-type]
        right = max(end, h.resolved_at or end)
        if opened < h.closes_at <= right:
            vertical_marker(ax, h.closes_at, "Closed", "marker-close", top=False)
        if h.resolution_label and h.resolved_at:
            vertical_marker(
                ax, h.resolved_at, plain(h.resolution_label), "marker-resolution", top=True
            )
        span = max(right - opened, dt.timedelta(hours=1))
        ax.set_xlim(opened - span * 0.02, right + span * 0.02)  # type: ignore[arg-type]
        ax.set_ylim(0, 1)
        percent_axis(ax.yaxis)
        ax.set_ylabel("Market price")
        date_axis(ax, h.now, "Date")
        columns = 2 if len(h.labels) <= 4 else 3
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=columns, borderaxespad=0.2)
        return to_bytes(figure, format)
