"""The market's own page: the panel to trade from, the price chart, and trades answered in place
(htmx) or by a redirect back to the page (without JavaScript)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from markets.models import Market, Trade
from markets.services import account_open
from tests.factories import MultipleChoiceQuestionFactory, buy
from tests.markets.conftest import balance, snapshot

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
BUY = {"outcome": "yes", "action": "buy", "size_by": "shares", "size": "10", "page": "market"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(market: Market) -> str:
    return reverse("markets:market_detail", args=[market.pk])


def _trade(market: Market) -> str:
    return reverse("markets:trade", args=[market.pk])


def test_the_page_offers_the_trade_form_and_the_price_chart(market, trader) -> None:
    page = _client(trader).get(_page(market)).text

    form = page[page.index('<form method="post" action="' + _trade(market)) :].split("</form>")[0]
    assert 'hx-post="' + _trade(market) + '"' in form
    assert '<input type="hidden" name="page" value="market">' in form
    assert 'name="preview"' in form and 'name="trade"' in form
    chart = reverse("forecasts:question_chart", args=[market.question_id, "prices", "png"])
    assert f'<img src="{chart}?trades=0" alt="The market' in page
    assert len(re.findall(r"data-market-price(?=[\s>])", page)) == 1  # the facts, not the panel


def test_a_trade_without_javascript_comes_back_to_the_market_page(market, trader) -> None:
    response = _client(trader).post(_trade(market), {**BUY, "trade": "1"})

    assert response.status_code == 302
    assert response["Location"] == _page(market) + "#market"
    assert Trade.objects.get().shares == 10


def test_a_trade_with_htmx_answers_with_the_panel_and_the_new_facts(market, trader) -> None:
    response = _client(trader).post(_trade(market), {**BUY, "trade": "1"}, **HTMX)

    text = response.text
    trade = Trade.objects.get()
    market.refresh_from_db()
    assert response.status_code == 200 and "<html" not in text
    assert text.lstrip().startswith('<section class="panel market-panel" id="market"')
    assert "Bought 10 YES shares" in text and "data-panel-said" in text
    assert f"data-balance>{balance(trader):,.2f}<" in text
    assert 'id="market-facts" hx-swap-oob="true"' in text
    assert 'id="price-chart" hx-swap-oob="true"' in text and "prices.png?trades=1" in text
    assert f"data-market-price>{market.price_yes * 100:.1f}%<" in text
    assert trade.account.user == trader
    assert "<script" not in text  # the page's script stays loaded; it sets the new form up


def test_an_over_budget_trade_with_htmx_is_refused_beside_the_size(market, trader) -> None:
    before = snapshot()

    response = _client(trader).post(
        _trade(market), {**BUY, "size_by": "amount", "size": "5000", "trade": "1"}, **HTMX
    )

    text = response.text
    size = text.index('id="trade_size"')
    errors = text.index('id="trade-errors"')
    assert response.status_code == 400
    assert "Amount:</strong> That costs 5000.0000; your balance is 1000.0000." in text
    assert size < errors < text.index("data-quote>")  # right under the field
    assert 'aria-describedby="trade-errors"' in text and 'value="5000"' in text
    assert snapshot() == before


def test_a_preview_with_htmx_prices_the_trade_and_warns_writing_nothing(market, trader) -> None:
    before = snapshot()

    response = _client(trader).post(_trade(market), {**BUY, "size": "3000", "preview": "1"}, **HTMX)

    assert response.status_code == 200
    assert "data-quote>Buy 3000 YES shares for" in response.text
    assert "That costs more than your balance (1,000.00)." in response.text
    assert snapshot() == before


def test_the_question_pages_panel_is_answered_in_place_too(market, trader) -> None:
    response = _client(trader).post(
        _trade(market), {**BUY, "page": "question", "trade": "1"}, **HTMX
    )

    assert response.status_code == 200
    assert "Bought 10 YES shares" in response.text and "Recent trades" in response.text
    assert "market-facts" not in response.text


def test_a_signed_out_htmx_trade_is_sent_to_log_in(market) -> None:
    response = Client().post(_trade(market), {**BUY, "trade": "1"}, **HTMX)

    assert response["HX-Redirect"] == f"{reverse('login')}?next={_page(market)}"
    assert not Trade.objects.exists()


def test_the_price_chart_draws_each_outcome_and_lists_each_price(trader, now) -> None:
    from markets.services import market_create

    cache.clear()
    question = MultipleChoiceQuestionFactory()
    market = market_create(question_id=question.pk, b=Decimal(100), now=now)
    account_open(user=trader, now=now)
    buy(trader, market, outcome="Narrowed", shares=20, now=now)
    chart = lambda fmt: reverse("forecasts:question_chart", args=[question.pk, "prices", fmt])  # noqa: E731

    svg = Client().get(chart("svg")).text
    rows = Client().get(chart("csv")).text.splitlines()

    assert all(f'id="series-outcome-{i}"' in svg for i in range(3))
    assert rows[0] == "at,outcome,price" and len(rows) == 1 + 2 * 3
    assert rows[-2].split(",")[1] == "Narrowed"
    assert float(rows[-2].split(",")[2]) == pytest.approx(Market.objects.get().prices()[1])


def test_a_refusal_without_javascript_shows_on_the_market_page(market, trader) -> None:
    client = _client(trader)

    response = client.post(_trade(market), {**BUY, "size": "-1", "trade": "1"}, follow=True)

    assert response.redirect_chain == [(_page(market) + "#market", 302)]
    text = response.text
    assert text.index('id="trade_size"') < text.index('id="trade-errors"')
    assert "Shares:</strong> The number must be greater than 0." in text
    assert not Trade.objects.exists()
