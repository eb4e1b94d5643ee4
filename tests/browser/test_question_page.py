"""The question page in a browser: the forecast form near the top on a phone, a refused
forecast answered in place with its error in view (no reload), a good one updating the panel
in place; and without JavaScript the same forms post and the page comes back whole."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client

from forecasts.models import Forecast
from tests.browser.conftest import CSP_LISTENER
from tests.factories import QuestionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE, DESKTOP = (390, 844), (1280, 800)


@pytest.fixture
def open_page(browser, live_server) -> Iterator[object]:
    """Opens ``path`` signed in as a new user, at ``size``, with or without JavaScript; the
    Content-Security-Policy must block nothing."""
    contexts, violations = [], []
    cookie = None

    def open_(path: str, *, size: tuple[int, int], javascript: bool = True):
        nonlocal cookie
        if cookie is None:
            client = Client()
            client.force_login(UserFactory(username="eve"))
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context = browser.new_context(
            viewport={"width": size[0], "height": size[1]}, java_script_enabled=javascript
        )
        contexts.append(context)
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )
        context.expose_function("cruxCspViolation", lambda violation: violations.append(violation))
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server.url + path)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not violations, violations


def _in_view(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    return (
        box is not None
        and box["y"] >= 0
        and box["y"] + box["height"] <= height
        and (box["x"] >= 0 and box["x"] + box["width"] <= width)
    )


def test_on_a_phone_the_form_starts_within_the_first_screen(open_page) -> None:
    question = QuestionFactory(title="Will the control on Fable 5 be lifted by 31 December 2026?")

    page = open_page(f"/questions/{question.pk}/", size=PHONE)

    assert page.locator("#forecast-panel form").bounding_box()["y"] < 900
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE[0]


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["390", "1280"])
def test_a_bad_forecast_shows_its_error_in_view_without_a_reload(open_page, size) -> None:
    question = QuestionFactory()
    page = open_page(f"/questions/{question.pk}/", size=size)
    page.evaluate("() => { window.__marker = 1; }")

    page.fill("[data-probability-input]", "1.5")  # 150%
    page.get_by_role("button", name="Submit forecast").click()
    page.wait_for_selector("#probability-errors")
    page.wait_for_timeout(100)  # the scroll after the swap settles

    assert "Probability:" in page.locator("#probability-errors").inner_text()
    assert _in_view(page, "#probability-errors")
    assert page.evaluate("() => window.__marker") == 1
    assert not Forecast.objects.exists()

    page.fill("[data-probability-input]", "0.64")
    page.get_by_role("button", name="Submit forecast").click()
    page.wait_for_selector("[data-notice]")

    assert "64.0% YES" in page.locator("[data-notice]").inner_text()
    assert "64.0%" in page.locator("#your-history table.history").inner_text()
    assert page.locator("[data-probability-readout]").inner_text() == "64.0%"  # enhanced again
    assert page.get_by_role("button", name="Update forecast").is_visible()
    assert page.evaluate("() => window.__marker") == 1
    assert Forecast.objects.get().probability == 0.64


def test_withdrawing_answers_in_place(open_page) -> None:
    question = QuestionFactory()
    page = open_page(f"/questions/{question.pk}/", size=PHONE)
    page.fill("[data-probability-input]", "0.3")
    page.get_by_role("button", name="Submit forecast").click()
    page.wait_for_selector("[data-notice]")
    page.evaluate("() => { window.__marker = 1; }")

    page.get_by_role("button", name="Withdraw my forecast").click()
    page.wait_for_selector("text=Your forecast is withdrawn")

    assert page.get_by_role("button", name="Submit forecast").is_visible()
    assert page.evaluate("() => window.__marker") == 1
    assert Forecast.objects.get().ends_at is not None


def test_without_javascript_the_form_posts_and_the_page_comes_back(open_page) -> None:
    question = QuestionFactory()
    page = open_page(f"/questions/{question.pk}/", size=PHONE, javascript=False)

    page.fill("[data-probability-input]", "1.5")
    page.get_by_role("button", name="Submit forecast").click()

    assert "Probability:" in page.locator("#probability-errors").inner_text()
    assert page.locator("#probability-errors").bounding_box()["y"] < 900
    assert not Forecast.objects.exists()

    page.fill("[data-probability-input]", "0.64")
    page.get_by_role("button", name="Submit forecast").click()

    assert "Forecast saved: 64.0% YES." in page.locator(".messages").inner_text()
    assert "64.0%" in page.locator("table.history").inner_text()
    assert Forecast.objects.get().probability == 0.64
