"""A trader signs in, types a size, watches the preview, buys, sees the new price; sells part."""

from __future__ import annotations

from decimal import Decimal

import pytest

from markets.models import Market, Trade
from markets.services import market_create
from tests.factories import QuestionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")


def test_preview_buy_and_sell_part_from_the_question_page(live_server, page) -> None:
    market = market_create(question_id=QuestionFactory().pk, b=Decimal(100))
    UserFactory(username="cy")
    _log_in(page, live_server.url, "cy")
    page.goto(f"{live_server.url}/questions/{market.question_id}/")
    quote = page.locator("[data-quote]")

    page.fill("[data-trade-size]", "10")
    page.wait_for_function(
        "() => document.querySelector('[data-quote]').textContent.startsWith('Buy 10 YES')"
    )
    preview = quote.inner_text()
    page.get_by_role("button", name="Trade", exact=True).click()
    page.wait_for_selector(".messages")

    market.refresh_from_db()
    assert "YES moves from 50.0% to 52.5%" in preview
    assert "Bought 10 YES shares" in page.locator(".messages").inner_text()
    assert page.locator("[data-market-price]").inner_text() == "52.5%"
    assert page.locator("[data-yes-shares]").inner_text() == "10"

    page.get_by_label("Sell", exact=True).check()
    page.fill("[data-trade-size]", "4")
    page.wait_for_function(
        "() => document.querySelector('[data-quote]').textContent.startsWith('Sell 4 YES')"
    )
    page.get_by_role("button", name="Trade", exact=True).click()
    page.wait_for_selector("text=Sold 4 YES shares")

    assert page.locator("[data-yes-shares]").inner_text() == "6"
    assert list(Trade.objects.values_list("shares", flat=True)) == [Decimal(10), Decimal(-4)]
    assert Market.objects.get().q_yes == Decimal(6)


def test_a_bad_size_shows_in_the_preview_naming_the_field(live_server, page) -> None:
    market = market_create(question_id=QuestionFactory().pk, b=Decimal(100))
    UserFactory(username="di")
    _log_in(page, live_server.url, "di")
    page.goto(f"{live_server.url}/questions/{market.question_id}/")

    page.get_by_label("Amount to spend").check()
    page.fill("[data-trade-size]", "0")
    page.wait_for_function(
        "() => document.querySelector('[data-quote]').textContent.startsWith('Amount:')"
    )
    page.get_by_role("button", name="Trade", exact=True).click()

    assert "Amount:" in page.locator("#trade-errors").inner_text()
    assert not Trade.objects.exists()
