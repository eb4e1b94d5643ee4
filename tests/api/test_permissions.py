"""The permission matrix: every endpoint and method, for anonymous, user, other user and staff.

"user" owns the forecast and the token under test; "other" is a second ordinary user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from forecasts.models import ApiToken, Forecast, Question
from markets.models import Account, Market
from markets.services import holding
from tests.api.conftest import World

pytestmark = [pytest.mark.django_db(transaction=True)]

ROLES = ("anon", "user", "other", "staff")
READ = {"anon": 200, "user": 200, "other": 200, "staff": 200}
NOT_ALLOWED = {"anon": 405, "user": 405, "other": 405, "staff": 405}
SIGNED_IN = {"anon": 401, "user": 200, "other": 200, "staff": 200}
SIGNED_IN_NOT_ALLOWED = {"anon": 401, "user": 405, "other": 405, "staff": 405}
STAFF_ONLY = {"anon": 401, "user": 403, "other": 403, "staff": 200}
OWNER_ONLY = {"anon": 401, "user": 200, "other": 404, "staff": 404}


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: Callable[[World], str]
    expected: dict[str, int]
    body: Callable[[World], Any] | None = None
    # Checked after the request: what must (not) have changed.
    after: Callable[[World, str], None] | None = None


def _unchanged_forecast(world: World, role: str) -> None:
    forecast = Forecast.objects.get(pk=world.forecast.pk)
    if role != "user":
        assert (forecast.probability, forecast.ends_at) == (0.7, None)


def _resolution(world: World, role: str) -> None:
    resolution = Question.objects.get(pk=world.open_question.pk).resolution
    assert resolution == ("yes" if role == "staff" else "")


def _still_resolved(world: World, role: str) -> None:
    resolution = Question.objects.get(pk=world.resolved_question.pk).resolution
    assert resolution == ("" if role == "staff" else "yes")


def _new_question(world: World) -> dict[str, Any]:
    return {
        "title": "Will the control be narrowed?",
        "resolution_criteria": "YES if it is narrowed.",
        "source": world.open_question.source.key,
        "passage": world.open_question.passage,
        "opens_at": "2026-06-12T12:00:00Z",
        "closes_at": "2030-01-01T00:00:00Z",
        "resolves_at": "2030-01-01T00:00:00Z",
    }


def _question_created(world: World, role: str) -> None:
    created = Question.objects.filter(title="Will the control be narrowed?").exists()
    assert created == (role == "staff")


def _token_alive(world: World, role: str) -> None:
    revoked = ApiToken.objects.get(pk=world.token_ids["user"]).revoked_at is not None
    assert revoked == (role == "user")


def _balances(world: World, role: str) -> None:
    """Only the caller's own account moved; "user" started with 1000 less their 10 YES."""
    ada = Account.objects.get(user=world.user)
    moved = ada.balance != 1000 - world.trade.cost
    assert moved == (role == "user")
    for name in ("other", "staff"):
        opened = Account.objects.filter(user=getattr(world, name)).exists()
        assert opened == (role == name)


def _accounts_unchanged(world: World, role: str) -> None:
    _balances(world, role="anon")


def _held(world: World) -> object:
    return holding(account=Account.objects.get(user=world.user), market=world.market, outcome=0)


def _holding(world: World, role: str) -> None:
    assert _held(world) == (5 if role == "user" else 10)


def _shares_kept(world: World, role: str) -> None:
    assert _held(world) == 10


def _market_opened(world: World, role: str) -> None:
    assert Market.objects.filter(question=world.bare_question).exists() == (role == "staff")


def _market_unchanged(world: World, role: str) -> None:
    market = Market.objects.get(pk=world.market.pk)
    assert (market.b, market.status, market.q_yes) == (100, "open", 10)


q = lambda w: f"/questions/{w.open_question.pk}/"  # noqa: E731
r = lambda w: f"/questions/{w.resolved_question.pk}/"  # noqa: E731
f = lambda w: f"/forecasts/{w.forecast.pk}/"  # noqa: E731
t = lambda w: f"/tokens/{w.token_ids['user']}/"  # noqa: E731
m = lambda w: f"/markets/{w.market.pk}/"  # noqa: E731
CREATED = {**SIGNED_IN, "user": 201, "other": 201, "staff": 201}

