"""Parsing at the edge: ``Order.parse`` refuses bad input naming the field, before any service."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from markets.models import Outcome
from markets.money import Order, parse_money

DIGITS = "Write the number with digits and at most one decimal point."
ONE_SIZE = "Give exactly one of shares, amount or target price."
POSITIVE = "The number must be greater than 0."
FINITE = "The number must be finite."
GRID = "Use at most 4 decimal places (0.0001)."
TARGET = "Give a target price between 0.001 and 0.999."
BUY = {"outcome": "yes", "action": "buy"}
SELL = {"outcome": "yes", "action": "sell"}

BAD_ORDERS = [
    ({**BUY, "shares": 0}, "shares", POSITIVE),
    ({**BUY, "shares": -3}, "shares", POSITIVE),
    ({**BUY, "shares": "NaN"}, "shares", DIGITS),
    ({**BUY, "shares": float("nan")}, "shares", FINITE),
    ({**BUY, "shares": float("inf")}, "shares", FINITE),
    ({**BUY, "shares": "lots"}, "shares", DIGITS),
    ({**BUY, "shares": "0.00001"}, "shares", GRID),
    ({**BUY, "shares": "1_000"}, "shares", DIGITS),  # Decimal() itself would take it
    ({**BUY, "shares": "1e2"}, "shares", DIGITS),
    ({**BUY, "shares": True}, "shares", "A number is required."),
    ({**BUY, "shares": [1]}, "shares", "A number is required."),
    (BUY, "shares", ONE_SIZE),
    ({**BUY, "shares": 1, "amount": 1}, "amount", ONE_SIZE),
    ({**BUY, "amount": "1_0"}, "amount", DIGITS),
    ({**BUY, "amount": 0}, "amount", POSITIVE),
    ({**BUY, "amount": "-5"}, "amount", POSITIVE),
    ({**BUY, "amount": "1e12"}, "amount", DIGITS),
    ({**BUY, "amount": Decimal("1e12")}, "amount", "The number may be at most 1,000,000,000."),
    ({**BUY, "amount": "0.00001"}, "amount", GRID),
    ({**BUY, "target_price": 0}, "target_price", TARGET),
    ({**BUY, "target_price": 1}, "target_price", TARGET),
    ({**BUY, "target_price": "1.5"}, "target_price", TARGET),
    ({**BUY, "target_price": "nan"}, "target_price", DIGITS),
    ({**BUY, "outcome": "maybe", "shares": 1}, "outcome", "Choose yes or no."),
    ({**BUY, "outcome": 2, "shares": 1}, "outcome", "Choose yes or no."),
    ({**BUY, "outcome": True, "shares": 1}, "outcome", "Choose yes or no."),
    ({**BUY, "outcome": None, "shares": 1}, "outcome", "Choose yes or no."),
    ({**BUY, "action": "hold", "shares": 5}, "action", "The action must be buy or sell."),
    ({**SELL, "amount": 5}, "shares", "A sale is given in shares."),
    ({**SELL, "shares": 5, "target_price": "0.5"}, "shares", "A sale is given in shares."),
    ({**SELL, "shares": 0}, "shares", POSITIVE),
    ({**SELL, "shares": "x"}, "shares", DIGITS),
    ({**SELL, "shares": "1_0"}, "shares", DIGITS),
    (SELL, "shares", "A number is required."),
]


@pytest.mark.parametrize(("given", "field", "message"), BAD_ORDERS)
def test_bad_orders_are_refused_naming_the_field(given, field, message) -> None:
    with pytest.raises(ValidationError) as refused:
        Order.parse(**given)

    assert refused.value.message_dict == {field: [message]}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({**BUY, "shares": "12.5"}, Order(Outcome.YES, "buy", "shares", Decimal("12.5"))),
        (
            {"outcome": "NO", "action": "buy", "amount": 40},
            Order(Outcome.NO, "buy", "amount", Decimal(40)),
        ),
        (
            {**BUY, "outcome": 1, "target_price": 0.73},
            Order(1, "buy", "target_price", Decimal("0.73")),
        ),
        ({**SELL, "shares": Decimal("4")}, Order(Outcome.YES, "sell", "shares", Decimal(4))),
    ],
)
def test_a_good_order_is_parsed_into_typed_values(given, expected) -> None:
    order = Order.parse(**given)

    assert order == expected
    assert isinstance(order.value, Decimal) and isinstance(order.outcome, int)


def test_sizes_in_shares_and_money_are_put_on_the_ledger_grid() -> None:
    order = Order.parse(**BUY, shares="12.5")

    assert str(order.value) == "12.5000"


def test_an_order_built_in_code_is_checked_as_a_parsed_one_is() -> None:
    with pytest.raises(ValidationError) as negative:
        Order(outcome=Outcome.YES, action="buy", by="shares", value=Decimal(-1))
    with pytest.raises(ValidationError) as sale_in_money:
        Order(outcome=Outcome.YES, action="sell", by="amount", value=Decimal(5))
    with pytest.raises(ValidationError) as no_outcome:
        Order(outcome=2, action="buy", by="shares", value=Decimal(1))

    assert negative.value.message_dict == {"shares": [POSITIVE]}
    assert sale_in_money.value.message_dict == {"shares": ["A sale is given in shares."]}
    assert no_outcome.value.message_dict == {"outcome": ["Choose yes or no."]}


@pytest.mark.parametrize(
    ("raw", "message"), [("abc", DIGITS), ("-5", POSITIVE), (None, "A number is required.")]
)
def test_money_is_parsed_naming_the_field(raw, message) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_money(raw, "grant")

    assert refused.value.message_dict == {"grant": [message]}
