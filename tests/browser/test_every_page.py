"""Every page type, at a phone's width and a laptop's, with realistic data: nothing scrolls the
page sideways, and axe finds no serious or critical accessibility violation.

The data (the essay's questions, forecasts by six people on every kind, a market with trades,
questions of every kind resolved and scored) is made once for the module and served by one
server; each (page, width) is its own test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from forecasts.importer import questions_import
from forecasts.lifecycle import question_resolve
from forecasts.models import Question, QuestionKind
from forecasts.services import forecast_submit
from markets.models import Market
from tests.factories import QuestionFactory, UserFactory, buy

# The mark makes pytest-django create the test database; each test only reads it, through the
# browser.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

ESSAY = Path(settings.BASE_DIR) / "forecasts" / "questionsets" / "essay.toml"
WIDTHS = {"390": (390, 844), "1280": (1280, 800)}
SERIOUS = {"serious", "critical"}
PEOPLE = ("root", "ada", "bea", "cy", "dee", "eve")  # root is staff and does everything


@dataclass(frozen=True)
class Site:
    url: str
    ids: dict[str, int]


# --- the data ---------------------------------------------------------------------------------


def _epoch(day: str) -> float:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp()


def _forecast_everyone(question: Question, start: dt.datetime) -> None:
    """Each person forecasts twice, an hour apart, from ``start`` or the question's opening;
    their values differ."""
    start = max(start, question.opens_at + dt.timedelta(minutes=1))
    for i, username in enumerate(PEOPLE):
        user = get_user_model().objects.get(username=username)
        for step in range(2):
            at = start + dt.timedelta(minutes=10 * i + 60 * step)
            shift = (i + step) / (2 * len(PEOPLE))  # in [0, 0.5]
            forecast_submit(user=user, question_id=question.pk, now=at, **_values(question, shift))


def _values(question: Question, shift: float) -> dict[str, object]:
    if question.kind == QuestionKind.BINARY:
        return {"probability": round(0.2 + shift, 3)}
    if question.kind == QuestionKind.MULTIPLE_CHOICE:
        n = len(question.options)
        first = 0.3 + shift
        rest = [(1 - first) / (n - 1)] * (n - 1)
        return {"probabilities": [first, *rest]}
    low, high = question.range_min, question.range_max
    if question.log_scale:
        width = high / low
        points = [low * width ** (0.1 + shift / 2), low * width ** (0.3 + shift / 2)]
        points.append(low * width ** (0.6 + shift / 2))
    else:
        points = [
            low + (high - low) * f for f in (0.1 + shift / 2, 0.3 + shift / 2, 0.6 + shift / 2)
        ]
    return {"quantiles": dict(zip((0.1, 0.5, 0.9), points, strict=True))}


def _build() -> dict[str, int]:
    now = timezone.now()
    questions_import(path=ESSAY, now=now)
    for username in PEOPLE:
        UserFactory(
            username=username,
            email=f"{username}@example.org",
            is_staff=username == "root",
            is_superuser=username == "root",
        )
    essay = Question.objects.filter(source__key="fable-mythos-export-control")
    by_key = {q.key: q for q in essay}
    summer = dt.datetime(2026, 6, 13, 12, tzinfo=dt.UTC)
    recent = now - dt.timedelta(days=3)

    open_binary = by_key["control-lifted-by-2027-06-30"]
    open_mc = by_key["control-status-on-2027-06-30"]
    open_numeric = by_key["recursive-superintelligence-valuation-by-2027-06-30"]
    open_date = by_key["control-lifted-date"]
    resolved_binary = by_key["anthropic-blocks-amazon-exploit-by-2026-06-26"]
    resolved_mc = by_key["lmarena-leader-on-2027-06-30"]
    resolved_numeric = by_key["other-lab-models-controlled-on-2027-06-30"]
    resolved_date = QuestionFactory(
        source=open_date.source,
        key="control-narrowed-date",
        title="On what date will the export control on Fable 5 first be narrowed?",
        kind=QuestionKind.DATE,
        range_min=_epoch("2026-06-12"),
        range_max=_epoch("2026-10-31"),
        open_upper_bound=True,
        opens_at=dt.datetime(2026, 6, 12, 12, tzinfo=dt.UTC),
        closes_at=dt.datetime(2026, 10, 31, 23, 59, tzinfo=dt.UTC),
    )
    for question in (open_binary, open_mc, open_numeric, open_date):
        _forecast_everyone(question, recent)
    for question in (resolved_binary, resolved_mc, resolved_numeric, resolved_date):
        _forecast_everyone(question, summer)

    market = Market.objects.get(question=open_binary)
    for i, username in enumerate(PEOPLE):
        user = get_user_model().objects.get(username=username)
        buy(user, market, outcome="yes" if i % 2 else "no", shares=10 + 5 * i)
    resolved_market = Market.objects.get(question=resolved_mc)
    root = get_user_model().objects.get(username="root")
    buy(root, resolved_market, outcome=resolved_market.labels[0], shares=20)

    question_resolve(question_id=resolved_binary.pk, resolution="yes", resolved_by=root, now=now)
    question_resolve(
        question_id=resolved_mc.pk, resolution="option", option=0, resolved_by=root, now=now
    )
    question_resolve(
        question_id=resolved_numeric.pk, resolution="value", value=3.0, resolved_by=root, now=now
    )
    question_resolve(
        question_id=resolved_date.pk,
        resolution="value",
        value=_epoch("2026-08-20"),
        resolved_by=root,
        now=now,
    )
    return {
        "open_binary": open_binary.pk,
        "open_mc": open_mc.pk,
        "open_numeric": open_numeric.pk,
        "open_date": open_date.pk,
        "resolved_binary": resolved_binary.pk,
        "resolved_mc": resolved_mc.pk,
        "resolved_numeric": resolved_numeric.pk,
        "resolved_date": resolved_date.pk,
        "market": market.pk,
    }


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker) -> Iterator[Site]:
    """The data, made once, and one server for the module. pytest-django's ``live_server``
    would flush the database after every test, so the module runs its own; database access
    stays unblocked while it lives, because the server's thread reads the same database."""
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        ids = _build()
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        try:
            yield Site(url=server.url, ids=ids)
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            call_command("flush", interactive=False, verbosity=0)
            cache.clear()


