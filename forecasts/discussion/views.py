"""The question page's Discussion (``forecasts/_discussion.html``): comments, following, and the
rationales of a scored question.

Every write posts here. With htmx the answer is the Discussion alone, swapped in place: what
was done, or the refusal beside the field (status 400). Without JavaScript it is redirected
back to the question page; a refused comment is kept in the session for it, so the form shows
the error once, filled in as it was left. Editing without JavaScript has a page of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from crux.formatting import fixed
from crux.markdown import render_markdown
from forecasts import selectors as forecast_selectors
from forecasts.discussion import selectors, services
from forecasts.discussion.forms import KEPT_MAX, CommentForm
from forecasts.discussion.models import Comment
from forecasts.distribution_views import distribution
from forecasts.models import Forecast, Question

TEMPLATE = "forecasts/_discussion.html"


class HtmxRequest(HttpRequest):
    """A request through django-htmx's middleware: ``htmx`` is truthy for an htmx request."""

    htmx: HtmxDetails


# The edit form's field ids, apart from the new comment's form on the same page.
EDIT_ID = "id_edit_%s"


@dataclass(frozen=True)
class CommentRow:
    """A comment as the Discussion shows it to this viewer."""

    comment: Comment
    html: SafeString  # its text, rendered; empty when deleted, or hidden and not staff's to see
    mine: bool
    edit_form: CommentForm | None = None  # while its author edits it in place


@dataclass(frozen=True)
class Rationale:
    forecast: Forecast
    value: str  # the forecast it came with, as words


@dataclass(frozen=True)
class Discussion:
    """Everything ``forecasts/_discussion.html`` shows."""

    question: Question
    comments: list[CommentRow]
    rationales: list[Rationale]
    following: bool
    moderator: bool
    form: CommentForm
    notice: str = ""


def _forecast_value(question: Question, forecast: Forecast) -> str:
    if forecast.probability is not None:
        return f"{fixed(forecast.probability * 100, 1)}% YES"
    if forecast.cdf is not None:
        summary = distribution(question, forecast.cdf)
        return f"median {summary.median}, 80% between {summary.low} and {summary.high}"
    return ", ".join(
        f"{label} {fixed(p * 100, 1)}%"
        for label, p in zip(question.option_labels, forecast.pmf, strict=False)
    )


def discussion_of(
    request: HttpRequest,
    question: Question,
    *,
    form: CommentForm | None = None,
    editing: tuple[int, CommentForm] | None = None,
    notice: str = "",
) -> Discussion:
    """The Discussion of ``question`` as ``request.user`` sees it; ``form`` is the new-comment
    form (a refusal kept from the last post if none is given), ``editing`` a comment's id and
    the form that edits it in place."""
    user = request.user
    moderator = bool(user.is_authenticated and user.is_staff)
    if form is None:
        form = _kept_form(request, question.pk) or CommentForm()
    rows = []
    for comment in selectors.question_comments(question_id=question.pk):
        shown = not comment.is_deleted and (moderator or not comment.is_hidden)
        edit_form = editing[1] if editing is not None and editing[0] == comment.pk else None
        rows.append(
            CommentRow(
                comment=comment,
                html=render_markdown(comment.body) if shown else SafeString(""),
                mine=user.is_authenticated and comment.author_id == user.pk,
                edit_form=edit_form,
            )
        )
    return Discussion(
        question=question,
        comments=rows,
        rationales=[
            Rationale(forecast=f, value=_forecast_value(question, f))
            for f in selectors.question_rationales(question=question)
        ],
        following=selectors.user_follows(user=user, question_id=question.pk),
        moderator=moderator,
        form=form,
        notice=notice,
    )


def discussion_context(request: HttpRequest, discussion: Discussion) -> dict[str, Any]:
    """What the template needs beside the Discussion (for the template tag as for the views)."""
    return {
        "discussion": discussion,
        "question": discussion.question,
        "request": request,
        "user": request.user,
    }


# --- the refusal kept for the page, without JavaScript ------------------------------------------


def _session_key(question_id: int) -> str:
    return f"discussion-refused-{question_id}"


def _keep_refusal(request: HttpRequest, question_id: int, form: CommentForm) -> None:
    body = str(form.data.get("body", ""))[:KEPT_MAX]
    request.session[_session_key(question_id)] = {
        "body": body,
        "errors": [str(e) for e in form.errors.get("body", [])]
        + [str(e) for e in form.non_field_errors()],
    }


def _kept_form(request: HttpRequest, question_id: int) -> CommentForm | None:
    session = getattr(request, "session", None)
    kept = session.pop(_session_key(question_id), None) if session is not None else None
    if not isinstance(kept, dict):
        return None
    form = CommentForm({"body": kept.get("body", "")})
    form.full_clean()
    for error in kept.get("errors", []):
        if error not in form.errors.get("body", []):
            form.add_error("body", error)
    return form


# --- answers ----------------------------------------------------------------------------------


def _question_or_404(question_id: int) -> Question:
    try:
        return forecast_selectors.question_get(question_id=question_id)
    except Question.DoesNotExist:
        raise Http404("No such question") from None


def _comment_or_404(comment_id: int) -> Comment:
    try:
        return selectors.comment_get(comment_id=comment_id)
    except Comment.DoesNotExist:
        raise Http404("No such comment") from None


