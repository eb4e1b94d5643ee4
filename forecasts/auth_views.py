"""Log-in and password views around allauth's and the admin's: one log-in attempt at a time
for each (username, client address) pair, and the admin's two password pages (your own, and another
user's) with forms that revoke the API tokens (the admin builds these forms in code, so the
pages are served here, before the admin's own URLs)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.views import PasswordChangeView
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse

from crux.clients import client_address
from forecasts.auth_forms import (
    TokenRevokingAdminPasswordChangeForm,
    TokenRevokingAdminSetPasswordForm,
    normalised_login,
)


def one_attempt_at_a_time(
    view: Callable[..., HttpResponseBase], *, field: str
) -> Callable[..., HttpResponseBase]:
    """Run a log-in POST in a transaction that holds a lock on its (normalised username,
    client address) pair, the username read from the form's ``field`` as django-axes reads it
    (``login`` on the site's form, ``username`` on the admin's).

    django-axes checks the pair's failures before the password and counts a failure after;
    without the lock, thirty attempts sent at once would all pass the check before the first
    failure was counted, and thirty passwords would be tried. In turn, each attempt sees every
    failure counted before it, so no more passwords are tried than the limit allows. (SQLite
    needs no lock of its own: Crux opens its transactions with BEGIN IMMEDIATE, one writer at a
    time.)
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        pair = f"{normalised_login(request.POST.get(field))}\0{client_address(request)}"
        with transaction.atomic():
            if connection.vendor == "postgresql":
                digest = hashlib.sha256(b"crux-login\0" + pair.encode()).digest()
                key = int.from_bytes(digest[:8], "big", signed=True)
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
            return view(request, *args, **kwargs)

    return wrapped


def admin_password_change(request: HttpRequest) -> HttpResponseBase:
    """As ``AdminSite.password_change``, with ``TokenRevokingAdminPasswordChangeForm``."""
    site = admin.site
    request.current_app = site.name
    view = PasswordChangeView.as_view(
        form_class=TokenRevokingAdminPasswordChangeForm,
        success_url=reverse("admin:password_change_done", current_app=site.name),
        extra_context=site.each_context(request),
        template_name=site.password_change_template or "registration/password_change_form.html",
    )
    return view(request)


@functools.cache
def _token_revoking_user_admin() -> UserAdmin:
    """The registered user admin (built once), its "set password" form the revoking one."""
    user_model = get_user_model()
    registered = type(admin.site.get_model_admin(user_model))
    revoking = type(
        "TokenRevokingUserAdmin",
        (registered,),
        {"change_password_form": TokenRevokingAdminSetPasswordForm},
    )
    return revoking(user_model, admin.site)


def admin_user_password_change(request: HttpRequest, id: str) -> HttpResponse:
    """The admin's "set password" page for a user, as ``UserAdmin.user_change_password``, with
    ``TokenRevokingAdminSetPasswordForm``."""
    return _token_revoking_user_admin().user_change_password(request, id)
