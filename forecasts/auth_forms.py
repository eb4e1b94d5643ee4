"""Log-in with throttling: repeated failures for one account from one address are refused."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def _client_ip(request: Any) -> str:
    return request.META.get("REMOTE_ADDR", "unknown") if request is not None else "unknown"


class ThrottledAuthenticationForm(AuthenticationForm):
    """After MAX_FAILURES failed log-ins for a username from one IP within the window, the
    form refuses to try again until the window has passed (no password is even checked)."""

    def _key(self) -> str:
        username = (self.data.get("username") or "").strip().lower()
        return f"login-failures:{_client_ip(self.request)}:{username}"

    def clean(self) -> dict[str, Any]:
        key = self._key()
        if cache.get(key, 0) >= MAX_FAILURES:
            raise ValidationError(
                "Too many failed log-ins. Try again in 15 minutes.", code="throttled"
            )
        try:
            return super().clean()
        except ValidationError:
            if not cache.add(key, 1, WINDOW_SECONDS):
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.add(key, 1, WINDOW_SECONDS)
            raise
