"""Reads for the charts: gather plain numbers from the database into the charts' dataclasses.

Each chart also has a cheap version (``*_version``): what its data depends on, read without
gathering the data, so a cached image is found, or known to be stale, before any work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.models import User
from django.db.models import Max

from crux.formatting import unsigned_zero
from forecasts import selectors
from forecasts.charts.calibration_charts import (
    CoverageSeries,
    PitSeries,
    ReliabilitySeries,
    coverage_windows,
    window_summaries,
)
from forecasts.charts.price_charts import MarketPrices
from forecasts.charts.question_charts import (
    FanHistory,
    OptionsHistory,
    QuestionHistory,
    ScoreSeries,
)
from forecasts.maths import score_types
from forecasts.maths.continuous import cdf_quantile
from forecasts.maths.pit import IntervalCoverage
from forecasts.models import (
    AggregatePoint,
    Forecast,
    Forecaster,
    Question,
    QuestionKind,
    Resolution,
    Score,
)
from forecasts.rules import outcome_value_iso
from forecasts.scores import distribution_calibration
from forecasts.scores import selectors as score_selectors
from forecasts.scores.versions import scores_version
from markets.models import Market, market_labels, outcome_name
from markets.selectors import price_steps, price_vector_steps


@dataclass(frozen=True)
class ChartData:
    """What to draw, the rows of the table beside it, and the key its image is cached under."""

    data: Any
    rows: list[dict[str, Any]]
    title: str


def _cell(value: float) -> float:
    """A table's number to 4 places, never a negative zero (round(-0.00001, 4) is -0.0)."""
    return unsigned_zero(round(value, 4))


def _bin_rows(label: str, bins: Any) -> list[dict[str, Any]]:
    return [
        {
            "series": label,
            "bin": f"{b.lower:.1f}-{b.upper:.1f}",
            "n": b.n,
            "mean_forecast": None if b.n == 0 else _cell(b.mean_forecast),
            "observed_frequency": None if b.n == 0 else _cell(b.observed_frequency),
            "ci_low": None if b.n == 0 else _cell(b.ci_low),
            "ci_high": None if b.n == 0 else _cell(b.ci_high),
        }
        for b in bins
    ]


def _kinds_title(kinds: score_selectors.CalibrationKinds) -> str:
    return ", binary questions only" if kinds == "binary" else ""


def user_calibration_chart(
    *,
    user: User,
    now: dt.datetime,
    kinds: score_selectors.CalibrationKinds = score_selectors.DEFAULT_CALIBRATION_KINDS,
) -> ChartData:
    mine, crowd = score_selectors.user_calibration(user=user, now=now, kinds=kinds)
    market = score_selectors.user_market_calibration(user=user, now=now, kinds=kinds)
    name = user.get_username()
    series = [ReliabilitySeries(name, mine.table)]
    if crowd.n:
        series.append(ReliabilitySeries("the crowd, same questions", crowd.table))
    if market.n:
        series.append(ReliabilitySeries("the market, same questions", market.table))
    rows = (
        _bin_rows(name, mine.table)
        + _bin_rows("the crowd", crowd.table)
        + _bin_rows("the market", market.table)
    )
    title = "the crowd and the market" if market.n else "the crowd"
    return ChartData(series, rows, f"Calibration of {name}, {title}{_kinds_title(kinds)}")


def crowd_calibration_chart(
    *,
    now: dt.datetime,
    include_practice: bool = False,
    kinds: score_selectors.CalibrationKinds = score_selectors.DEFAULT_CALIBRATION_KINDS,
) -> ChartData:
    report = score_selectors.crowd_calibration(
        now=now, include_practice=include_practice, kinds=kinds
    )
    market = score_selectors.market_calibration(
        now=now, include_practice=include_practice, kinds=kinds
    )
    series = [ReliabilitySeries("the crowd (median)", report.table)]
    if market.n:
        series.append(ReliabilitySeries("the market (price)", market.table))
    return ChartData(
        series,
        _bin_rows("the crowd", report.table) + _bin_rows("the market", market.table),
        ("Calibration of the crowd and the market" if market.n else "Calibration of the crowd")
        + _kinds_title(kinds),
    )


def user_calibration_over_time_chart(
    *,
    user: User,
    now: dt.datetime,
    kinds: score_selectors.CalibrationKinds = score_selectors.DEFAULT_CALIBRATION_KINDS,
) -> ChartData:
    mine, _ = score_selectors.user_calibration(user=user, now=now, kinds=kinds)
    windows = window_summaries(mine.windows, mine.window_labels)
    rows = [
        {
            "window": w.label,
            "n": w.n,
            "enough_data": w.enough_data,
            "brier": w.brier,
            "reliability": w.reliability,
            "resolution": w.resolution,
        }
        for w in windows
    ]
    return ChartData(
        windows,
        rows,
        f"Calibration of {user.get_username()} over time{_kinds_title(kinds)}",
    )


