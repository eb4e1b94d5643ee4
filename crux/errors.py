"""The server-error response: JSON under /api/, like every other API error; HTML elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import server_error as html_server_error


def server_error(request: HttpRequest) -> HttpResponse:
    """An unhandled exception (the database dropped mid-request, say): nothing of it is shown."""
    if request.path.startswith("/api/"):
        return JsonResponse({"message": "Server error; try again.", "errors": {}}, status=500)
    return html_server_error(request)
