"""Accounts (django-allauth): sign-up with an e-mail address, confirming it, logging in by
username or address, resetting and changing the password, changing the address; bad input
names its field and writes nothing."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from forecasts.models import ApiToken
from forecasts.services import api_token_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
NEW = "a new and much longer passphrase"
SIGNUP = {
    "username": "ada",
    "email": "ada@example.org",
    "password1": "a-long-pass-phrase-9",
    "password2": "a-long-pass-phrase-9",
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # allauth's rate limits and the reset throttle count in the cache
    yield
    cache.clear()


def _logged_in_as(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id).username if user_id else None


def _link(path_start: str) -> str:
    """The path of the link in the last e-mail sent, which starts with SITE_URL."""
    match = re.search(rf"https?://[^/\s]+({re.escape(path_start)}\S+)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def _log_in(login: str, password: str) -> Client:
    client = Client()
    client.post(reverse("login"), {"login": login, "password": password})
    return client


def _active_tokens(user) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()


def _rows() -> tuple:
    return (
        list(get_user_model().objects.values_list("pk", "username", "email", "password")),
        list(EmailAddress.objects.values_list("pk", "email", "verified", "primary")),
        len(mail.outbox),
    )


def test_the_names_templates_use_reverse_to_allauths_pages() -> None:
    assert reverse("login") == reverse("account_login") == "/accounts/login/"
    assert reverse("logout") == reverse("account_logout")
    assert reverse("signup") == reverse("account_signup")
    assert reverse("password_change") == reverse("account_change_password")
    assert reverse("password_reset") == reverse("account_reset_password")


@override_settings(ACCOUNT_EMAIL_VERIFICATION="none")
def test_without_verification_sign_up_creates_the_user_and_logs_in_at_once() -> None:
    client = Client()

    response = client.post(reverse("signup"), SIGNUP)

    user = get_user_model().objects.get(username="ada")
    assert response.status_code == 302 and response["Location"] == reverse(
        "forecasts:question_list"
    )
    assert user.email == "ada@example.org" and user.check_password(SIGNUP["password1"])
    assert _logged_in_as(client) == "ada"
    assert mail.outbox == []


def test_by_default_sign_up_logs_in_and_sends_a_confirmation() -> None:
    client = Client()

    client.post(reverse("signup"), SIGNUP)

    assert _logged_in_as(client) == "ada"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ada@example.org"]
    assert not EmailAddress.objects.get(email="ada@example.org").verified


@override_settings(ACCOUNT_EMAIL_VERIFICATION="mandatory")
def test_with_verification_mandatory_the_link_in_the_e_mail_confirms_the_address() -> None:
    client = Client()

    signed_up = client.post(reverse("signup"), SIGNUP)
    refused = _log_in("ada", SIGNUP["password1"])
    page = client.get(_link("/accounts/confirm-email/"))
    confirmed = client.post(_link("/accounts/confirm-email/"))
    allowed = _log_in("ada@example.org", SIGNUP["password1"])

    assert signed_up["Location"] == reverse("account_email_verification_sent")
    assert _logged_in_as(refused) is None
    assert page.status_code == 200 and "ada@example.org" in page.text
    assert confirmed.status_code == 302
    assert EmailAddress.objects.get(email="ada@example.org").verified
    assert _logged_in_as(allowed) == "ada"


def test_log_in_by_username_or_by_e_mail_address() -> None:
    UserFactory(username="ada", email="ada@example.org")

    by_name = _log_in("ada", PASSWORD)
    by_address = _log_in("Ada@Example.org", PASSWORD)
    wrong = Client().post(reverse("login"), {"login": "ada", "password": "wrong"})

    assert _logged_in_as(by_name) == _logged_in_as(by_address) == "ada"
    assert wrong.status_code == 200 and "not correct" in wrong.text


@override_settings(ACCOUNT_EMAIL_VERIFICATION="optional")
def test_an_account_made_before_allauth_logs_in_with_its_username_and_password() -> None:
    UserFactory(username="old", email="")
    assert not EmailAddress.objects.exists()

    client = _log_in("old", PASSWORD)

    assert _logged_in_as(client) == "old"


def test_an_e_mail_address_and_its_username_share_one_log_in_count() -> None:
    UserFactory(username="ada", email="ada@example.org")
    client = Client()

    for _ in range(3):
        client.post(reverse("login"), {"login": "ada@example.org", "password": "wrong"})
    for _ in range(2):
        client.post(reverse("login"), {"login": "ada", "password": "wrong"})
    right = client.post(reverse("login"), {"login": "ada", "password": PASSWORD})

    assert right.status_code == 429 and "Too many failed log-ins" in right.text
    assert _logged_in_as(client) is None


def test_the_reset_link_sets_a_new_password_and_revokes_the_api_tokens() -> None:
    user = UserFactory(username="ada", email="ada@example.org")
    api_token_create(user=user, name="script")
    client = Client()

    asked = client.post(reverse("password_reset"), {"email": "ada@example.org"})
    form = client.get(_link("/accounts/password/reset/key/"), follow=True)
    done = client.post(form.redirect_chain[-1][0], {"password1": NEW, "password2": NEW})

    assert asked["Location"] == reverse("account_reset_password_done")
    assert done.status_code == 302
    assert _active_tokens(user) == 0
    assert _logged_in_as(_log_in("ada", NEW)) == "ada"
    assert _logged_in_as(_log_in("ada", PASSWORD)) is None


def test_a_used_reset_link_is_refused() -> None:
    UserFactory(username="ada", email="ada@example.org")
    client = Client()
    client.post(reverse("password_reset"), {"email": "ada@example.org"})
    link = _link("/accounts/password/reset/key/")
    form = client.get(link, follow=True)
    client.post(form.redirect_chain[-1][0], {"password1": NEW, "password2": NEW})

    again = Client().get(link, follow=True)

    assert "This link is invalid" in again.text


def test_setting_a_password_on_an_account_without_one_revokes_the_api_tokens() -> None:
    user = UserFactory(password=None)
    user.set_unusable_password()
    user.save()
    api_token_create(user=user, name="script")
    client = Client()
    client.force_login(user)

    response = client.post(reverse("account_set_password"), {"password1": NEW, "password2": NEW})

    user.refresh_from_db()
    assert response.status_code == 302 and user.check_password(NEW)
    assert _active_tokens(user) == 0


def test_changing_the_e_mail_address_takes_effect_once_the_new_one_is_confirmed() -> None:
    user = UserFactory(username="ada", email="ada@example.org")
    client = Client()
    client.force_login(user)

    asked = client.post(reverse("account_email"), {"email": "ada@new.example", "action_add": ""})
    user.refresh_from_db()
    pending = user.email
    client.post(_link("/accounts/confirm-email/"))

    user.refresh_from_db()
    assert asked.status_code == 302 and mail.outbox[-1].to == ["ada@new.example"]
    assert pending != "ada@new.example"
    assert user.email == "ada@new.example"
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified")) == [
        ("ada@new.example", True)
    ]


def test_the_e_mail_page_shows_the_address_of_an_account_made_before_allauth() -> None:
    client = Client()
    client.force_login(UserFactory(email="old@example.org"))

    page = client.get(reverse("account_email"))

    assert page.status_code == 200
    assert "old@example.org" in page.text and "not confirmed" in page.text


@pytest.mark.parametrize(
    ("field", "value", "label", "says"),
    [
        ("email", "not-an-address", "Email", "valid email"),
        ("email", "", "Email", "required"),
        ("username", "", "Username", "required"),
        ("password2", "something-else-entirely", "Password (again)", "same password"),
    ],
)
def test_a_bad_sign_up_names_the_field_and_writes_nothing(field, value, label, says) -> None:
    before = _rows()

    response = Client().post(reverse("signup"), {**SIGNUP, field: value})

    assert response.status_code == 200
    assert f"<strong>{label}:</strong>" in response.text and says in response.text
    assert _rows() == before


def test_a_taken_username_or_address_is_refused_by_name() -> None:
    UserFactory(username="ada", email="ada@example.org")
    before = _rows()

    name = Client().post(reverse("signup"), {**SIGNUP, "username": "ADA", "email": "b@x.org"})
    address = Client().post(reverse("signup"), {**SIGNUP, "username": "bob"})

    assert "<strong>Username:</strong>" in name.text and "already" in name.text
    assert "<strong>Email:</strong>" in address.text and "already" in address.text
    assert _rows() == before


def test_a_full_width_look_alike_of_a_taken_username_is_taken() -> None:
    UserFactory(username="sam")

    response = Client().post(
        reverse("signup"), {**SIGNUP, "username": "\uff53\uff41\uff4d", "email": "s@x.org"}
    )

    assert "<strong>Username:</strong>" in response.text
    assert get_user_model().objects.count() == 1


def test_a_bad_e_mail_change_names_the_field_and_writes_nothing() -> None:
    client = Client()
    client.force_login(UserFactory(email="ada@example.org"))
    client.get(reverse("account_email"))  # records the account's address, as any visit does
    before = _rows()

    response = client.post(reverse("account_email"), {"email": "nope", "action_add": ""})

    assert response.status_code == 200 and "<strong>Email:</strong>" in response.text
    assert _rows() == before


def test_a_wrong_current_password_names_the_field_and_changes_nothing() -> None:
    user = UserFactory()
    api_token_create(user=user, name="script")
    client = Client()
    client.force_login(user)
    before = _rows()

    response = client.post(
        reverse("password_change"),
        {"oldpassword": "wrong", "password1": NEW, "password2": NEW},
    )

    assert response.status_code == 200
    assert "<strong>Current Password:</strong>" in response.text
    assert _rows() == before and _active_tokens(user) == 1


def test_a_bad_reset_address_names_the_field_and_sends_nothing() -> None:
    response = Client().post(reverse("password_reset"), {"email": "nope"})

    assert response.status_code == 200 and "<strong>Email:</strong>" in response.text
    assert mail.outbox == []


@pytest.mark.parametrize(
    "name",
    ["login", "signup", "password_reset", "account_reset_password_done"],
)
def test_the_account_pages_are_crux_pages(name: str) -> None:
    page = Client().get(reverse(name))

    assert page.status_code == 200
    assert 'class="site-header"' in page.text and "crux/crux.css" in page.text


@pytest.mark.parametrize("name", ["password_change", "account_email", "logout"])
def test_the_pages_of_a_logged_in_user_are_crux_pages(name: str) -> None:
    client = Client()
    client.force_login(UserFactory())

    page = client.get(reverse(name))

    assert page.status_code == 200
    assert 'class="site-header"' in page.text and "crux/crux.css" in page.text
