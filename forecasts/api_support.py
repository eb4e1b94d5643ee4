"""What every API view shares: one error shape, pagination, strict input, CSV, caching."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, Window
from django.http import Http404
from rest_framework import exceptions, pagination, serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _as_lists(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _as_lists(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [
            str(item) if not isinstance(item, dict | list) else _as_lists(item) for item in detail
        ]
    return [str(detail)]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error as ``{"message": str, "errors": {field: [str, ...]}}``."""
    if isinstance(exc, DjangoValidationError):
        errors = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, RequestDataTooBig):
        return Response(
            {"message": "The request body is too large.", "errors": {}},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = ", ".join(sorted(errors))
        body = {"message": f"Invalid input: {fields}.", "errors": _as_lists(errors)}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        body = {"message": str(detail), "errors": {}}
    response.data = body
    return response


class ErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class Pagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 500


TOTAL = "crux_window_total"


class WindowCountPaginator(Paginator):
    """Fetches a page and the total in one query: ``COUNT(*) OVER ()`` on each row of the page.

    Django's paginator asks the database twice (a ``COUNT`` then the rows); on a busy list the
    second round trip and the second compiled query are a good part of the cost. Only a page
    past the end (no rows) still counts on its own, to tell "empty" from "out of range".
    """

    def page(self, number: Any) -> Page:
        number = self._page_number(number)
        bottom = (number - 1) * self.per_page
        counted = self.object_list.annotate(**{TOTAL: Window(Count("*"))})
        rows = list(counted[bottom : bottom + self.per_page])
        if rows:
            first = rows[0]
            total = first[TOTAL] if isinstance(first, dict) else getattr(first, TOTAL)
            self.__dict__["count"] = total  # Paginator.count is a cached property
            for row in rows:
                if isinstance(row, dict):
                    del row[TOTAL]
        return self._get_page(rows, self.validate_number(number), self)

    def _page_number(self, number: Any) -> int:
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


class WindowCountPagination(Pagination):
    django_paginator_class = WindowCountPaginator


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, naming them, rather than silently dropping them."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors = {name: ["Unknown field."] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail if isinstance(error.detail, dict) else {}
            raise serializers.ValidationError({**errors, **detail}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return value


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, dict) and {"message", "errors"} <= set(data):
            rows = [{"message": data["message"]}]
        elif isinstance(data, dict):
            rows = data["results"] if isinstance(data.get("results"), list) else [data]
        else:
            rows = list(data or [])
        return csv_bytes(rows)


def csv_bytes(rows: Iterable[dict[str, Any]]) -> bytes:
    rows = list(rows)
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue().encode()


def etag_for(*parts: object) -> str:
    return '"' + hashlib.sha256(repr(parts).encode()).hexdigest()[:32] + '"'


def not_modified(request: Any, etag: str) -> bool:
    candidates = request.headers.get("If-None-Match", "")
    return etag in {c.strip() for c in candidates.split(",")} or candidates.strip() == "*"


def api_not_found(request: Any, exception: Exception | None = None) -> Any:
    """A 404 outside any API view (an unroutable URL): JSON under /api/, HTML elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"message": "Not found.", "errors": {}}, status=404)
    return page_not_found(request, exception)


class JsonErrorsMixin:
    """For views that also render CSV or images: an error is always the JSON error shape."""

    def handle_exception(self, exc: Exception) -> Any:
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)  # type: ignore[misc]
