from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from crux.health import health
from forecasts.account_views import signup
from forecasts.auth_forms import (
    ThrottledPasswordResetForm,
    TokenRevokingPasswordChangeForm,
    TokenRevokingSetPasswordForm,
)
from forecasts.auth_views import (
    admin_password_change,
    admin_user_password_change,
    one_attempt_at_a_time,
)

# These come before django.contrib.auth.urls and the admin's own, whose views they replace.
# Log-in (site and admin) is throttled by django-axes' authentication backend, one attempt at
# a time per (username, client address); a password change or reset revokes the user's API
# tokens; reset e-mails are throttled.
account_views = [
    path(
        "accounts/login/",
        one_attempt_at_a_time(auth_views.LoginView.as_view()),
        name="login",
    ),
    path(
        f"{settings.ADMIN_URL}login/", one_attempt_at_a_time(admin.site.login), name="admin_login"
    ),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(form_class=TokenRevokingPasswordChangeForm),
        name="password_change",
    ),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=ThrottledPasswordResetForm),
        name="password_reset",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=TokenRevokingSetPasswordForm),
        name="password_reset_confirm",
    ),
    path(
        f"{settings.ADMIN_URL}password_change/",
        admin.site.admin_view(admin_password_change, cacheable=True),
        name="admin_password_change",
    ),
    path(
        f"{settings.ADMIN_URL}auth/user/<id>/password/",
        admin.site.admin_view(admin_user_password_change),
        name="admin_user_password_change",
    ),
]

urlpatterns = [
    path("health/", health, name="health"),
    *account_views,
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("accounts/signup/", signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("markets/", include("markets.urls")),
    path("", include("forecasts.urls")),
]

handler404 = "crux.api.errors.api_not_found"
handler500 = "crux.errors.server_error"
