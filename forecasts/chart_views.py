"""Charts over HTTP: PNG or SVG images and the CSV of the numbers they draw.

The same views serve the web pages (``/charts/...``) and the API
(``/api/v1/.../charts/...``, choosing PNG or SVG by ``format`` or ``Accept``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from forecasts import chart_data
from forecasts.api_support import JsonErrorsMixin, csv_bytes
from forecasts.chart_cache import chart_bytes
from forecasts.models import Question, ScoreType

CONTENT_TYPES = {"png": "image/png", "svg": "image/svg+xml", "csv": "text/csv"}
USER_CHARTS = ("calibration", "calibration-over-time", "scores")


Build = Callable[[], chart_data.ChartData]


def _user_chart(name: str, username: str, params: Any) -> tuple[Build, str, str]:
    """What to build, the cache subject and the version, for one of a user's charts."""
    user = get_object_or_404(get_user_model(), username=username)
    now = timezone.now()
    version = chart_data.scores_charts_version(now=now)
    if name == "calibration":
        return (
            lambda: chart_data.user_calibration_chart(user=user, now=now),
            f"u{user.pk}",
            version,
        )
    if name == "calibration-over-time":
        return (
            lambda: chart_data.user_calibration_over_time_chart(user=user, now=now),
            f"u{user.pk}",
            version,
        )
    if name == "scores":
        try:
            score_type = ScoreType(params.get("score", ScoreType.BASELINE))
        except ValueError:
            raise Http404("Unknown score type") from None
        return (
            lambda: chart_data.user_score_chart(user=user, score_type=score_type),
            f"u{user.pk}-{score_type}",
            version,
        )
    raise Http404("No such chart")


def _question_chart(question_id: int, user: Any) -> tuple[Build, str, str]:
    question = get_object_or_404(Question, pk=question_id)
    viewer = user if user is not None and user.is_authenticated else None
    now = timezone.now()
    version = chart_data.question_chart_version(question=question, user=viewer, now=now)
    subject = f"q{question.pk}-" + (f"u{viewer.pk}" if viewer else "public")
    return (
        lambda: chart_data.question_history_chart(question=question, user=viewer, now=now),
        subject,
        version,
    )


def _respond(name: str, subject: str, version: str, fmt: str, build: Build) -> HttpResponse:
    if fmt == "csv":
        response = HttpResponse(csv_bytes(build().rows), content_type=CONTENT_TYPES["csv"])
        response["Content-Disposition"] = f'attachment; filename="{name}-{subject}.csv"'
        return response
    body = chart_bytes(name, subject, version, fmt, build)
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    # Private: a question's chart may carry the viewer's own forecasts.
    response["Cache-Control"] = "private, max-age=60"
    return response


@require_GET
def user_chart(request: HttpRequest, username: str, name: str, fmt: str) -> HttpResponse:
    build, subject, version = _user_chart(name, username, request.GET)
    return _respond(name, subject, version, fmt, build)


@require_GET
def crowd_chart(request: HttpRequest, fmt: str) -> HttpResponse:
    practice = request.GET.get("practice") == "1"
    now = timezone.now()
    return _respond(
        "calibration",
        "crowd-practice" if practice else "crowd",
        chart_data.scores_charts_version(now=now),
        fmt,
        lambda: chart_data.crowd_calibration_chart(now=now, include_practice=practice),
    )


@require_GET
def question_chart(request: HttpRequest, question_id: int, fmt: str) -> HttpResponse:
    build, subject, version = _question_chart(question_id, request.user)
    return _respond("history", subject, version, fmt, build)


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
    """Base: images by ``format`` (png, svg) or ``Accept``; errors stay JSON."""

    permission_classes = [permissions.AllowAny]
    renderer_classes = [PNGRenderer, SVGRenderer]

    def chart_response(
        self, request: Request, name: str, built: tuple[Build, str, str]
    ) -> HttpResponse:
        build, subject, version = built
        return _respond(name, subject, version, request.accepted_renderer.format, build)


IMAGE_RESPONSES = {
    (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="A PNG image."),
    (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.STR, description="An SVG image."),
}


class UserChartView(ChartAPIView):
    """A user's chart: ``calibration`` (beside the crowd's), ``calibration-over-time``,
    ``scores`` (with ``score``, a score type)."""

    @extend_schema(
        tags=["charts"],
        parameters=[
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(USER_CHARTS)),
            OpenApiParameter("score", str, enum=ScoreType.values, description="For 'scores'."),
        ],
        responses=IMAGE_RESPONSES,
    )
    def get(self, request: Request, username: str, name: str) -> Any:
        return self.chart_response(request, name, _user_chart(name, username, request.query_params))


class QuestionChartView(ChartAPIView):
    """A question's history: the crowd's median and geometric mean of odds through time,
    your own forecasts when authenticated, and the resolution."""

    @extend_schema(tags=["charts"], responses=IMAGE_RESPONSES)
    def get(self, request: Request, question_id: int) -> Any:
        return self.chart_response(request, "history", _question_chart(question_id, request.user))
