from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def floor(request: HttpRequest) -> JsonResponse:
    """The least a Django JSON endpoint can do: no database, no DRF."""
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/floor/", floor),
    path("", include("config.urls")),
]
