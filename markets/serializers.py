"""API shapes for markets. Serializers validate and shape; they never write and never query.

Money and shares are decimal strings with 4 places (``"12.3400"``), as DRF's DecimalField
renders them and as the ledger stores them (a 0.0001 grid, exact); requests may send them as
strings or JSON numbers. Prices and probabilities are floats in (0, 1).

A market has n outcomes, named by their labels ("yes" and "no" on a binary market); a market's
``outcomes`` list each one's index, label and price. The binary fields (``q_yes``,
``price_yes``, ``yes_price_after``...) are null on a market with more than two outcomes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crux.api.validation import StrictSerializer
from markets import lmsr
from markets.models import BINARY_LABELS, Market, MarketStatus, Trade
from markets.money import MAX_QUANTITY, Order
from markets.selectors import yes_price_after
from markets.services import MAX_LIQUIDITY

MONEY_HELP = 'Play money: a decimal string with 4 places, e.g. "12.3400".'
SHARES_HELP = 'Shares: a decimal string with 4 places, e.g. "10.0000".'
OUTCOME_HELP = (
    'The outcome\'s label, in any case: "yes" or "no" on a binary market; on others, one of '
    "the labels the market's `outcomes` list (a multiple-choice question's options)."
)
OUTCOME_INPUT_HELP = (
    OUTCOME_HELP[:-1] + "; or its index in `outcomes`, from 0, as an integer (or as a string "
    "of digits that is no outcome's label)."
)
ACTION_CHOICES = ["buy", "sell"]
TICK = Decimal("0.0001")
NULL_ON_MORE_OUTCOMES = " Null on a market with more than two outcomes."


def money(help_text: str = MONEY_HELP, **kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=20, decimal_places=4, read_only=True, help_text=help_text, **kwargs
    )


@extend_schema_field({"type": "string"})
class OutcomeField(serializers.Field):
    """A trade's outcome by its label in the trade's market (``"yes"`` / ``"no"`` on a binary
    one); needs the trade's market loaded."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, source="*", help_text=OUTCOME_HELP, **kwargs)

    def to_representation(self, value: Trade) -> str:
        return value.market.labels[value.outcome]


