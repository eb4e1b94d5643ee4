"""CSV: complete, streamed, and safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer


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

    A list or a mapping (a multiple-choice forecast's ``probabilities``) is one cell of JSON,
    ``[0.2, 0.5, 0.3]``, as the JSON API gives it: readable, and parsed by any JSON parser
    (the text Python would write for a list of labels, ``['a']``, is not JSON).
    """
    if isinstance(value, list | tuple | dict):
        value = json.dumps(value)
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
