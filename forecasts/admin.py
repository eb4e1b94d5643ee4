from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from forecasts.models import Forecast, Question, SourceDocument


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
    readonly_fields = ("closed_at", "resolved_by", "created_at", "updated_at")
    inlines = [ForecastInline]
    fieldsets = (
        (None, {"fields": ("key", "source", "title", "body", "resolution_criteria", "passage")}),
        (
            "Dates",
            {"fields": ("opens_at", "closes_at", "resolves_at", "closed_at", "auto_outcome")},
        ),
        (
            "Resolution",
            {"fields": ("resolution", "resolved_at", "resolved_by", "resolution_note")},
        ),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )


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