CASES = [
    Case("list questions", "GET", lambda w: "/questions/", READ),
    Case(
        "create question",
        "POST",
        lambda w: "/questions/",
        {**STAFF_ONLY, "staff": 201},
        _new_question,
        _question_created,
    ),
    Case("question", "GET", q, READ),
    Case("replace question", "PUT", q, NOT_ALLOWED, lambda w: {}),
    Case("edit question", "PATCH", q, NOT_ALLOWED, lambda w: {}),
    Case("delete question", "DELETE", q, NOT_ALLOWED),
    Case("crowd history", "GET", lambda w: q(w) + "crowd-history/", READ),
    Case("question scores", "GET", lambda w: r(w) + "scores/", READ),
    Case(
        "resolve",
        "POST",
        lambda w: q(w) + "resolve/",
        STAFF_ONLY,
        lambda w: {"resolution": "yes"},
        _resolution,
    ),
    Case("resolve by GET", "GET", lambda w: q(w) + "resolve/", {**STAFF_ONLY, "staff": 405}),
    Case(
        "unresolve",
        "POST",
        lambda w: r(w) + "unresolve/",
        STAFF_ONLY,
        lambda w: {},
        _still_resolved,
    ),
    Case("own forecasts", "GET", lambda w: "/forecasts/", SIGNED_IN),
    Case(
        "submit forecast",
        "POST",
        lambda w: "/forecasts/",
        {**SIGNED_IN, "user": 201, "other": 201, "staff": 201},
        lambda w: {"question": w.open_question.pk, "probability": 0.4},
        _unchanged_forecast,
    ),
    Case("a forecast", "GET", f, OWNER_ONLY),
    Case(
        "replace forecast",
        "PUT",
        f,
        SIGNED_IN_NOT_ALLOWED,
        lambda w: {"probability": 0.1},
        _unchanged_forecast,
    ),
    Case(
        "edit forecast",
        "PATCH",
        f,
        SIGNED_IN_NOT_ALLOWED,
        lambda w: {"probability": 0.1},
        _unchanged_forecast,
    ),
    Case("delete forecast", "DELETE", f, SIGNED_IN_NOT_ALLOWED, None, _unchanged_forecast),
    Case(
        "withdraw",
        "POST",
        lambda w: "/forecasts/withdraw/",
        SIGNED_IN,
        lambda w: {"question": w.open_question.pk},
        _unchanged_forecast,
    ),
    Case("forecasts csv", "GET", lambda w: "/forecasts/?format=csv", SIGNED_IN),
    Case("scores", "GET", lambda w: "/scores/", READ),
    Case("scores csv", "GET", lambda w: "/scores/?format=csv", READ),
    Case("post scores", "POST", lambda w: "/scores/", NOT_ALLOWED, lambda w: {}),
    Case("leaderboard", "GET", lambda w: "/leaderboard/?score_type=brier", READ),
    Case("track record", "GET", lambda w: "/users/ada/track-record/", READ),
    Case("calibration", "GET", lambda w: "/users/ada/calibration/", READ),
    Case("sources", "GET", lambda w: "/sources/", READ),
    Case("a source", "GET", lambda w: f"/sources/{w.open_question.source.key}/", READ),
    Case("tokens", "GET", lambda w: "/tokens/", SIGNED_IN),
    Case(
        "create token",
        "POST",
        lambda w: "/tokens/",
        {**SIGNED_IN, "user": 201, "other": 201, "staff": 201},
        lambda w: {"name": "new"},
    ),
    Case("revoke token", "DELETE", t, {**OWNER_ONLY, "user": 204}, None, _token_alive),
    Case("a user's chart", "GET", lambda w: "/users/ada/charts/calibration/?format=svg", READ),
    Case("a question's chart", "GET", lambda w: q(w) + "charts/history/?format=png", READ),
    Case("post a chart", "POST", lambda w: q(w) + "charts/history/", NOT_ALLOWED, lambda w: {}),
    Case("list markets", "GET", lambda w: "/markets/?status=open", READ),
    Case(
        "open a market",
        "POST",
        lambda w: "/markets/",
        {**STAFF_ONLY, "staff": 201},
        lambda w: {"question": w.bare_question.pk, "b": "50"},
        _market_opened,
    ),
    Case("market", "GET", m, READ),
    Case("replace market", "PUT", m, NOT_ALLOWED, lambda w: {"b": "1"}, _market_unchanged),
    Case("edit market", "PATCH", m, NOT_ALLOWED, lambda w: {"b": "1"}, _market_unchanged),
    Case("delete market", "DELETE", m, NOT_ALLOWED, None, _market_unchanged),
    Case("price history", "GET", lambda w: m(w) + "price-history/", READ),
    Case("tape", "GET", lambda w: m(w) + "trades/", READ),
    Case(
        "trade",
        "POST",
        lambda w: m(w) + "trades/",
        CREATED,
        lambda w: {"outcome": "no", "action": "buy", "amount": "5"},
        _balances,
    ),
    Case(
        "sell the YES shares user holds",
        "POST",
        lambda w: m(w) + "trades/",
        {**CREATED, "other": 400, "staff": 400},
        lambda w: {"outcome": "yes", "action": "sell", "shares": "5"},
        _holding,
    ),
    Case("delete the tape", "DELETE", lambda w: m(w) + "trades/", NOT_ALLOWED, None, _shares_kept),
    Case("quote", "GET", lambda w: m(w) + "quote/?outcome=yes&action=buy&amount=10", READ),
    Case("post a quote", "POST", lambda w: m(w) + "quote/", NOT_ALLOWED, lambda w: {}),
    Case("market leaderboard", "GET", lambda w: "/markets/leaderboard/", READ),
    Case("post to it", "POST", lambda w: "/markets/leaderboard/", NOT_ALLOWED, lambda w: {}),
    Case("own account", "GET", lambda w: "/me/account/", SIGNED_IN),
    Case(
        "write own account",
        "POST",
        lambda w: "/me/account/",
        SIGNED_IN_NOT_ALLOWED,
        lambda w: {"balance": "1000000"},
        _accounts_unchanged,
    ),
    Case("own positions", "GET", lambda w: "/me/positions/", SIGNED_IN),
    Case("own trades", "GET", lambda w: "/me/trades/", SIGNED_IN),
    Case("schema", "GET", lambda w: "/schema/", READ),
    Case("docs", "GET", lambda w: "/docs/", READ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_permission_matrix(case: Case, role: str, world: World, api) -> None:
    client = api(None if role == "anon" else role, world)

    body = case.body(world) if case.body else None
    response = client.request(case.method, case.path(world), json=body)

    assert response.status_code == case.expected[role], response.text[:300]
    if case.after:
        case.after(world, role)


def test_lists_show_only_your_own_forecasts_and_tokens(world: World, api) -> None:
    other = api("other", world)

    forecasts = other.get("/forecasts/").json()
    tokens = other.get("/tokens/").json()

    assert forecasts["count"] == 1  # bob's forecast on the resolved question only
    assert [row["name"] for row in tokens["results"]] == ["other script"]


def test_a_revoked_token_stops_working_at_once(world: World, api) -> None:
    user = api("user", world)

    user.request("DELETE", f"/tokens/{world.token_ids['user']}/")
    response = user.get("/forecasts/")

    assert response.status_code == 401
    assert response.json()["message"] == "Invalid or revoked token."


def test_only_a_hash_of_the_token_is_stored(world: World) -> None:
    stored = ApiToken.objects.get(pk=world.token_ids["user"])

    assert world.tokens["user"] not in {stored.key_hash, stored.prefix, stored.name}
    assert len(stored.key_hash) == 64


def test_a_session_without_csrf_cannot_write(world: World, live_server) -> None:
    import requests

    session = requests.Session()
    login = session.get(f"{live_server.url}/accounts/login/")
    session.post(
        f"{live_server.url}/accounts/login/",
        data={
            "login": "ada",
            "password": "correct horse battery staple",
            "csrfmiddlewaretoken": login.cookies["csrftoken"],
        },
        headers={"Referer": f"{live_server.url}/accounts/login/"},
    )

    read = session.get(f"{live_server.url}/api/v1/forecasts/")
    write = session.post(
        f"{live_server.url}/api/v1/forecasts/",
        json={"question": world.open_question.pk, "probability": 0.2},
    )

    assert read.status_code == 200
    assert write.status_code == 403 and "CSRF" in write.json()["message"]
    assert Forecast.objects.get(pk=world.forecast.pk).ends_at is None