CROWD_SAME_QUESTIONS = "the crowd, same questions"


def user_pit_histogram_chart(*, user: User, now: dt.datetime) -> ChartData:
    """The histogram of the user's PITs on numeric and date questions beside the crowd's."""
    mine, crowd = distribution_calibration.user_distribution_calibration(user=user, now=now)
    name = user.get_username()
    series = [PitSeries(name, mine.histogram)]
    if crowd.n:
        series.append(PitSeries(CROWD_SAME_QUESTIONS, crowd.histogram))
    rows = [
        {
            "series": s.label,
            "bin": f"{k / h.bins:.1f}-{(k + 1) / h.bins:.1f}",
            "n": count,
            "expected": _cell(h.expected),
        }
        for s in series
        for h in (s.histogram,)
        for k, count in enumerate(h.counts)
    ]
    title = f"PIT histogram of {name}{' and the crowd' if crowd.n else ''}"
    return ChartData(series, rows, f"{title}, numeric and date questions")


def _coverage_rows(
    label: str, window: str, enough_data: bool, coverage: Sequence[IntervalCoverage]
) -> list[dict[str, Any]]:
    return [
        {
            "series": label,
            "window": window,
            "enough_data": enough_data,
            "level": c.level,
            "n": c.n,
            "inside": c.inside,
            "share": None if c.n == 0 else _cell(c.share),
            "ci_low": None if c.n == 0 else _cell(c.low),
            "ci_high": None if c.n == 0 else _cell(c.high),
        }
        for c in coverage
    ]


def user_interval_coverage_chart(*, user: User, now: dt.datetime) -> ChartData:
    """The share of outcomes inside the user's 50% and 80% central intervals per quarter of
    resolution time, beside the crowd's; the table starts with each one's whole record
    (window "All")."""
    mine, crowd = distribution_calibration.user_distribution_calibration(user=user, now=now)
    name = user.get_username()
    reports = [(name, mine)] + ([(CROWD_SAME_QUESTIONS, crowd)] if crowd.n else [])
    series = [CoverageSeries(s, coverage_windows(r.windows, r.window_labels)) for s, r in reports]
    rows: list[dict[str, Any]] = []
    for label, report in reports:
        enough = report.n >= score_selectors.CALIBRATION_MIN_N
        rows += _coverage_rows(label, "All", enough, report.coverage)
        for w, window in zip(report.windows, report.window_labels, strict=True):
            rows += _coverage_rows(label, window, w.enough_data, w.coverage)
    title = f"Interval coverage of {name}{' and the crowd' if crowd.n else ''} over time"
    return ChartData(series, rows, title)


def user_score_chart(*, user: User, score_type: str) -> ChartData:
    spec = score_types.score_type(score_type)
    rows_resolved = (
        Score.objects.filter(user=user, score_type=score_type)
        .exclude(question__resolved_at=None)
        .order_by("question__resolved_at", "question_id")
        .values_list("question_id", "question__resolved_at", "value")
    )
    # None is excluded above; the check tells the type checker.
    mine = [(q, at, v) for q, at, v in rows_resolved if at is not None]
    crowd = dict(
        Score.objects.filter(
            question_id__in=[m[0] for m in mine],
            forecaster=Forecaster.CROWD_MEDIAN,
            score_type=score_type,
        ).values_list("question_id", "value")
    )
    series = ScoreSeries(
        score_label=spec.label,
        resolved_at=[m[1] for m in mine],
        values=[m[2] for m in mine],
        crowd_values=[crowd.get(m[0]) for m in mine],
        reference=spec.chart_reference,
        lower_is_better=spec.lower_is_better,
    )
    rows = [
        {
            "question": q,
            "resolved_at": at.isoformat(),
            "score": unsigned_zero(v),
            "crowd": None if crowd.get(q) is None else unsigned_zero(crowd[q]),
        }
        for q, at, v in mine
    ]
    title = f"{spec.label} of {user.get_username()}"
    return ChartData(series, rows, title)


