"""The markets API over HTTP: trading, quotes, accounts and positions, and refusals that write
nothing. In the world, "user" (ada) holds 10 YES on the open question's market (b = 100)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from forecasts.lifecycle import question_resolve
from markets.models import Account, Market
from markets.services import market_create
from tests.api.conftest import World
from tests.factories import T0, QuestionFactory, buy
from tests.markets.conftest import assert_ledger_balanced, snapshot

pytestmark = [pytest.mark.django_db(transaction=True)]


def _trades(world: World) -> str:
    return f"/markets/{world.market.pk}/trades/"


def test_a_trader_buys_by_shares_amount_and_target_then_sells(world: World, api) -> None:
    bob = api("other", world)

    by_shares = bob.post(_trades(world), {"outcome": "yes", "action": "buy", "shares": "20"})
    by_amount = bob.post(_trades(world), {"outcome": "no", "action": "buy", "amount": 10})
    by_target = bob.post(_trades(world), {"outcome": "yes", "action": "buy", "target_price": "0.8"})
    sale = bob.post(_trades(world), {"outcome": "yes", "action": "sell", "shares": 5})

    assert [r.status_code for r in (by_shares, by_amount, by_target, sale)] == [201] * 4
    assert by_shares.json()["trade"]["shares"] == "20.0000"
    assert Decimal(by_amount.json()["trade"]["cost"]) <= 10
    assert by_target.json()["trade"]["price_after"] == pytest.approx(0.8, abs=1e-4)
    trade = sale.json()["trade"]
    assert (trade["action"], trade["shares"]) == ("sell", "-5.0000")
    assert Decimal(trade["cost"]) < 0
    costs = sum(Decimal(r.json()["trade"]["cost"]) for r in (by_shares, by_amount, by_target, sale))
    assert Decimal(sale.json()["balance"]) == 1000 - costs
    assert_ledger_balanced()


def test_balance_and_positions_follow_the_trades(world: World, api) -> None:
    bob = api("other", world)

    bob.post(_trades(world), {"outcome": "yes", "action": "buy", "shares": "20"})
    bob.post(_trades(world), {"outcome": "yes", "action": "sell", "shares": "5"})
    account = bob.get("/me/account/").json()
    positions = bob.get("/me/positions/").json()["results"]
    market = bob.get(f"/markets/{world.market.pk}/").json()

    assert account["opened"] is True
    assert Decimal(account["balance"]) < 1000
    assert account["profit"] == "0.0000"  # realised only: the market is still open
    [position] = positions
    assert (position["outcome"], position["shares"], position["trades"]) == ("yes", "15.0000", 2)
    assert position["price"] == pytest.approx(market["price_yes"])
    assert Decimal(position["value"]) == pytest.approx(
        15 * Decimal(market["price_yes"]), abs=Decimal("0.0001")
    )
    assert Decimal(position["net_cost"]) == 1000 - Decimal(account["balance"])


@pytest.mark.parametrize(
    "size",
    [
        {"outcome": "yes", "action": "buy", "shares": "12.5"},
        {"outcome": "no", "action": "buy", "amount": "40"},
        {"outcome": "yes", "action": "buy", "target_price": "0.73"},
        {"outcome": "yes", "action": "sell", "shares": "4"},
    ],
)
def test_a_quote_is_what_the_trade_then_costs(world: World, api, size: dict) -> None:
    path = f"/markets/{world.market.pk}/quote/"
    before = snapshot()

    quote = api(None, world).get(path, params=size)

    assert quote.status_code == 200, quote.text
    assert snapshot() == before
    trade = api("user", world).post(_trades(world), size).json()["trade"]
    assert (quote.json()["shares"], quote.json()["cost"]) == (trade["shares"], trade["cost"])
    assert quote.json()["price_after"] == trade["price_after"]
    assert quote.json()["trading"] is True


def test_reading_an_account_before_any_trade_writes_nothing(world: World, api) -> None:
    accounts = Account.objects.count()

    account = api("other", world).get("/me/account/").json()

    assert account == {
        "opened": False,
        "balance": "1000.0000",
        "granted": "1000.0000",
        "profit": "0.0000",
        "starting_grant": "1000.0000",
        "created_at": None,
    }
    assert Account.objects.count() == accounts


def test_everyone_sees_only_their_own_account_positions_and_trades(world: World, api) -> None:
    ada, bob = api("user", world), api("other", world)

    mine = ada.get("/me/trades/").json()["results"]
    theirs = bob.get("/me/trades/").json()
    positions = bob.get("/me/positions/").json()

    assert [(t["id"], t["question_title"]) for t in mine] == [
        (world.trade.pk, world.open_question.title)
    ]
    assert theirs["count"] == 0 and positions["count"] == 0
    assert bob.get("/me/account/").json()["opened"] is False


def test_the_tape_shows_what_moved_the_market_but_not_who(world: World, api) -> None:
    api("other", world).post(_trades(world), {"outcome": "no", "action": "buy", "shares": "3"})

    tape = api(None, world).get(_trades(world)).json()

    assert tape["count"] == 2
    newest, first = tape["results"]
    assert (newest["outcome"], newest["shares"], first["id"]) == ("no", "3.0000", world.trade.pk)
    assert not {"user", "username", "account", "trader"} & set(newest)
    assert "ada" not in str(tape) and "bob" not in str(tape)


def test_the_price_history_opens_at_one_half_and_steps_at_each_trade(world: World, api) -> None:
    client = api(None, world)
    path = f"/markets/{world.market.pk}/price-history/"

    first_page = client.get(path, params={"page_size": 1}).json()
    second_page = client.get(path, params={"page_size": 1, "page": 2}).json()

    assert first_page["count"] == 2
    [opening], [after] = first_page["results"], second_page["results"]
    assert opening["yes_price"] == 0.5 and opening["trade"] is None
    assert dt.datetime.fromisoformat(opening["at"]) == world.market.created_at
    assert after["trade"] == world.trade.pk
    assert after["yes_price"] == pytest.approx(world.trade.price_after)


def test_a_market_shows_its_state_trades_and_volume(world: World, api) -> None:
    client = api(None, world)

    detail = client.get(f"/markets/{world.market.pk}/").json()
    listed = client.get("/markets/", params={"question": world.open_question.pk}).json()
    resolved = client.get("/markets/", params={"status": "resolved"}).json()

    assert detail["question"] == world.open_question.pk
    assert (detail["b"], detail["q_yes"], detail["q_no"]) == ("100.0000", "10.0000", "0.0000")
    assert detail["price_yes"] + detail["price_no"] == pytest.approx(1)
    assert (detail["trade_count"], detail["volume"]) == (1, str(world.trade.cost))
    assert (detail["status"], detail["trading"]) == ("open", True)
    assert detail["created_at"].endswith("Z")
    assert listed["results"] == [detail]
    assert resolved["count"] == 0


def test_the_profit_leaderboard_ranks_accounts_by_realised_profit(world: World, api) -> None:
    bob = api("other", world)
    bob.post(_trades(world), {"outcome": "no", "action": "buy", "shares": "30"})
    while_open = api(None, world).get("/markets/leaderboard/").json()
    bobs_cost = Decimal(bob.get("/me/account/").json()["granted"]) - Decimal(
        bob.get("/me/account/").json()["balance"]
    )

    question_resolve(question_id=world.market.question_id, resolution="yes", resolved_by=None)
    board = api(None, world).get("/markets/leaderboard/").json()

    assert {row["profit"] for row in while_open["results"]} == {"0.0000"}
    assert "balance" not in while_open["results"][0]
    assert [(row["rank"], row["user"]) for row in board["results"]] == [(1, "ada"), (2, "bob")]
    assert board["results"][0]["profit"] == str(10 - world.trade.cost)
    assert board["results"][1]["profit"] == str(-bobs_cost)
    assert board["results"][0]["settled_markets"] == 1


def test_the_profit_leaderboard_leaves_practice_traders_out_unless_asked(world: World, api) -> None:
    from forecasts.models import PRACTICE_SOURCE_KEY
    from tests.factories import SourceDocumentFactory, UserFactory

    practice = QuestionFactory(source=SourceDocumentFactory(key=PRACTICE_SOURCE_KEY))
    market = market_create(question_id=practice.pk, b=Decimal(50), now=T0 + dt.timedelta(days=1))
    demo = UserFactory(username="demo-noisy")
    buy(demo, market, outcome="yes", shares=1)

    plain = api(None, world).get("/markets/leaderboard/").json()
    asked = api(None, world).get("/markets/leaderboard/", params={"practice": "true"}).json()

    assert "demo-noisy" not in [row["user"] for row in plain["results"]]
    assert "demo-noisy" in [row["user"] for row in asked["results"]]


def test_staff_open_a_market_with_its_liquidity(world: World, api) -> None:
    staff = api("staff", world)

    created = staff.post("/markets/", {"question": world.bare_question.pk, "b": "250"})
    again = staff.post("/markets/", {"question": world.bare_question.pk, "b": "250"})
    resolved = staff.post("/markets/", {"question": world.resolved_question.pk, "b": "250"})

    assert created.status_code == 201
    assert (created.json()["b"], created.json()["price_yes"]) == ("250.0000", 0.5)
    assert (again.status_code, resolved.status_code) == (400, 400)
    assert "question" in again.json()["errors"] and "question" in resolved.json()["errors"]
    assert_ledger_balanced()


def test_staff_cannot_open_a_market_on_a_closed_question(world: World, api) -> None:
    closed = QuestionFactory(opens_at=T0, closes_at=T0 + dt.timedelta(days=2))
    before = snapshot()

    refused = api("staff", world).post("/markets/", {"question": closed.pk, "b": "250"})

    assert refused.status_code == 400
    assert "closed to forecasts" in str(refused.json()["errors"]["question"])
    assert snapshot() == before


# --- refusals ---------------------------------------------------------------------------------


BUY = {"outcome": "yes", "action": "buy"}
SELL = {"outcome": "yes", "action": "sell"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        *[
            ({**BUY, "shares": bad}, "shares")
            for bad in ["-1", "0", 0, -3, "NaN", "Infinity", "abc", "", None, True, [1], {}]
        ],
        ({**BUY, "shares": "1.00001"}, "shares"),
        ({**BUY, "shares": "100000000000"}, "shares"),
        ({**BUY, "amount": "-5"}, "amount"),
        ({**BUY, "target_price": "1.5"}, "target_price"),
        ({**BUY, "target_price": "0.5"}, "target_price"),  # YES is above 0.5 already
        ({**BUY, "shares": "1", "amount": "1"}, "amount"),
        (BUY, "shares"),
        ({"outcome": "maybe", "action": "buy", "shares": "1"}, "outcome"),
        ({"outcome": 2, "action": "buy", "shares": "1"}, "outcome"),
        ({"outcome": "2", "action": "buy", "shares": "1"}, "outcome"),
        ({"outcome": True, "action": "buy", "shares": "1"}, "outcome"),
        ({"outcome": 0.0, "action": "buy", "shares": "1"}, "outcome"),
        ({"outcome": ["yes"], "action": "buy", "shares": "1"}, "outcome"),
        ({"action": "buy", "shares": "1"}, "outcome"),
        ({"outcome": "yes", "action": "hold", "shares": "1"}, "action"),
        ({"outcome": "yes", "shares": "1"}, "action"),
        ({**BUY, "shares": "1", "user": 2}, "user"),
        ({**BUY, "shares": "1", "market": 1}, "market"),
        ({**BUY, "amount": "5000"}, "amount"),  # overdraft: the balance is 1000
        ({**BUY, "shares": "100000"}, "shares"),  # overdraft
        ({**SELL, "shares": "1"}, "shares"),  # bob holds none
        ({**SELL, "amount": "1"}, "amount"),
        ({"outcome": "no", "action": "sell", "shares": "0"}, "shares"),
    ],
)
def test_bad_trades_are_refused_naming_the_field_and_write_nothing(
    world: World, api, payload: dict, field: str
) -> None:
    before = snapshot()

    response = api("other", world).post(_trades(world), payload)

    body = response.json()
    assert response.status_code == 400, body
    assert field in body["errors"] and field in body["message"]
    assert snapshot() == before


def test_selling_more_than_you_hold_is_refused(world: World, api) -> None:
    before = snapshot()

    response = api("user", world).post(_trades(world), {**SELL, "shares": "10.0001"})

    assert response.status_code == 400
    assert "You hold 10 shares" in response.json()["errors"]["shares"][0]
    assert snapshot() == before


def test_a_body_that_is_not_a_json_object_is_refused(world: World, api) -> None:
    before = snapshot()

    listed = api("other", world).post(_trades(world), [BUY])
    nan = api("other", world).post(
        _trades(world),
        data='{"outcome": "yes", "action": "buy", "shares": NaN}',
        headers={"Content-Type": "application/json"},
    )
    huge = api("other", world).post(_trades(world), {**BUY, "shares": "1", "x": "y" * 400_000})

    assert (listed.status_code, nan.status_code, huge.status_code) == (400, 400, 413)
    assert set(listed.json()) == set(nan.json()) == {"message", "errors"}
    assert snapshot() == before


def test_a_trade_on_a_closed_question_s_market_is_refused(world: World, api) -> None:
    closed = QuestionFactory(opens_at=T0, closes_at=T0 + dt.timedelta(days=1))
    market = market_create(question_id=closed.pk, b=Decimal(100), now=T0)
    before = snapshot()

    response = api("other", world).post(f"/markets/{market.pk}/trades/", {**BUY, "shares": "1"})
    detail = api(None, world).get(f"/markets/{market.pk}/").json()

    assert response.status_code == 400
    assert response.json()["errors"]["market"] == ["This market is not open for trading."]
    assert (detail["status"], detail["trading"]) == ("open", False)
    assert snapshot() == before


def test_a_trade_on_a_resolved_market_is_refused(world: World, api) -> None:
    question_resolve(question_id=world.open_question.pk, resolution="no", resolved_by=None)
    before = snapshot()

    response = api("user", world).post(_trades(world), {**SELL, "shares": "1"})

    assert response.status_code == 400 and "market" in response.json()["errors"]
    assert Market.objects.get(pk=world.market.pk).status == "resolved"
    assert snapshot() == before


def test_an_unknown_market_is_404(world: World, api) -> None:
    response = api("other", world).post("/markets/999999/trades/", {**BUY, "shares": "1"})

    assert response.status_code == 404
    assert set(response.json()) == {"message", "errors"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**BUY, "shares": "abc"}, "shares"),
        ({**BUY, "shares": "-2"}, "shares"),
        ({**BUY, "shares": "nan"}, "shares"),
        ({"action": "buy", "shares": "1"}, "outcome"),
        ({**BUY, "shares": "1", "size": "2"}, "size"),
        ({**BUY, "shares": "1", "amount": "2"}, "amount"),
        ({**SELL, "target_price": "0.6"}, "target_price"),
    ],
)
def test_bad_quotes_are_refused_naming_the_field(world: World, api, params, field) -> None:
    response = api(None, world).get(f"/markets/{world.market.pk}/quote/", params=params)

    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/markets/", {"status": "sideways"}, "status"),
        ("/markets/", {"question": "first"}, "question"),
        ("/markets/leaderboard/", {"sort": "profit"}, "sort"),
        ("/me/trades/", {"market": "x"}, "market"),
        ("/me/positions/", {"user": "bob"}, "user"),
    ],
)
def test_bad_list_parameters_are_named(world: World, api, path, params, field) -> None:
    response = api("user", world).get(path, params=params)

    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"question": 0, "b": "100"}, "question"),
        ({"question": 999999, "b": "100"}, "question"),
        ({"b": "100"}, "question"),
        ({"question": 1, "b": "0"}, "b"),
        ({"question": 1, "b": "abc"}, "b"),
        ({"question": 1, "b": "10000000"}, "b"),
        ({"question": 1, "b": "100", "status": "open"}, "status"),
    ],
)
def test_bad_markets_are_refused_naming_the_field(world: World, api, payload, field) -> None:
    before = snapshot()

    response = api("staff", world).post("/markets/", payload)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert snapshot() == before


def test_trading_in_circles_then_an_annulment_gains_nobody_anything_over_http(
    world: World, api
) -> None:
    staff, a, b = api("staff", world), api("user", world), api("other", world)
    market = staff.post("/markets/", {"question": world.bare_question.pk, "b": "100"}).json()
    trades = f"/markets/{market['id']}/trades/"
    start = {c: Decimal(c.get("/me/account/").json()["balance"]) for c in (a, b)}
    for _ in range(10):
        for client, action in ((a, "buy"), (b, "buy"), (a, "sell"), (b, "sell")):
            done = client.post(trades, {"outcome": "yes", "action": action, "shares": "300"})
            assert done.status_code == 201, done.text
    assert Decimal(a.get("/me/account/").json()["balance"]) > start[a]

    annul = {"resolution": "annulled"}
    assert staff.post(f"/questions/{world.bare_question.pk}/resolve/", annul).status_code == 200

    for client in (a, b):
        assert Decimal(client.get("/me/account/").json()["balance"]) == start[client]
    assert Market.objects.get(pk=market["id"]).maker_balance == Decimal("69.3148")
    assert_ledger_balanced()
