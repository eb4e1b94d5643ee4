"""One log-in throttle for every log-in path: keyed on the normalised username and the client
address, counted atomically in the database."""

from __future__ import annotations

import re
import threading

import pytest
import requests
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
ADMIN_LOGIN = "/admin/login/"
# "sam" and "SAM" in full-width letters: NFKC makes them "sam" and "SAM".
FULL_WIDTH, FULL_WIDTH_CAPITALS = "\uff53\uff41\uff4d", "\uff33\uff21\uff2d"
SITE_LOGIN = "/accounts/login/"


def _post(client: Client, path: str, username: str, password: str, **extra: str):
    field = "login" if path == SITE_LOGIN else "username"  # allauth's form, or the admin's
    return client.post(path, {field: username, "password": password}, **extra)


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_wrong_passwords_on_the_admin_log_in_lock_the_staff_account() -> None:
    UserFactory(username="sam", is_staff=True, is_superuser=True)
    client = Client()

    wrong = [_post(client, ADMIN_LOGIN, "sam", "wrong").status_code for _ in range(8)]
    right = _post(client, ADMIN_LOGIN, "sam", PASSWORD)

    assert wrong[:4] == [200] * 4 and set(wrong[4:]) == {429}
    assert right.status_code == 429
    assert "Too many failed log-ins" in right.text
    assert not _logged_in(client)


@pytest.mark.parametrize("path", [ADMIN_LOGIN, SITE_LOGIN])
def test_a_full_width_look_alike_of_the_username_shares_its_counter(path: str) -> None:
    UserFactory(username="sam", is_staff=True)
    client = Client()

    for _ in range(8):
        _post(client, path, FULL_WIDTH, "wrong")  # logs in to "sam" if right
    right = _post(client, path, "sam", PASSWORD)
    look_alike = _post(client, path, FULL_WIDTH_CAPITALS, PASSWORD)

    assert right.status_code == look_alike.status_code == 429
    assert not _logged_in(client)


def test_the_site_log_in_and_the_admin_log_in_share_one_counter() -> None:
    UserFactory(username="sam", is_staff=True)
    client = Client()

    for _ in range(3):
        _post(client, SITE_LOGIN, "sam", "wrong")
    for _ in range(2):
        _post(client, ADMIN_LOGIN, "sam", "wrong")
    right = _post(client, SITE_LOGIN, "sam", PASSWORD)

    assert right.status_code == 429
    assert not _logged_in(client)


def test_a_lock_out_from_one_address_leaves_the_account_open_from_others() -> None:
    UserFactory(username="ada")
    attacker, owner = Client(REMOTE_ADDR="203.0.113.9"), Client(REMOTE_ADDR="198.51.100.7")

    for _ in range(8):
        _post(attacker, SITE_LOGIN, "ada", "wrong")
    blocked = _post(attacker, SITE_LOGIN, "ada", PASSWORD)
    allowed = _post(owner, SITE_LOGIN, "ada", PASSWORD)

    assert blocked.status_code == 429 and not _logged_in(attacker)
    assert allowed.status_code == 302 and _logged_in(owner)


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_the_client_is_the_address_the_proxy_saw() -> None:
    UserFactory(username="ada")
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    for _ in range(5):
        _post(Client(), SITE_LOGIN, "ada", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy)
    spoofed = _post(
        Client(), SITE_LOGIN, "ada", PASSWORD, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9", **proxy
    )
    owner = Client()
    allowed = _post(
        owner, SITE_LOGIN, "ada", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy
    )

    assert spoofed.status_code == 429  # what the client wrote itself is ignored
    assert allowed.status_code == 302 and _logged_in(owner)


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored() -> None:
    UserFactory(username="ada")

    for i in range(5):
        _post(Client(), SITE_LOGIN, "ada", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    right = _post(Client(), SITE_LOGIN, "ada", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99")

    assert right.status_code == 429


def test_a_successful_log_in_forgets_earlier_failures() -> None:
    UserFactory(username="ada")
    client = Client()

    for _ in range(4):
        _post(client, SITE_LOGIN, "ada", "wrong")
    _post(client, SITE_LOGIN, "ada", PASSWORD)
    client.logout()
    for _ in range(4):
        _post(client, SITE_LOGIN, "ada", "wrong")
    again = _post(client, SITE_LOGIN, "ada", PASSWORD)

    assert again.status_code == 302


def test_the_lock_out_says_what_happened_and_when_to_try_again() -> None:
    UserFactory(username="ada")
    client = Client()

    for _ in range(5):
        _post(client, SITE_LOGIN, "ada", "wrong")
    page = client.get(reverse("login"))
    blocked = _post(client, SITE_LOGIN, "ada", PASSWORD)

    assert page.status_code == 200  # the form itself still shows
    assert blocked.status_code == 429
    assert "Too many failed log-ins" in blocked.text and "15 minutes" in blocked.text
    assert "<form" in blocked.text  # the page is the log-in page, not a bare error


def _csrf_session(base: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(base + SITE_LOGIN, timeout=30).text
    return session, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def _thirty_at_once(base: str, username: str, password: str) -> list[int]:
    """Thirty log-in attempts released together, each from a session of its own."""
    sessions = [_csrf_session(base) for _ in range(30)]
    start = threading.Barrier(len(sessions))
    statuses: list[int] = []

    def attempt(session: requests.Session, token: str) -> None:
        data = {"login": username, "password": password, "csrfmiddlewaretoken": token}
        start.wait()
        statuses.append(session.post(base + SITE_LOGIN, data=data, timeout=60).status_code)

    threads = [threading.Thread(target=attempt, args=pair) for pair in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _counted() -> int:
    from axes.models import AccessAttempt

    return sum(AccessAttempt.objects.values_list("failures_since_start", flat=True))


@pytest.mark.django_db(transaction=True)
@override_settings(AXES_FAILURE_LIMIT=100)
def test_thirty_parallel_wrong_attempts_count_as_thirty(live_server) -> None:
    UserFactory(username="ada")

    statuses = _thirty_at_once(live_server.url, "ada", "wrong")

    assert statuses == [200] * 30
    assert _counted() == 30


@pytest.mark.django_db(transaction=True)
def test_thirty_parallel_attempts_try_no_more_passwords_than_the_limit(live_server) -> None:
    UserFactory(username="ada")

    statuses = _thirty_at_once(live_server.url, "ada", "wrong")
    session, token = _csrf_session(live_server.url)
    data = {"login": "ada", "password": PASSWORD, "csrfmiddlewaretoken": token}
    right = session.post(live_server.url + SITE_LOGIN, data=data, allow_redirects=False)

    # Four wrong passwords shown as such, the fifth locks the pair, and the other 25 were
    # refused with their password untried (and, refused, not counted again).
    assert sorted(statuses) == [200] * 4 + [429] * 26
    assert _counted() == 5
    assert right.status_code == 429
