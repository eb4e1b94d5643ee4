"""The API, version 1: each app's endpoints, the schema and its documentation."""

from __future__ import annotations

from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from crux.api import docs as api_docs
from forecasts.api import comments, forecasts, questions, scores, tokens
from forecasts.charts import views as chart_views
from markets import api as markets_api

router = DefaultRouter()
router.register("questions", questions.QuestionViewSet, basename="question")
router.register("forecasts", forecasts.ForecastViewSet, basename="forecast")
router.register("sources", questions.SourceViewSet, basename="source")
router.register("tokens", tokens.TokenViewSet, basename="token")
router.register("markets", markets_api.MarketViewSet, basename="market")

app_name = "api"

urlpatterns = [
    path("scores/", scores.ScoreListView.as_view(), name="scores"),
    path("leaderboard/", scores.LeaderboardView.as_view(), name="leaderboard"),
    path(
        "users/<str:username>/track-record/",
        scores.TrackRecordView.as_view(),
        name="track-record",
    ),
    path(
        "users/<str:username>/calibration/",
        scores.CalibrationView.as_view(),
        name="calibration",
    ),
    path(
        "users/<str:username>/charts/<str:name>/",
        chart_views.UserChartView.as_view(),
        name="user-chart",
    ),
    path(
        "questions/<int:question_id>/charts/<str:name>/",
        chart_views.QuestionChartView.as_view(),
        name="question-chart",
    ),
    path(
        "questions/<int:question_id>/comments/",
        comments.QuestionCommentsView.as_view(),
        name="question-comments",
    ),
    path("comments/<int:comment_id>/", comments.CommentView.as_view(), name="comment"),
    path(
        "comments/<int:comment_id>/hide/", comments.CommentHideView.as_view(), name="comment-hide"
    ),
    path(
        "comments/<int:comment_id>/unhide/",
        comments.CommentUnhideView.as_view(),
        name="comment-unhide",
    ),
    path("me/account/", markets_api.MyAccountView.as_view(), name="my-account"),
    path("me/positions/", markets_api.MyPositionsView.as_view(), name="my-positions"),
    path("me/trades/", markets_api.MyTradesView.as_view(), name="my-trades"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", api_docs.SwaggerView.as_view(url_name="api:schema"), name="docs"),
    # One documentation page (see crux.api.docs); the old address leads to it.
    path("redoc/", RedirectView.as_view(pattern_name="api:docs"), name="redoc"),
    # The router last: its patterns are many, and these are the hottest reads.
    path("", include(router.urls)),
]
