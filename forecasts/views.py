"""The question pages (the list, a question with its forecast form, withdrawing a forecast, a
source's questions): thin views that parse input once and call services and selectors.
Numeric and date questions' own pieces are in ``distribution_views``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from crux.users import AuthenticatedHttpRequest
from forecasts import selectors, services
from forecasts.distribution_views import distribution, form_quantiles, range_ends
from forecasts.forms import (
    ForecastForm,
    MultipleChoiceForecastForm,
    QuantileForecastForm,
    quantile_input_text,
)
from forecasts.histogram import question_histogram
from forecasts.models import Forecast, Question, QuestionKind, QuestionStatus
from markets.panel import panel_context


class HtmxHttpRequest(HttpRequest):
    """A request through django-htmx's middleware: ``htmx`` is truthy when htmx sent it."""

    htmx: HtmxDetails


class AuthenticatedHtmxRequest(AuthenticatedHttpRequest):
    htmx: HtmxDetails


@dataclass(frozen=True)
class Lead:
    """The outcome given the highest probability, and that probability."""

    label: str
    probability: float


def _lead(labels: Sequence[str], probabilities: Sequence[float] | None) -> Lead | None:
    """The leading outcome of a vector (the first of a tie); None without one, or with one
    that does not match the labels."""
    if not probabilities or len(probabilities) != len(labels):
        return None
    index = max(range(len(probabilities)), key=lambda i: probabilities[i])
    return Lead(labels[index], probabilities[index])


@dataclass(frozen=True)
class QuestionRow:
    """A question as the list shows it: the crowd's median (binary; numeric or date, in the
    question's units) or leading option (multiple choice), where public, and the market's price
    or leading option."""

    question: Question
    status: QuestionStatus
    crowd_median: float | None
    crowd_lead: Lead | None
    market_lead: Lead | None
    crowd_value: str | None = None


def _question_row(question: Question, now: dt.datetime) -> QuestionRow:
    market = getattr(question, "market", None)
    multiple_choice = question.is_multiple_choice
    cdf = selectors.question_public_crowd_cdf(question) if question.is_continuous else None
    return QuestionRow(
        question=question,
        status=question.status(now),
        crowd_median=selectors.question_public_crowd_median(question),
        crowd_lead=_lead(question.option_labels, selectors.question_public_crowd_medians(question)),
        market_lead=_lead(question.option_labels, market.prices())
        if market is not None and multiple_choice
        else None,
        crowd_value=None if cdf is None else distribution(question, cdf).median,
    )


def _list_query(**params: str) -> str:
    """A query string of the list's parameters, leaving out the empty ones."""
    return "?" + urlencode({k: v for k, v in params.items() if v})


def question_list(request: HttpRequest) -> HttpResponse:
    """The questions of one tab (status), matching the search; each tab's link keeps the
    search and counts its matches. Practice questions only with ``practice=1``, as on the
    leaderboards."""
    now = timezone.now()
    status = request.GET.get("status", "open")
    if status not in selectors.LIST_FILTERS:
        status = "open"
    search = request.GET.get("q", "")[:200].strip()
    practice = request.GET.get("practice") == "1"
    # Each question's market price beside its crowd: one LEFT JOIN, priced in Python.
    questions = (
        selectors.question_list(now=now, status=status, search=search, include_practice=practice)
        .select_related("market")
        .only(*selectors.LIST_FIELDS, *(f"market__{f}" for f in ("b", "q", "status")))
    )
    counts = selectors.question_status_counts(now=now, search=search, include_practice=practice)
    page = Paginator(questions, 25).get_page(request.GET.get("page"))
    here = {"status": status, "q": search, "practice": "1" if practice else ""}
    return render(
        request,
        "forecasts/question_list.html",
        {
            "page": page,
            "rows": [_question_row(q, now) for q in page.object_list],
            "status": status,
            "search": search,
            "practice": practice,
            "filters": [
                (key, label, counts[key], _list_query(**{**here, "status": key}))
                for key, label in selectors.LIST_FILTERS.items()
            ],
            "practice_toggle": _list_query(**{**here, "practice": "" if practice else "1"}),
            "practice_matches": counts[selectors.PRACTICE_COUNT],
            "page_query": _list_query(**here),
        },
    )


