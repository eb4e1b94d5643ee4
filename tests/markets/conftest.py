from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.base_user import AbstractBaseUser

from markets.audit import ledger_audit
from markets.models import Account, LedgerEntry, Market, Trade
from markets.services import account_open, market_create
from tests.factories import QuestionFactory, UserFactory


@pytest.fixture
def market(now: dt.datetime) -> Market:
    """An open market with b = 100 on an open question."""
    return market_create(question_id=QuestionFactory().pk, b=Decimal(100), now=now)


@pytest.fixture
def trader(now: dt.datetime) -> AbstractBaseUser:
    """A user with an account holding the starting grant (1000)."""
    user = UserFactory()
    account_open(user=user, now=now)
    return user


def balance(user: AbstractBaseUser) -> Decimal:
    return Account.objects.get(user=user).balance


def assert_ledger_balanced() -> None:
    audit = ledger_audit()
    assert audit.ok, audit


def snapshot() -> tuple[object, ...]:
    """Everything a refused operation must leave as it was."""
    return (
        list(LedgerEntry.objects.values_list("id", "amount")),
        list(Trade.objects.values_list("id")),
        list(Account.objects.values_list("id", "balance")),
        list(Market.objects.values_list("id", "q", "maker_balance", "status")),
    )
