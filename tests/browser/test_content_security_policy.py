"""Every main page, as staff see it, runs under the Content-Security-Policy with nothing
blocked: the site, the staff pages, the admin and the API's documentation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse

from forecasts.lifecycle import question_resolve
from forecasts.services import forecast_submit
from markets.services import market_create
from tests.factories import T0, QuestionFactory, UserFactory, buy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def _site_with_a_resolved_and_an_open_question() -> dict[str, object]:
    staff = UserFactory(username="root", is_staff=True, is_superuser=True, email="r@example.org")
    open_question = QuestionFactory(title="Will the control be lifted by 2027?")
    market = market_create(question_id=open_question.pk, b=Decimal(100), now=T0)
    forecast_submit(user=staff, question_id=open_question.pk, probability=0.3, now=T0)
    buy(staff, market, outcome="yes", shares=5, now=T0)
    resolved = QuestionFactory(closes_at=T0 + dt.timedelta(days=10), source=open_question.source)
    forecast_submit(user=staff, question_id=resolved.pk, probability=0.8, now=T0)
    question_resolve(
        question_id=resolved.pk,
        resolution="yes",
        resolved_by=staff,
        now=T0 + dt.timedelta(days=12),
    )
    return {"open": open_question, "market": market, "resolved": resolved, "staff": staff}


def _admin_changelists() -> list[str]:
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]


def _main_pages(site: dict[str, object]) -> list[str]:
    open_id, resolved_id = site["open"].pk, site["resolved"].pk
    return [
        "/",
        "/?status=resolved",
        f"/questions/{open_id}/",
        f"/questions/{resolved_id}/",
        f"/sources/{site['open'].source.key}/",
        "/me/forecasts/",
        "/me/settings/",
        "/leaderboard/",
        "/users/root/",
        "/markets/",
        f"/markets/{site['market'].pk}/",
        "/markets/portfolio/",
        "/markets/leaderboard/",
        "/staff/due/",
        f"/staff/questions/{open_id}/resolve/",
        f"/staff/questions/{resolved_id}/resolve/",
        f"/staff/questions/{resolved_id}/unresolve/",
        "/accounts/password/change/",
        "/accounts/email/",
        "/admin/",
        *_admin_changelists(),
        f"/admin/forecasts/question/{open_id}/change/",
        "/admin/forecasts/question/add/",
        f"/admin/markets/market/{site['market'].pk}/change/",
        f"/admin/auth/user/{site['staff'].pk}/change/",
        "/admin/password_change/",
        "/api/v1/docs/",
        "/api/v1/questions/",
        "/api/v1/forecasts/",
        f"/api/v1/questions/{open_id}/",
    ]


def test_every_main_page_runs_with_nothing_blocked(live_server, page, csp_violations) -> None:
    site = _site_with_a_resolved_and_an_open_question()
    _log_in(page, live_server.url, "root")
    blocked: dict[str, list[dict[str, str]]] = {}

    for path in _main_pages(site):
        response = page.goto(f"{live_server.url}{path}", wait_until="networkidle")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.evaluate("0")  # a round trip, so that every report the page sent has arrived
        if csp_violations:
            blocked[path] = list(csp_violations)
            csp_violations.clear()

    assert blocked == {}


def test_the_api_docs_render_the_schema(live_server, page) -> None:
    page.goto(f"{live_server.url}/api/v1/redoc/")  # the old address of a second viewer
    page.wait_for_selector("#swagger-ui .opblock", timeout=30_000)

    assert page.url == f"{live_server.url}/api/v1/docs/"
    assert page.locator("#swagger-ui .opblock").count() > 10


def test_the_log_in_and_error_pages_run_with_nothing_blocked(live_server, page) -> None:
    for path in ("/accounts/login/", "/accounts/signup/", "/admin/login/", "/no-such-page/"):
        page.goto(f"{live_server.url}{path}", wait_until="networkidle")
        page.evaluate("0")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", "nobody")
    page.fill("#id_password", "wrong")
    page.context.clear_cookies()  # the form's CSRF cookie is gone: the refusal page
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.evaluate("0")

    assert "403" in page.title() or "Forbidden" in page.content()
    # Any report fails the test when the page fixture closes.


def test_charts_opened_on_their_own_run_with_nothing_blocked(
    live_server, page, csp_violations
) -> None:
    site = _site_with_a_resolved_and_an_open_question()
    resolved = site["resolved"].pk
    _log_in(page, live_server.url, "root")

    for path in (
        f"/charts/questions/{resolved}/history.svg",
        f"/charts/questions/{resolved}/history.png",
        "/charts/users/root/calibration.svg",
        "/charts/crowd/calibration.png",
    ):
        response = page.goto(f"{live_server.url}{path}", wait_until="networkidle")
        page.evaluate("0")
        assert response.status == 200, path


def test_what_the_policy_blocks_is_reported(live_server, page, csp_violations) -> None:
    probe = f"{live_server.url}/csp-probe/"
    page.route(
        probe,
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Security-Policy": "script-src 'self'; style-src 'self'"},
            content_type="text/html",
            body="<style>p{}</style><script>document.title = 'ran'</script><p>probe</p>",
        ),
    )

    page.goto(probe)
    page.evaluate("0")
    reported = {v.get("directive") for v in csp_violations}
    consoled = [v for v in csp_violations if "console" in v]
    csp_violations.clear()  # seen: this test is about the reports, not the probe page

    assert page.title() != "ran"
    assert {"script-src-elem", "style-src-elem"} <= reported
    assert len(consoled) == 2
