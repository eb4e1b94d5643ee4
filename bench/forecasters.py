"""Simulated forecasters for the load test and the fault drills: plain HTTP, a thread each.

Each forecaster loops: a question list (the web page or the API's), one question's page, and a
forecast on that question, through the API with a token or through the web form with a session.
Every submission attempt carries an id of its own in its rationale, so that afterwards each one
can be looked up in the database whatever its response was (``account``). A failed request
(5xx or no response) is retried a few times, each retry being a new attempt with a new id.

Standard library only: the bench script and the integration tests both drive it, and neither
needs Django in the threads that send requests.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

RETRIES = 3
BACKOFF_SECONDS = 0.2
TIMEOUT_SECONDS = 30.0
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class Forecaster:
    """Submits through the API when ``token`` is set, else through the web form (``session``)."""

    username: str
    token: str = ""
    session: str = ""


@dataclass(frozen=True)
class Attempt:
    """One submission request, as the client saw it. ``status`` 0: no response at all."""

    key: str
    username: str
    question_id: int
    probability: float
    via: str  # "api" or "web"
    status: int
    location: str = ""
    forecast_id: int | None = None

    @property
    def acknowledged(self) -> bool:
        if self.via == "api":
            return self.status == 201 and self.forecast_id is not None
        # The form redirects to the question's page on success (elsewhere, e.g. to log in, not).
        return self.status == 302 and self.location == f"/questions/{self.question_id}/"

    @property
    def refused(self) -> bool:
        """The server answered that it would not take it (e.g. the question has closed)."""
        return 400 <= self.status < 500


@dataclass
class LoadResult:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # every request, in seconds
    statuses: Counter[int] = field(default_factory=Counter)
    attempts: list[Attempt] = field(default_factory=list)
    unclean: list[str] = field(default_factory=list)  # 5xx that leaked a traceback or were not JSON
    gave_up: int = 0  # steps that still failed after every retry

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        """Responses 5xx and requests with no response."""
        return sum(n for status, n in self.statuses.items() if status == 0 or status >= 500)

    def percentile(self, share: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return 1000 * ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]

    def merge(self, other: LoadResult) -> None:
        self.latencies += other.latencies
        self.statuses += other.statuses
        self.attempts += other.attempts
        self.unclean += other.unclean
        self.gave_up += other.gave_up


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)


class Client:
    """One forecaster's HTTP client: a connection per request, as gunicorn's sync workers close
    each one; every request is timed and its status counted in ``result``."""

    def __init__(self, host: str, port: int, forecaster: Forecaster, result: LoadResult) -> None:
        self.host, self.port, self.forecaster, self.result = host, port, forecaster, result
        self.cookies = {"sessionid": forecaster.session} if forecaster.session else {}

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] = {}
    ) -> Response:
        headers = dict(headers)
        if self.forecaster.token and path.startswith("/api/"):
            headers["Authorization"] = f"Token {self.forecaster.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_SECONDS)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            response = Response(raw.status, raw.read(), dict(raw.getheaders()), _cookies(raw))
        except (OSError, http.client.HTTPException):
            response = Response(0)
        finally:
            connection.close()
        self.result.latencies.append(time.perf_counter() - started)
        self.result.statuses[response.status] += 1
        self.cookies.update(response.cookies)
        if response.status >= 500:
            self._check_clean(path, response)
        return response

    def _check_clean(self, path: str, response: Response) -> None:
        """A server error may say nothing useful, but must leak nothing, and speak JSON on /api/."""
        content_type = response.headers.get("Content-Type", "")
        if b"Traceback" in response.body or b'File "/' in response.body:
            self.result.unclean.append(f"{response.status} {path}: leaks a traceback")
        elif path.startswith("/api/") and not content_type.startswith("application/json"):
            snippet = response.body[:80].decode(errors="replace")
            self.result.unclean.append(f"{response.status} {path}: {content_type}: {snippet!r}")


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    cookies = {}
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, cookie = pair.partition("=")
            cookies[key.strip()] = cookie.strip()
    return cookies


def _failed(response: Response) -> bool:
    return response.status == 0 or response.status >= 500


class Simulation:
    """One forecaster's loop, until ``stop`` is set."""

    def __init__(
        self,
        client: Client,
        question_ids: Sequence[int],
        run_id: str,
        rng: random.Random,
    ) -> None:
        self.client, self.question_ids, self.run_id, self.rng = client, question_ids, run_id, rng
        self.sequence = 0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            question_id = self.rng.choice(self.question_ids)
            listing = "/" if self.rng.random() < 0.5 else "/api/v1/questions/?status=open"
            for path in (listing, f"/questions/{question_id}/"):
                page = self._get(path)
                if page is None:
                    break
            else:
                self._submit(question_id, page)

    def _get(self, path: str) -> Response | None:
        for attempt in range(RETRIES + 1):
            response = self.client.request("GET", path)
            if not _failed(response):
                return response
            time.sleep(BACKOFF_SECONDS * 2**attempt)
        self.client.result.gave_up += 1
        return None

    def _submit(self, question_id: int, page: Response) -> None:
        probability = round(self.rng.uniform(0.01, 0.99), 3)
        for attempt in range(RETRIES + 1):
            self.sequence += 1
            key = f"load {self.run_id} {self.client.forecaster.username} {self.sequence}"
            if self.client.forecaster.token:
                sent = self._submit_api(key, question_id, probability)
            else:
                sent = self._submit_web(key, question_id, probability, page)
            self.client.result.attempts.append(sent)
            if not (sent.status == 0 or sent.status >= 500):
                return
            time.sleep(BACKOFF_SECONDS * 2**attempt)
        self.client.result.gave_up += 1

    def _submit_api(self, key: str, question_id: int, probability: float) -> Attempt:
        body = {"question": question_id, "probability": probability, "rationale": key}
        response = self.client.request(
            "POST",
            "/api/v1/forecasts/",
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )
        forecast_id = None
        if response.status == 201:
            forecast_id = json.loads(response.body)["id"]
        name = self.client.forecaster.username
        return Attempt(key, name, question_id, probability, "api", response.status, "", forecast_id)

    def _submit_web(
        self, key: str, question_id: int, probability: float, page: Response
    ) -> Attempt:
        token = CSRF_INPUT.search(page.body)
        form = {
            "csrfmiddlewaretoken": token.group(1).decode() if token else "",
            "probability": str(probability),
            "rationale": key,
        }
        response = self.client.request(
            "POST",
            f"/questions/{question_id}/",
            urllib.parse.urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        location = response.headers.get("Location", "")
        name = self.client.forecaster.username
        return Attempt(key, name, question_id, probability, "web", response.status, location)


def run_load(
    base_url: str,
    forecasters: Sequence[Forecaster],
    question_ids: Sequence[int],
    *,
    run_id: str,
    seconds: float,
    stop: threading.Event | None = None,
    seed: int = 1,
) -> LoadResult:
    """Every forecaster at once for ``seconds`` (or until ``stop`` is set), then the results."""
    stop = stop or threading.Event()
    url = urllib.parse.urlsplit(base_url)
    results = [LoadResult() for _ in forecasters]
    threads = [
        threading.Thread(
            target=Simulation(
                Client(url.hostname or "127.0.0.1", url.port or 80, forecaster, result),
                question_ids,
                run_id,
                random.Random(f"{seed}-{index}"),
            ).run,
            args=(stop,),
            name=f"forecaster-{forecaster.username}",
        )
        for index, (forecaster, result) in enumerate(zip(forecasters, results, strict=True))
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    total = LoadResult(seconds=time.perf_counter() - started)
    for result in results:
        total.merge(result)
    return total


# --- accounting --------------------------------------------------------------------------------

StoredRow = tuple[int, str, float]  # forecast id, username, probability


@dataclass(frozen=True)
class Accounting:
    """Each submission attempt set against what the database holds under its id."""

    acknowledged: int
    stored_acknowledged: int  # acknowledged, stored with the same id, user and probability
    lost: tuple[str, ...]  # acknowledged, yet not stored as acknowledged
    refused: int
    refused_stored: tuple[str, ...]  # refused (4xx), yet stored
    unacknowledged_stored: int  # 5xx or no response, and committed all the same
    unacknowledged_not_stored: int
    duplicates: tuple[str, ...]  # one attempt stored twice
    phantoms: tuple[str, ...]  # stored under an id no attempt sent

    @property
    def ok(self) -> bool:
        return not (self.lost or self.refused_stored or self.duplicates or self.phantoms)


def account(attempts: Sequence[Attempt], stored: Mapping[str, Sequence[StoredRow]]) -> Accounting:
    """``stored``: the rows found in the database for each attempt id (the rationale)."""
    sent = {attempt.key: attempt for attempt in attempts}
    acknowledged = [a for a in attempts if a.acknowledged]
    refused = [a for a in attempts if a.refused and not a.acknowledged]
    unacknowledged = [a for a in attempts if not a.acknowledged and not a.refused]
    lost = tuple(a.key for a in acknowledged if not _stored_as_sent(a, stored.get(a.key, ())))
    unacknowledged_stored = sum(1 for a in unacknowledged if stored.get(a.key))
    return Accounting(
        acknowledged=len(acknowledged),
        stored_acknowledged=len(acknowledged) - len(lost),
        lost=lost,
        refused=len(refused),
        refused_stored=tuple(a.key for a in refused if stored.get(a.key)),
        unacknowledged_stored=unacknowledged_stored,
        unacknowledged_not_stored=len(unacknowledged) - unacknowledged_stored,
        duplicates=tuple(key for key, rows in stored.items() if len(rows) > 1),
        phantoms=tuple(key for key in stored if key not in sent),
    )


def _stored_as_sent(attempt: Attempt, rows: Sequence[StoredRow]) -> bool:
    if len(rows) != 1:
        return False
    forecast_id, username, probability = rows[0]
    same_id = attempt.forecast_id is None or attempt.forecast_id == forecast_id
    return same_id and username == attempt.username and probability == attempt.probability


# --- the database side (Django set up by the caller) ------------------------------------------


def forecasters_create(count: int, *, web: int, prefix: str) -> list[Forecaster]:
    """``count`` users: the first ``web`` submit by the form (a session), the others by the API.

    Sessions are created directly rather than by logging in: the login's password hashing is
    not what is measured. The server must share this process's SECRET_KEY to read them.
    """
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )

    from forecasts.services import api_token_create

    store = import_module(settings.SESSION_ENGINE).SessionStore
    forecasters = []
    for index in range(count):
        user = get_user_model().objects.create(username=f"{prefix}{index}")
        if index < web:
            session = store()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            forecasters.append(Forecaster(user.username, session=session.session_key or ""))
        else:
            _, secret = api_token_create(user=user, name="load test")
            forecasters.append(Forecaster(user.username, token=secret))
    return forecasters


def stored_forecasts(run_id: str) -> dict[str, list[StoredRow]]:
    """The run's forecasts in the database, by attempt id (their rationale)."""
    from forecasts.models import Forecast

    stored: dict[str, list[StoredRow]] = {}
    rows = Forecast.objects.filter(rationale__startswith=f"load {run_id} ").values_list(
        "rationale", "id", "user__username", "probability"
    )
    for key, forecast_id, username, probability in rows:
        stored.setdefault(key, []).append((forecast_id, username, probability))
    return stored


def double_standing(usernames: Sequence[str]) -> int:
    """(user, question) pairs with more than one standing forecast: each must have at most one."""
    from django.db.models import Count

    from forecasts.models import Forecast

    return (
        Forecast.objects.filter(user__username__in=usernames, ends_at__isnull=True)
        .values("user_id", "question_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
