from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from crux.users import signed_in_user
from forecasts import lifecycle
from forecasts.models import (
    OPTION_LABEL_MAX,
    OPTIONS_MAX,
    OPTIONS_MIN,
    Forecast,
    Profile,
    Question,
    QuestionKind,
    Resolution,
    SourceDocument,
)
from forecasts.rules import (
    OUTCOME_FIELDS,
    PASSAGE_NOT_IN_SOURCE,
    outcome_changes_refused,
    outcome_value_iso,
    parse_outcome_value,
    passage_in_source,
    passages_broken_by,
    question_outcomes,
    question_reschedule,
    web_url,
)
from markets.models import Market

QUESTION_DATES = ("opens_at", "closes_at", "resolves_at")


class ForecastInline(admin.TabularInline):
    """Forecasts are history: visible beside their question, never edited by hand."""

    model = Forecast
    fields = ("user", "probability", "probabilities_shown", "starts_at", "ends_at", "rationale")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("starts_at", "id")
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="Probabilities")
    def probabilities_shown(self, forecast: Forecast) -> str:
        return probabilities_text(forecast)


def probabilities_text(forecast: Forecast) -> str:
    """A multiple-choice forecast's probabilities, in the order of its question's options
    ("-" on a binary forecast, whose probability of YES has its own column)."""
    if forecast.probabilities is None:
        return "-"
    return ", ".join(f"{p:g}" for p in forecast.probabilities)


class WebURLField(forms.URLField):
    """A source's address: http or https only, as the importer takes it."""

    default_validators = [web_url]
    default_error_messages = {"invalid": web_url.message}  # else the field's own wins

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("assume_scheme", "https")
        super().__init__(**kwargs)


class SourceDocumentForm(forms.ModelForm):
    class Meta:
        model = SourceDocument
        fields = ("key", "title", "author", "published_on", "url", "text")
        field_classes = {"url": WebURLField}

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if self.instance.pk is not None:
            broken = passages_broken_by(text, self.instance.questions.only("key", "passage"))
            if broken:
                raise ValidationError(
                    "The passages of these questions would no longer occur verbatim in the "
                    f"text: {', '.join(broken)}. Edit their passages to fit the new text first "
                    "(keep both in the text meanwhile), or import the source and its questions "
                    "together."
                )
        return text


@admin.register(SourceDocument)
class SourceDocumentAdmin(admin.ModelAdmin):
    form = SourceDocumentForm
    list_display = ("title", "author", "published_on", "key")
    search_fields = ("title", "author", "key")
    prepopulated_fields = {"key": ("title",)}


