from __future__ import annotations

from allauth.account import views as allauth_views
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from crux.health import health
from crux.icons import favicon
from forecasts.auth_views import (
    admin_password_change,
    admin_user_password_change,
    one_attempt_at_a_time,
)

# These come before allauth's URLs and the admin's own, whose views they replace or name.
# Log-in (site and admin) is throttled by django-axes' authentication backend, one attempt at
# a time per (username, client address); a password change, set or reset revokes the user's
# API tokens (the forms in ACCOUNT_FORMS and the admin's pages below); reset e-mails are
# throttled.
account_views = [
    path(
        "accounts/login/",
        one_attempt_at_a_time(allauth_views.login, field="login"),
        name="login",
    ),
    path(
        f"{settings.ADMIN_URL}login/",
        one_attempt_at_a_time(admin.site.login, field="username"),
        name="admin_login",
    ),
    # The names Crux's templates use, at allauth's own paths.
    path("accounts/logout/", allauth_views.logout, name="logout"),
    path("accounts/signup/", allauth_views.signup, name="signup"),
    path("accounts/password/change/", allauth_views.password_change, name="password_change"),
    path("accounts/password/reset/", allauth_views.password_reset, name="password_reset"),
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
    path("favicon.ico", favicon, name="favicon"),
    *account_views,
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("accounts/", include("allauth.account.urls")),
    path("markets/", include("markets.urls")),
    path("", include("forecasts.urls")),
]

handler404 = "crux.api.errors.api_not_found"
handler500 = "crux.errors.server_error"
