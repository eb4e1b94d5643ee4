"""Web pages: thin views that parse input once and call services and selectors."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from crux.users import AuthenticatedHttpRequest
from forecasts import selectors, services
from forecasts.forms import ForecastForm, SettingsForm, SignupForm, TokenForm
from forecasts.maths import score_types
from forecasts.models import ApiToken, Question, QuestionStatus
from forecasts.scores import selectors as score_selectors
from markets.panel import panel_context


def question_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    status = request.GET.get("status", "open")
    if status not in selectors.LIST_FILTERS:
        status = "open"
    search = request.GET.get("q", "")[:200]
    # Each question's market price beside its crowd: one LEFT JOIN, priced in Python.
    questions = (
        selectors.question_list(now=now, status=status, search=search)
        .select_related("market")
        .only(*selectors.LIST_FIELDS, *(f"market__{f}" for f in ("b", "q_yes", "q_no", "status")))
    )
    counts = selectors.question_status_counts(now=now)
    page = Paginator(questions, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "forecasts/question_list.html",
        {
            "page": page,
            "rows": [
                (q, q.status(now), selectors.question_public_crowd_median(q))
                for q in page.object_list
            ],
            "status": status,
            "search": search,
            "filters": [(key, label, counts[key]) for key, label in selectors.LIST_FILTERS.items()],
        },
    )


def _question_or_404(question_id: int) -> Question:
    try:
        return selectors.question_get(question_id=question_id)
    except Question.DoesNotExist:
        raise Http404("No such question") from None


@require_http_methods(["GET", "POST"])
def question_detail(request: HttpRequest, question_id: int) -> HttpResponse:
    now = timezone.now()
    question = _question_or_404(question_id)
    form = ForecastForm()
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('login')}?next={request.path}")
        form = ForecastForm(request.POST)
        if form.is_valid():
            try:
                forecast = services.forecast_submit(
                    user=request.user,
                    question_id=question.pk,
                    probability=form.cleaned_data["probability"],
                    rationale=form.cleaned_data["rationale"],
                )
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                messages.success(request, f"Forecast saved: {forecast.percent:.1f}% YES.")
                return redirect("forecasts:question_detail", question_id=question.pk)
    return _render_question(request, question, form, now, status=400 if form.errors else 200)


def _add_service_errors(form: ForecastForm, error: ValidationError) -> None:
    for field, field_errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, field_errors)


def _render_question(
    request: HttpRequest,
    question: Question,
    form: ForecastForm,
    now: dt.datetime,
    *,
    status: int,
) -> HttpResponse:
    history = standing = None
    if request.user.is_authenticated:
        history = list(selectors.forecast_history(question=question, user=request.user))
        standing = next((f for f in history if f.is_standing), None)
        if standing is not None and not form.is_bound:
            form = ForecastForm(initial={"probability": f"{standing.probability:g}"})
    return render(
        request,
        "forecasts/question_detail.html",
        {
            "question": question,
            "status": question.status(now),
            "statuses": QuestionStatus,
            "is_open": question.is_open_for_forecasts(now),
            "crowd": selectors.question_crowd_now(question=question, now=now),
            "crowd_min_forecasters": settings.CROWD_MIN_FORECASTERS,
            # Drawn whenever there is a past to draw, even if nobody forecasts now.
            "has_history": question.aggregates.exists(),
            "form": form,
            "history": history,
            "standing": standing,
            **panel_context(request, question, now=now),
        },
        status=status,
    )


@login_required
@require_POST
def forecast_withdraw(request: AuthenticatedHttpRequest, question_id: int) -> HttpResponse:
    question = _question_or_404(question_id)
    try:
        ended = services.forecast_withdraw(user=request.user, question_id=question.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if ended:
            messages.success(request, "Your forecast is withdrawn; your history is kept.")
    return redirect("forecasts:question_detail", question_id=question.pk)


@login_required
@require_http_methods(["GET", "POST"])
def user_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    profile = selectors.profile_get(user=request.user)
    initial = {"email": request.user.email, "notify_on_resolution": profile.notify_on_resolution}
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.profile_update(user=request.user, **form.cleaned_data)
        messages.success(request, "Settings saved.")
        return redirect("forecasts:settings")
    return _render_settings(request, form=form, token_form=TokenForm())


def _render_settings(
    request: AuthenticatedHttpRequest,
    *,
    form: SettingsForm | None = None,
    token_form: TokenForm,
    new_secret: str | None = None,
    status: int = 200,
) -> HttpResponse:
    if form is None:
        profile = selectors.profile_get(user=request.user)
        form = SettingsForm(
            initial={
                "email": request.user.email,
                "notify_on_resolution": profile.notify_on_resolution,
            }
        )
    response = render(
        request,
        "forecasts/settings.html",
        {
            "form": form,
            "token_form": token_form,
            "tokens": selectors.user_tokens(user=request.user),
            "new_secret": new_secret,
        },
        status=status,
    )
    if new_secret:  # no cache on the way (nor the browser's history) keeps a copy
        add_never_cache_headers(response)
    return response


@login_required
@require_POST
def token_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    token_form = TokenForm(request.POST)
    if token_form.is_valid():
        try:
            _, secret = services.api_token_create(
                user=request.user, name=token_form.cleaned_data["name"]
            )
        except ValidationError as error:
            token_form.add_error("name", error.message_dict.get("name", error.messages))
        else:
            # Rendered, not redirected: the secret is shown this once and stored nowhere.
            return _render_settings(request, token_form=TokenForm(), new_secret=secret)
    return _render_settings(request, token_form=token_form, status=400)


@login_required
@require_POST
def token_revoke(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    try:
        token = services.api_token_revoke(user=request.user, token_id=token_id)
    except ApiToken.DoesNotExist:
        raise Http404("No such token") from None
    messages.success(request, f"Revoked the token “{token.name}”.")
    return redirect("forecasts:settings")


@login_required
def my_forecasts(request: AuthenticatedHttpRequest) -> HttpResponse:
    now = timezone.now()
    summaries = selectors.user_question_summaries(user=request.user)
    return render(
        request,
        "forecasts/my_forecasts.html",
        {"rows": [(s, s.question.status(now)) for s in summaries]},
    )


def source_detail(request: HttpRequest, source_key: str) -> HttpResponse:
    source = selectors.source_get(key=source_key)
    if source is None:
        raise Http404("No such source")
    return render(
        request,
        "forecasts/source_detail.html",
        {"source": source, "questions": source.questions.order_by("closes_at", "id")},
    )


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("forecasts:question_list")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}. Pick a question and forecast.")
        target = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = reverse("forecasts:question_list")
        return redirect(target)
    return render(request, "registration/signup.html", {"form": form})


def _parse_day(raw: str | None) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(raw or "")
    except ValueError:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def leaderboard(request: HttpRequest) -> HttpResponse:
    score_type = score_types.BY_NAME.get(request.GET.get("score", ""), score_types.PEER)
    since = _parse_day(request.GET.get("since"))
    until = _parse_day(request.GET.get("until"))
    practice = request.GET.get("practice") == "1"
    board = score_selectors.leaderboard(
        score_type=score_type.name, since=since, until=until, include_practice=practice
    )
    return render(
        request,
        "forecasts/leaderboard.html",
        {
            "board": board,
            "practice": practice,
            "score_types": score_types.CHOICES,
            "since": since,
            "until": until,
            "prior_questions": score_selectors.PRIOR_QUESTIONS,
            "uninformed": score_type.uninformed,
        },
    )


def track_record(request: HttpRequest, username: str) -> HttpResponse:
    user = get_object_or_404(get_user_model(), username=username)
    now = timezone.now()
    record = score_selectors.user_track_record(user=user)
    mine, crowd = score_selectors.user_calibration(user=user, now=now)
    market = score_selectors.user_market_calibration(user=user, now=now)
    return render(
        request,
        "forecasts/track_record.html",
        {
            "subject": user,
            "record": record,
            "calibration": mine,
            "crowd_calibration": crowd,
            "market_calibration": market,
            "calibration_waiting": score_selectors.user_calibration_waiting(user=user, now=now),
            "windows": list(zip(mine.window_labels, mine.windows, strict=False)),
            "score_types": score_types.TRACK_RECORD,
            "min_n": score_selectors.CALIBRATION_MIN_N,
        },
    )