# --- the pages --------------------------------------------------------------------------------

# (test id, address with {placeholders} from the site's ids or "@" and a URL's name, who is
# logged in)
PAGES: list[tuple[str, str, str | None]] = [
    ("question-list", "/", None),
    ("question-list-resolved", "/?status=resolved", "root"),
    ("binary-open", "/questions/{open_binary}/", "root"),
    ("binary-resolved", "/questions/{resolved_binary}/", "root"),
    ("multiple-choice-open", "/questions/{open_mc}/", "root"),
    ("multiple-choice-resolved", "/questions/{resolved_mc}/", "root"),
    ("numeric-open", "/questions/{open_numeric}/", "root"),
    ("numeric-resolved", "/questions/{resolved_numeric}/", "root"),
    ("date-open", "/questions/{open_date}/", "root"),
    ("date-resolved", "/questions/{resolved_date}/", "root"),
    ("binary-open-anonymous", "/questions/{open_binary}/", None),
    ("source", "/sources/fable-mythos-export-control/", None),
    ("leaderboard", "/leaderboard/", None),
    ("track-record", "/users/root/", "root"),
    ("my-forecasts", "/me/forecasts/", "root"),
    ("settings", "/me/settings/", "root"),
    ("market-list", "/markets/", None),
    ("market", "/markets/{market}/", "root"),
    ("portfolio", "/markets/portfolio/", "root"),
    ("market-leaderboard", "/markets/leaderboard/", None),
    ("staff-due", "/staff/due/", "root"),
    ("staff-resolve", "/staff/questions/{open_binary}/resolve/", "root"),
    ("staff-resolve-resolved", "/staff/questions/{resolved_binary}/resolve/", "root"),
    ("staff-unresolve", "/staff/questions/{resolved_binary}/unresolve/", "root"),
    ("log-in", "@login", None),
    ("sign-up", "@signup", None),
    ("password-reset", "@password_reset", None),
    ("password-change", "@password_change", "root"),
    ("api-docs", "/api/v1/docs/", None),
]
# What a page draws after it loads, to wait for before looking at it.
READY = {"api-docs": "#swagger-ui .opblock"}
# Swagger UI's own markup, which Crux does not write: each operation's summary is a button that
# holds the operation's deep link.
UPSTREAM = {"api-docs": {"nested-interactive"}}


