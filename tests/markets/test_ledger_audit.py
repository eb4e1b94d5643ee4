"""The ledger audit catches books that balance but break a market's invariants."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from markets.audit import ledger_audit
from markets.models import Account, EntryKind, LedgerEntry, Market, MarketStatus
from tests.factories import buy

pytestmark = pytest.mark.django_db


def hand_made_pair(market: Market, account: Account, to_account: Decimal, kind: str) -> None:
    """A zero-sum pair written behind the services' back, with the caches kept in step."""
    now = market.created_at + dt.timedelta(minutes=1)
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                account=account, market=market, kind=kind, amount=to_account, created_at=now
            ),
            LedgerEntry(account=None, market=market, kind=kind, amount=-to_account, created_at=now),
        ]
    )
    Account.objects.filter(pk=account.pk).update(balance=account.balance + to_account)
    Market.objects.filter(pk=market.pk).update(maker_balance=market.maker_balance - to_account)


def test_a_hand_made_negative_pot_is_reported(market, trader) -> None:
    account = Account.objects.get(user=trader)

    hand_made_pair(market, account, Decimal(100), EntryKind.PAYOUT)

    audit = ledger_audit()
    assert audit.held == audit.money_in and audit.transfers == 0  # the identity still holds
    assert audit.negative_pots == {market.pk: Decimal("-30.6852")}
    assert not audit.ok


def test_a_settled_maker_that_lost_more_than_b_ln_2_is_reported(market, trader) -> None:
    account = Account.objects.get(user=trader)
    LedgerEntry.objects.create(
        market=market, kind=EntryKind.SUBSIDY, amount=Decimal(1000), created_at=market.created_at
    )
    Market.objects.filter(pk=market.pk).update(
        maker_balance=market.maker_balance + 1000, status=MarketStatus.RESOLVED
    )
    market.refresh_from_db()

    hand_made_pair(market, account, Decimal(500), EntryKind.PAYOUT)

    audit = ledger_audit()
    assert not audit.negative_pots
    assert audit.maker_overdrawn == {market.pk: (Decimal(500), Decimal("69.3148"))}
    assert not audit.ok


def test_an_annulled_market_that_leaves_an_account_ahead_is_reported(market, trader) -> None:
    account = Account.objects.get(user=trader)
    Market.objects.filter(pk=market.pk).update(status=MarketStatus.ANNULLED)
    market.refresh_from_db()

    hand_made_pair(market, account, Decimal(5), EntryKind.REFUND)

    audit = ledger_audit()
    assert audit.annulled_residues == {(market.pk, account.pk): Decimal(5)}
    assert not audit.ok


def test_the_audit_of_healthy_books_is_ok(market, trader) -> None:

    buy(trader, market, outcome="yes", shares=10)

    assert ledger_audit().ok


def test_the_command_reports_a_negative_pot_and_fails(market, trader) -> None:
    from django.core.management import CommandError, call_command

    hand_made_pair(market, Account.objects.get(user=trader), Decimal(100), EntryKind.PAYOUT)
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("ledger_audit", stdout=out)

    assert f"maker pot below zero: {market.pk}: -30.6852" in out.getvalue()


def test_the_command_says_ok_on_healthy_books(market) -> None:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("ledger_audit", stdout=out)

    assert "ledger audit: ok" in out.getvalue()