def _question_or_404(question_id: int) -> Question:
    try:
        return selectors.question_get(question_id=question_id)
    except Question.DoesNotExist:
        raise Http404("No such question") from None


AnyForecastForm = ForecastForm | MultipleChoiceForecastForm | QuantileForecastForm


def _forecast_form(
    question: Question, data: QueryDict | None = None, *, initial: dict[str, object] | None = None
) -> AnyForecastForm:
    """The forecast form of the question's kind."""
    if question.is_continuous:
        return QuantileForecastForm(data, initial=initial, question=question)
    if question.is_multiple_choice:
        return MultipleChoiceForecastForm(data, initial=initial, options=question.option_labels)
    return ForecastForm(data, initial=initial)


def _standing_initial(question: Question, standing: Forecast) -> dict[str, object]:
    """The form's fields holding ``standing``, so an update starts from it."""
    if question.is_continuous:
        return {
            name: quantile_input_text(kind=question.kind, value=value)
            for name, value in form_quantiles(question, standing).items()
        }
    if question.is_multiple_choice:
        return {"probabilities": [f"{p:g}" for p in standing.pmf]}
    return {"probability": f"{standing.probability:g}"}


@require_http_methods(["GET", "POST"])
def question_detail(request: HtmxHttpRequest, question_id: int) -> HttpResponse:
    """The question page. A forecast posts here: without JavaScript it is redirected back (a
    refusal is the page again, the errors beside the fields); with htmx the answer is the
    forecast panel alone, with the crowd and the history out of band (``_question_inplace``),
    a refusal with status 400."""
    now = timezone.now()
    question = _question_or_404(question_id)
    form = _forecast_form(question)
    notice = ""
    if request.method == "POST":
        if not request.user.is_authenticated:
            login = f"{reverse('login')}?next={request.path}"
            return HttpResponseClientRedirect(login) if request.htmx else redirect(login)
        form = _forecast_form(question, request.POST)
        if form.is_valid():
            values = form.cleaned_data
            try:
                forecast = services.forecast_submit(
                    user=request.user,
                    question_id=question.pk,
                    probability=values.get("probability"),
                    probabilities=values.get("probabilities"),
                    quantiles=values.get("quantiles"),
                    rationale=values["rationale"],
                )
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                if not request.htmx:
                    messages.success(request, _saved(question, forecast))
                    return redirect("forecasts:question_detail", question_id=question.pk)
                form, notice = _forecast_form(question), _saved(question, forecast)
    return _render_question(
        request, question, form, now, status=400 if form.errors else 200, notice=notice
    )


def _saved(question: Question, forecast: Forecast) -> str:
    if forecast.percent is not None:
        return f"Forecast saved: {forecast.percent:.1f}% YES."
    if forecast.cdf is not None:
        summary = distribution(question, forecast.cdf)
        return (
            f"Forecast saved: median {summary.median}, "
            f"80% between {summary.low} and {summary.high}."
        )
    lead = _lead(question.option_labels, forecast.pmf)
    assert lead is not None, "a multiple-choice forecast has a probability per option"
    return f"Forecast saved: {lead.label} most likely, at {lead.probability * 100:.1f}%."


def _add_service_errors(form: AnyForecastForm, error: ValidationError) -> None:
    for field, field_errors in error.message_dict.items():
        if isinstance(form, QuantileForecastForm):
            form.add_service_error(field, field_errors)
        else:
            form.add_error(field if field in form.fields else None, field_errors)


@dataclass(frozen=True)
class CrowdOption:
    """One option in the crowd's panel: its median and geometric mean where shown, and
    whether it is the option that happened."""

    label: str
    median: float | None
    geometric_mean: float | None
    happened: bool


def _crowd_options(question: Question, crowd: selectors.CrowdNow) -> list[CrowdOption]:
    """A multiple-choice question's crowd, one row per option; empty while none is shown."""
    if not question.is_multiple_choice or crowd.medians is None:
        return []
    means = crowd.geometric_means
    return [
        CrowdOption(
            label=label,
            median=crowd.medians[i] if i < len(crowd.medians) else None,
            geometric_mean=means[i] if means is not None and i < len(means) else None,
            happened=question.outcome_index == i,
        )
        for i, label in enumerate(question.option_labels)
    ]


