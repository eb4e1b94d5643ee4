"""Production settings, as deployed: DEBUG off and everything else from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DEBUG": "0",
    "SECRET_KEY": "a-long-production-like-secret-key-with-enough-entropy-0123456789-abcdef",
    "ALLOWED_HOSTS": "crux.example.org",
}
HEADERS_SCRIPT = """
import django, json
django.setup()
from django.test import Client
response = Client().get("/accounts/login/", secure=True, HTTP_HOST="crux.example.org")
print(json.dumps({"status": response.status_code, "headers": dict(response.headers),
                  "cookies": {k: dict(v) for k, v in response.cookies.items()}}))
"""


# The test process relaxes these for plain-HTTP testing; production must not inherit that.
RELAXED = {
    "DEBUG",
    "SECRET_KEY",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser tests for Playwright, never deployed
    "CSRF_COOKIE_SECURE",
}


@pytest.fixture(scope="module", autouse=True)
def _collected_static(tmp_path_factory: pytest.TempPathFactory) -> None:
    """As a deployment does: hashed static files collected once, served by WhiteNoise."""
    PRODUCTION["STATIC_ROOT"] = str(tmp_path_factory.mktemp("static"))
    run = _run("manage.py", "collectstatic", "--noinput", "--verbosity", "0")
    assert run.returncode == 0, run.stderr


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in RELAXED}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**env, **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean() -> None:
    run = _run("manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert run.returncode == 0, run.stdout + run.stderr
    assert "no issues" in run.stdout


def test_security_headers_and_cookies() -> None:
    run = _run("-c", HEADERS_SCRIPT)

    page = json.loads(run.stdout.strip().splitlines()[-1])
    headers = page["headers"]
    assert page["status"] == 200, run.stderr
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert page["cookies"]["csrftoken"]["secure"] is True


def test_plain_http_is_redirected_to_https() -> None:
    script = HEADERS_SCRIPT.replace("secure=True", "secure=False")

    run = _run("-c", script)

    page = json.loads(run.stdout.strip().splitlines()[-1])
    assert page["status"] == 301
    assert page["headers"]["Location"] == "https://crux.example.org/accounts/login/"


def test_debug_off_without_a_secret_key_refuses_to_start() -> None:
    env = {k: v for k, v in os.environ.items() if k not in RELAXED}
    run = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**env, "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert run.returncode != 0
    assert "SECRET_KEY must be set" in run.stderr
