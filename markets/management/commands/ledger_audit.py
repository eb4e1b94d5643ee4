"""``manage.py ledger_audit``: check the books; exit 1 and say what is wrong if they fail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from markets.audit import ledger_audit


class Command(BaseCommand):
    help = "Check the market ledger: caches, the accounting identity and every market invariant."

    def handle(self, *args: Any, **options: Any) -> None:
        audit = ledger_audit()
        self.stdout.write(f"money in (grants + subsidies): {audit.money_in}")
        self.stdout.write(f"held (balances + maker pots):  {audit.held}")
        self.stdout.write(f"transfers (must be 0):         {audit.transfers}")
        problems: dict[str, Mapping[Any, object]] = {
            "account balance differs from its entries (cached, ledger)": audit.account_mismatches,
            "maker pot differs from its entries (cached, ledger)": audit.maker_mismatches,
            "shares differ from the trades (q, traded per outcome)": (audit.share_mismatches),
            "maker pot below zero": audit.negative_pots,
            "settled maker lost more than b ln n (loss, bound)": audit.maker_overdrawn,
            "annulled market left an account off zero ((market, account): net)": (
                audit.annulled_residues
            ),
        }
        for label, found in problems.items():
            for key, value in found.items():
                self.stdout.write(f"{label}: {key}: {value}")
        if not audit.ok:
            raise CommandError("the ledger audit failed")
        self.stdout.write("ledger audit: ok")
