"""A forecaster's own pages (settings and API tokens, their forecasts): thin views
that parse input once and call services and selectors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from crux.users import AuthenticatedHttpRequest
from forecasts import selectors, services
from forecasts.forms import SettingsForm, TokenForm
from forecasts.models import ApiToken
from forecasts.views import _lead


@login_required
@require_http_methods(["GET", "POST"])
def user_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    profile = selectors.profile_get(user=request.user)
    initial = {
        "email": request.user.email,
        "notify_on_resolution": profile.notify_on_resolution,
        "share_rationales": profile.share_rationales,
    }
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
                "share_rationales": profile.share_rationales,
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
    rows = [
        (
            s,
            s.question.status(now),
            _lead(s.question.option_labels, s.latest.pmf)
            if s.question.is_multiple_choice
            else None,
        )
        for s in summaries
    ]
    return render(request, "forecasts/my_forecasts.html", {"rows": rows})
