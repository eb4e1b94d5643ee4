"""The signed-in user, typed, for the views that require one (no app imported).

``request.user`` may be anonymous as far as types go; behind ``login_required`` (a web view)
or ``IsAuthenticated`` (an API view) it is not, and the services take a ``User``.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a ``login_required`` view: its user has signed in."""

    user: User


def signed_in_user(request: HttpRequest | Request) -> User:
    """``request.user`` where a permission has already required a log-in; 403 otherwise, so
    that a view that forgot its permission refuses rather than acts for an anonymous user."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user
