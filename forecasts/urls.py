from __future__ import annotations

from django.urls import path, re_path

from forecasts import account_views, distribution_views, record_views, staff_views, views
from forecasts.charts import views as chart_views
from forecasts.charts.registry import Kind
from forecasts.discussion import views as discussion_views

app_name = "forecasts"

# A chart's address ends in its name and format. The name is looked up in the registry when
# the chart is asked for, so one pattern per kind serves every chart of that kind.
FORMAT = rf"(?P<fmt>{'|'.join(chart_views.CONTENT_TYPES)})$"
CHART = rf"(?P<name>[^/.]+)\.{FORMAT}"

urlpatterns = [
    path("", views.question_list, name="question_list"),
    path("questions/<int:question_id>/", views.question_detail, name="question_detail"),
    path(
        "questions/<int:question_id>/withdraw/",
        views.forecast_withdraw,
        name="forecast_withdraw",
    ),
    path(
        "questions/<int:question_id>/preview-distribution/",
        distribution_views.distribution_preview,
        name="distribution_preview",
    ),
    path(
        "questions/<int:question_id>/discussion/",
        discussion_views.discussion,
        name="discussion",
    ),
    path(
        "questions/<int:question_id>/comments/",
        discussion_views.comment_post,
        name="comment_post",
    ),
    path(
        "questions/<int:question_id>/follow/",
        discussion_views.question_follow,
        name="question_follow",
    ),
    path(
        "questions/<int:question_id>/unfollow/",
        discussion_views.question_unfollow,
        name="question_unfollow",
    ),
    path("comments/<int:comment_id>/edit/", discussion_views.comment_edit, name="comment_edit"),
    path(
        "comments/<int:comment_id>/delete/", discussion_views.comment_delete, name="comment_delete"
    ),
    path("comments/<int:comment_id>/hide/", discussion_views.comment_hide, name="comment_hide"),
    path(
        "comments/<int:comment_id>/unhide/", discussion_views.comment_unhide, name="comment_unhide"
    ),
    path("me/forecasts/", account_views.my_forecasts, name="my_forecasts"),
    path("me/settings/", account_views.user_settings, name="settings"),
    path("me/tokens/", account_views.token_create, name="token_create"),
    path("me/tokens/<int:token_id>/revoke/", account_views.token_revoke, name="token_revoke"),
    path("leaderboard/", record_views.leaderboard, name="leaderboard"),
    path("users/<str:username>/", record_views.track_record, name="track_record"),
    re_path(
        rf"^charts/users/(?P<username>[^/]+)/{CHART}",
        chart_views.web_chart,
        {"kind": Kind.USER},
        name="user_chart",
    ),
    re_path(
        rf"^charts/questions/(?P<question_id>[0-9]+)/{CHART}",
        chart_views.web_chart,
        {"kind": Kind.QUESTION},
        name="question_chart",
    ),
    re_path(
        rf"^charts/crowd/{CHART}", chart_views.web_chart, {"kind": Kind.CROWD}, name="crowd_chart"
    ),
    # The question's and the crowd's chart addresses named no chart when each kind had one:
    # they reverse so still. They match nothing the patterns above do not.
    re_path(
        rf"^charts/questions/(?P<question_id>[0-9]+)/history\.{FORMAT}",
        chart_views.web_chart,
        {"kind": Kind.QUESTION, "name": "history"},
        name="question_chart",
    ),
    re_path(
        rf"^charts/crowd/calibration\.{FORMAT}",
        chart_views.web_chart,
        {"kind": Kind.CROWD, "name": "calibration"},
        name="crowd_chart",
    ),
    path("staff/due/", staff_views.due, name="staff_due"),
    path(
        "staff/questions/<int:question_id>/resolve/",
        staff_views.resolve,
        name="staff_resolve",
    ),
    path(
        "staff/questions/<int:question_id>/unresolve/",
        staff_views.unresolve,
        name="staff_unresolve",
    ),
    path("sources/<slug:source_key>/", views.source_detail, name="source_detail"),
]
