"""The API's questions and sources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crux.api.errors import ERRORS
from crux.api.pagination import Pagination, WindowCountPagination
from crux.api.validation import StrictSerializer, parse_query
from crux.users import signed_in_user
from forecasts import lifecycle, selectors, services
from forecasts.api.caching import ScoresCacheThrottling, cached_by_scores
from forecasts.api.inputs import EmptySerializer, QuestionCreateSerializer, ResolveSerializer
from forecasts.api.serializers import (
    AggregatePointSerializer,
    QuestionDetailSerializer,
    QuestionSerializer,
    ScoreSerializer,
    SourceDetailSerializer,
    SourceSerializer,
    question_row,
)
from forecasts.models import (
    Question,
    QuestionKind,
    SourceDocument,
)
from forecasts.scores import selectors as score_selectors
from markets.models import takes_a_market
from markets.services import market_create

STATUS_CHOICES = ["upcoming", "open", "closing", "closed", "awaiting", "resolved", "all"]


# --- questions ---------------------------------------------------------------------------------


class QuestionQuery(StrictSerializer):
    status = serializers.ChoiceField(choices=STATUS_CHOICES, required=False, default="all")
    kind = serializers.ChoiceField(choices=QuestionKind.choices, required=False)
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    # DRF takes the fields out of the class; its stubs see them shadow Field's attributes.
    source = serializers.SlugField(required=False)  # type: ignore[assignment]
    closes_after = serializers.DateTimeField(required=False)
    closes_before = serializers.DateTimeField(required=False)
    resolved_after = serializers.DateTimeField(required=False)
    resolved_before = serializers.DateTimeField(required=False)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)
    format = serializers.CharField(required=False)


@extend_schema(tags=["questions"])
class QuestionViewSet(ScoresCacheThrottling, viewsets.ReadOnlyModelViewSet):
    """Questions with their dates, status and the crowd's forecast; staff create them."""

    lookup_value_regex = r"[0-9]+"

    serializer_class = QuestionSerializer
    permission_classes: Sequence[type[permissions.BasePermission]] = [permissions.AllowAny]
    pagination_class = WindowCountPagination

    def get_permissions(self) -> list[permissions.BasePermission]:
        # Creating is the list's POST, which an action's permission_classes cannot name; the
        # other writes, resolve and unresolve, name theirs.
        if self.action == "create":
            return [permissions.IsAdminUser()]
        return [permission() for permission in self.permission_classes]

    def get_queryset(self) -> QuerySet[Question]:
        now = timezone.now()
        if self.action != "list":
            return selectors.question_list(now=now)
        query = parse_query(QuestionQuery, self.request)
        questions = selectors.question_list(now=now, status=query["status"], search=query["q"])
        ranges = {
            "kind": query.get("kind"),
            "source__key": query.get("source"),
            "closes_at__gte": query.get("closes_after"),
            "closes_at__lt": query.get("closes_before"),
            "resolved_at__gte": query.get("resolved_after"),
            "resolved_at__lt": query.get("resolved_before"),
        }
        return questions.filter(**{k: v for k, v in ranges.items() if v is not None})

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=STATUS_CHOICES, description="Derived status."),
            OpenApiParameter("kind", str, enum=QuestionKind.values),
            OpenApiParameter("q", str, description="Search titles, backgrounds and passages."),
            OpenApiParameter("source", str, description="Source document key."),
            OpenApiParameter("closes_after", OpenApiTypes.DATETIME),
            OpenApiParameter("closes_before", OpenApiTypes.DATETIME),
            OpenApiParameter("resolved_after", OpenApiTypes.DATETIME),
            OpenApiParameter("resolved_before", OpenApiTypes.DATETIME),
        ],
        responses={200: QuestionSerializer(many=True), 400: ERRORS[400]},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = self.get_queryset().values(
            *selectors.QUESTION_ROW_FIELDS, *selectors.CROWD_STEP_FIELDS
        )
        page = self.paginate_queryset(rows)
        assert page is not None  # every list is paginated
        now = timezone.now()
        return self.get_paginated_response([question_row(row, now=now) for row in page])

    @extend_schema(responses={200: QuestionDetailSerializer, 404: ERRORS[404]})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._detail(self.get_object()))

    def _detail(self, question: Question) -> dict[str, Any]:
        crowd = selectors.question_crowd_now(question=question, now=timezone.now())
        context = {**self.get_serializer_context(), "crowd": crowd}
        return QuestionDetailSerializer(question, context=context).data

    @extend_schema(
        request=QuestionCreateSerializer,
        responses={201: QuestionDetailSerializer, **ERRORS},
        tags=["questions (staff)"],
    )
    def create(self, request: Request) -> Response:
        """Create a question of any kind (staff), drawn from a verbatim passage of a source,
        and, while it can still take forecasts, its market (``market_liquidity``, as a question
        file's): both or neither. Numeric and date questions have no market."""
        data = QuestionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        now = timezone.now()
        with transaction.atomic():
            created = services.question_create(
                source_id=given["source"].pk,
                key=given.get("key", ""),
                title=given["title"],
                body=given["body"],
                resolution_criteria=given["resolution_criteria"],
                passage=given["passage"],
                kind=given["kind"],
                options=given["options"],
                opens_at=given["opens_at"],
                closes_at=given["closes_at"],
                resolves_at=given["resolves_at"],
                auto_outcome=given["auto_outcome"],
                auto_option=given["auto_option"],
                range_min=given["range_min"],
                range_max=given["range_max"],
                open_lower_bound=given["open_lower_bound"],
                open_upper_bound=given["open_upper_bound"],
                log_scale=given["log_scale"],
                unit=given["unit"],
                now=now,
            )
            _market_open(created, b=given["market_liquidity"], now=now)
        question = self.get_queryset().get(pk=created.pk)
        return Response(self._detail(question), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "cdf",
                bool,
                description="Numeric or date: give each point's mean CDF (201 values) too. "
                "Default false, to keep responses small.",
            )
        ],
        responses={200: AggregatePointSerializer(many=True), 400: ERRORS[400], 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], url_path="crowd-history")
    def crowd_history(self, request: Request, pk: str | None = None) -> Response:
        """The crowd's forecast through time: each point holds until the next. Until the
        question is scored, one point per hour at most, as it stood at the hour's end, its
        median only and only where enough forecasts stood; then every point as recorded.

        A numeric or date question's crowd is its recency-weighted mean CDF: each point gives
        its median and 80% interval as ``quantiles`` (``{"0.1": low, "0.5": median, "0.9":
        high}`` in the question's units; a date question's also as ISO 8601 in
        ``quantiles_dates``), and with ``?cdf=1`` the CDF itself, by the same rule."""
        query = parse_query(CrowdHistoryQuery, request)
        question = self.get_object()
        history = selectors.question_crowd_history(question=question, now=timezone.now())
        paginator = Pagination()  # over a list: the window-count paginator needs a queryset
        page = paginator.paginate_queryset(history, request, view=self)
        context = {
            "scale": question.scale if question.is_continuous else None,
            "date": question.kind == QuestionKind.DATE,
            "cdf": query["cdf"],
            "public": selectors.crowd_is_public(question.resolution),
        }
        data = AggregatePointSerializer(page, many=True, context=context).data
        return paginator.get_paginated_response(data)

    @extend_schema(responses={200: ScoreSerializer(many=True), 304: None})
    @action(detail=True, methods=["get"])
    def scores(self, request: Request, pk: str | None = None) -> Response | HttpResponse:
        """Every score on the question (immutable once resolved: use the ETag)."""
        question = self.get_object()
        paginator = self.paginator
        assert paginator is not None  # every list is paginated

        def build() -> dict[str, Any]:
            rows = score_selectors.scores_list().filter(question=question)
            page = paginator.paginate_queryset(rows, request, view=self)
            return paginator.get_paginated_response(ScoreSerializer(page, many=True).data).data

        return cached_by_scores(request, f"question-scores-{question.pk}", build)

    @extend_schema(
        request=ResolveSerializer,
        responses={200: QuestionDetailSerializer, **ERRORS},
        tags=["resolution (staff)"],
    )
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAdminUser])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Resolve YES, NO, annulled or ambiguous; a multiple-choice question by the label of
        the option that happened; a numeric or date question to a value
        (``{"resolution": "value", "value": 42}``, a date's as an ISO 8601 date) or beyond an
        open bound. Scores are stored in the same transaction."""
        question = self.get_object()
        data = ResolveSerializer(data=request.data, context={"question": question})
        data.is_valid(raise_exception=True)
        lifecycle.question_resolve(
            question_id=question.pk, resolved_by=signed_in_user(request), **data.validated_data
        )
        return self.retrieve(request, pk=pk)

    @extend_schema(
        request=EmptySerializer,
        responses={200: QuestionDetailSerializer, **ERRORS},
        tags=["resolution (staff)"],
    )
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAdminUser])
    def unresolve(self, request: Request, pk: str | None = None) -> Response:
        """Undo a resolution: its scores are removed."""
        question = self.get_object()
        EmptySerializer(data=request.data).is_valid(raise_exception=True)
        lifecycle.question_unresolve(question_id=question.pk)
        return self.retrieve(request, pk=pk)


class CrowdHistoryQuery(serializers.Serializer):
    # Not strict: the endpoint took no options before and kept answering whatever else came.
    cdf = serializers.BooleanField(required=False, default=False)


def _market_open(question: Question, *, b: Decimal, now: dt.datetime) -> None:
    """Open the new question's market with liquidity ``b`` as the importer does: none for 0,
    nor on a question already closed to forecasts. A refused liquidity is named as the request
    names it, ``market_liquidity``; the caller's transaction then writes no question either."""
    if not b or not takes_a_market(question, now):
        return
    try:
        market_create(question_id=question.pk, b=b, now=now)
    except ValidationError as error:
        raise ValidationError(
            {
                "market_liquidity" if field == "b" else field: messages
                for field, messages in error.message_dict.items()
            }
        ) from None


# --- sources and tokens ------------------------------------------------------------------------


@extend_schema(tags=["sources"])
class SourceViewSet(viewsets.ReadOnlyModelViewSet):
    """The documents questions are drawn from."""

    queryset = SourceDocument.objects.order_by("-published_on", "key")
    permission_classes = [permissions.AllowAny]
    lookup_field = "key"

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return SourceDetailSerializer if self.action == "retrieve" else SourceSerializer