@extend_schema_field(
    {"oneOf": [{"type": "string", "maxLength": 200}, {"type": "integer", "minimum": 0}]}
)
class OutcomeInputField(serializers.Field):
    """An outcome as a request names it: a label (string) or an index (integer), passed on as
    given: ``markets.money.parse_outcome`` reads it against the market's labels and refuses
    anything else by offering them."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(help_text=OUTCOME_INPUT_HELP, **kwargs)

    def to_internal_value(self, data: object) -> object:
        return data

    def to_representation(self, value: object) -> object:
        return value


class MarketOutcomeSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="What the market's trades number it by, from 0.")
    # DRF's metaclass takes declared fields out of the class, so this shadows no Field.label.
    label = serializers.CharField(help_text="What a trade names it by.")  # type: ignore[assignment]
    price = serializers.FloatField(help_text="Its price now: money per share, the market's odds.")
    shares = money("Its outstanding shares (decimal string).")


def nullable_double(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


# --- markets ----------------------------------------------------------------------------------


class MarketSerializer(serializers.ModelSerializer):
    """Needs ``trade_count`` and ``volume`` annotated, ``question`` loaded, ``now`` in context."""

    question_title = serializers.CharField(source="question.title", read_only=True)
    closes_at = serializers.DateTimeField(
        source="question.closes_at", read_only=True, help_text="No trades after this."
    )
    b = money("Liquidity b, in money (decimal string).")
    q_yes = money(
        "Outstanding YES shares (decimal string)." + NULL_ON_MORE_OUTCOMES, allow_null=True
    )
    q_no = money("Outstanding NO shares (decimal string)." + NULL_ON_MORE_OUTCOMES, allow_null=True)
    price_yes = serializers.SerializerMethodField()
    price_no = serializers.SerializerMethodField()
    outcomes = serializers.SerializerMethodField()
    trading = serializers.SerializerMethodField()
    trade_count = serializers.IntegerField(read_only=True)
    volume = money("Money that changed hands: the sum of |cost| over the trades.")

    class Meta:
        model = Market
        fields = [
            "id",
            "question",
            "question_title",
            "closes_at",
            "b",
            "q_yes",
            "q_no",
            "price_yes",
            "price_no",
            "outcomes",
            "status",
            "trading",
            "created_at",
            "trade_count",
            "volume",
        ]

    @extend_schema_field(nullable_double("P(YES)." + NULL_ON_MORE_OUTCOMES))
    def get_price_yes(self, market: Market) -> float | None:
        return market.prices()[lmsr.YES] if market.is_binary else None

    @extend_schema_field(nullable_double("P(NO)." + NULL_ON_MORE_OUTCOMES))
    def get_price_no(self, market: Market) -> float | None:
        return market.prices()[lmsr.NO] if market.is_binary else None

    @extend_schema_field(MarketOutcomeSerializer(many=True))
    def get_outcomes(self, market: Market) -> list[dict[str, Any]]:
        """Every outcome, by index; the prices sum to 1."""
        rows = [
            {"index": i, "label": label, "price": price, "shares": shares}
            for (i, label, price), shares in zip(market.outcomes(), market.q, strict=True)
        ]
        return list(MarketOutcomeSerializer(rows, many=True).data)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_trading(self, market: Market) -> bool:
        """Open and its question still taking forecasts: a trade now would be accepted."""
        return market.is_trading(self.context["now"])


class MarketCreateSerializer(StrictSerializer):
    question = serializers.IntegerField(min_value=1)
    b = serializers.DecimalField(
        max_digits=14,
        decimal_places=4,
        min_value=TICK,
        max_value=MAX_LIQUIDITY,
        help_text="Liquidity in money (decimal string); the maker is subsidised b ln 2.",
    )


class PricePointSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    yes_price = nullable_double(
        "P(YES) from this moment until the next point." + NULL_ON_MORE_OUTCOMES
    )
    prices = serializers.ListField(
        child=serializers.FloatField(),
        help_text="Every outcome's price from this moment until the next point, by index.",
    )
    trade = serializers.IntegerField(
        allow_null=True, help_text="The trade that moved the price; null for the opening point."
    )


# --- trades -----------------------------------------------------------------------------------


class TapeTradeSerializer(serializers.ModelSerializer):
    """A trade on the public tape: what moved the market, not who (forecasts are private too)."""

    outcome = OutcomeField()
    action = serializers.SerializerMethodField()
    shares = money("Shares (decimal string): positive bought, negative sold.")
    cost = money("Money (decimal string): positive the trader paid, negative was paid.")
    yes_price_after = serializers.SerializerMethodField()

    class Meta:
        model = Trade
        fields = [
            "id",
            "created_at",
            "outcome",
            "action",
            "shares",
            "cost",
            "price_before",
            "price_after",
            "yes_price_after",
        ]
        extra_kwargs = {
            "price_before": {"help_text": "Price of the traded outcome before the trade."},
            "price_after": {"help_text": "Price of the traded outcome after the trade."},
        }

    @extend_schema_field({"type": "string", "enum": ACTION_CHOICES})
    def get_action(self, trade: Trade) -> str:
        return "buy" if trade.shares > 0 else "sell"

    @extend_schema_field(nullable_double("P(YES) after the trade." + NULL_ON_MORE_OUTCOMES))
    def get_yes_price_after(self, trade: Trade) -> float | None:
        return yes_price_after(trade)


class MyTradeSerializer(TapeTradeSerializer):
    """One of your own trades; needs ``market__question`` loaded."""

    question = serializers.IntegerField(source="market.question_id", read_only=True)
    question_title = serializers.CharField(source="market.question.title", read_only=True)

    class Meta(TapeTradeSerializer.Meta):
        fields = [
            "id",
            "market",
            "question",
            "question_title",
            *TapeTradeSerializer.Meta.fields[1:],
        ]


class TradeResultSerializer(serializers.Serializer):
    trade = MyTradeSerializer()
    balance = money("Your balance after the trade (decimal string).")


class TradeOrderSerializer(StrictSerializer):
    """A buy gives exactly one of shares, amount or target_price; a sale gives shares. The
    outcome is read among the market's labels, ``labels`` in the context (binary if not)."""

    outcome = OutcomeInputField()
    action = serializers.ChoiceField(choices=ACTION_CHOICES)
    shares = serializers.DecimalField(
        max_digits=14,
        decimal_places=4,
        min_value=TICK,
        max_value=MAX_QUANTITY,
        required=False,
        help_text="Shares to buy or sell (decimal string, at most 4 places).",
    )
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=4,
        min_value=TICK,
        max_value=MAX_QUANTITY,
        required=False,
        help_text="Buy as many shares as this much money pays for (decimal string).",
    )
    target_price = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        min_value=Decimal("0.001"),
        max_value=Decimal("0.999"),
        required=False,
        help_text="Buy until the outcome's price reaches this (decimal string in [0.001, 0.999]).",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        """Adds ``order``: the ``markets.money.Order`` the request gives."""
        if data["action"] == "sell":
            given = [name for name in ("amount", "target_price") if name in data]
            if given:
                raise serializers.ValidationError(
                    {name: "A sale is given in shares." for name in given}
                )
        sizes = {name: data.get(name) for name in ("shares", "amount", "target_price")}
        labels = self.context.get("labels", BINARY_LABELS)
        order = Order.parse(outcome=data["outcome"], action=data["action"], labels=labels, **sizes)
        return {**data, "order": order}


