"""Charts over HTTP: PNG or SVG images and the CSV of the numbers they draw.

The same views serve the web pages (``/charts/...``) and the API
(``/api/v1/.../charts/...``, choosing PNG or SVG by ``format`` or ``Accept``). Which charts
there are and how each is drawn, the registry (``forecasts.charts.registry``) says: a view
finds the chart by its kind and name, and the subject it is drawn for by its address.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from crux.api.errors import JsonErrorsMixin
from crux.api.renderers import csv_bytes
from forecasts.charts import registry
from forecasts.charts.cache import chart_bytes
from forecasts.charts.registry import Chart, CrowdSubject, Kind, QuestionSubject, UserSubject
from forecasts.maths import score_types
from forecasts.models import Question
from forecasts.scores import selectors as score_selectors

CONTENT_TYPES = {"png": "image/png", "svg": "image/svg+xml", "csv": "text/csv"}


def _user_subject(viewer: Any, params: QueryDict, *, username: str) -> UserSubject:
    user = get_object_or_404(get_user_model(), username=username)
    return UserSubject(user=user, now=timezone.now(), params=params)


def _question_subject(viewer: Any, params: QueryDict, *, question_id: int | str) -> QuestionSubject:
    question = get_object_or_404(Question, pk=question_id)
    signed_in = viewer if viewer is not None and viewer.is_authenticated else None
    return QuestionSubject(question=question, viewer=signed_in, now=timezone.now(), params=params)


def _crowd_subject(viewer: Any, params: QueryDict) -> CrowdSubject:
    return CrowdSubject(now=timezone.now(), params=params)


# Each kind's subject, from the viewer, the query string and the rest of the chart's address.
SUBJECTS: dict[Kind, Callable[..., Any]] = {
    Kind.USER: _user_subject,
    Kind.QUESTION: _question_subject,
    Kind.CROWD: _crowd_subject,
}


def _respond(chart: Chart[Any], subject: Any, fmt: str) -> HttpResponse:
    version = chart.version(subject)
    whose = chart.cache_subject(subject)
    if fmt == "csv":
        rows = chart.gather(subject).rows
        response = HttpResponse(csv_bytes(rows), content_type=CONTENT_TYPES["csv"])
        response["Content-Disposition"] = f'attachment; filename="{chart.name}-{whose}.csv"'
        return response
    body = chart_bytes(chart, whose, version, fmt, lambda: chart.gather(subject))
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    # Private: a question's chart may carry the viewer's own forecasts.
    response["Cache-Control"] = "private, max-age=60"
    return response


def web_chart(
    request: HttpRequest, kind: Kind, name: str, fmt: str, **address: str
) -> HttpResponse:
    """A chart on the web, ``kind`` given by its URL pattern. The name is looked up before the
    method is checked: an unknown chart is a 404 whatever the method, as an unknown address."""
    return _web_chart(request, registry.chart(kind, name), fmt, address)


@require_GET
def _web_chart(
    request: HttpRequest, chart: Chart[Any], fmt: str, address: dict[str, str]
) -> HttpResponse:
    subject = SUBJECTS[chart.kind](request.user, request.GET, **address)
    return _respond(chart, subject, fmt)


# --- API ----------------------------------------------------------------------------------------


class PNGRenderer(BaseRenderer):
    media_type = "image/png"
    format = "png"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return data


class SVGRenderer(PNGRenderer):
    media_type = "image/svg+xml"
    format = "svg"


class ChartAPIView(JsonErrorsMixin, APIView):
    """Base: the charts of one kind, images by ``format`` (png, svg) or ``Accept``; errors
    stay JSON."""

    permission_classes = [permissions.AllowAny]
    renderer_classes = [PNGRenderer, SVGRenderer]
    kind: Kind

    def chart_response(self, request: Request, name: str, **address: Any) -> HttpResponse:
        subject = SUBJECTS[self.kind](request.user, request.query_params, **address)
        chart = registry.chart(self.kind, name)
        return _respond(chart, subject, request.accepted_renderer.format)


IMAGE_RESPONSES = {
    (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="A PNG image."),
    (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.STR, description="An SVG image."),
}


def _name_parameter(kind: Kind) -> OpenApiParameter:
    return OpenApiParameter("name", str, OpenApiParameter.PATH, enum=registry.names(kind))


class UserChartView(ChartAPIView):
    """A user's chart: ``calibration`` (beside the crowd's), ``calibration-over-time``,
    ``scores`` (with ``score``, a score type)."""

    kind = Kind.USER

    @extend_schema(
        tags=["charts"],
        parameters=[
            _name_parameter(Kind.USER),
            OpenApiParameter("score", str, enum=score_types.NAMES, description="For 'scores'."),
            OpenApiParameter(
                "kinds",
                str,
                enum=score_selectors.CALIBRATION_KINDS,
                description="For the calibration charts: 'all' (the default) counts "
                "multiple-choice questions one-vs-rest, 'binary' only YES/NO questions.",
            ),
        ],
        responses=IMAGE_RESPONSES,
    )
    def get(self, request: Request, username: str, name: str) -> Any:
        return self.chart_response(request, name, username=username)


class QuestionChartView(ChartAPIView):
    """A question's chart: ``history``, the crowd's median and geometric mean of odds through
    time, your own forecasts when authenticated, and the resolution; ``options``, the crowd's
    median of each option through time (a binary question's are YES and NO); ``fan``, a numeric
    or date question's crowd median and 80% interval through time, your own median when
    authenticated, and the outcome ("Not enough data yet" on the other kinds)."""

    kind = Kind.QUESTION

    @extend_schema(
        tags=["charts"],
        # Named as when the history was the address's only chart, for the clients built on it.
        operation_id="questions_charts_history_retrieve",
        parameters=[_name_parameter(Kind.QUESTION)],
        responses=IMAGE_RESPONSES,
    )
    def get(self, request: Request, question_id: int, name: str) -> Any:
        return self.chart_response(request, name, question_id=question_id)
