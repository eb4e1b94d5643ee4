"""``/favicon.ico``: what browsers ask for on pages (and files) that link no icon."""

from __future__ import annotations

from pathlib import Path

from django.http import FileResponse, HttpRequest
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

ICO = Path(__file__).resolve().parent / "static" / "crux" / "favicon.ico"


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> FileResponse:
    return FileResponse(ICO.open("rb"), content_type="image/x-icon")
