"""The API's forecasts: your own, to list, submit and withdraw."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponseBase
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crux.api.errors import ERRORS, JsonErrorsMixin
from crux.api.renderers import CSVRenderer, csv_export
from crux.api.validation import StrictSerializer, parse_query
from crux.users import signed_in_user
from forecasts import selectors, services
from forecasts.api.inputs import (
    FORECAST_SUBMIT_SCHEMA,
    ForecastSubmitSerializer,
    ForecastWithdrawSerializer,
)
from forecasts.api.serializers import ForecastSerializer, WithdrawResultSerializer
from forecasts.models import (
    Forecast,
    Question,
)

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
        """Your forecasts, newest first. ``format=csv`` gives every matching one (not a page),
        a row each: a binary forecast's ``probability`` with ``probabilities`` empty; a
        multiple-choice one's ``probabilities`` as one cell holding a JSON array in the order
        of the question's ``options`` (``[0.2, 0.5, 0.3]``) with ``probability`` empty; a
        numeric or date one's ``cdf`` as one cell holding a JSON array of 201 values and, if
        given so, its ``quantiles`` (and a date question's ``quantiles_dates``) as one cell
        holding a JSON object."""
        if request.accepted_renderer.format == "csv":  # every matching row, not a page
            return csv_export(self.get_queryset(), ForecastSerializer, filename="forecasts.csv")
        return super().list(request, *args, **kwargs)

    @extend_schema(request=FORECAST_SUBMIT_SCHEMA, responses={201: ForecastSerializer, **ERRORS})
    def create(self, request: Request) -> Response:
        """Forecast a question: ``probability`` of YES on a binary question, ``probabilities``
        (one per option, in order) on a multiple-choice one, and on a numeric or date one
        either its ``cdf`` (201 values, Metaculus's representation) or ``quantiles``
        (``{"0.1": 20, "0.5": 40, "0.9": 75}``; a date question's values as ISO 8601 dates),
        which are turned into a CDF (monotone cubic interpolation, logistic tails, then the
        CDF's step limits) and kept beside it. Either way the forecast is stored as a CDF."""
        data = ForecastSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        forecast = services.forecast_submit(
            user=signed_in_user(request),
            question_id=data.validated_data["question"].pk,
            probability=data.validated_data.get("probability"),
            probabilities=data.validated_data.get("probabilities"),
            cdf=data.validated_data.get("cdf"),
            quantiles=data.validated_data.get("quantiles"),
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
