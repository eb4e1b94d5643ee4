"""Log-in and password plumbing: what the log-in throttle (django-axes) keys on and shows when
it refuses, password forms that revoke the API tokens, the password-reset throttle, and the
allauth adapter (client address, usernames, links in e-mails)."""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from typing import Any
from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.forms import (
    ChangePasswordForm,
    LoginForm,
    ResetPasswordForm,
    ResetPasswordKeyForm,
    SetPasswordForm,
)
from allauth.account.utils import filter_users_by_email
from django.conf import settings
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.auth.forms import AdminPasswordChangeForm as AdminSetPasswordForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from crux.cache import count_hit
from crux.clients import client_address
from forecasts.services import api_tokens_revoke_all

logger = logging.getLogger(__name__)

# Password-reset e-mails: at most this many an hour for one address, and requested by one client.
RESET_WINDOW_SECONDS = 3600
RESETS_PER_EMAIL = 3
RESETS_PER_CLIENT = 10


def login_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The username the log-in throttle counts under, whichever log-in form asks (the site's
    posts ``login``, a username or an e-mail address; the admin's posts ``username``)."""
    if credentials:
        raw = credentials.get("username") or credentials.get("email")
    elif request is not None:
        raw = request.POST.get("login", request.POST.get("username"))
    else:
        raw = None
    return normalised_login(raw)


def normalised_login(raw: object) -> str:
    """A log-in name as the throttle counts it: an e-mail address that names one account is
    read as that account's username (so the address and the username share one count), then
    NFKC-normalised and case-folded, so that a look-alike shares the count too. (Case-folding
    joins "Ada" and "ada", which only makes the throttle stricter.)"""
    text = str(raw or "").strip()
    if "@" in text:
        owners = filter_users_by_email(text)
        if len(owners) == 1:
            text = owners[0].get_username()
    folded = unicodedata.normalize("NFKC", text).casefold()
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
    """The log-in page again, saying why it refused (429: the client should slow down). The
    admin's log-in gets the site's page too: either way the pair is locked."""
    typed = request.POST.get("login", request.POST.get("username", ""))
    return render(
        request,
        "account/login.html",
        {
            "form": CruxLoginForm(request=request, initial={"login": typed}),
            "lockout": lockout_message(),
            "redirect_field_name": "next",
            "redirect_field_value": request.POST.get("next", ""),
        },
        status=429,
    )


class CruxLoginForm(LoginForm):
    """allauth's log-in form, its one name field saying what it takes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "Username or e-mail"


class _RevokesApiTokens:
    """An admin password form whose save also revokes every API token of the user, in one
    transaction: whoever had the old password may have made tokens with it."""

    user: Any

    def save(self, commit: bool = True) -> Any:
        with transaction.atomic():
            user = super().save(commit=commit)  # type: ignore[misc]
            if commit:
                api_tokens_revoke_all(user=user)
        return user


class TokenRevokingAdminPasswordChangeForm(_RevokesApiTokens, AdminPasswordChangeForm):
    """The admin's own "change password" form."""


class TokenRevokingAdminSetPasswordForm(_RevokesApiTokens, AdminSetPasswordForm):
    """The form staff use in the admin to set another user's password."""


class _SetsPasswordRevokingApiTokens:
    """An allauth password form whose save, which sets the user's password, also revokes every
    API token of the user, in the same transaction."""

    user: Any

    def save(self) -> None:
        with transaction.atomic():
            super().save()  # type: ignore[misc]
            api_tokens_revoke_all(user=self.user)


class TokenRevokingChangePasswordForm(_SetsPasswordRevokingApiTokens, ChangePasswordForm):
    """The site's "change password" form."""


class TokenRevokingSetPasswordForm(_SetsPasswordRevokingApiTokens, SetPasswordForm):
    """The site's "set password" form, for an account that has none (made by staff)."""


class TokenRevokingResetPasswordKeyForm(_SetsPasswordRevokingApiTokens, ResetPasswordKeyForm):
    """The form behind the link in a password-reset e-mail."""


class ThrottledResetPasswordForm(ResetPasswordForm):
    """Sends the reset e-mail only while neither the address asked for nor the client asking
    has used up its hourly allowance. The page that follows is the same either way, as it is
    whether or not the address belongs to an account."""

    def save(self, request: HttpRequest, **kwargs: Any) -> str:
        email: str = self.cleaned_data["email"]
        if not password_reset_allowed(email=email, request=request):
            logger.info("password reset e-mail not sent: hourly allowance used up")
            return email
        return super().save(request, **kwargs)


def password_reset_allowed(*, email: str, request: HttpRequest | None) -> bool:
    """Count one reset request against the address and the client; True if both are within
    their allowance (also when the cache is unreachable: the e-mail still goes)."""
    digest = hashlib.sha256(unicodedata.normalize("NFKC", email).casefold().encode()).hexdigest()
    client = (client_address(request) if request is not None else None) or "unknown"
    by_email = count_hit(f"password-reset:email:{digest}", RESET_WINDOW_SECONDS)
    by_client = count_hit(f"password-reset:client:{client}", RESET_WINDOW_SECONDS)
    return by_email <= RESETS_PER_EMAIL and by_client <= RESETS_PER_CLIENT


class AccountAdapter(DefaultAccountAdapter):
    """allauth as Crux runs it: the client is the address every throttle keys on, a username
    is NFKC-normalised as Django's own forms do (so a look-alike of a taken name is taken),
    and links in e-mails start with ``SITE_URL``."""

    def get_client_ip(self, request: HttpRequest) -> str:
        address = client_address(request)
        if address is None:
            raise PermissionDenied("The client's address is unknown")
        return address

    def clean_username(self, username: str, shallow: bool = False) -> str:
        normalised = unicodedata.normalize("NFKC", username)
        return super().clean_username(normalised, shallow=shallow)

    def get_reset_password_from_key_url(self, key: str) -> str:
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "U", "key": "K"})
        return settings.SITE_URL + path.replace("U-K", quote(key))

    def get_email_confirmation_url(self, request: HttpRequest, emailconfirmation: Any) -> str:
        return settings.SITE_URL + reverse("account_confirm_email", args=[emailconfirmation.key])