def _render_question(
    request: HtmxHttpRequest | AuthenticatedHtmxRequest,
    question: Question,
    form: AnyForecastForm,
    now: dt.datetime,
    *,
    status: int,
    notice: str = "",
    refusal: str = "",
) -> HttpResponse:
    """The question page, or with htmx its forecast panel with the crowd and the history out
    of band; ``notice`` (what was just saved) or ``refusal`` shown in the panel."""
    history = standing = None
    if request.user.is_authenticated:
        history = list(selectors.forecast_history(question=question, user=request.user))
        standing = next((f for f in history if f.is_standing), None)
        if standing is not None and not form.is_bound:
            form = _forecast_form(question, initial=_standing_initial(question, standing))
    crowd = selectors.question_crowd_now(question=question, now=now)
    continuous = question.is_continuous
    return render(
        request,
        "forecasts/_question_inplace.html" if request.htmx else "forecasts/question_detail.html",
        {
            "question": question,
            "notice": notice,
            "refusal": refusal,
            "status": question.status(now),
            "statuses": QuestionStatus,
            "is_open": question.is_open_for_forecasts(now),
            "crowd": crowd,
            "crowd_options": _crowd_options(question, crowd),
            "histogram": question_histogram(question=question, crowd=crowd),
            "crowd_min_forecasters": settings.CROWD_MIN_FORECASTERS,
            # Drawn whenever there is a past to draw, even if nobody forecasts now.
            "has_history": question.aggregates.exists(),
            "form": form,
            # A multiple-choice form's rows, the crowd's medians (as the panel shows them) beside.
            "option_rows": form.rows(crowd.medians)
            if isinstance(form, MultipleChoiceForecastForm)
            else None,
            "history": history,
            "standing": standing,
            # Coherence: a numeric or date question's yes/no rungs, or what a rung's question's
            # crowd implies for it (forecasts/_ladder.html).
            "ladder": selectors.question_ladder(question=question, now=now),
            "rung_implied": selectors.rung_implied(question=question, now=now),
            # Numeric and date: the range's ends, the crowd's and each of your forecasts'
            # median and interval.
            "range_ends": range_ends(question) if continuous else None,
            "is_date": question.kind == QuestionKind.DATE,
            "crowd_distribution": distribution(question, crowd.cdf)
            if continuous and crowd.cdf is not None
            else None,
            "history_distributions": [
                (f, distribution(question, f.cdf)) for f in history or () if f.cdf is not None
            ]
            if continuous
            else None,
            # No market runs on a numeric or date question.
            **({} if continuous else panel_context(request, question, now=now)),
        },
        status=status,
    )


@login_required
@require_POST
def forecast_withdraw(request: AuthenticatedHtmxRequest, question_id: int) -> HttpResponse:
    """End the user's standing forecast: back to the question page, or with htmx its forecast
    panel in place (as ``question_detail`` answers)."""
    question = _question_or_404(question_id)
    notice = refusal = ""
    try:
        ended = services.forecast_withdraw(user=request.user, question_id=question.pk)
    except ValidationError as error:
        refusal = " ".join(error.messages)
    else:
        notice = "Your forecast is withdrawn; your history is kept." if ended else ""
    if request.htmx:
        form = _forecast_form(question)
        status = 400 if refusal else 200
        return _render_question(
            request, question, form, timezone.now(), status=status, notice=notice, refusal=refusal
        )
    if refusal:
        messages.error(request, refusal)
    elif notice:
        messages.success(request, notice)
    return redirect("forecasts:question_detail", question_id=question.pk)


def source_detail(request: HttpRequest, source_key: str) -> HttpResponse:
    source = selectors.source_get(key=source_key)
    if source is None:
        raise Http404("No such source")
    return render(
        request,
        "forecasts/source_detail.html",
        {"source": source, "questions": source.questions.order_by("closes_at", "id")},
    )
