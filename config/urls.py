from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from forecasts import views as forecast_views
from forecasts.auth_forms import ThrottledAuthenticationForm
from forecasts.health import health

urlpatterns = [
    path("health/", health, name="health"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/v1/", include("forecasts.api_urls")),
    path("accounts/signup/", forecast_views.signup, name="signup"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("markets/", include("markets.urls")),
    path("", include("forecasts.urls")),
]

handler404 = "forecasts.api_support.api_not_found"
handler500 = "config.errors.server_error"
