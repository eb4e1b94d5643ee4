"""The market web pages: the panel on the question page, trading, the preview, portfolio, board."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from forecasts.lifecycle import question_resolve
from markets.models import Market, Trade
from markets.money import Order
from markets.pricing import market_quote
from markets.services import account_open, market_create
from tests.factories import QuestionFactory, UserFactory, buy, sell
from tests.markets.conftest import assert_ledger_balanced, balance, snapshot

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
BUY_10_YES = {"outcome": "yes", "action": "buy", "size_by": "shares", "size": "10", "trade": "1"}
BUY_10_SHARES = {"outcome": "yes", "action": "buy", "shares": "10"}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(market: Market) -> str:
    return reverse("forecasts:question_detail", args=[market.question_id])


def _trade_url(market: Market) -> str:
    return reverse("markets:trade", args=[market.pk])


def test_the_panel_shows_the_price_beside_the_crowd_and_the_users_position(market, trader) -> None:
    buy(trader, market, outcome="yes", shares=10)
    market.refresh_from_db()

    page = _logged_in(trader).get(_page(market))

    panel = page.context["market_panel"]
    assert f"{market.price_yes * 100:.1f}%" in page.text
    assert "Crowd's median forecast" in page.text
    assert panel.holding.yes_shares == Decimal(10) and panel.balance == balance(trader)
    assert "data-yes-shares>10<" in page.text
    assert 'action="' + _trade_url(market) + '"' in page.text


@pytest.mark.parametrize(
    "size",
    [
        {"size_by": "shares", "size": "10"},
        {"size_by": "amount", "size": "25.5"},
        {"size_by": "target_price", "size": "70"},
    ],
)
def test_a_buy_posted_from_the_panel_trades_and_moves_the_balance(market, trader, size) -> None:
    before = balance(trader)

    response = _logged_in(trader).post(_trade_url(market), {**BUY_10_YES, **size})

    trade = Trade.objects.get()
    assert response.status_code == 302 and response["Location"] == _page(market) + "#market"
    assert balance(trader) == before - trade.cost
    if size["size_by"] == "target_price":
        assert trade.price_after == pytest.approx(0.70, abs=1e-4)
    assert_ledger_balanced()


def test_a_sale_posted_from_the_panel_sells_part_of_the_position(market, trader) -> None:
    buy(trader, market, outcome="no", shares=20)
    client = _logged_in(trader)

    sale = {**BUY_10_YES, "outcome": "no", "action": "sell", "size": "5"}
    response = client.post(_trade_url(market), sale, follow=True)

    assert response.context["market_panel"].holding.no_shares == Decimal(15)
    assert "Sold 5 NO shares" in response.text
    assert_ledger_balanced()


@pytest.mark.parametrize(
    ("size_by", "size", "named"),
    [
        ("shares", "0", "Shares:"),
        ("shares", "-1", "Shares:"),
        ("shares", "NaN", "Shares:"),
        ("shares", "abc", "Shares:"),
        ("shares", "", "Shares:"),
        ("shares", "1.00001", "Shares:"),
        ("amount", "0", "Amount:"),
        ("amount", "1000.01", "Amount:"),  # more than the balance
        ("target_price", "150", "Target price:"),
        ("target_price", "abc", "Target price:"),
        ("target_price", "30", "Target price:"),  # YES is at 50% already
    ],
)
def test_a_bad_trade_is_refused_naming_the_field_and_writes_nothing(
    market, trader, size_by, size, named
) -> None:
    before = snapshot()

    response = _logged_in(trader).post(
        _trade_url(market), {**BUY_10_YES, "size_by": size_by, "size": size}, follow=True
    )

    assert response.redirect_chain == [(_page(market) + "#market", 302)]
    assert 'id="trade-errors"' in response.text and named in response.text
    assert snapshot() == before


def test_a_refused_trade_comes_back_with_the_input_and_the_error_shown_once(market, trader) -> None:
    client = _logged_in(trader)
    refused = {**BUY_10_YES, "outcome": "no", "size_by": "amount", "size": "5000"}

    response = client.post(_trade_url(market), refused, follow=True)
    again = client.get(_page(market))

    assert response.redirect_chain == [(_page(market) + "#market", 302)]
    assert "Amount:</strong> " in response.text
    assert 'value="5000"' in response.text
    assert re.search(r'value="no"[^>]*checked', response.text)
    assert re.search(r'value="amount"[^>]*checked', response.text)
    assert 'id="trade-errors"' not in again.text and 'value="5000"' not in again.text


def test_a_refused_trade_shows_only_on_its_own_markets_question(market, trader) -> None:
    other = market_create(question_id=QuestionFactory().pk, b=Decimal(100))
    client = _logged_in(trader)

    client.post(_trade_url(market), {**BUY_10_YES, "size": "-1"})
    elsewhere = client.get(_page(other))

    assert 'id="trade-errors"' not in elsewhere.text and 'value="-1"' not in elsewhere.text


def test_selling_more_than_held_or_by_amount_is_refused(market, trader) -> None:
    buy(trader, market, outcome="yes", shares=3)
    client, before = _logged_in(trader), snapshot()

    too_many = client.post(
        _trade_url(market), {**BUY_10_YES, "action": "sell", "size": "4"}, follow=True
    )
    by_amount = client.post(
        _trade_url(market),
        {**BUY_10_YES, "action": "sell", "size_by": "amount", "size": "1"},
        follow=True,
    )
    bad_outcome = client.post(_trade_url(market), {**BUY_10_YES, "outcome": "maybe"}, follow=True)

    assert "Shares:</strong> You hold 3 shares" in too_many.text
    assert "Amount:</strong> A sale is given in shares." in by_amount.text
    assert "Outcome:</strong>" in bad_outcome.text
    assert all(
        r.redirect_chain == [(_page(market) + "#market", 302)]
        for r in (too_many, by_amount, bad_outcome)
    )
    assert snapshot() == before


def test_a_trade_on_a_closed_question_is_refused_and_the_form_is_gone(trader) -> None:
    question = QuestionFactory(
        closes_at=TODAY - dt.timedelta(days=1), resolves_at=TODAY + dt.timedelta(days=1)
    )
    market = market_create(
        question_id=question.pk, b=Decimal(100), now=TODAY - dt.timedelta(days=2)
    )
    before = snapshot()

    response = _logged_in(trader).post(_trade_url(market), BUY_10_YES, follow=True)

    assert response.redirect_chain == [(_page(market) + "#market", 302)]
    assert "Market:</strong> This market is not open for trading." in response.text
    assert "Trading is closed" in response.text and 'class="trade-form"' not in response.text
    assert snapshot() == before


def test_a_settled_market_shows_its_status_and_the_payout(market, trader) -> None:
    buy(trader, market, outcome="yes", shares=10)
    question_resolve(question_id=market.question_id, resolution="yes", resolved_by=None)

    page = _logged_in(trader).get(_page(market))

    assert "Resolved YES: each winning share bought by the effective time paid 1" in page.text
    assert "Paid on settlement" in page.text and "data-position-value>10.00<" in page.text
    assert 'class="trade-form"' not in page.text


def test_anonymous_visitors_see_the_price_and_cannot_trade(market) -> None:
    before = snapshot()

    page = Client().get(_page(market))
    response = Client().post(_trade_url(market), BUY_10_YES)

    assert "50.0%" in page.text and "to trade." in page.text
    assert 'class="trade-form"' not in page.text
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert snapshot() == before


def test_csrf_is_enforced_on_the_trade_form(market, trader) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(trader)

    refused = client.post(_trade_url(market), BUY_10_YES)
    token = client.get(_page(market)).context["csrf_token"]
    accepted = client.post(_trade_url(market), {**BUY_10_YES, "csrfmiddlewaretoken": token})

    assert (refused.status_code, accepted.status_code) == (403, 302)
    assert Trade.objects.count() == 1


def test_without_a_market_the_panel_says_so_and_staff_get_a_link_to_open_one() -> None:
    question = QuestionFactory()
    url = reverse("forecasts:question_detail", args=[question.pk])

    visitor = Client().get(url)
    staff = _logged_in(UserFactory(is_staff=True)).get(url)

    assert "There is no market on this question." in visitor.text
    assert reverse("admin:markets_market_add") not in visitor.text
    assert f"{reverse('admin:markets_market_add')}?question={question.pk}" in staff.text


@pytest.mark.parametrize(
    "size",
    [
        {"size_by": "shares", "size": "12.5"},
        {"size_by": "amount", "size": "40"},
        {"size_by": "target_price", "size": "73", "outcome": "no"},
    ],
)
def test_the_quote_endpoint_answers_what_market_quote_prices(market, trader, size) -> None:
    buy(trader, market, outcome="no", shares=7)
    market.refresh_from_db()
    params = {**BUY_10_YES, **size}
    service_size = {size["size_by"]: size["size"]}
    if size["size_by"] == "target_price":
        service_size = {"target_price": Decimal(size["size"]) / 100}

    body = Client().get(reverse("markets:quote", args=[market.pk]), params).json()

    order = Order.parse(outcome=params["outcome"], action="buy", **service_size)
    expected = market_quote(market=market, order=order)
    assert (body["shares"], body["cost"]) == (str(expected.shares), str(expected.cost))
    assert body["average_price"] == str(expected.average_price)
    assert body["price_after"] == expected.price_after
    assert body["yes_price_after"] == expected.yes_price_after


def test_the_quote_endpoint_names_the_field_and_warns_of_what_the_trade_would_refuse(
    market, trader
) -> None:
    url = reverse("markets:quote", args=[market.pk])
    client = _logged_in(trader)

    bad = client.get(url, {**BUY_10_YES, "size": "-1"})
    over = client.get(url, {**BUY_10_YES, "size": "5000"})
    unheld = client.get(url, {**BUY_10_YES, "action": "sell"})

    assert bad.status_code == 400 and bad.json()["message"].startswith("Shares:")
    assert "size" in bad.json()["errors"]
    assert over.json()["warning"].startswith("That costs more than your balance")
    assert unheld.json()["warning"] == "You hold 0 YES shares."


def test_the_preview_button_renders_the_quote_without_trading(market, trader) -> None:
    before = snapshot()

    response = _logged_in(trader).post(
        _trade_url(market), {**BUY_10_YES, "preview": "1"}, follow=True
    )

    expected = market_quote(market=market, order=Order.parse(**BUY_10_SHARES))
    assert response.redirect_chain == [(_page(market) + "#market", 302)]
    assert 'value="10"' in response.text and 'id="trade-errors"' not in response.text
    assert f"Buy 10 YES shares for {expected.cost:,.2f}" in response.text
    assert "YES moves from 50.0% to" in response.text
    assert 'aria-live="polite" data-quote>Buy 10' in response.text
    assert snapshot() == before


def test_the_history_page_lists_every_trade_paginated(market, trader, monkeypatch) -> None:
    from markets import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for shares in (1, 2, 3):
        buy(trader, market, outcome="yes", shares=shares)
    url = reverse("markets:market_detail", args=[market.pk])

    first, second = Client().get(url), Client().get(url, {"page": 2})

    assert [t.shares for t in first.context["page"]] == [3, 2]
    assert [t.shares for t in second.context["page"]] == [1]
    assert "Page 1 of 2" in first.text


def test_the_portfolio_shows_only_ones_own_positions_and_trades(market, trader) -> None:
    other_market = market_create(
        question_id=QuestionFactory(title="Someone else's?").pk, b=Decimal(50)
    )
    other = UserFactory()
    buy(trader, market, outcome="yes", shares=10)
    buy(other, other_market, outcome="no", shares=4)

    page = _logged_in(trader).get(reverse("markets:portfolio"))

    assert market.question.title in page.text
    assert other_market.question.title not in page.text
    assert [h.market for h in page.context["open_holdings"]] == [market]
    assert list(page.context["page"]) == list(Trade.objects.filter(account__user=trader))


def test_the_portfolio_needs_a_log_in() -> None:
    response = Client().get(reverse("markets:portfolio"))

    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_market_leaderboard_ranks_by_realised_profit(market) -> None:
    winner, idle, loser = UserFactory(), UserFactory(), UserFactory()
    for user in (winner, idle, loser):
        account_open(user=user)
    buy(winner, market, outcome="yes", shares=50)
    buy(loser, market, outcome="yes", shares=200)
    sell(winner, market, outcome="yes", shares=50)
    question_resolve(question_id=market.question_id, resolution="no", resolved_by=None)

    page = Client().get(reverse("markets:leaderboard"))

    ranked = [account.user for account in page.context["page"]]
    assert ranked == [winner, idle, loser]
    assert page.context["page"][0].profit > 0 > page.context["page"][2].profit


def test_a_trade_on_an_open_market_does_not_move_the_public_leaderboard(market) -> None:
    # A ranking that moved with each trade would tie the anonymous tape to a name.
    first, second = UserFactory(), UserFactory()
    for user in (first, second):
        buy(user, market, outcome="yes", shares=5)
    before = Client().get(reverse("markets:leaderboard")).content

    buy(second, market, outcome="yes", shares=300)

    assert Client().get(reverse("markets:leaderboard")).content == before


def test_the_market_list_sets_each_price_beside_the_crowd(settings) -> None:
    from forecasts.services import forecast_submit

    settings.CROWD_MIN_FORECASTERS = 3
    busy, quiet = (
        market_create(question_id=QuestionFactory(title=title).pk, b=Decimal(100), now=TODAY)
        for title in ("Busy market?", "Quiet market?")
    )
    trader = UserFactory()
    buy(trader, busy, outcome="yes", target_price="0.8", now=TODAY)
    an_hour_ago = TODAY - dt.timedelta(hours=1)  # the public crowd is the one on the hour
    for user in (trader, UserFactory(), UserFactory()):
        forecast_submit(user=user, question_id=busy.question_id, probability=0.6, now=an_hour_ago)

    page = Client().get(reverse("markets:market_list")).content.decode()

    busy_row = page[page.index(f'data-market="{busy.pk}"') :].split("</tr>")[0]
    quiet_row = page[page.index(f'data-market="{quiet.pk}"') :].split("</tr>")[0]
    assert "80.0%" in busy_row and "60.0%" in busy_row and "+20.0 pts" in busy_row
    assert "50.0%" in quiet_row and "pts" not in quiet_row
    assert ">1</a>" in busy_row and ">0</a>" in quiet_row


def test_the_market_leaderboard_pages_keep_the_practice_choice() -> None:
    from markets.services import account_open

    for i in range(51):
        account_open(user=UserFactory(username=f"trader{i:02}"), now=TODAY)

    first = Client().get(reverse("markets:leaderboard"), {"practice": "1"}).content.decode()
    plain = Client().get(reverse("markets:leaderboard")).content.decode()

    assert 'href="?page=2&amp;practice=1">Next</a>' in first
    assert 'href="?page=2">Next</a>' in plain


def test_staff_are_offered_a_market_only_where_one_may_open() -> None:
    staff = UserFactory(is_staff=True)
    open_question = QuestionFactory()
    closed = QuestionFactory(closes_at=TODAY - dt.timedelta(days=1))
    offer = "Open a market on it in the admin"

    open_page = _logged_in(staff).get(reverse("forecasts:question_detail", args=[open_question.pk]))
    closed_page = _logged_in(staff).get(reverse("forecasts:question_detail", args=[closed.pk]))

    assert offer in open_page.text
    assert "There is no market" in closed_page.text and offer not in closed_page.text
