"""Numeric and date questions on the web: a distribution as the pages word it (its median
and 80% interval, in the question's units), the quantiles that fill the form from a standing
forecast, and the preview the form draws as the forecaster types (a JSON view: the CDF the
quantiles make, from the code that stores it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.forms.utils import ErrorDict
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from forecasts import selectors
from forecasts.forms import QUANTILE_FIELDS, QuantileForecastForm
from forecasts.maths.continuous import cdf_quantile
from forecasts.maths.quantiles import cdf_from_quantiles
from forecasts.models import Forecast, Question, QuestionKind, outcome_value_text


def form_quantiles(question: Question, forecast: Forecast) -> dict[str, float]:
    """A numeric or date forecast's quantiles by the form's fields: those it was given as, when
    the form asks for each of them; else (a CDF given through the API, or quantiles the form
    does not ask for) the form's five read off its CDF, but for any beyond the range."""
    given = {float(level): value for level, value in (forecast.quantiles or {}).items()}
    fields = {level: name for name, level in QUANTILE_FIELDS.items()}
    if given and set(given) <= set(fields):
        return {fields[level]: value for level, value in given.items()}
    cdf = forecast.cdf or []
    levels = list(QUANTILE_FIELDS.values())
    positions = cdf_quantile(cdf, levels)
    values = question.scale.value(positions)
    return {
        fields[level]: float(value)
        for level, value in zip(levels, values, strict=True)
        if cdf[0] < level <= cdf[-1]
    }


# The crowd's (and a forecast's) summary: the median and the 80% central interval.
SUMMARY_LEVELS = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class Distribution:
    """A numeric or date distribution as a page names it: its 10th percentile, median and
    90th percentile, in the question's units (a date question's as days), "below <the range's
    low end>" or "above <its high end>" for one beyond an open bound."""

    low: str
    median: str
    high: str


def _quantile_text(question: Question, value: float, *, unit: bool = True) -> str:
    """A quantile in the question's units, to 4 significant digits (a date's to the day)."""
    if question.kind == QuestionKind.DATE:
        return outcome_value_text(kind=question.kind, value=value // 86400 * 86400)
    return outcome_value_text(
        kind=question.kind, value=float(f"{value:.4g}"), unit=question.unit if unit else ""
    )


def _axis(question: Question) -> list[dict[str, object]]:
    """Where the preview's axis marks the range, and the value there (without the unit, which
    the figure's caption names): the ends and the quarters, a date question's ends and middle
    (a date is a longer label)."""
    date = question.kind == QuestionKind.DATE
    positions = (0.0, 0.5, 1.0) if date else (0.0, 0.25, 0.5, 0.75, 1.0)
    values = question.scale.value(positions)
    return [
        {"position": u, "label": _quantile_text(question, float(v), unit=False)}
        for u, v in zip(positions, values, strict=True)
    ]


def range_ends(question: Question) -> tuple[str, str]:
    """A numeric or date question's range's ends, in its units."""
    assert question.range_min is not None and question.range_max is not None
    return (
        outcome_value_text(kind=question.kind, value=question.range_min, unit=question.unit),
        outcome_value_text(kind=question.kind, value=question.range_max, unit=question.unit),
    )


def distribution(question: Question, cdf: Sequence[float]) -> Distribution:
    """The summary of a CDF of ``question`` (``Distribution``)."""
    positions = cdf_quantile(cdf, SUMMARY_LEVELS)
    values = question.scale.value(positions)
    ends = range_ends(question)
    texts = [
        f"below {ends[0]}"
        if level <= cdf[0]
        else f"above {ends[1]}"
        if level > cdf[-1]
        else _quantile_text(question, float(value))
        for level, value in zip(SUMMARY_LEVELS, values, strict=True)
    ]
    return Distribution(*texts)


@require_GET
def distribution_preview(request: HttpRequest, question_id: int) -> HttpResponse:
    """The CDF a numeric or date forecast of these quantiles would be (the form's fields in
    the query string, ``?q10=...&q50=...&q90=...``), for the form to draw as the forecaster
    types, with what the form draws it with: ``cdf`` (201 numbers), ``quantiles`` (each given
    one's ``level`` and ``position`` on the scaled range), ``summary`` (the median and 80%
    interval as the page words them), ``axis`` (``position`` and ``label`` of the range's
    marks), ``open_lower_bound`` and ``open_upper_bound``. Refused as the API refuses,
    ``{"message": ..., "errors": {field: [...]}}`` with status 400. Nothing is written."""
    try:
        question = selectors.question_get(question_id=question_id)
    except Question.DoesNotExist:
        raise Http404("No such question") from None
    if not question.is_continuous:
        raise Http404("Only a numeric or date question takes a distribution")
    form = QuantileForecastForm(request.GET, question=question)
    if form.is_valid():
        try:
            cdf = cdf_from_quantiles(form.quantiles, question.scale)
        except ValueError as error:
            form.add_service_error("quantiles", [str(error)])
        else:
            levels = list(form.quantiles)
            positions = question.scale.position([form.quantiles[q] for q in levels])
            summary = distribution(question, cdf.tolist())
            return JsonResponse(
                {
                    "cdf": [round(float(f), 9) for f in cdf],
                    "quantiles": [
                        {"level": q, "position": float(u)}
                        for q, u in zip(levels, positions, strict=True)
                    ],
                    "summary": {"low": summary.low, "median": summary.median, "high": summary.high},
                    "axis": _axis(question),
                    "open_lower_bound": question.open_lower_bound,
                    "open_upper_bound": question.open_upper_bound,
                }
            )
    return _refusal(form.errors)


def _refusal(errors: ErrorDict) -> JsonResponse:
    """A form's errors in the API's shape (``crux.api.errors``), the form's own as
    ``quantiles``."""
    named = {"quantiles" if field == "__all__" else field: list(e) for field, e in errors.items()}
    return JsonResponse(
        {"message": f"Invalid input: {', '.join(sorted(named))}.", "errors": named}, status=400
    )
