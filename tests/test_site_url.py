"""Links in e-mails point where `make run` serves: SITE_URL follows HOST and WEB_PORT."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What the site's settings resolve SITE_URL to in a fresh process, as a worker's would.
SCRIPT = "from django.conf import settings; print(settings.SITE_URL)"


def _site_url(**env: str) -> str:
    """SITE_URL as config.settings reads it from ``env`` (and nothing inherited of the three)."""
    inherited = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "HOST", "WEB_PORT"}}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={**inherited, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return run.stdout.strip()


def _make_run_environment(*overrides: str) -> dict[str, str]:
    """The variables `make run` gives honcho (and so the web server, worker and beat)."""
    run = subprocess.run(
        ["make", "-n", "run", *overrides],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    line = next(line for line in run.stdout.splitlines() if "honcho start" in line)
    words = shlex.split(line)
    assignments = words[: next(i for i, w in enumerate(words) if "=" not in w)]
    return dict(w.split("=", 1) for w in assignments if not w.startswith("PATH="))


def test_make_run_with_another_port_links_to_that_port() -> None:
    environment = _make_run_environment("WEB_PORT=8123")

    site_url = _site_url(**environment)

    assert site_url == "http://127.0.0.1:8123"


def test_make_run_on_every_interface_links_to_this_machine() -> None:
    environment = _make_run_environment("HOST=0.0.0.0", "WEB_PORT=8124")

    site_url = _site_url(**environment)

    assert site_url == "http://127.0.0.1:8124"


@pytest.mark.parametrize(
    ("host", "expected"), [("localhost", "http://localhost:8125"), ("::1", "http://[::1]:8125")]
)
def test_a_named_or_ipv6_host_is_kept(host: str, expected: str) -> None:
    assert _site_url(HOST=host, WEB_PORT="8125") == expected


def test_a_site_url_that_is_set_wins_over_host_and_port() -> None:
    site_url = _site_url(SITE_URL="https://crux.example.org/", HOST="::", WEB_PORT="8123")

    assert site_url == "https://crux.example.org"


def test_nothing_set_links_to_the_default_port() -> None:
    assert _site_url() == "http://127.0.0.1:8000"
