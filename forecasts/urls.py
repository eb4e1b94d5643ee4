from __future__ import annotations

from django.urls import path, re_path

from forecasts import chart_views, staff_views, views

app_name = "forecasts"

urlpatterns = [
    path("", views.question_list, name="question_list"),
    path("questions/<int:question_id>/", views.question_detail, name="question_detail"),
    path(
        "questions/<int:question_id>/withdraw/",
        views.forecast_withdraw,
        name="forecast_withdraw",
    ),
    path("me/forecasts/", views.my_forecasts, name="my_forecasts"),
    path("me/settings/", views.user_settings, name="settings"),
    path("me/tokens/", views.token_create, name="token_create"),
    path("me/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("users/<str:username>/", views.track_record, name="track_record"),
    re_path(
        r"^charts/users/(?P<username>[^/]+)/(?P<name>calibration|calibration-over-time|scores)"
        r"\.(?P<fmt>png|svg|csv)$",
        chart_views.user_chart,
        name="user_chart",
    ),
    re_path(
        r"^charts/questions/(?P<question_id>[0-9]+)/history\.(?P<fmt>png|svg|csv)$",
        chart_views.question_chart,
        name="question_chart",
    ),
    re_path(
        r"^charts/crowd/calibration\.(?P<fmt>png|svg|csv)$",
        chart_views.crowd_chart,
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
