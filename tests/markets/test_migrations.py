"""Markets become n-outcome: 0002 and 0003 move every (q_yes, q_no) into the vector ``q``, and
back for a binary market, losing nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from markets.audit import ledger_audit
from markets.models import Market, Trade
from markets.services import market_create
from tests.factories import T0, QuestionFactory, UserFactory, buy, options_question, sell

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("markets", "0001_initial")]
NOW = T0 + dt.timedelta(days=30)


def migrate(targets: list[tuple[str, str]]) -> Apps:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes("markets")


@pytest.fixture
def migrated_back() -> Iterator[None]:
    """The schema as it was before n outcomes; the latest again afterwards, whatever happened."""
    newest = latest()
    yield
    migrate(newest)


def _binary_markets_traded() -> list[Market]:
    """Two markets with trades on both sides, settled books, under today's schema."""
    markets = [
        market_create(question_id=QuestionFactory().pk, b=Decimal(b), now=T0) for b in (100, 35)
    ]
    ada, bob = UserFactory(), UserFactory()
    buy(ada, markets[0], outcome="yes", shares="12.3456", now=NOW)
    buy(bob, markets[0], outcome="no", amount="40", now=NOW)
    sell(ada, markets[0], outcome="yes", shares="2.0001", now=NOW)
    buy(bob, markets[1], outcome="yes", target_price="0.61", now=NOW)
    return markets


def test_the_forward_migration_keeps_every_markets_shares_and_trades(migrated_back) -> None:
    markets = _binary_markets_traded()
    expected = {m.pk: Market.objects.get(pk=m.pk).q for m in markets}
    trades = list(Trade.objects.order_by("pk").values_list("pk", "outcome", "shares", "cost"))
    old = migrate(BEFORE).get_model("markets", "Market")
    columns = {
        pk: (q_yes, q_no) for pk, q_yes, q_no in old.objects.values_list("pk", "q_yes", "q_no")
    }

    migrate(latest())

    assert columns == expected  # the reverse put each vector back into the two columns
    assert {m.pk: m.q for m in Market.objects.all()} == expected
    assert (
        list(Trade.objects.order_by("pk").values_list("pk", "outcome", "shares", "cost")) == trades
    )
    assert ledger_audit().ok


def test_a_binary_market_made_before_the_vector_migrates_forward_exactly(migrated_back) -> None:
    old = migrate(BEFORE)
    question = QuestionFactory()
    OldMarket = old.get_model("markets", "Market")
    made = OldMarket.objects.create(
        question_id=question.pk,
        b=Decimal("100"),
        q_yes=Decimal("123456789.0001"),
        q_no=Decimal("-0.0003"),
        created_at=T0,
    )

    migrate(latest())

    market = Market.objects.get(pk=made.pk)
    assert market.q == (Decimal("123456789.0001"), Decimal("-0.0003"))
    assert market.n_outcomes == 2 and market.labels == ("yes", "no")


def test_a_market_of_three_outcomes_stops_the_reverse_migration(migrated_back) -> None:
    market_create(question_id=options_question(3).pk, b=Decimal(10), now=T0)

    with pytest.raises(RuntimeError, match="more than two outcomes"):
        migrate(BEFORE)
