from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from forecasts import resolution
from forecasts.models import Forecast, Profile, Question, Resolution, SourceDocument


class ForecastInline(admin.TabularInline):
    """Forecasts are history: visible beside their question, never edited by hand."""

    model = Forecast
    fields = ("user", "probability", "starts_at", "ends_at", "rationale")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("starts_at", "id")
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SourceDocument)
class SourceDocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "author", "published_on", "key")
    search_fields = ("title", "author", "key")
    prepopulated_fields = {"key": ("title",)}


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("title", "opens_at", "closes_at", "resolves_at", "resolution", "auto_outcome")
    list_filter = ("resolution", "auto_outcome", "source")
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
        (
            "Dates",
            {"fields": ("opens_at", "closes_at", "resolves_at", "closed_at", "auto_outcome")},
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
                resolution.question_resolve(
                    question_id=question.pk, resolution=outcome, resolved_by=request.user
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

    @admin.action(description="Unresolve selected questions")
    def unresolve(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        for question in queryset:
            resolution.question_unresolve(question_id=question.pk)
        self.message_user(request, f"Unresolved {queryset.count()} question(s).")


@admin.register(Forecast)
class ForecastAdmin(admin.ModelAdmin):
    list_display = ("question", "user", "probability", "starts_at", "ends_at")
    list_filter = ("question",)
    search_fields = ("user__username", "question__title")
    list_select_related = ("question", "user")
    readonly_fields = ("question", "user", "probability", "rationale", "starts_at", "ends_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "notify_on_resolution")
    search_fields = ("user__username",)
