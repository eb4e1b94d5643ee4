"""Log-in and password plumbing: what the log-in throttle (django-axes) keys on and shows when
it refuses, password forms that revoke the API tokens, and the password-reset throttle."""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.auth.forms import AdminPasswordChangeForm as AdminSetPasswordForm
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crux.cache import count_hit
from crux.clients import client_address
from forecasts.services import api_tokens_revoke_all

logger = logging.getLogger(__name__)

# Password-reset e-mails: at most this many an hour for one address, and requested by one client.
RESET_WINDOW_SECONDS = 3600
RESETS_PER_EMAIL = 3
RESETS_PER_CLIENT = 10


def login_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The username the log-in throttle counts under: NFKC-normalised and case-folded, so that
    a look-alike that logs in to the same account (Django normalises with NFKC) shares its
    counter. (Case-folding joins "Ada" and "ada", which only makes the throttle stricter.)"""
    if credentials:
        raw = credentials.get("username")
    else:
        raw = request.POST.get("username") if request is not None else None
    folded = unicodedata.normalize("NFKC", str(raw or "")).casefold()
    return folded.replace("\0", "")[:255]  # the stored column's size; NUL is no text


def lockout_message() -> str:
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    return (
        "Too many failed log-ins for this account from your address. "
        f"Try again in {minutes} minutes."
    )


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The log-in page again, saying why it refused (429: the client should slow down)."""
    username = login_username(request, credentials)
    return render(
        request,
        "registration/login.html",
        {
            "form": AuthenticationForm(request, initial={"username": username}),
            "lockout": lockout_message(),
            "next": request.POST.get("next", ""),
        },
        status=429,
    )


class _RevokesApiTokens:
    """A password form whose save also revokes every API token of the user, in one
    transaction: whoever had the old password may have made tokens with it."""

    user: Any

    def save(self, commit: bool = True) -> Any:
        with transaction.atomic():
            user = super().save(commit=commit)  # type: ignore[misc]
            if commit:
                api_tokens_revoke_all(user=user)
        return user


class TokenRevokingPasswordChangeForm(_RevokesApiTokens, PasswordChangeForm):
    """The site's "change password" form."""


class TokenRevokingSetPasswordForm(_RevokesApiTokens, SetPasswordForm):
    """The form behind the link in a password-reset e-mail."""


class TokenRevokingAdminPasswordChangeForm(_RevokesApiTokens, AdminPasswordChangeForm):
    """The admin's own "change password" form."""


class TokenRevokingAdminSetPasswordForm(_RevokesApiTokens, AdminSetPasswordForm):
    """The form staff use in the admin to set another user's password."""


class ThrottledPasswordResetForm(PasswordResetForm):
    """Sends the reset e-mail only while neither the address asked for nor the client asking
    has used up its hourly allowance. The page that follows is the same either way, as it is
    whether or not the address belongs to an account."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        request: HttpRequest | None = kwargs.get("request")
        email = self.cleaned_data["email"]
        if not password_reset_allowed(email=email, request=request):
            logger.info("password reset e-mail not sent: hourly allowance used up")
            return
        super().save(*args, **kwargs)


def password_reset_allowed(*, email: str, request: HttpRequest | None) -> bool:
    """Count one reset request against the address and the client; True if both are within
    their allowance (also when the cache is unreachable: the e-mail still goes)."""
    digest = hashlib.sha256(unicodedata.normalize("NFKC", email).casefold().encode()).hexdigest()
    client = (client_address(request) if request is not None else None) or "unknown"
    by_email = count_hit(f"password-reset:email:{digest}", RESET_WINDOW_SECONDS)
    by_client = count_hit(f"password-reset:client:{client}", RESET_WINDOW_SECONDS)
    return by_email <= RESETS_PER_EMAIL and by_client <= RESETS_PER_CLIENT
