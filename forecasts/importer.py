"""Importing question files: a source document and the questions drawn from it."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from forecasts.models import AutoOutcome, Question, SourceDocument
from markets.models import Market
from markets.services import market_create


@dataclass(frozen=True)
class ImportResult:
    source: SourceDocument
    created: int
    updated: int
    unchanged: int
    markets_opened: int = 0


QUESTION_TEXT_FIELDS = ("title", "body", "resolution_criteria", "passage")
QUESTION_TIME_FIELDS = ("opens_at", "closes_at", "resolves_at")


def _aware(value: object, *, field: str, key: str) -> dt.datetime:
    parsed = value if isinstance(value, dt.datetime) else parse_datetime(str(value))
    if parsed is None:
        raise ValidationError(f"Question {key!r}: {field} is not an ISO-8601 date-time: {value!r}")
    if timezone.is_naive(parsed):
        raise ValidationError(f"Question {key!r}: {field} needs a time zone (e.g. a trailing Z)")
    return parsed


def _question_values(entry: dict[str, Any], text: str) -> dict[str, Any]:
    key = entry.get("key", "")
    if not key:
        raise ValidationError("Every question needs a stable 'key'.")
    missing = [
        f
        for f in (*QUESTION_TEXT_FIELDS, *QUESTION_TIME_FIELDS)
        if f != "body" and not entry.get(f)
    ]
    if missing:
        raise ValidationError(f"Question {key!r} is missing: {', '.join(missing)}")
    values: dict[str, Any] = {f: str(entry.get(f, "")).strip() for f in QUESTION_TEXT_FIELDS}
    values["resolution_criteria"] = str(entry["resolution_criteria"]).strip()
    values["passage"] = str(entry["passage"])
    if values["passage"] not in text:
        raise ValidationError(
            f"Question {key!r}: the passage does not occur verbatim in the source"
        )
    for field in QUESTION_TIME_FIELDS:
        values[field] = _aware(entry[field], field=field, key=key)
    if not values["opens_at"] < values["closes_at"] <= values["resolves_at"]:
        raise ValidationError(f"Question {key!r}: needs opens_at < closes_at <= resolves_at")
    auto = entry.get("auto_outcome", "")
    if auto not in AutoOutcome.values:
        raise ValidationError(f"Question {key!r}: auto_outcome must be 'yes', 'no' or absent")
    values["auto_outcome"] = auto
    return values


def _liquidity(entry: dict[str, Any]) -> Decimal:
    """The question's market liquidity ``b``: ``market_liquidity`` or the site default; 0: none."""
    raw = entry.get("market_liquidity", settings.MARKET_DEFAULT_LIQUIDITY)
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        raise ValidationError(f"Question {entry['key']!r}: market_liquidity must be a number >= 0")
    return value


@transaction.atomic
def questions_import(*, path: Path, now: dt.datetime | None = None) -> ImportResult:
    """Create or update a source document and its questions from a TOML question file.

    Idempotent by the stable keys of the source and the questions: importing the same file
    twice creates nothing new; edited text or dates update the existing rows in place.
    Each question still open for forecasts gets a market (liquidity ``market_liquidity``, or
    ``MARKET_DEFAULT_LIQUIDITY``; 0 for none) unless it has one; closed ones get none.
    """
    now = now or timezone.now()
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    source_data = data.get("source") or {}
    text_file = source_data.get("text_file")
    if not source_data.get("key") or not text_file:
        raise ValidationError("The [source] table needs 'key' and 'text_file'.")
    text = (path.parent / text_file).read_text(encoding="utf-8")
    published = parse_date(str(source_data.get("published_on", "")))
    if published is None:
        raise ValidationError("[source] published_on must be a date (YYYY-MM-DD).")
    source, _ = SourceDocument.objects.update_or_create(
        key=source_data["key"],
        defaults={
            "title": source_data.get("title", source_data["key"]),
            "author": source_data.get("author", ""),
            "published_on": published,
            "url": source_data.get("url", ""),
            "text": text,
        },
    )
    entries = data.get("questions") or []
    keys = [entry.get("key") for entry in entries]
    if len(keys) != len(set(keys)):
        raise ValidationError("Question keys must be unique within a file.")
    created = updated = unchanged = 0
    existing = {q.key: q for q in Question.objects.filter(key__in=keys)}
    wanted: list[tuple[Question, Decimal]] = []
    for entry in entries:
        values = _question_values(entry, text)
        liquidity = _liquidity(entry)
        question = existing.get(entry["key"])
        if question is None:
            question = Question.objects.create(key=entry["key"], source=source, **values)
            created += 1
        elif question.source_id == source.pk and all(
            getattr(question, f) == v for f, v in values.items()
        ):
            unchanged += 1
        else:
            for field, value in values.items():
                setattr(question, field, value)
            question.source = source
            question.save()
            updated += 1
        if liquidity > 0 and not question.resolution and question.closes_at > now:
            wanted.append((question, liquidity))
    with_market = set(
        Market.objects.filter(question__in=[q for q, _ in wanted]).values_list(
            "question_id", flat=True
        )
    )
    opened = 0
    for question, liquidity in wanted:
        if question.pk not in with_market:
            market_create(question=question, b=liquidity, now=now)
            opened += 1
    return ImportResult(
        source=source,
        created=created,
        updated=updated,
        unchanged=unchanged,
        markets_opened=opened,
    )
