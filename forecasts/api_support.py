"""What every API view shares: one error shape, pagination, strict input, CSV, caching."""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window
from django.http import Http404, StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, pagination, serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
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
        errors: dict[str, Any] = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, RequestDataTooBig):
        return Response(
            {"message": "The request body is too large.", "errors": {}},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, Http404 | ObjectDoesNotExist):
        # A service that looks a row up by id raises ``Model.DoesNotExist``: the caller named
        # something that is not there, which is the caller's error, not the server's.
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
    # DRF takes the fields out of the class; its stubs see this one shadow Serializer.errors.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )


# The error responses an operation documents, by status code.
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; the fields are named."),
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed."),
    404: OpenApiResponse(ErrorSerializer, description="Not found."),
}


def parse_query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The query string, validated by ``serializer_class`` (a 400 naming the fields if not)."""
    query = serializer_class(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    return query.validated_data


class Pagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 500


TOTAL = "crux_window_total"
# SQLite and PostgreSQL take LIMIT and OFFSET as signed 64-bit integers; past that a query
# fails (a 500) where the page is simply out of range: no table holds that many rows.
MAX_ROW = 2**63 - 1


class WindowCountPaginator(Paginator):
    """Fetches a page and the total in one query: ``COUNT(*) OVER ()`` on each row of the page.

    Django's paginator asks the database twice (a ``COUNT`` then the rows); on a busy list the
    second round trip and the second compiled query are a good part of the cost. Only a page
    past the end (no rows) still counts on its own, to tell "empty" from "out of range".
    """

    def page(self, number: Any) -> Page:
        number = self._page_number(number)
        bottom = (number - 1) * self.per_page
        if bottom + self.per_page > MAX_ROW:
            raise EmptyPage(self.error_messages["no_results"])
        if not isinstance(self.object_list, QuerySet):
            raise TypeError("WindowCountPaginator pages a queryset (it counts in SQL)")
        counted = self.object_list.annotate(**{TOTAL: Window(Count("*"))})
        rows = list(counted[bottom : bottom + self.per_page])
        if rows:
            first = rows[0]
            total = first[TOTAL] if isinstance(first, dict) else getattr(first, TOTAL)
            self.__dict__["count"] = total  # Paginator.count is a cached property
            for row in rows:
                if isinstance(row, dict):
                    del row[TOTAL]
        return Page(rows, self.validate_number(number), self)

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
    """CSV for a single object; a list's CSV is streamed whole by ``csv_export`` instead."""

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


# What a spreadsheet reads as the start of a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
CSV_ROWS_PER_CHUNK = 500


def csv_cell(value: Any) -> Any:
    """A cell no spreadsheet runs as a formula: text that starts like one gets a leading ``'``.

    Numbers are data and are written as they are: a float or an int, and text that is exactly
    a decimal number (``-0.25``, the API's decimal strings such as ``-12.3400``), which a
    spreadsheet reads as a number, never as a formula. So negative values stay usable.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


class _Line:
    """A file for ``csv.writer`` that hands each written line back instead of storing it."""

    def write(self, line: str) -> str:
        return line


def csv_chunks(
    rows: Iterable[dict[str, Any]], fieldnames: Sequence[str] | None = None
) -> Iterator[bytes]:
    """CSV, header first, in chunks of ``CSV_ROWS_PER_CHUNK`` rows, every cell neutralised.

    Without ``fieldnames`` the first row's keys are the header (and no rows, no header).
    """
    writer = csv.writer(_Line())
    lines: list[str] = []
    if fieldnames is not None:
        lines.append(writer.writerow([csv_cell(name) for name in fieldnames]))
    for row in rows:
        if fieldnames is None:
            fieldnames = list(row)
            lines.append(writer.writerow([csv_cell(name) for name in fieldnames]))
        lines.append(writer.writerow([csv_cell(row.get(name)) for name in fieldnames]))
        if len(lines) >= CSV_ROWS_PER_CHUNK:
            yield "".join(lines).encode()
            lines = []
    if lines:
        yield "".join(lines).encode()


def csv_bytes(rows: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(csv_chunks(rows))


def serialized_rows(
    queryset: QuerySet[Any],
    serializer_class: type[serializers.Serializer],
    *,
    context: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every row of ``queryset``, serialized, read from the database a chunk at a time."""
    context = context or {}
    batch: list[Any] = []
    for obj in queryset.iterator(chunk_size=CSV_ROWS_PER_CHUNK):
        batch.append(obj)
        if len(batch) == CSV_ROWS_PER_CHUNK:
            yield from serializer_class(batch, many=True, context=context).data
            batch = []
    if batch:
        yield from serializer_class(batch, many=True, context=context).data


def csv_export(
    queryset: QuerySet[Any],
    serializer_class: type[serializers.Serializer],
    *,
    filename: str,
    context: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> StreamingHttpResponse:
    """A list as CSV: every row that ``queryset`` matches (not a page), streamed as it is read,
    so memory stays flat however many rows there are."""
    fieldnames = list(serializer_class(context=context or {}).fields)
    rows = serialized_rows(queryset, serializer_class, context=context)
    response = StreamingHttpResponse(
        csv_chunks(rows, fieldnames), content_type="text/csv; charset=utf-8", headers=headers
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


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


class JsonErrorsMixin(APIView):
    """For views that also render CSV or images: an error is always the JSON error shape."""

    def handle_exception(self, exc: Exception) -> Response:
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)