def question_history_chart(*, question: Question, user: User | None, now: dt.datetime) -> ChartData:
    # The crowd as the public may see it (every viewer's chart shows the same crowd).
    points = selectors.question_crowd_history(question=question, now=now)
    own: list[tuple[dt.datetime, dt.datetime | None, float]] = []
    if user is not None and user.is_authenticated:
        own = cast(
            "list[tuple[dt.datetime, dt.datetime | None, float]]",  # binary: P(YES) each
            list(
                # A multiple-choice question's forecasts have no P(YES) to draw here.
                Forecast.objects.filter(question=question, user=user, probability__isnull=False)
                .order_by("starts_at", "id")
                .values_list("starts_at", "ends_at", "probability")
            ),
        )
    resolved = question.resolution or None
    market = [(at, p) for _, at, _, p in price_steps(question_ids=[question.pk])]
    history = QuestionHistory(
        times=[p.at for p in points],
        median=[p.median for p in points],
        gmo=[p.geometric_mean_odds for p in points],
        own=own,
        market=market,
        opens_at=question.opens_at,
        closes_at=question.closes_at,
        resolution=resolved,
        resolved_at=question.resolved_at,
        now=now,
    )
    rows = [
        {
            "at": p.at.isoformat(),
            "median": p.median,
            "geometric_mean_odds": p.geometric_mean_odds,
            "forecasters": p.forecasters,
        }
        for p in points
    ]
    return ChartData(history, rows, question.title)


def _option_medians(point: selectors.CrowdPoint) -> tuple[float, ...] | None:
    """The crowd's median of each option at ``point``: a binary question's are P(YES) and
    P(NO), the case n = 2."""
    if point.medians is not None:
        return point.medians
    return None if point.median is None else (point.median, 1.0 - point.median)


def question_options_chart(*, question: Question, now: dt.datetime) -> ChartData:
    """The crowd's median of each option through time, as the public may see it."""
    points = selectors.question_crowd_history(question=question, now=now)
    labels = question.option_labels
    medians = [_option_medians(p) for p in points]
    history = OptionsHistory(
        labels=labels,
        times=[p.at for p in points],
        medians=medians,
        opens_at=question.opens_at,
        closes_at=question.closes_at,
        resolution=question.resolution or None,
        resolved_option=question.outcome_index,
        resolved_at=question.resolved_at,
        now=now,
    )
    # One row per moment and option, so any number of options (and any label) fits the CSV.
    rows = [
        {
            "at": p.at.isoformat(),
            "forecasters": p.forecasters,
            "option": label,
            "median": None if values is None else values[i],
        }
        for p, values in zip(points, medians, strict=True)
        for i, label in enumerate(labels)
    ]
    return ChartData(history, rows, question.title)


# The fan chart's band and line: the 10th percentile, the median and the 90th percentile.
FAN_LEVELS = (0.1, 0.5, 0.9)


def _fan_cell(question: Question, value: float | None) -> float | str | None:
    """A value in the fan chart's table: a number to 6 significant digits, a date question's
    as ISO 8601 (UTC)."""
    if value is None:
        return None
    if question.kind == QuestionKind.DATE:
        return outcome_value_iso(value)
    return unsigned_zero(float(f"{value:.6g}"))


def _fan_outcome(question: Question) -> tuple[float | None, str]:
    """Where the fan chart draws the outcome (a bound it passed) and how it names it."""
    assert question.range_min is not None and question.range_max is not None
    if question.resolution == Resolution.BELOW:
        return question.range_min, question.get_resolution_display()
    if question.resolution == Resolution.ABOVE:
        return question.range_max, question.get_resolution_display()
    if question.resolution == Resolution.VALUE:
        return question.resolved_value, f"Outcome: {question.resolution_label}"
    return None, ""


def _no_fan(question: Question, now: dt.datetime) -> FanHistory:
    return FanHistory(
        times=[],
        low=[],
        median=[],
        high=[],
        own=[],
        range_min=0.0,
        range_max=1.0,
        log_scale=False,
        open_lower=False,
        open_upper=False,
        date=False,
        unit="",
        opens_at=question.opens_at,
        closes_at=question.closes_at,
        resolution=None,
        resolved_at=None,
        outcome=None,
        outcome_label="",
        now=now,
    )