@pytest.fixture(scope="module")
def contexts(browser, site: Site) -> Iterator[dict[tuple[str, str | None], object]]:
    """A browser context per width and per visitor (anonymous or logged in)."""
    session = Client()
    session.force_login(get_user_model().objects.get(username="root"))  # site keeps the db open
    cookie = session.cookies[settings.SESSION_COOKIE_NAME].value
    made = {}
    for width, (w, h) in WIDTHS.items():
        for who in (None, "root"):
            context = browser.new_context(viewport={"width": w, "height": h})
            if who:
                context.add_cookies(
                    [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": site.url}]
                )
            made[(width, who)] = context
    yield made
    for context in made.values():
        context.close()


def _axe():  # the package is a dev dependency, imported where the browser tests need it
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


# The innermost elements whose right edge lies past the window's, outside any box that clips
# or scrolls them if there are such: what makes the page scroll.
STICKING_OUT = """() => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map((c) => "." + c).join("");
  const clipped = (el) => {
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== "visible") return true;
    }
    return false;
  };
  const past = [...document.body.querySelectorAll("*")].filter(
    (el) => el.getBoundingClientRect().right > window.innerWidth + 0.5);
  const free = past.filter((el) => !clipped(el));
  // An absolutely positioned box escapes a scroller that is not its containing block.
  const out = free.length ? free : past;
  return out.filter((el) => !out.some((other) => other !== el && el.contains(other)))
    .slice(0, 5).map((el) => `${name(el.parentElement)} > ${name(el)}`);
}"""


def _describe(violation: dict) -> str:
    """The rule, then each offending element (up to five) with what axe found wrong there."""
    nodes = [
        f"    {' '.join(node['target'])}: {' '.join(node['failureSummary'].split()[5:])}"
        for node in violation["nodes"][:5]
    ]
    return f"{violation['id']} ({violation['impact']}): {violation['help']}\n" + "\n".join(nodes)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "path", "who"), PAGES, ids=[p[0] for p in PAGES])
def test_page_fits_and_has_no_serious_accessibility_violation(
    site: Site, contexts, name: str, path: str, who: str | None, width: str
) -> None:
    page = contexts[(width, who)].new_page()
    url = site.url + (reverse(path[1:]) if path.startswith("@") else path.format(**site.ids))

    response = page.goto(url, wait_until="load")
    if name in READY:
        page.wait_for_selector(READY[name], timeout=30_000)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    sticking_out = page.evaluate(STICKING_OUT) if overflow > 0 else []
    results = _axe().run(page)
    page.close()

    serious = [
        v
        for v in results.response["violations"]
        if v["impact"] in SERIOUS and v["id"] not in UPSTREAM.get(name, ())
    ]
    assert response.status == 200, f"{name} at {width} px: {response.status} for {url}"
    assert overflow <= 0, (
        f"{name} at {width} px scrolls sideways by {overflow} px; past the right edge: "
        + "; ".join(sticking_out)
    )
    assert not serious, f"{name} at {width} px:\n" + "\n".join(map(_describe, serious))
