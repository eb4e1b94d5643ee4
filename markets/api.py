"""REST API v1, markets: markets, the public tape, quotes, your trades, account and positions.

Thin views over ``markets.services`` and the selectors. A refused trade is a 400 naming the
field, from the serializers (which build the ``markets.money.Order``) or from the services'
``ValidationError``, through the one exception handler; the services are atomic, so a refusal
writes nothing. Nobody sees another's account: balances and positions
are only under ``/me/``; the tape shows trades without their traders, as forecasts are private
until scored, and the profit leaderboard shows usernames, as the score leaderboard does.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crux.api.errors import ERRORS
from crux.api.validation import parse_query
from crux.users import signed_in_user
from markets import pricing, selectors, services
from markets.models import Market, MarketStatus, Trade
from markets.serializers import (
    ACTION_CHOICES,
    OUTCOME_INPUT_HELP,
    AccountSerializer,
    LeaderboardQuery,
    MarketCreateSerializer,
    MarketLeaderboardRowSerializer,
    MarketQuery,
    MarketSerializer,
    MyTradeSerializer,
    MyTradesQuery,
    PageQuery,
    PositionSerializer,
    PricePointSerializer,
    QuoteQuery,
    QuoteSerializer,
    TapeTradeSerializer,
    TradeOrderSerializer,
    TradeResultSerializer,
)

ID = {"type": "integer", "minimum": 1}
# The bounds the queries enforce, stated in the schema too.
PAGE_PARAMETERS = [
    OpenApiParameter("page", ID, description="A page number within the paginated result set."),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": 500},
        description="Number of results to return per page.",
    ),
]
SIZE_PARAMETERS = [
    OpenApiParameter("outcome", str, required=True, description=OUTCOME_INPUT_HELP),
    OpenApiParameter("action", str, enum=ACTION_CHOICES, required=True),
    OpenApiParameter(
        "shares", OpenApiTypes.DECIMAL, description="Shares (a sale is given in shares)."
    ),
    OpenApiParameter("amount", OpenApiTypes.DECIMAL, description="Money to spend (buy only)."),
    OpenApiParameter(
        "target_price",
        OpenApiTypes.DECIMAL,
        description="Buy until the outcome's price reaches this, in [0.001, 0.999].",
    ),
]


@extend_schema(tags=["markets"])
class MarketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """LMSR play-money markets, one per question. Money and shares are decimal strings with 4
    places ("12.3400"); prices are floats. Staff open markets; anyone signed in trades."""

    lookup_value_regex = r"[0-9]+"
    serializer_class = MarketSerializer

    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.action == "create":
            return [permissions.IsAdminUser()]
        if self.action == "trades" and self.request.method == "POST":
            return [permissions.IsAuthenticated()]
        # Reads, and methods with no handler (a 405 for everyone).
        return [permissions.AllowAny()]

    def get_queryset(self) -> QuerySet[Market]:
        if self.action not in ("list", "retrieve", "create"):
            return selectors.market_list()
        markets = selectors.market_rows()
        if self.action != "list":
            return markets
        query = parse_query(MarketQuery, self.request)
        if query.get("status"):
            markets = markets.filter(status=query["status"])
        if query.get("question"):
            markets = markets.filter(question_id=query["question"])
        return markets

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=MarketStatus.values),
            OpenApiParameter("question", ID, description="The question's id."),
            *PAGE_PARAMETERS,
        ],
        responses={200: MarketSerializer(many=True), 400: ERRORS[400]},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: MarketSerializer, 404: ERRORS[404]})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=MarketCreateSerializer,
        responses={201: MarketSerializer, **ERRORS},
        tags=["markets (staff)"],
    )
    def create(self, request: Request) -> Response:
        """Open a market on a question (staff): liquidity b, the maker subsidised b ln 2."""
        data = MarketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        market = services.market_create(
            question_id=data.validated_data["question"], b=data.validated_data["b"]
        )
        created = self.get_queryset().get(pk=market.pk)
        body = MarketSerializer(created, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses={200: PricePointSerializer(many=True), 400: ERRORS[400], 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], url_path="price-history")
    def price_history(self, request: Request, pk: str | None = None) -> Response:
        """Prices through time: every outcome's, the opening 1/n at creation, then after each
        trade; and P(YES) on a binary market."""
        market = self.get_object()
        parse_query(PageQuery, request)
        # DRF pages whatever Django's Paginator takes (a count and slices); its stubs want a
        # Sequence, which PriceHistory is not (Sequence.count would mean another thing).
        page = self.paginate_queryset(selectors.PriceHistory(market))  # type: ignore[arg-type]
        return self.get_paginated_response(PricePointSerializer(page, many=True).data)

    @extend_schema(
        methods=["GET"],
        parameters=PAGE_PARAMETERS,
        responses={200: TapeTradeSerializer(many=True), 400: ERRORS[400], 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        request=TradeOrderSerializer,
        responses={201: TradeResultSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get", "post"])
    def trades(self, request: Request, pk: str | None = None) -> Response:
        """GET: the public tape, newest first, without the traders. POST (signed in): buy
        (exactly one of shares, amount or target_price) or sell (shares) an outcome."""
        market = self.get_object()
        if request.method == "POST":
            return self._trade(request, market)
        parse_query(PageQuery, request)
        page = self.paginate_queryset(selectors.market_tape(market=market))
        return self.get_paginated_response(TapeTradeSerializer(page, many=True).data)

    def _trade(self, request: Request, market: Market) -> Response:
        data = TradeOrderSerializer(data=request.data, context={"labels": market.labels})
        data.is_valid(raise_exception=True)
        trade = services.market_trade(
            user=signed_in_user(request), market_id=market.pk, order=data.validated_data["order"]
        )
        trade = selectors.account_trades(account=trade.account).get(pk=trade.pk)
        body = {"trade": trade, "balance": trade.account.balance}
        return Response(TradeResultSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=SIZE_PARAMETERS,
        responses={200: QuoteSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"])
    def quote(self, request: Request, pk: str | None = None) -> Response:
        """What a trade would cost now, writing nothing: the same pricing and rounding as the
        trade itself. Your holdings and balance are not checked here."""
        market = self.get_object()
        query = parse_query(QuoteQuery, request, context={"labels": market.labels})
        quote = pricing.market_quote(market=market, order=query["order"])
        body = {
            "outcome": market.labels[quote.outcome],
            "action": query["action"],
            "shares": quote.shares,
            "cost": quote.cost,
            "average_price": quote.average_price,
            "price_before": quote.price_before,
            "price_after": quote.price_after,
            "prices_after": quote.prices_after,
            "yes_price_after": quote.yes_price_after,
            "trading": market.is_trading(timezone.now()),
        }
        return Response(QuoteSerializer(body).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "practice", bool, description="Include the demo's practice markets and traders."
            ),
            *PAGE_PARAMETERS,
        ],
        responses={200: MarketLeaderboardRowSerializer(many=True), 400: ERRORS[400]},
    )
    @action(detail=False, methods=["get"])
    def leaderboard(self, request: Request) -> Response:
        """Traders by realised profit: on settled markets, what settlement paid less what they
        spent there. Open markets count once they settle; live balances are not published."""
        query = parse_query(LeaderboardQuery, request)
        page = self.paginate_queryset(selectors.leaderboard(include_practice=query["practice"]))
        paginator = self.paginator
        # Every list is paginated by page number (settings' DEFAULT_PAGINATION_CLASS).
        assert isinstance(paginator, PageNumberPagination) and paginator.page and page is not None
        offset = (paginator.page.number - 1) * (paginator.get_page_size(request) or 0)
        rows = [
            {
                "rank": rank,
                "user": account.user,
                "profit": account.profit,
                "settled_markets": account.settled_markets,
            }
            for rank, account in enumerate(page, start=offset + 1)
        ]
        return self.get_paginated_response(MarketLeaderboardRowSerializer(rows, many=True).data)


# --- /me/ -------------------------------------------------------------------------------------


@extend_schema(tags=["markets"])
class MyAccountView(APIView):
    """Your play-money account. Reading it writes nothing: until your first trade opens it,
    ``opened`` is false and the figures are the starting grant it would open with."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: AccountSerializer, 401: ERRORS[401]})
    def get(self, request: Request) -> Response:
        account = selectors.account_standing(user=signed_in_user(request))
        if account is None:
            grant = services.starting_grant()
            data = {
                "opened": False,
                "balance": grant,
                "granted": grant,
                "profit": selectors.ZERO,
                "starting_grant": grant,
                "created_at": None,
            }
        else:
            data = {
                "opened": True,
                "balance": account.balance,
                "granted": account.granted,
                "profit": account.profit,
                "starting_grant": services.starting_grant(),
                "created_at": account.created_at,
            }
        return Response(AccountSerializer(data).data)