def question_fan_chart(*, question: Question, user: User | None, now: dt.datetime) -> ChartData:
    """A numeric or date question's crowd through time as the public may see it, its median
    and 80% interval (a quantile beyond an open bound at that bound, as ``cdf_quantile``
    gives it), and the viewer's own median. The other kinds have no distribution to draw: the
    "Not enough data yet" chart, and a table of the crowd's moments without quantiles."""
    points = selectors.question_crowd_history(question=question, now=now)
    quantiles: list[list[float | None]] = [[None] * len(FAN_LEVELS) for _ in points]
    if not question.is_continuous:
        return ChartData(_no_fan(question, now), _fan_rows(points, quantiles), question.title)
    scale = question.scale
    shown = {k: p.cdf for k, p in enumerate(points) if p.cdf is not None}
    if shown:
        values = scale.value(cdf_quantile(list(shown.values()), FAN_LEVELS))
        for k, row in zip(shown, values.tolist(), strict=True):
            quantiles[k] = row
    own: list[tuple[dt.datetime, dt.datetime | None, float]] = []
    if user is not None and user.is_authenticated:
        mine = list(
            Forecast.objects.filter(question=question, user=user, cdf__isnull=False)
            .order_by("starts_at", "id")
            .values_list("starts_at", "ends_at", "cdf")
        )
        if mine:
            cdfs = [cast("list[float]", cdf) for _, _, cdf in mine]  # cdf__isnull=False
            medians = scale.value(cdf_quantile(cdfs, 0.5))
            own = [
                (start, end, float(m))
                for (start, end, _), m in zip(mine, medians.tolist(), strict=True)
            ]
    assert question.range_min is not None and question.range_max is not None
    outcome, outcome_label = _fan_outcome(question)
    fan = FanHistory(
        times=[p.at for p in points],
        low=[q[0] for q in quantiles],
        median=[q[1] for q in quantiles],
        high=[q[2] for q in quantiles],
        own=own,
        range_min=question.range_min,
        range_max=question.range_max,
        log_scale=question.log_scale,
        open_lower=question.open_lower_bound,
        open_upper=question.open_upper_bound,
        date=question.kind == QuestionKind.DATE,
        unit=question.unit,
        opens_at=question.opens_at,
        closes_at=question.closes_at,
        resolution=question.resolution or None,
        resolved_at=question.resolved_at,
        outcome=outcome,
        outcome_label=outcome_label,
        now=now,
    )
    cells = [[_fan_cell(question, v) for v in q] for q in quantiles]
    return ChartData(fan, _fan_rows(points, cells), question.title)


def _fan_rows(
    points: Sequence[selectors.CrowdPoint], cells: Sequence[Sequence[float | str | None]]
) -> list[dict[str, Any]]:
    return [
        {
            "at": p.at.isoformat(),
            "forecasters": p.forecasters,
            "p10": low,
            "median": median,
            "p90": high,
        }
        for p, (low, median, high) in zip(points, cells, strict=True)
    ]


def market_prices_chart(*, question: Question, now: dt.datetime) -> ChartData:
    """Every outcome's price of the question's market: at its opening, then after each trade
    (the tape is public, so every viewer gets the same chart)."""
    steps = price_vector_steps(question_ids=[question.pk])
    labels = market_labels(question)
    names = [outcome_name(labels, i) for i in range(len(labels))] if steps else []
    index = question.outcome_index
    resolved = None
    if question.resolution:
        resolved = (
            f"Resolved {names[index]}"
            if index is not None and index < len(names)
            else question.get_resolution_display()
        )
    prices = MarketPrices(
        labels=names,
        times=[start for _, start, _, _ in steps],
        prices=[p for _, _, _, p in steps],
        closes_at=question.closes_at,
        resolved_option=index,
        resolution_label=resolved,
        resolved_at=question.resolved_at,
        now=now,
    )
    # One row per moment and outcome, so any number of outcomes (and any label) fits the CSV.
    rows = [
        {"at": start.isoformat(), "outcome": name, "price": p[i]}
        for _, start, _, p in steps
        for i, name in enumerate(names)
    ]
    return ChartData(prices, rows, question.title)


def scores_charts_version(*, now: dt.datetime) -> str:
    """Charts of resolved data: they change with the scores, and (calibration counts only
    questions whose date has passed) with the hour."""
    return f"{scores_version()}:{now:%Y%m%d%H}"


def question_chart_version(*, question: Question, user: User | None, now: dt.datetime) -> str:
    last = (
        AggregatePoint.objects.filter(question=question)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    own = None
    if user is not None and user.is_authenticated:
        own = (
            Forecast.objects.filter(question=question, user=user)
            .order_by("-starts_at", "-id")
            .values_list("pk", "ends_at")
            .first()
        )
    market = (
        Market.objects.filter(question=question)
        .annotate(last_trade=Max("trades__id"))
        .values_list("pk", "last_trade")
        .first()
    )
    # Until it resolves the steps run on to "now": such a chart is fresh for a minute only.
    moment = question.resolution or f"{now:%Y%m%d%H%M}"
    return f"{last}:{own}:{market}:{moment}:{question.resolved_at}"
