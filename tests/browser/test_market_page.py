"""The market page: preview and trade in place (no reload), an over-budget trade refused in view."""

from __future__ import annotations

from decimal import Decimal

import pytest

from markets.models import Trade
from markets.services import market_create
from tests.factories import QuestionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _market_page(page, live_server, username: str):
    market = market_create(question_id=QuestionFactory().pk, b=Decimal(100))
    UserFactory(username=username)
    _log_in(page, live_server.url, username)
    page.goto(f"{live_server.url}/markets/{market.pk}/")
    page.evaluate("() => { window.__marker = 1; }")  # gone if the page reloads
    return market


def _in_view(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["y"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] + box["width"] <= size["width"]
    )


def test_preview_then_trade_in_place(live_server, page) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    _market_page(page, live_server, "ed")

    page.fill("[data-trade-size]", "10")
    page.get_by_role("button", name="Preview", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('[data-quote]').textContent.startsWith('Buy 10 YES')"
    )
    page.get_by_role("button", name="Trade", exact=True).click()
    page.wait_for_selector("[data-panel-said]:has-text('Bought 10 YES shares')")

    assert page.evaluate("() => window.__marker") == 1
    assert page.locator("#market-facts [data-market-price]").inner_text() == "52.5%"
    assert page.locator("[data-yes-shares]").inner_text() == "10"
    assert Trade.objects.get().shares == Decimal(10)
    # The new panel's form is set up again: its live preview still answers.
    page.fill("[data-trade-size]", "2")
    page.wait_for_function(
        "() => document.querySelector('[data-quote]').textContent.startsWith('Buy 2 YES')"
    )


@pytest.mark.parametrize("width", [390, 1280])
def test_an_over_budget_trade_shows_its_error_in_view(live_server, page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 844})
    _market_page(page, live_server, f"fay{width}")

    page.get_by_label("Amount to spend").check()
    page.fill("[data-trade-size]", "5000")
    page.get_by_role("button", name="Trade", exact=True).click()
    page.wait_for_selector("#trade-errors")
    page.wait_for_timeout(300)  # the scroll into view

    assert page.evaluate("() => window.__marker") == 1
    assert "Amount:" in page.locator("#trade-errors").inner_text()
    assert "your balance is 1000.0000" in page.locator("#trade-errors").inner_text()
    assert _in_view(page, "#trade-errors")
    assert page.locator("[data-trade-size]").input_value() == "5000"
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert not Trade.objects.exists()
