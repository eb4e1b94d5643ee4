"""The ledger audit: the books balance, or it says what is wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from markets import lmsr
from markets.models import (
    SOURCE_KINDS,
    Account,
    EntryKind,
    LedgerEntry,
    Market,
    MarketStatus,
    Outcome,
    Trade,
)
from markets.selectors import SETTLED, ZERO


@dataclass(frozen=True)
class LedgerAudit:
    """The accounting identity, every cache against the ledger, and the market invariants;
    ``ok`` when all hold."""

    money_in: Decimal  # grants + subsidies
    held: Decimal  # sum of account balances + sum of maker pots
    transfers: Decimal  # sum of trade/payout/refund/reversal entries: must be exactly 0
    account_mismatches: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)
    maker_mismatches: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)
    share_mismatches: dict[int, tuple[Decimal, Decimal, Decimal, Decimal]] = field(
        default_factory=dict
    )
    # market -> its maker's pot (from the ledger), where it is below zero
    negative_pots: dict[int, Decimal] = field(default_factory=dict)
    # settled market -> (what its maker lost of its subsidy, b ln n on the money grid)
    maker_overdrawn: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)
    # (annulled market, account) -> the account's net entries there, where not zero
    annulled_residues: dict[tuple[int, int], Decimal] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.held == self.money_in
            and self.transfers == 0
            and not self.account_mismatches
            and not self.maker_mismatches
            and not self.share_mismatches
            and not self.negative_pots
            and not self.maker_overdrawn
            and not self.annulled_residues
        )


def ledger_audit() -> LedgerAudit:
    """Recompute every balance from the ledger, in Python Decimal sums (exact on the grid)."""
    per_account: dict[int, Decimal] = {}
    per_maker: dict[int, Decimal] = {}
    subsidies: dict[int, Decimal] = {}
    per_account_market: dict[tuple[int, int], Decimal] = {}
    money_in = transfers = ZERO
    for account_id, market_id, kind, amount in LedgerEntry.objects.values_list(
        "account", "market", "kind", "amount"
    ):
        if account_id is not None:
            per_account[account_id] = per_account.get(account_id, ZERO) + amount
            if market_id is not None:
                key = (market_id, account_id)
                per_account_market[key] = per_account_market.get(key, ZERO) + amount
        else:
            per_maker[market_id] = per_maker.get(market_id, ZERO) + amount
            if kind == EntryKind.SUBSIDY:
                subsidies[market_id] = subsidies.get(market_id, ZERO) + amount
        if kind in SOURCE_KINDS:
            money_in += amount
        else:
            transfers += amount
    balances = dict(Account.objects.values_list("pk", "balance"))
    rows = Market.objects.values_list("pk", "maker_balance", "q_yes", "q_no", "b", "status")
    markets = {pk: (pot, (q_yes, q_no), b, status) for pk, pot, q_yes, q_no, b, status in rows}
    traded = {pk: [ZERO, ZERO] for pk in markets}
    for market_id, outcome, s in Trade.objects.values_list("market", "outcome", "shares"):
        traded[market_id][outcome] += s
    overdrawn = {}
    for pk, (_, _, b, status) in markets.items():
        loss = subsidies.get(pk, ZERO) - per_maker.get(pk, ZERO)
        bound = lmsr.worst_case_loss_money(b, len(Outcome))
        if status in SETTLED and loss > bound:
            overdrawn[pk] = (loss, bound)
    annulled = {pk for pk, m in markets.items() if m[3] == MarketStatus.ANNULLED}
    return LedgerAudit(
        money_in=money_in,
        held=sum(balances.values(), ZERO) + sum((m[0] for m in markets.values()), ZERO),
        transfers=transfers,
        account_mismatches={
            pk: (cached, per_account.get(pk, ZERO))
            for pk, cached in balances.items()
            if cached != per_account.get(pk, ZERO)
        },
        maker_mismatches={
            pk: (m[0], per_maker.get(pk, ZERO))
            for pk, m in markets.items()
            if m[0] != per_maker.get(pk, ZERO)
        },
        share_mismatches={
            pk: (*m[1], traded[pk][0], traded[pk][1])
            for pk, m in markets.items()
            if m[1] != tuple(traded[pk])
        },
        negative_pots={pk: pot for pk, pot in per_maker.items() if pot < 0},
        maker_overdrawn=overdrawn,
        annulled_residues={
            key: net for key, net in per_account_market.items() if key[0] in annulled and net
        },
    )
