"""Many clients trading on one market at once: the market's row lock keeps the books exact."""

from __future__ import annotations

import datetime as dt
import random
import threading
from decimal import Decimal

import pytest
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, connections

from markets.audit import ledger_audit
from markets.models import Account, Market, Trade
from markets.money import Order
from markets.services import account_open, holding, market_create, market_trade
from tests.factories import QuestionFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

THREADS = 16
TRADES = 2000


def trade_randomly(
    user: AbstractBaseUser, market_id: int, rng: random.Random, now: dt.datetime
) -> bool:
    """One random buy (by shares, amount or target) or sale; False if it was refused."""
    outcome = rng.choice(["yes", "no"])
    try:
        match rng.randrange(4):
            case 0:
                shares = Decimal(rng.randint(1, 300_000)) / 10_000
                order = Order.parse(outcome=outcome, action="buy", shares=shares)
            case 1:
                amount = Decimal(rng.randint(1, 200_000)) / 10_000
                order = Order.parse(outcome=outcome, action="buy", amount=amount)
            case 2:
                price = rng.uniform(0.05, 0.95)
                order = Order.parse(outcome=outcome, action="buy", target_price=price)
            case _:
                account = Account.objects.get(user=user)
                held = holding(
                    account=account, market=Market(pk=market_id), outcome=outcome == "no"
                )
                shares = max(
                    Decimal("0.0001"), (held * Decimal(rng.random())).quantize(Decimal("0.0001"))
                )
                order = Order.parse(outcome=outcome, action="sell", shares=shares)
        market_trade(user=user, market_id=market_id, order=order, now=now)
    except ValidationError:
        return False
    return True


def test_concurrent_trades_leave_the_books_balanced(now: dt.datetime) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): SQLite serialises all writers anyway")
    market = market_create(question_id=QuestionFactory().pk, b=Decimal(100), now=now)
    users = [UserFactory() for _ in range(THREADS)]
    for user in users:
        account_open(user=user, now=now)
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    done: list[bool] = []

    def client(index: int) -> None:
        rng = random.Random(index)
        try:
            barrier.wait()
            for _ in range(TRADES // THREADS):
                done.append(trade_randomly(users[index], market.pk, rng, now))
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    audit = ledger_audit()
    assert errors == []
    assert len(done) == TRADES and Trade.objects.count() == sum(done) > TRADES // 2
    assert audit.ok, audit  # includes: q_yes, q_no equal the sums of the trades
    assert not Account.objects.filter(balance__lt=0).exists()