class QuoteQuery(TradeOrderSerializer):
    format = serializers.CharField(required=False)


class QuoteSerializer(serializers.Serializer):
    outcome = serializers.CharField(help_text=OUTCOME_HELP)
    action = serializers.ChoiceField(choices=ACTION_CHOICES)
    shares = money("Shares (decimal string): positive bought, negative sold.")
    cost = money("Money (decimal string): positive the trader pays, negative is paid.")
    average_price = money("cost / shares (decimal string).")
    price_before = serializers.FloatField(help_text="The outcome's price before the trade.")
    price_after = serializers.FloatField(help_text="The outcome's price after the trade.")
    prices_after = serializers.ListField(
        child=serializers.FloatField(),
        help_text="Every outcome's price after the trade, by index.",
    )
    yes_price_after = nullable_double("P(YES) after the trade." + NULL_ON_MORE_OUTCOMES)
    trading = serializers.BooleanField(help_text="Whether the market takes trades now.")


# --- accounts ---------------------------------------------------------------------------------


class AccountSerializer(serializers.Serializer):
    opened = serializers.BooleanField(
        help_text="False until your first trade opens the account; the figures are then those "
        "it would open with."
    )
    balance = money()
    granted = money("All the play money granted to you (decimal string).")
    profit = money(
        "Realised profit (decimal string): on settled markets, what settlement paid less what "
        "you spent there."
    )
    starting_grant = money("What a new account starts with (decimal string).")
    created_at = serializers.DateTimeField(allow_null=True)


class PositionSerializer(serializers.Serializer):
    market = serializers.IntegerField()
    question_title = serializers.CharField()
    settled = serializers.BooleanField(
        help_text="The market has paid out or refunded: the position's money is in your balance."
    )
    outcome = serializers.CharField(help_text=OUTCOME_HELP)
    shares = money(SHARES_HELP)
    net_cost = money("Paid for the outcome less what selling it brought in (decimal string).")
    trades = serializers.IntegerField()
    price = serializers.FloatField(help_text="The outcome's current price.")
    value = money(
        "Mark to market (decimal string): shares x price while the market is open; 0 once settled."
    )


class MarketLeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    user = serializers.CharField(source="user.username", help_text="Username.")
    profit = money(
        "Realised profit (decimal string): on settled markets, what settlement paid less what "
        "the trader spent there. Live balances are not published."
    )
    settled_markets = serializers.IntegerField(help_text="Settled markets the trader traded.")


class MarketQuery(StrictSerializer):
    status = serializers.ChoiceField(choices=MarketStatus.choices, required=False)
    question = serializers.IntegerField(required=False, min_value=1)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)
    format = serializers.CharField(required=False)


class PageQuery(StrictSerializer):
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)
    format = serializers.CharField(required=False)


class LeaderboardQuery(PageQuery):
    practice = serializers.BooleanField(required=False, default=False)


class MyTradesQuery(PageQuery):
    market = serializers.IntegerField(required=False, min_value=1)