def _question_path(question_id: int, anchor: str = "discussion") -> str:
    return f"{reverse('forecasts:question_detail', args=[question_id])}#{anchor}"


def _signed_in(request: HtmxRequest, question_id: int) -> User | HttpResponse:
    """The signed-in user, or the answer that sends an anonymous one to log in."""
    user = request.user
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        login = f"{reverse('login')}?next={_question_path(question_id)}"
        return HttpResponseClientRedirect(login) if request.htmx else redirect(login)
    return user


def _fragment(
    request: HtmxRequest,
    question: Question,
    *,
    status: int = 200,
    **kwargs: Any,
) -> HttpResponse:
    discussion = discussion_of(request, question, **kwargs)
    return render(request, TEMPLATE, discussion_context(request, discussion), status=status)


def _done(request: HtmxRequest, question: Question, notice: str, anchor: str) -> HttpResponse:
    if request.htmx:
        return _fragment(request, question, notice=notice)
    messages.success(request, notice)
    return redirect(_question_path(question.pk, anchor))


def _refusal_errors(form: CommentForm, error: ValidationError) -> None:
    for field, texts in error.message_dict.items():
        form.add_error("body" if field == "body" else None, texts)


@require_GET
def discussion(request: HtmxRequest, question_id: int) -> HttpResponse:
    """The Discussion alone (htmx: "Cancel" while editing); the question page otherwise."""
    question = _question_or_404(question_id)
    if request.htmx:
        return _fragment(request, question)
    return redirect(_question_path(question.pk))


@require_POST
def comment_post(request: HtmxRequest, question_id: int) -> HttpResponse:
    question = _question_or_404(question_id)
    user = _signed_in(request, question.pk)
    if isinstance(user, HttpResponse):
        return user
    form = CommentForm(request.POST)
    comment = None
    if form.is_valid():
        try:
            comment = services.comment_post(
                user=user, question_id=question.pk, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            _refusal_errors(form, error)
    if comment is not None:
        return _done(request, question, "Comment posted.", f"comment-{comment.pk}")
    if request.htmx:
        return _fragment(request, question, form=form, status=400)
    _keep_refusal(request, question.pk, form)
    return redirect(_question_path(question.pk, "comment-form"))


@require_http_methods(["GET", "POST"])
def comment_edit(request: HtmxRequest, comment_id: int) -> HttpResponse:
    """The author's edit: in place with htmx, else on a page of its own."""
    comment = _comment_or_404(comment_id)
    user = _signed_in(request, comment.question_id)
    if isinstance(user, HttpResponse):
        return user
    if comment.author_id != user.pk:
        raise PermissionDenied("Only its author may edit a comment.")
    if request.method == "GET":
        form = CommentForm(initial={"body": comment.body}, auto_id=EDIT_ID)
    else:
        form = CommentForm(request.POST, auto_id=EDIT_ID)
        if form.is_valid():
            try:
                services.comment_edit(
                    user=user, comment_id=comment.pk, body=form.cleaned_data["body"]
                )
            except ValidationError as error:
                _refusal_errors(form, error)
            else:
                return _done(request, comment.question, "Comment saved.", f"comment-{comment.pk}")
    status = 400 if form.errors else 200
    if request.htmx:
        return _fragment(request, comment.question, editing=(comment.pk, form), status=status)
    return render(
        request,
        "forecasts/comment_edit.html",
        {"comment": comment, "question": comment.question, "form": form},
        status=status,
    )


@require_POST
def comment_delete(request: HtmxRequest, comment_id: int) -> HttpResponse:
    comment = _comment_or_404(comment_id)
    user = _signed_in(request, comment.question_id)
    if isinstance(user, HttpResponse):
        return user
    services.comment_delete(user=user, comment_id=comment.pk)
    return _done(request, comment.question, "Comment deleted.", f"comment-{comment.pk}")


@require_POST
def comment_hide(request: HtmxRequest, comment_id: int) -> HttpResponse:
    comment = _comment_or_404(comment_id)
    user = _signed_in(request, comment.question_id)
    if isinstance(user, HttpResponse):
        return user
    services.comment_hide(user=user, comment_id=comment.pk)
    return _done(request, comment.question, "Comment hidden.", f"comment-{comment.pk}")


@require_POST
def comment_unhide(request: HtmxRequest, comment_id: int) -> HttpResponse:
    comment = _comment_or_404(comment_id)
    user = _signed_in(request, comment.question_id)
    if isinstance(user, HttpResponse):
        return user
    services.comment_unhide(user=user, comment_id=comment.pk)
    return _done(request, comment.question, "Comment shown again.", f"comment-{comment.pk}")


@require_POST
def question_follow(request: HtmxRequest, question_id: int) -> HttpResponse:
    question = _question_or_404(question_id)
    user = _signed_in(request, question.pk)
    if isinstance(user, HttpResponse):
        return user
    services.question_follow(user=user, question_id=question.pk)
    notice = "You follow this question: each new comment is e-mailed to you."
    if not user.email:
        notice += " Add an e-mail address in your settings to receive them."
    return _done(request, question, notice, "discussion")


@require_POST
def question_unfollow(request: HtmxRequest, question_id: int) -> HttpResponse:
    question = _question_or_404(question_id)
    user = _signed_in(request, question.pk)
    if isinstance(user, HttpResponse):
        return user
    services.question_unfollow(user=user, question_id=question.pk)
    return _done(request, question, "You no longer follow this question.", "discussion")