class OptionsField(forms.CharField):
    """A multiple-choice question's option labels as a text: one label per line, in order,
    each stripped; blank lines are skipped. A stored list is shown back one label per line."""

    widget = forms.Textarea(attrs={"rows": 6})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(str(label) for label in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


RANGE_ENDS = ("range_min", "range_max")
RANGE_HELP = (
    "Numeric: a number. Date: an ISO 8601 date or date-time in UTC (2027-06-30 is 00:00 UTC; "
    "2027-06-30T12:00Z). Empty on the other kinds. Fixed once the question opens, or has "
    "forecasts or a market."
)


class QuestionForm(forms.ModelForm):
    """The rules the importer and the API enforce: the passage occurs verbatim in its source;
    a resolved question keeps its dates, which its scores and payouts were computed from; a
    question's kind and what it takes (options, range, automatic outcome) are checked by
    ``question_outcomes``; and they are fixed once forecasts or trades may be spread over
    them."""

    options = OptionsField(
        required=False,
        help_text=f"Multiple choice: one label per line, in order ({OPTIONS_MIN} to "
        f"{OPTIONS_MAX}). Empty on the other kinds. Fixed once the question opens, or has "
        "forecasts or a market.",
    )
    # Text, parsed once the kind is known: a number, or a date question's ISO 8601 date.
    range_min = forms.CharField(required=False, label="Range: low end", help_text=RANGE_HELP)
    range_max = forms.CharField(
        required=False, label="Range: high end", help_text="As the low end, and above it."
    )
    auto_option = forms.CharField(
        required=False,
        label="Automatic option",
        max_length=OPTION_LABEL_MAX,
        help_text="Multiple choice, with the automatic outcome “An option”: the label of the "
        "option applied when the question falls due unresolved.",
    )

    class Meta:
        model = Question
        fields = (
            "key",
            "source",
            "title",
            "body",
            "resolution_criteria",
            "passage",
            *OUTCOME_FIELDS,
            *QUESTION_DATES,
            "auto_outcome",
            "auto_option",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        question = self.instance
        # The stored option index, shown as the label staff type.
        if question.auto_option is not None:
            self.initial["auto_option"] = question.auto_outcome_label
        # A date question's range, stored in epoch seconds, shown as staff type it.
        if question.kind == QuestionKind.DATE:
            for name in RANGE_ENDS:
                self.initial[name] = outcome_value_iso(getattr(question, name))

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        source, passage = cleaned.get("source"), cleaned.get("passage")
        if source is not None and passage and not passage_in_source(passage, source.text):
            self.add_error("passage", PASSAGE_NOT_IN_SOURCE)
        if self.instance.pk is not None and self.instance.resolution:
            for name in QUESTION_DATES:
                if name in cleaned and cleaned[name] != getattr(self.instance, name):
                    self.add_error(
                        name,
                        "This question is resolved: its scores and payouts were computed from "
                        "its dates. To change them, unresolve it first (on its resolution page).",
                    )
        # The form takes the automatic option by label; the column holds its index.
        label, cleaned["auto_option"] = cleaned.get("auto_option", ""), None
        kind = cleaned.get("kind")
        if kind is None:  # reported on the field; the rest depends on it
            cleaned.update(dict.fromkeys(RANGE_ENDS))
            return cleaned
        outcomes, problems = question_outcomes(
            kind=kind,
            options=cleaned.get("options", []),
            auto_outcome=cleaned.get("auto_outcome", ""),
            auto_option_label=label,
            range_min=cleaned.get("range_min"),
            range_max=cleaned.get("range_max"),
            open_lower_bound=cleaned.get("open_lower_bound", False),
            open_upper_bound=cleaned.get("open_upper_bound", False),
            log_scale=cleaned.get("log_scale", False),
            unit=cleaned.get("unit", ""),
        )
        for field, said in problems.items():
            if not self.has_error(field):  # else reported by the field already
                self.add_error(field, said)
        if outcomes is None:
            self._typed_range(kind)
            return cleaned
        cleaned.update(outcomes.columns())
        self._refuse_fixed_changes(outcomes.columns())
        return cleaned

    def _typed_range(self, kind: str) -> None:
        """The range as the columns take it, even on a form refused for something else (the
        model's own checks then run on it): a parsed value, or None. An end that cannot be
        parsed is reported, and the model leaves it alone."""
        for name in RANGE_ENDS:
            if name not in self.cleaned_data:
                continue
            raw = self.cleaned_data[name]
            if self.has_error(name) or not raw:
                self.cleaned_data[name] = None
            else:
                self.cleaned_data[name] = parse_outcome_value(raw, kind=kind, field=name)

    def _refuse_fixed_changes(self, wanted: dict[str, Any]) -> None:
        question = self.instance
        if question.pk is None or all(wanted[f] == getattr(question, f) for f in OUTCOME_FIELDS):
            return
        fixed_by = self._outcomes_fixed_by(question)
        if fixed_by is None:
            return
        refused = outcome_changes_refused(question, wanted, fixed_by=fixed_by)
        for field, said in refused.items():
            self.add_error(field, said)

    @staticmethod
    def _outcomes_fixed_by(question: Question) -> str | None:
        """Why the question's kind, options and range can no longer change (its forecasts and
        its market are spread over its outcomes), or None while they still may."""
        if question.opens_at <= timezone.now():
            return "the question has opened"
        if question.forecasts.exists():
            return "the question has forecasts"
        if Market.objects.filter(question=question).exists():
            return "the question has a market"
        return None


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    form = QuestionForm
    list_display = (
        "title",
        "kind",
        "opens_at",
        "closes_at",
        "resolves_at",
        "resolution",
        "auto_outcome",
    )
    list_filter = ("kind", "resolution", "auto_outcome", "source")
    search_fields = ("title", "body", "passage", "key")
    date_hierarchy = "closes_at"
    # Resolution goes through the service (scores, notifications): never edited as plain fields.
    readonly_fields = (
        "closed_at",
        "resolution",
        "resolved_at",
        "resolved_by",
        "resolution_note",
        "resolved_automatically",
        "resolution_page",
        "staff_reminded_at",
        "followups_done_at",
        "created_at",
        "updated_at",
    )
    inlines = [ForecastInline]
    actions = ["resolve_yes", "resolve_no", "annul", "unresolve"]
    fieldsets = (
        (None, {"fields": ("key", "source", "title", "body", "resolution_criteria", "passage")}),
        ("Outcomes", {"fields": OUTCOME_FIELDS}),
        (
            "Dates",
            {
                "fields": (
                    "opens_at",
                    "closes_at",
                    "resolves_at",
                    "closed_at",
                    "auto_outcome",
                    "auto_option",
                )
            },
        ),
        (
            "Resolution",
            {
                "fields": (
                    "resolution_page",
                    "resolution",
                    "resolved_at",
                    "resolved_by",
                    "resolution_note",
                    "resolved_automatically",
                )
            },
        ),
        (
            "Record",
            {"fields": ("staff_reminded_at", "followups_done_at", "created_at", "updated_at")},
        ),
    )

    def save_model(
        self, request: HttpRequest, obj: Question, form: forms.ModelForm, change: bool
    ) -> None:
        reopened = False
        if change and not obj.resolution:
            reopened = question_reschedule(
                obj,
                old_closes_at=form.initial["closes_at"],
                old_resolves_at=form.initial["resolves_at"],
                now=timezone.now(),
            )
        super().save_model(request, obj, form, change)
        if reopened:
            self.message_user(
                request,
                f"“{obj}” has reopened: forecasts and trades are taken again until "
                f"{obj.closes_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC.",
                messages.WARNING,
            )

    @admin.display(description="Resolve or unresolve")
    def resolution_page(self, obj: Question) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("forecasts:staff_resolve", args=[obj.pk])
        return format_html('<a href="{}">Open the resolution page</a>', url)

    def _resolve(self, request: HttpRequest, queryset: QuerySet[Question], outcome: str) -> None:
        done = 0
        for question in queryset:
            try:
                lifecycle.question_resolve(
                    question_id=question.pk,
                    resolution=outcome,
                    resolved_by=signed_in_user(request),
                )
                done += 1
            except ValidationError as error:
                self.message_user(
                    request, f"{question}: {' '.join(error.messages)}", messages.ERROR
                )
        if done:
            self.message_user(request, f"Resolved {done} question(s) as {outcome}.")

    @admin.action(description="Resolve selected questions YES (effective now)")
    def resolve_yes(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        self._resolve(request, queryset, Resolution.YES)

    @admin.action(description="Resolve selected questions NO (effective now)")
    def resolve_no(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        self._resolve(request, queryset, Resolution.NO)

    @admin.action(description="Annul selected questions")
    def annul(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        self._resolve(request, queryset, Resolution.ANNULLED)

    @admin.action(description="Unresolve selected questions…")
    def unresolve(
        self, request: HttpRequest, queryset: QuerySet[Question]
    ) -> TemplateResponse | None:
        """Asks first, as "delete" does: unresolving deletes scores and reverses payouts."""
        resolved = [q for q in queryset if q.resolution]
        if not resolved:
            self.message_user(request, "None of the selected questions is resolved.")
            return None
        if request.POST.get("post") != "yes":
            now = timezone.now()
            return TemplateResponse(
                request,
                "admin/forecasts/question/unresolve_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Unresolve: are you sure?",
                    "opts": self.model._meta,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "items": [
                        (q, lifecycle.question_unresolve_preview(question=q, now=now))
                        for q in resolved
                    ],
                },
            )
        for question in resolved:
            lifecycle.question_unresolve(question_id=question.pk)
        self.message_user(request, f"Unresolved {len(resolved)} question(s).")
        return None


@admin.register(Forecast)
class ForecastAdmin(admin.ModelAdmin):
    list_display = (
        "question",
        "user",
        "probability",
        "probabilities_shown",
        "starts_at",
        "ends_at",
    )
    list_filter = ("question",)
    search_fields = ("user__username", "question__title")
    list_select_related = ("question", "user")
    readonly_fields = (
        "question",
        "user",
        "probability",
        "probabilities_shown",
        "rationale",
        "starts_at",
        "ends_at",
    )

    @admin.display(description="Probabilities")
    def probabilities_shown(self, forecast: Forecast) -> str:
        return probabilities_text(forecast)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "notify_on_resolution")
    search_fields = ("user__username",)
