"""Markets in the admin: money moves only through the services, so every money row is read-only.

A market is opened by the service (``market_create``: it posts the maker's subsidy), from the
admin's own "add" page; play money is granted by the service (``account_grant``) from an action
on accounts. Trades and ledger entries are history: listed, never added, changed or deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from markets.forms import GrantForm, MarketOpenForm
from markets.models import Account, LedgerEntry, Market, Trade
from markets.services import account_grant, market_create


class ReadOnlyAdmin(admin.ModelAdmin):
    """History: visible to staff, never written through the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Market)
class MarketAdmin(admin.ModelAdmin):
    list_display = ("question", "b", "price", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("question__title", "question__key")
    list_select_related = ("question",)
    fields = (
        "question",
        "b",
        "price",
        "q",
        "maker_balance",
        "status",
        "created_at",
        "pages",
    )
    readonly_fields = fields

    @admin.display(description="YES price (or each outcome's)")
    def price(self, obj: Market) -> str:
        if obj.price_yes is not None:
            return f"{obj.price_yes * 100:.1f}%"
        return " · ".join(f"{obj.outcome_name(i)} {p * 100:.1f}%" for i, _, p in obj.outcomes())

    @admin.display(description="On the site")
    def pages(self, obj: Market) -> str:
        return format_html(
            '<a href="{}">Question page</a> · <a href="{}">Price history</a>',
            reverse("forecasts:question_detail", args=[obj.question_id]),
            reverse("markets:market_detail", args=[obj.pk]),
        )

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """Open a market through ``market_create`` (never a bare row: the subsidy is money)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {"question": request.GET.get("question"), "b": _default_liquidity()}
        form = MarketOpenForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                question, b = form.cleaned_data["question"], form.cleaned_data["b"]
                market = market_create(question_id=question.pk, b=b)
            except ValidationError as error:
                for name, errors in error.message_dict.items():
                    form.add_error(name if name in form.fields else "question", errors)
            else:
                self.log_addition(request, market, [{"added": {}}])
                self.message_user(request, f"Opened a market with b = {market.b} on “{question}”.")
                return redirect("admin:markets_market_change", market.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Open a market",
            "opts": self.opts,
            "form": form,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/markets/market/open.html", context)


def _default_liquidity() -> str:
    return str(getattr(settings, "MARKET_DEFAULT_LIQUIDITY", 100))


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("user", "balance", "created_at")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    fields = ("user", "balance", "created_at")
    readonly_fields = fields
    actions = ["grant"]

    def has_grant_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("markets.change_account")

    @admin.action(description="Grant play money to the selected accounts", permissions=["grant"])
    def grant(self, request: HttpRequest, queryset: QuerySet[Account]) -> HttpResponse | None:
        """Asks for the amount on a page of its own, then grants it through ``account_grant``."""
        form = GrantForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            accounts = list(queryset.select_related("user"))
            try:
                with transaction.atomic():  # all the selected accounts, or none
                    for account in accounts:
                        account_grant(user=account.user, amount=form.cleaned_data["amount"])
            except ValidationError as error:
                form.add_error("amount", error.message_dict.get("amount", error.messages))
            else:
                amount = form.cleaned_data["amount"].normalize()
                self.message_user(request, f"Granted {amount:f} to {len(accounts)} account(s).")
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Grant play money",
            "opts": self.opts,
            "form": form,
            "accounts": queryset.select_related("user"),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/markets/account/grant.html", context)


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "market", "account", "outcome", "shares", "cost", "price_after")
    list_filter = ("outcome",)
    search_fields = ("account__user__username", "market__question__title")
    list_select_related = ("market", "account")
    date_hierarchy = "created_at"


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "kind", "amount", "account", "market", "trade")
    list_filter = ("kind",)
    search_fields = ("account__user__username",)
    list_select_related = ("account", "market", "trade")
    date_hierarchy = "created_at"