@extend_schema(tags=["markets"])
class MyPositionsView(generics.GenericAPIView):
    """Your positions, per market and outcome, with their current value."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = PositionSerializer

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return selectors.position_rows(account=None)
        account = selectors.account_for(user=signed_in_user(self.request))
        return selectors.position_rows(account=account)

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses={200: PositionSerializer(many=True), 400: ERRORS[400], 401: ERRORS[401]},
    )
    def get(self, request: Request) -> Response:
        parse_query(PageQuery, request)
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # every list is paginated
        rows = selectors.positions_valued(page)
        return self.get_paginated_response(PositionSerializer(rows, many=True).data)


@extend_schema(tags=["markets"])
class MyTradesView(generics.GenericAPIView):
    """Your trades, newest first."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = MyTradeSerializer

    def get_queryset(self) -> QuerySet[Trade]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return selectors.account_trades(account=None)
        account = selectors.account_for(user=signed_in_user(self.request))
        query = parse_query(MyTradesQuery, self.request)
        return selectors.account_trades(account=account, market_id=query.get("market"))

    @extend_schema(
        parameters=[
            OpenApiParameter("market", ID, description="Only this market's trades."),
            *PAGE_PARAMETERS,
        ],
        responses={200: MyTradeSerializer(many=True), 400: ERRORS[400], 401: ERRORS[401]},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MyTradeSerializer(page, many=True).data)
