"""Trades per second on one contended market, with 1, 4 and 16 concurrent clients.

    DATABASE_URL=postgres://... .venv/bin/python bench/markets.py [--trades 2000] [--seed 1]

PostgreSQL only (SQLite serialises every writer, so clients would only measure its lock):
the Crux tables of the database named by DATABASE_URL are flushed first. Each client is a
thread with its own connection, buying (by shares, by amount, to a target price) and selling
at random on the same market, so every trade waits for the market's row lock. Prints trades/s
and the p50/p99 latency of one trade (refusals, e.g. an overdraft, count as trades: they take
the same locks).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import threading
import time
from decimal import Decimal

from seed import fresh_database, setup_django

CLIENTS = (1, 4, 16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=2000, help="trades per client count")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench/markets.py needs DATABASE_URL=postgres://... (its tables are flushed)")
    setup_django()
    from django.conf import settings
    from django.db import connection

    fresh_database()
    print(f"database: {connection.vendor}; cores: {os.cpu_count()}; trades per run: {args.trades}")
    settings.MARKET_STARTING_GRANT = Decimal(10**6)  # nobody runs dry mid-run
    for clients in CLIENTS:
        run(clients, args.trades, args.seed)


def run(clients: int, trades: int, seed: int) -> None:
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError
    from django.db import connections

    from forecasts.models import Question, SourceDocument
    from markets.audit import ledger_audit
    from markets.money import Order
    from markets.services import account_open, market_create, market_trade

    now = dt.datetime.now(dt.UTC)
    source, _ = SourceDocument.objects.get_or_create(
        key="bench-markets", defaults={"title": "Bench", "published_on": now.date(), "text": "-"}
    )
    question = Question.objects.create(
        key=f"bench-market-{clients}",
        source=source,
        title=f"Bench market, {clients} clients",
        resolution_criteria="-",
        passage="-",
        opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=30),
        resolves_at=now + dt.timedelta(days=30),
    )
    market = market_create(question_id=question.pk, b=Decimal(100), now=now)
    users = [
        get_user_model().objects.create(username=f"bench-{clients}-{i}") for i in range(clients)
    ]
    for user in users:
        account_open(user=user, now=now)
    latencies: list[float] = []
    refused = [0]
    barrier = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        rng, user, mine = random.Random(seed * 1000 + index), users[index], []
        try:
            barrier.wait()
            for _ in range(trades // clients):
                outcome, kind = rng.choice(["yes", "no"]), rng.randrange(4)
                started = time.perf_counter()
                try:
                    if kind == 3:
                        order = Order.parse(outcome=outcome, action="sell", shares="1")
                    elif kind == 2:
                        price = rng.uniform(0.1, 0.9)
                        order = Order.parse(outcome=outcome, action="buy", target_price=price)
                    elif kind == 1:
                        order = Order.parse(outcome=outcome, action="buy", amount="5")
                    else:
                        order = Order.parse(outcome=outcome, action="buy", shares="3")
                    market_trade(user=user, market_id=market.pk, order=order)
                except ValidationError:
                    refused[0] += 1
                mine.append(time.perf_counter() - started)
        finally:
            latencies.extend(mine)
            connections.close_all()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    audit = ledger_audit()
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    print(
        f"{clients:>2} clients: {len(ms) / elapsed:7.0f} trades/s, "
        f"p50 {statistics.median(ms):6.2f} ms, p99 {p99:6.2f} ms "
        f"({len(ms)} trades, {refused[0]} refused; ledger {'balanced' if audit.ok else 'BROKEN'})"
    )


if __name__ == "__main__":
    main()
