"""Requests sent during a fault drill besides the load: a failed log-in and a token request.

Standard library only, like bench/forecasters.py: bench/drills.py and the integration tests
both send them. Each answer must be what it is without the fault (the log-in form again, a new
token), never a server error.
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse

TIMEOUT_SECONDS = 30.0
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
EXPECTED = {"failed log-in": 200, "token request": 201}


def _send(
    base_url: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, cookies set); status 0: no response at all."""
    parts = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        cookies = {}
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                cookies[key.strip()] = rest.split(";", 1)[0].strip()
        return response.status, response.read(), cookies
    except OSError:
        return 0, b"", {}
    finally:
        connection.close()


def outage_probes(base_url: str, *, username: str, token: str) -> dict[str, int]:
    """A log-in with a wrong password (200: the form again) and a token created with a token
    (201): the status of each."""
    status, page, cookies = _send(base_url, "GET", "/accounts/login/")
    csrf = CSRF_INPUT.search(page)
    form = {
        "username": username,
        "password": "not the password",
        "csrfmiddlewaretoken": csrf.group(1).decode() if csrf else "",
    }
    login, _, _ = _send(
        base_url,
        "POST",
        "/accounts/login/",
        urllib.parse.urlencode(form).encode(),
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        },
    )
    created, _, _ = _send(
        base_url,
        "POST",
        "/api/v1/tokens/",
        json.dumps({"name": "outage probe"}).encode(),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    return {"failed log-in": login if status == 200 else status, "token request": created}
