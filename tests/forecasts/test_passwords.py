"""A password change or reset revokes the API tokens; token secrets are never cached; reset
e-mails are throttled and say nothing about whether an address has an account."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from forecasts.models import ApiToken
from forecasts.services import api_token_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OLD = "correct horse battery staple"
NEW = "a new and much longer passphrase"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _active_tokens(user) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()


def test_changing_the_password_revokes_every_api_token() -> None:
    user, other = UserFactory(), UserFactory()
    _, secret = api_token_create(user=user, name="script")
    api_token_create(user=user, name="another")
    api_token_create(user=other, name="theirs")
    client = _logged_in(user)

    changed = client.post(
        reverse("password_change"),
        {"oldpassword": OLD, "password1": NEW, "password2": NEW},
    )
    api = Client().get("/api/v1/tokens/", HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert changed.status_code == 302
    assert _active_tokens(user) == 0 and _active_tokens(other) == 1
    assert api.status_code == 401


def test_a_refused_password_change_revokes_nothing() -> None:
    user = UserFactory()
    api_token_create(user=user, name="script")

    refused = _logged_in(user).post(
        reverse("password_change"),
        {"oldpassword": "wrong", "password1": NEW, "password2": NEW},
    )

    assert refused.status_code == 200
    assert _active_tokens(user) == 1


def test_changing_the_password_in_the_admin_revokes_every_api_token() -> None:
    staff = UserFactory(is_staff=True)
    api_token_create(user=staff, name="script")

    changed = _logged_in(staff).post(
        "/admin/password_change/",
        {"old_password": OLD, "new_password1": NEW, "new_password2": NEW},
    )

    assert changed.status_code == 302
    assert _active_tokens(staff) == 0


def test_resetting_the_password_revokes_every_api_token() -> None:
    user = UserFactory(email="ada@example.org")
    api_token_create(user=user, name="script")
    client = Client()

    client.post(reverse("password_reset"), {"email": "ada@example.org"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    form = client.get(link.group(1), follow=True)
    done = client.post(form.redirect_chain[-1][0], {"password1": NEW, "password2": NEW})

    assert done.status_code == 302
    assert _active_tokens(user) == 0


def test_the_settings_page_says_a_password_change_revokes_the_tokens() -> None:
    user = UserFactory()
    api_token_create(user=user, name="script")

    page = _logged_in(user).get(reverse("forecasts:settings"))

    assert "Changing or resetting your password revokes every token" in page.text
    assert reverse("password_change") in page.text


def test_a_page_showing_a_new_token_secret_is_not_stored_by_any_cache() -> None:
    client = _logged_in(UserFactory())

    web = client.post(reverse("forecasts:token_create"), {"name": "weekly script"})
    api = client.post("/api/v1/tokens/", {"name": "cron"}, content_type="application/json")
    listed = client.get(reverse("forecasts:settings"))

    assert web.context["new_secret"] and "no-store" in web["Cache-Control"]
    assert api.status_code == 201 and "no-store" in api["Cache-Control"]
    assert "no-store" not in listed.get("Cache-Control", "")


def test_reset_emails_to_one_address_are_throttled() -> None:
    UserFactory(email="ada@example.org")

    pages = [
        Client(REMOTE_ADDR=f"198.51.100.{i}").post(
            reverse("password_reset"), {"email": "ada@example.org"}
        )
        for i in range(6)
    ]

    assert len(mail.outbox) == 3
    assert {(p.status_code, p["Location"]) for p in pages} == {
        (302, reverse("account_reset_password_done"))
    }


def test_reset_emails_requested_by_one_client_are_throttled() -> None:
    for i in range(12):
        UserFactory(email=f"user{i}@example.org")
    client = Client(REMOTE_ADDR="203.0.113.9")

    for i in range(12):
        client.post(reverse("password_reset"), {"email": f"user{i}@example.org"})

    assert len(mail.outbox) == 10


def test_the_reset_page_reads_the_same_for_an_unknown_address() -> None:
    UserFactory(email="ada@example.org")

    known = Client().post(reverse("password_reset"), {"email": "ada@example.org"}, follow=True)
    unknown = Client().post(reverse("password_reset"), {"email": "nobody@example.org"}, follow=True)

    assert known.redirect_chain == unknown.redirect_chain
    assert known.content == unknown.content


def test_staff_setting_a_users_password_in_the_admin_revokes_their_tokens() -> None:
    admin = UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory()
    api_token_create(user=user, name="script")

    changed = _logged_in(admin).post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": NEW, "password2": NEW, "usable_password": "true"},
    )

    assert changed.status_code == 302
    assert _active_tokens(user) == 0
