"""REST API v1: thin views over the same services and selectors as the web pages."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from weakref import WeakKeyDictionary

from django.core.cache import cache, caches
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.cache import COUNTS, CountingRedisCache
from config.users import signed_in_user
from forecasts import resolution, score_selectors, selectors, services
from forecasts.api_auth import WindowThrottle
from forecasts.api_support import (
    ERRORS,
    CSVRenderer,
    JsonErrorsMixin,
    Pagination,
    StrictSerializer,
    WindowCountPagination,
    csv_export,
    etag_for,
    not_modified,
    parse_query,
)
from forecasts.models import (
    ApiToken,
    Forecast,
    Question,
    SourceDocument,
)
from forecasts.serializers import (
    AggregatePointSerializer,
    EmptySerializer,
    ForecastSerializer,
    ForecastSubmitSerializer,
    ForecastWithdrawSerializer,
    QuestionDetailSerializer,
    QuestionSerializer,
    ResolveSerializer,
    ScoreSerializer,
    SourceDetailSerializer,
    SourceSerializer,
    TokenCreatedSerializer,
    TokenCreateSerializer,
    TokenSerializer,
    WithdrawResultSerializer,
    question_row,
)
from forecasts.versions import REDIS_KEY as SCORES_VERSION_KEY
from forecasts.versions import scores_version

STATUS_CHOICES = ["upcoming", "open", "closing", "closed", "awaiting", "resolved", "all"]
CACHE_SECONDS = 3600


# Rendered bodies are immutable under their key (the scores' version is in it), so each
# process keeps the most recent ones too and skips the shared cache's round trip.
_rendered: OrderedDict[str, bytes] = OrderedDict()
LOCAL_ENTRIES = 256


def _remember(key: str, body: bytes) -> None:
    _rendered[key] = body
    _rendered.move_to_end(key)
    while len(_rendered) > LOCAL_ENTRIES:
        _rendered.popitem(last=False)


# The scores' version read with a request's throttle counts, for ``cached_by_scores``.
_versions_read: WeakKeyDictionary[Request, int | None] = WeakKeyDictionary()


class ScoresCacheThrottling(APIView):
    """For views that answer from the cache keyed on the scores' version.

    On Redis, the throttles' counts and the version travel together (``BatchedCounts``): the
    version is kept for the request (None when Redis has no copy) for ``cached_by_scores``.
    Elsewhere, or when Redis is unreachable, DRF's throttling as usual.
    """

    def check_throttles(self, request: Request) -> None:
        backend = caches["default"]
        if not isinstance(backend, CountingRedisCache):
            super().check_throttles(request)
            return
        throttles = self.get_throttles()
        windows = [
            (throttle, window)
            for throttle in throttles
            if isinstance(throttle, WindowThrottle) and (window := throttle.window(request))
        ]
        counted = COUNTS.count(
            backend, [(*w, t.limit) for t, w in windows], number_key=SCORES_VERSION_KEY
        )
        if counted is None:  # unreachable: throttling lets requests through, as elsewhere
            counted = [0] * len(windows), None
        counts, _versions_read[request] = counted
        waits = [t.wait() for (t, _), n in zip(windows, counts, strict=True) if not t.allows(n)]
        waits += [
            t.wait()
            for t in throttles
            if not isinstance(t, WindowThrottle) and not t.allow_request(request, self)
        ]
        if waits:
            # DRF takes None ("try again later"); its stubs want a float.
            wait = max((w for w in waits if w is not None), default=None)
            self.throttled(request, wait)  # type: ignore[arg-type]


def scores_etag(request: Request, name: str) -> str:
    """The ETag of data that changes only when scores change: their version and the query."""
    version = _versions_read.get(request)
    if version is None:
        version = scores_version()
    return etag_for(name, version, sorted(request.query_params.lists()))


def cached_by_scores(request: Request, name: str, build: Any) -> Response | HttpResponse:
    """Serve data that changes only when scores change from a cache keyed on their version.

    JSON, the common case, is cached as the rendered bytes, so a hit costs one primary-key
    read (the version) and no serialisation; other formats cache the data.
    """
    etag = scores_etag(request, name)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if not_modified(request, etag):
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
    key = f"api:{name}:{etag}"
    if type(request.accepted_renderer) is JSONRenderer:
        body = _rendered.get(key) or cache.get(f"{key}:json")
        if body is None:
            body = JSONRenderer().render(build())
            cache.set(f"{key}:json", body, CACHE_SECONDS)
        _remember(key, body)
        return HttpResponse(body, content_type="application/json", headers=headers)
    data = cache.get(key)
    if data is None:
        data = build()
        cache.set(key, data, CACHE_SECONDS)
    return Response(data, headers=headers)


# --- questions ---------------------------------------------------------------------------------


class QuestionQuery(StrictSerializer):
    status = serializers.ChoiceField(choices=STATUS_CHOICES, required=False, default="all")
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
    """Questions with their dates, status and the crowd's forecast."""

    lookup_value_regex = r"[0-9]+"

    serializer_class = QuestionSerializer
    permission_classes = [permissions.AllowAny]
    pagination_class = WindowCountPagination

    def get_queryset(self) -> QuerySet[Question]:
        now = timezone.now()
        if self.action != "list":
            return selectors.question_list(now=now)
        query = parse_query(QuestionQuery, self.request)
        questions = selectors.question_list(now=now, status=query["status"], search=query["q"])
        ranges = {
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
        question = self.get_object()
        crowd = selectors.question_crowd_now(question=question, now=timezone.now())
        context = {**self.get_serializer_context(), "crowd": crowd}
        return Response(QuestionDetailSerializer(question, context=context).data)

    @extend_schema(responses={200: AggregatePointSerializer(many=True), 404: ERRORS[404]})
    @action(detail=True, methods=["get"], url_path="crowd-history")
    def crowd_history(self, request: Request, pk: str | None = None) -> Response:
        """The crowd's forecast through time: each point holds until the next. Until the
        question is scored, one point per hour at most, as it stood at the hour's end, its
        median only and only where enough forecasts stood; then every point as recorded."""
        question = self.get_object()
        history = selectors.question_crowd_history(question=question, now=timezone.now())
        paginator = Pagination()  # over a list: the window-count paginator needs a queryset
        page = paginator.paginate_queryset(history, request, view=self)
        return paginator.get_paginated_response(AggregatePointSerializer(page, many=True).data)

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
        """Resolve YES, NO, annulled or ambiguous; scores are stored in the same transaction."""
        question = self.get_object()
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        resolution.question_resolve(
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
        resolution.question_unresolve(question_id=question.pk)
        return self.retrieve(request, pk=pk)


# --- forecasts ---------------------------------------------------------------------------------


class ForecastQuery(StrictSerializer):
    question = serializers.IntegerField(required=False, min_value=1)
    standing = serializers.BooleanField(required=False, allow_null=True, default=None)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)
    format = serializers.CharField(required=False)


@extend_schema(tags=["forecasts"])
class ForecastViewSet(
    JsonErrorsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your own forecasts: a new one on a question ends your previous one there."""

    lookup_value_regex = r"[0-9]+"

    serializer_class = ForecastSerializer
    permission_classes = [permissions.IsAuthenticated]
    renderer_classes = [*APIView.renderer_classes, CSVRenderer]

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Forecast.objects.none()
        forecasts = selectors.user_forecasts(user=signed_in_user(self.request))
        if self.action != "list":
            return forecasts
        query = parse_query(ForecastQuery, self.request)
        if query.get("question"):
            forecasts = forecasts.filter(question_id=query["question"])
        if query.get("standing") is not None:
            forecasts = forecasts.filter(ends_at__isnull=query["standing"])
        return forecasts

    @extend_schema(
        parameters=[
            OpenApiParameter("question", int),
            OpenApiParameter("standing", bool, description="Only standing (or only ended)."),
        ],
        responses={200: ForecastSerializer(many=True), 400: ERRORS[400], 401: ERRORS[401]},
    )
    # DRF's dispatch returns any HttpResponseBase; its stubs type list() as a Response.
    def list(  # type: ignore[override]
        self, request: Request, *args: Any, **kwargs: Any
    ) -> Response | HttpResponseBase:
        if request.accepted_renderer.format == "csv":  # every matching row, not a page
            return csv_export(self.get_queryset(), ForecastSerializer, filename="forecasts.csv")
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ForecastSubmitSerializer, responses={201: ForecastSerializer, **ERRORS})
    def create(self, request: Request) -> Response:
        data = ForecastSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        question_id = data.validated_data["question"]
        if not Question.objects.filter(pk=question_id).exists():
            raise serializers.ValidationError({"question": ["No such question."]})
        forecast = services.forecast_submit(
            user=signed_in_user(request),
            question_id=question_id,
            probability=data.validated_data["probability"],
            rationale=data.validated_data["rationale"],
        )
        return Response(ForecastSerializer(forecast).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ForecastWithdrawSerializer, responses={200: WithdrawResultSerializer, **ERRORS}
    )
    @action(detail=False, methods=["post"])
    def withdraw(self, request: Request) -> Response:
        """End your standing forecast on a question (your history is kept)."""
        data = ForecastWithdrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        question = get_object_or_404(Question, pk=data.validated_data["question"])
        ended = services.forecast_withdraw(user=signed_in_user(request), question_id=question.pk)
        return Response({"withdrawn": ended})


# --- sources and tokens ------------------------------------------------------------------------


@extend_schema(tags=["sources"])
class SourceViewSet(viewsets.ReadOnlyModelViewSet):
    """The documents questions are drawn from."""

    queryset = SourceDocument.objects.order_by("-published_on", "key")
    permission_classes = [permissions.AllowAny]
    lookup_field = "key"

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return SourceDetailSerializer if self.action == "retrieve" else SourceSerializer


@extend_schema(tags=["tokens"])
class TokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Your personal API tokens. The secret is shown once, when created."""

    lookup_value_regex = r"[0-9]+"

    serializer_class = TokenSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=signed_in_user(self.request))

    @extend_schema(request=TokenCreateSerializer, responses={201: TokenCreatedSerializer, **ERRORS})
    def create(self, request: Request) -> Response:
        data = TokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, secret = services.api_token_create(
            user=signed_in_user(request), name=data.validated_data["name"]
        )
        # The secret is stored nowhere: it joins the token's fields here, this once.
        body = {**TokenSerializer(token).data, "token": secret}
        response = Response(body, status=status.HTTP_201_CREATED)
        add_never_cache_headers(response)  # the secret: no cache on the way keeps a copy
        return response

    @extend_schema(responses={204: None, 401: ERRORS[401], 404: ERRORS[404]})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Revoke a token; it stops working at once."""
        token = self.get_object()
        services.api_token_revoke(user=signed_in_user(request), token_id=token.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
