"""REST API v1, scores: score lists, leaderboards, track records and calibration.

What changes only when scores change is served from a cache keyed on the scores' version,
with an ETag, so repeated reads cost one primary-key query.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crux.api.caching import not_modified
from crux.api.errors import ERRORS, JsonErrorsMixin
from crux.api.pagination import Pagination
from crux.api.renderers import CSVRenderer, csv_export
from crux.api.validation import StrictSerializer, parse_query
from forecasts.api.caching import ScoresCacheThrottling, cached_by_scores, scores_etag
from forecasts.api.serializers import (
    CalibrationSerializer,
    LeaderboardRowSerializer,
    ScoreSerializer,
    TrackRecordSerializer,
)
from forecasts.maths import calibration, pit, score_types
from forecasts.models import Forecaster, Score
from forecasts.scores import selectors as score_selectors
from forecasts.scores.distribution_calibration import (
    DistributionCalibration,
    user_distribution_calibration,
)

# --- scores, leaderboard, track record, calibration -------------------------------------------


class ScoreQuery(StrictSerializer):
    user = serializers.CharField(required=False, max_length=150)
    question = serializers.IntegerField(required=False, min_value=1)
    score_type = serializers.ChoiceField(choices=score_types.CHOICES, required=False)
    forecaster = serializers.ChoiceField(choices=Forecaster.choices, required=False)
    resolved_after = serializers.DateTimeField(required=False)
    resolved_before = serializers.DateTimeField(required=False)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)
    format = serializers.CharField(required=False)


SCORE_PARAMETERS = [
    OpenApiParameter("user", str, description="Username."),
    OpenApiParameter("question", int),
    OpenApiParameter("score_type", str, enum=score_types.NAMES),
    OpenApiParameter("forecaster", str, enum=Forecaster.values),
    OpenApiParameter("resolved_after", OpenApiTypes.DATETIME),
    OpenApiParameter("resolved_before", OpenApiTypes.DATETIME),
]


def _filtered_scores(query: dict[str, Any]) -> QuerySet[Score]:
    filters = {
        "user__username": query.get("user"),
        "question_id": query.get("question"),
        "score_type": query.get("score_type"),
        "forecaster": query.get("forecaster"),
        "question__resolved_at__gte": query.get("resolved_after"),
        "question__resolved_at__lt": query.get("resolved_before"),
    }
    return score_selectors.scores_list().filter(
        **{k: v for k, v in filters.items() if v is not None}
    )


@extend_schema(tags=["scores"])
class ScoreListView(JsonErrorsMixin, ScoresCacheThrottling):
    """Scores of resolved questions, by user, question, score type, forecaster and period.

    ``format=csv`` gives every matching score (not a page), a row each: the outcome that
    happened is ``resolved_option``, its index in the question's options, and
    ``resolved_option_label`` (``Yes``, ``No``, or a multiple-choice question's option)."""

    permission_classes = [permissions.AllowAny]
    renderer_classes = [*APIView.renderer_classes, CSVRenderer]
    pagination_class = Pagination  # the API's default; an APIView pages by hand

    @extend_schema(
        parameters=SCORE_PARAMETERS,
        responses={200: ScoreSerializer(many=True), 304: None},
    )
    def get(self, request: Request) -> Response | HttpResponseBase:
        if request.accepted_renderer.format == "csv":
            return self._csv(request)
        paginator = self.pagination_class()

        def build() -> dict[str, Any]:
            # Validated only on a cache miss: a hit was valid when it was stored.
            query = parse_query(ScoreQuery, request)
            page = paginator.paginate_queryset(_filtered_scores(query), request, view=self)
            return paginator.get_paginated_response(ScoreSerializer(page, many=True).data).data

        return cached_by_scores(request, "scores", build)

    def _csv(self, request: Request) -> Response | HttpResponseBase:
        """Every matching score (pages are for JSON), streamed from the database."""
        query = parse_query(ScoreQuery, request)
        etag = scores_etag(request, "scores")
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if not_modified(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return csv_export(
            _filtered_scores(query), ScoreSerializer, filename="scores.csv", headers=headers
        )


class LeaderboardQuery(StrictSerializer):
    score_type = serializers.ChoiceField(
        choices=score_types.CHOICES, required=False, default=score_types.PEER.name
    )
    since = serializers.DateTimeField(required=False, default=None)
    until = serializers.DateTimeField(required=False, default=None)
    practice = serializers.BooleanField(required=False, default=False)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)
    format = serializers.CharField(required=False)


@extend_schema(tags=["scores"])
class LeaderboardView(ScoresCacheThrottling):
    """Forecasters ranked by the adjusted mean (5 uninformed pseudo-questions as a prior)."""

    permission_classes = [permissions.AllowAny]
    pagination_class = Pagination  # the API's default; an APIView pages by hand

    @extend_schema(
        parameters=[
            OpenApiParameter("score_type", str, enum=score_types.NAMES),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="Resolved from."),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="Resolved before."),
            OpenApiParameter(
                "practice", bool, description="Include practice questions (demo data)."
            ),
        ],
        responses={200: LeaderboardRowSerializer(many=True), 304: None, 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response | HttpResponseBase:
        paginator = self.pagination_class()

        def build() -> dict[str, Any]:
            # Validated only on a cache miss: a hit was valid when it was stored.
            query = parse_query(LeaderboardQuery, request)
            rows = score_selectors.leaderboard_queryset(
                score_type=query["score_type"],
                since=query["since"],
                until=query["until"],
                include_practice=query["practice"],
            )
            page: list[dict[str, Any]] | None = paginator.paginate_queryset(
                rows, request, view=self
            )
            assert page is not None and paginator.page is not None  # a page size is always set
            offset = (paginator.page.number - 1) * (paginator.get_page_size(request) or 0)
            ranked = [{**row, "rank": offset + i} for i, row in enumerate(page, start=1)]
            data = LeaderboardRowSerializer(ranked, many=True).data
            return paginator.get_paginated_response(data).data

        return cached_by_scores(request, "leaderboard", build)


def _user_or_404(username: str) -> Any:
    return get_object_or_404(get_user_model(), username=username)


@extend_schema(tags=["scores"])
class TrackRecordView(APIView):
    """A user's scores per resolved question beside the crowd's, and their means."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: TrackRecordSerializer, 404: ERRORS[404]})
    def get(self, request: Request, username: str) -> Response:
        user = _user_or_404(username)
        record = score_selectors.user_track_record(user=user)
        data = {
            "user": username,
            "means": record.means,
            "crowd_means": record.crowd_means,
            "rows": record.rows,
        }
        return Response(TrackRecordSerializer(data).data)


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def _bins(table: tuple[calibration.CalibrationBin, ...]) -> list[dict[str, Any]]:
    return [
        {
            name: _finite(getattr(b, name))
            if isinstance(getattr(b, name), float)
            else getattr(b, name)
            for name in calibration.CalibrationBin.__dataclass_fields__
        }
        for b in table
    ]


def _murphy(d: calibration.MurphyDecomposition | None) -> dict[str, Any] | None:
    if d is None or d.n == 0:
        return None
    return {name: getattr(d, name) for name in calibration.MurphyDecomposition.__dataclass_fields__}


def _when(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def _report(report: score_selectors.CalibrationReport) -> dict[str, Any]:
    return {
        "n": report.n,
        "bins": _bins(report.table),
        "decomposition": _murphy(report.decomposition),
        "windows": [
            {
                "label": label,
                "start": _when(w.start),
                "end": _when(w.end),
                "n": w.n,
                "enough_data": w.enough_data,
                "bins": _bins(w.table),
                "decomposition": _murphy(w.decomposition) if w.enough_data else None,
            }
            for label, w in zip(report.window_labels, report.windows, strict=False)
        ],
    }


def _histogram(histogram: pit.PitHistogram) -> dict[str, Any]:
    return {
        "bins": histogram.bins,
        "counts": list(histogram.counts),
        "n": histogram.n,
        "expected": histogram.expected,
    }


def _coverage(coverage: tuple[pit.IntervalCoverage, ...]) -> list[dict[str, Any]]:
    return [
        {
            "level": c.level,
            "inside": c.inside,
            "n": c.n,
            "share": _finite(c.share),
            "ci_low": _finite(c.low),
            "ci_high": _finite(c.high),
        }
        for c in coverage
    ]


def _distributions(report: DistributionCalibration) -> dict[str, Any]:
    return {
        "n": report.n,
        "histogram": _histogram(report.histogram),
        "coverage": _coverage(report.coverage),
        "windows": [
            {
                "label": label,
                "start": _when(w.start),
                "end": _when(w.end),
                "n": w.n,
                "enough_data": w.enough_data,
                "histogram": _histogram(w.histogram),
                "coverage": _coverage(w.coverage),
            }
            for label, w in zip(report.window_labels, report.windows, strict=True)
        ],
    }


class PitHistogramSerializer(serializers.Serializer):
    bins = serializers.IntegerField(help_text="Equal bins of [0, 1] (tenths).")
    counts = serializers.ListField(
        child=serializers.IntegerField(), help_text="PITs per bin, the last holding 1.0."
    )
    n = serializers.IntegerField()
    expected = serializers.FloatField(help_text="n / bins: the count per bin if calibrated.")


class IntervalCoverageSerializer(serializers.Serializer):
    level = serializers.FloatField(help_text="The central interval's mass: 0.5 or 0.8.")
    inside = serializers.IntegerField(help_text="Outcomes inside the interval.")
    n = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True, help_text="inside / n; null when n = 0.")
    ci_low = serializers.FloatField(allow_null=True, help_text="95% Wilson interval of share.")
    ci_high = serializers.FloatField(allow_null=True)


class PitWindowSerializer(serializers.Serializer):
    # DRF takes the fields out of the class; its stubs see this one shadow Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    n = serializers.IntegerField()
    enough_data = serializers.BooleanField()
    histogram = PitHistogramSerializer()
    coverage = IntervalCoverageSerializer(many=True)


class DistributionCalibrationSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="Questions, one PIT each.")
    histogram = PitHistogramSerializer()
    coverage = IntervalCoverageSerializer(many=True)
    windows = PitWindowSerializer(many=True, help_text="Quarters of resolution time.")


class DistributionsSerializer(serializers.Serializer):
    forecaster = DistributionCalibrationSerializer()
    crowd = DistributionCalibrationSerializer(
        help_text="The crowd's recency-weighted mean CDF on the same questions."
    )


@extend_schema_serializer(component_name="Calibration")
class CalibrationWithDistributionsSerializer(CalibrationSerializer):
    distributions = DistributionsSerializer(
        help_text="Numeric and date questions: the PIT (a forecast's CDF at the outcome, "
        "time-weighted over the open period, one per question) in a histogram of tenths, and "
        "the share of outcomes inside the central 50% and 80% intervals with Wilson intervals, "
        "overall and per quarter of resolution time. Counted as the other kinds are: resolved "
        "to a value or beyond a bound, once the scheduled resolve time has passed."
    )


class CalibrationQuery(serializers.Serializer):
    # Not strict: the endpoint took no options before and kept answering whatever else came.
    kinds = serializers.ChoiceField(
        choices=score_selectors.CALIBRATION_KINDS,
        required=False,
        default=score_selectors.DEFAULT_CALIBRATION_KINDS,
    )


@extend_schema(tags=["scores"])
class CalibrationView(APIView):
    """Calibration bins with 95% Wilson intervals, the Murphy decomposition and its windows.

    ``kinds=all`` (the default) counts each option of a multiple-choice question as a forecast
    that it happens (one-vs-rest) beside each binary question's P(YES); ``kinds=binary`` counts
    the binary questions only. ``distributions`` holds the calibration of numeric and date
    questions (PIT histogram and interval coverage), whatever ``kinds`` says."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "kinds",
                str,
                enum=score_selectors.CALIBRATION_KINDS,
                description="'all' (default): multiple-choice questions one-vs-rest too; "
                "'binary': YES/NO questions only.",
            )
        ],
        responses={
            200: CalibrationWithDistributionsSerializer,
            400: ERRORS[400],
            404: ERRORS[404],
        },
    )
    def get(self, request: Request, username: str) -> Response:
        user = _user_or_404(username)
        kinds = parse_query(CalibrationQuery, request)["kinds"]
        now = timezone.now()
        mine, crowd = score_selectors.user_calibration(user=user, now=now, kinds=kinds)
        market = score_selectors.user_market_calibration(user=user, now=now, kinds=kinds)
        distributions, crowd_distributions = user_distribution_calibration(user=user, now=now)
        data = {
            "user": username,
            "forecaster": _report(mine),
            "crowd": _report(crowd),
            "market": _report(market),
            "distributions": {
                "forecaster": _distributions(distributions),
                "crowd": _distributions(crowd_distributions),
            },
        }
        return Response(CalibrationWithDistributionsSerializer(data).data)
