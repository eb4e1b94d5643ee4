"""Staff pages: what is due, and resolving or unresolving a question."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from crux.users import signed_in_user
from forecasts import lifecycle, selectors
from forecasts.models import Question, QuestionKind, Resolution, outcome_value_text
from forecasts.rules import parse_outcome_value
from forecasts.views import HtmxHttpRequest, _question_or_404


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous: to the login page. Signed in but not staff: 403, and nothing happens."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise PermissionDenied("Only staff can resolve questions.")
        return view(request, *args, **kwargs)

    return wrapped


# A multiple-choice question's options are offered as "option-<index>", beside the outcomes
# every question takes.
OPTION_PREFIX = "option-"
BINARY_OUTCOMES = (Resolution.YES, Resolution.NO, Resolution.ANNULLED, Resolution.AMBIGUOUS)
NO_OPTION_OUTCOMES = (Resolution.ANNULLED, Resolution.AMBIGUOUS)


class ResolutionForm(forms.Form):
    """The outcomes the question's kind takes, a radio button (and its label) each: YES and NO
    for a binary question, its options for a multiple-choice one, a value (typed in ``value``)
    or a bound passed, where it is open, for a numeric or date one; annulled and ambiguous."""

    resolution = forms.ChoiceField(widget=forms.RadioSelect)
    value = forms.CharField(required=False)
    effective_at = forms.DateTimeField(
        label="Effective time (UTC)",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="When the outcome became known. Leave empty for now. An earlier time than "
        "the scheduled close ends scoring there.",
    )
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea({"rows": 3}))

    def __init__(self, *args: Any, question: Question, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.question = question
        field = self.fields["resolution"]
        assert isinstance(field, forms.ChoiceField)
        if question.is_multiple_choice:
            options = [(f"{OPTION_PREFIX}{i}", label) for i, label in enumerate(question.options)]
            field.choices = options + [(r.value, r.label) for r in NO_OPTION_OUTCOMES]
        elif question.is_continuous:
            field.choices = self._continuous_outcomes(question)
        else:
            field.choices = [(r.value, r.label) for r in BINARY_OUTCOMES]
        if not question.is_continuous:
            del self.fields["value"]
        elif question.kind == QuestionKind.DATE:
            self.fields["value"].label = "The date (UTC)"
            self.fields["value"].widget = forms.DateInput(attrs={"type": "date"})
            self.fields["value"].help_text = "With “A value”: the day it happened."
        else:
            unit = f" ({question.unit})" if question.unit else ""
            self.fields["value"].label = f"The value{unit}"
            self.fields["value"].widget = forms.NumberInput(attrs={"step": "any"})
            self.fields["value"].help_text = "With “A value”: what happened."

    @staticmethod
    def _continuous_outcomes(question: Question) -> list[tuple[str, str]]:
        """A value; below or above the range where that bound is open; no outcome."""
        assert question.range_min is not None and question.range_max is not None
        shown = {
            name: outcome_value_text(kind=question.kind, value=value, unit=question.unit)
            for name, value in (("low", question.range_min), ("high", question.range_max))
        }
        choices = [(Resolution.VALUE.value, f"A value (from {shown['low']} to {shown['high']})")]
        if question.open_lower_bound:
            choices.append((Resolution.BELOW.value, f"Below {shown['low']} (below the range)"))
        if question.open_upper_bound:
            choices.append((Resolution.ABOVE.value, f"Above {shown['high']} (above the range)"))
        return choices + [(r.value, r.label) for r in NO_OPTION_OUTCOMES]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "value" not in self.fields:
            return cleaned
        raw = cleaned.get("value", "").strip()
        if cleaned.get("resolution") != Resolution.VALUE:
            if raw:
                self.add_error(
                    "value", "Only the outcome “A value” takes one: choose it, or leave this empty."
                )
            cleaned["value"] = None
        elif not raw:
            self.add_error("value", "Give the value that happened.")
        else:
            try:
                cleaned["value"] = parse_outcome_value(raw, kind=self.question.kind)
            except ValidationError as error:
                self.add_error("value", error.message_dict["value"])
        return cleaned

    def outcome(self) -> tuple[str, int | None, float | None]:
        """The chosen resolution, the index of an option and a value (``question_resolve``'s)."""
        value: str = self.cleaned_data["resolution"]
        if value.startswith(OPTION_PREFIX):
            return Resolution.OPTION, int(value.removeprefix(OPTION_PREFIX)), None
        return value, None, self.cleaned_data.get("value")

    def clean_effective_at(self) -> dt.datetime | None:
        value = self.cleaned_data.get("effective_at")
        if value is not None and timezone.is_naive(value):
            value = value.replace(tzinfo=dt.UTC)
        return value


@staff_required
def due(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "forecasts/staff_due.html",
        {
            "awaiting": selectors.question_list(now=now, status="awaiting"),
            "closed": selectors.question_list(now=now, status="closed"),
            "resolved": selectors.question_list(now=now, status="resolved")[:20],
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def resolve(request: HtmxHttpRequest, question_id: int) -> HttpResponse:
    """The resolution form. Without JavaScript a resolution is redirected to the question; with
    htmx the answer is the page's resolution part in place (``_resolution.html``): what was
    resolved, or the form with its errors beside the fields (status 400)."""
    question = _question_or_404(question_id)
    form = ResolutionForm(request.POST or None, question=question)
    notice = ""
    if request.method == "POST" and form.is_valid():
        resolution, option, value = form.outcome()
        try:
            resolved = lifecycle.question_resolve(
                question_id=question.pk,
                resolution=resolution,
                option=option,
                value=value,
                resolved_by=signed_in_user(request),
                effective_at=form.cleaned_data["effective_at"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                # The form offers the option among the outcomes: its errors show there.
                field = "resolution" if field == "option" else field
                form.add_error(field if field in form.fields else None, errors)
        else:
            if not (question.is_multiple_choice or question.is_continuous):
                notice = f"Resolved {resolution.upper()}."
            else:
                notice = f"Resolved: {resolved.resolution_label}."
            if not request.htmx:
                messages.success(request, notice)
                return redirect("forecasts:question_detail", question_id=question.pk)
            question = resolved
    return render(
        request,
        "forecasts/_resolution.html" if request.htmx else "forecasts/staff_resolve.html",
        {"question": question, "form": form, "now": timezone.now(), "notice": notice},
        status=400 if form.errors else 200,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def unresolve(request: HttpRequest, question_id: int) -> HttpResponse:
    """GET: what unresolving would delete and reverse, with a button to confirm; POST: do it.

    Unresolving deletes scores and takes payouts back, so it is never one click.
    """
    question: Question = _question_or_404(question_id)
    if not question.resolution:
        messages.info(request, "This question is not resolved: there is nothing to unresolve.")
        return redirect("forecasts:staff_resolve", question_id=question.pk)
    if request.method == "POST":
        lifecycle.question_unresolve(question_id=question.pk)
        messages.success(request, "Unresolved: its scores are removed and its payouts reversed.")
        return redirect("forecasts:staff_resolve", question_id=question.pk)
    now = timezone.now()
    return render(
        request,
        "forecasts/staff_unresolve.html",
        {
            "question": question,
            "preview": lifecycle.question_unresolve_preview(question=question, now=now),
        },
    )
