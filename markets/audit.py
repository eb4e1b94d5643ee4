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
    # market -> (its outstanding shares q, the sums of its trades per outcome), where they differ
    share_mismatches: dict[int, tuple[tuple[Decimal, ...], tuple[Decimal, ...]]] = field(
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
    rows = Market.objects.values_list("pk", "maker_balance", "q", "b", "status")
    markets = {pk: (pot, q, b, status) for pk, pot, q, b, status in rows}
    # Keyed by outcome: a trade on an outcome its market lacks shows up as a mismatch.
    traded: dict[int, dict[int, Decimal]] = {pk: {} for pk in markets}
    for market_id, outcome, s in Trade.objects.values_list("market", "outcome", "shares"):
        traded[market_id][outcome] = traded[market_id].get(outcome, ZERO) + s
    overdrawn = {}
    for pk, (_, q, b, status) in markets.items():
        loss = subsidies.get(pk, ZERO) - per_maker.get(pk, ZERO)
        bound = lmsr.worst_case_loss_money(b, len(q))
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
            pk: (m[1], sums)
            for pk, m in markets.items()
            if m[1] != (sums := _by_outcome(traded[pk], len(m[1])))
        },
        negative_pots={pk: pot for pk, pot in per_maker.items() if pot < 0},
        maker_overdrawn=overdrawn,
        annulled_residues={
            key: net for key, net in per_account_market.items() if key[0] in annulled and net
        },
    )


def _by_outcome(sums: dict[int, Decimal], n: int) -> tuple[Decimal, ...]:
    """The sums as a vector over 0..n-1, longer if a trade names an outcome past n - 1."""
    width = max([n, *(k + 1 for k in sums)])
    return tuple(sums.get(i, ZERO) for i in range(width))
