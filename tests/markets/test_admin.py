"""The markets admin: pages load for staff, money moves only through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from markets.models import Account, LedgerEntry, Market, Trade
from markets.services import subsidy
from tests.factories import QuestionFactory, UserFactory, buy
from tests.markets.conftest import assert_ledger_balanced, balance, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_every_markets_admin_page_loads_for_staff(staff, market, trader) -> None:
    trade = buy(trader, market, outcome="yes", shares=5)
    account, entry = Account.objects.get(user=trader), LedgerEntry.objects.first()
    pages = [
        reverse("admin:markets_market_changelist"),
        reverse("admin:markets_market_add"),
        reverse("admin:markets_market_change", args=[market.pk]),
        reverse("admin:markets_account_changelist"),
        reverse("admin:markets_account_change", args=[account.pk]),
        reverse("admin:markets_trade_changelist"),
        reverse("admin:markets_trade_change", args=[trade.pk]),
        reverse("admin:markets_ledgerentry_changelist"),
        reverse("admin:markets_ledgerentry_change", args=[entry.pk]),
    ]

    statuses = {page: staff.get(page).status_code for page in pages}

    assert set(statuses.values()) == {200}, statuses


def test_the_add_page_opens_a_market_through_the_service(staff) -> None:
    question = QuestionFactory()

    form = staff.get(reverse("admin:markets_market_add"), {"question": question.pk})
    response = staff.post(reverse("admin:markets_market_add"), {"question": question.pk, "b": "80"})

    market = Market.objects.get(question=question)
    assert f'value="{question.pk}" selected' in form.text
    assert response.status_code == 302
    assert (market.b, market.maker_balance) == (Decimal(80), subsidy(Decimal(80)))
    assert_ledger_balanced()


@pytest.mark.parametrize("b", ["0", "-5", "abc", "NaN", "2000000"])
def test_the_add_page_refuses_a_bad_liquidity_naming_it(staff, b) -> None:
    question = QuestionFactory()

    response = staff.post(reverse("admin:markets_market_add"), {"question": question.pk, "b": b})

    assert response.status_code == 200 and "errorlist" in response.text
    assert not Market.objects.exists() and not LedgerEntry.objects.exists()


def test_the_add_page_refuses_a_resolved_question(staff) -> None:
    question = QuestionFactory(resolution="yes")

    response = staff.post(reverse("admin:markets_market_add"), {"question": question.pk, "b": "80"})

    assert "This question is resolved" in response.text
    assert not Market.objects.exists()


def test_the_add_page_refuses_a_question_closed_to_forecasts(staff) -> None:
    question = QuestionFactory(closes_at=timezone.now() - dt.timedelta(hours=1))

    response = staff.post(reverse("admin:markets_market_add"), {"question": question.pk, "b": "80"})

    assert "closed to forecasts" in response.text
    assert not Market.objects.exists() and not LedgerEntry.objects.exists()


def test_money_rows_cannot_be_added_changed_or_deleted_in_the_admin(staff, market, trader) -> None:
    trade = buy(trader, market, outcome="yes", shares=5)
    before = snapshot()

    responses = [
        staff.post(reverse("admin:markets_market_change", args=[market.pk]), {"q_yes": "0"}),
        staff.post(reverse("admin:markets_market_delete", args=[market.pk]), {"post": "yes"}),
        staff.get(reverse("admin:markets_trade_add")),
        staff.post(reverse("admin:markets_trade_delete", args=[trade.pk]), {"post": "yes"}),
        staff.get(reverse("admin:markets_ledgerentry_add")),
        staff.get(reverse("admin:markets_account_add")),
    ]

    assert {r.status_code for r in responses} == {403}
    assert snapshot() == before
    assert Trade.objects.count() == 1


def test_the_grant_action_asks_for_the_amount_then_grants_through_the_service(
    staff, trader
) -> None:
    account = Account.objects.get(user=trader)
    url = reverse("admin:markets_account_changelist")
    selected = {"action": "grant", ACTION_CHECKBOX_NAME: [account.pk]}

    asked = staff.post(url, selected)
    refused = staff.post(url, {**selected, "apply": "1", "amount": "-5"})
    granted = staff.post(url, {**selected, "apply": "1", "amount": "250"})

    assert 'name="amount"' in asked.text and "errorlist" in refused.text
    assert granted.status_code == 302
    assert balance(trader) == Decimal(1250)
    assert LedgerEntry.objects.filter(account=account, kind="grant").count() == 2
    assert_ledger_balanced()
