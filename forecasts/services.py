"""Writes: every change to questions and forecasts goes through these functions."""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from forecasts.models import (
    PROBABILITY_MAX,
    PROBABILITY_MIN,
    AutoOutcome,
    Forecast,
    Question,
    SourceDocument,
)

PROBABILITY_ERROR = (
    f"Enter a probability between {PROBABILITY_MIN} and {PROBABILITY_MAX} "
    f"({PROBABILITY_MIN:.1%} to {PROBABILITY_MAX:.1%})."
)


def clean_probability(raw: object) -> float:
    """Parse a probability of YES from user input, refusing anything outside [0.001, 0.999]."""
    if isinstance(raw, bool) or raw is None:
        raise ValidationError({"probability": "A probability is required."})
    if isinstance(raw, str):
        raw = raw.strip()
        if not raw:
            raise ValidationError({"probability": "A probability is required."})
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError({"probability": "The probability must be a number."}) from None
    if not math.isfinite(value) or not PROBABILITY_MIN <= value <= PROBABILITY_MAX:
        raise ValidationError({"probability": PROBABILITY_ERROR})
    return value


@transaction.atomic
def forecast_submit(
    *,
    user: AbstractBaseUser,
    question_id: int,
    probability: object,
    rationale: str = "",
    now: dt.datetime | None = None,
) -> Forecast:
    """Record ``user``'s forecast, ending the one they had standing on the question."""
    value = clean_probability(probability)
    # Locking the question serialises concurrent submissions on the same question (PostgreSQL);
    # SQLite serialises writers through its IMMEDIATE transactions. The clock is read once the
    # lock is held, so a forecast never starts before the one it ends.
    question = Question.objects.select_for_update().get(pk=question_id)
    now = now or timezone.now()
    if not question.is_open_for_forecasts(now):
        raise ValidationError(
            {
                "question": f"This question is {question.status(now).label.lower()}; "
                "it does not accept forecasts."
            }
        )
    Forecast.objects.filter(question=question, user=user, ends_at__isnull=True).update(ends_at=now)
    return Forecast.objects.create(
        question=question,
        user=user,
        probability=value,
        rationale=rationale.strip(),
        starts_at=now,
    )


@transaction.atomic
def forecast_withdraw(
    *, user: AbstractBaseUser, question_id: int, now: dt.datetime | None = None
) -> int:
    """End ``user``'s standing forecast on the question; returns how many were ended (0 or 1)."""
    question = Question.objects.select_for_update().get(pk=question_id)
    now = now or timezone.now()
    if not question.is_open_for_forecasts(now):
        raise ValidationError({"question": "This question is closed; forecasts are final."})
    return Forecast.objects.filter(question=question, user=user, ends_at__isnull=True).update(
        ends_at=now
    )


@transaction.atomic
def questions_close_due(*, now: dt.datetime | None = None) -> int:
    """Record the close of every question whose ``closes_at`` has passed; safe to repeat."""
    now = now or timezone.now()
    due = Question.objects.filter(closes_at__lte=now, closed_at__isnull=True)
    # A question closes at its scheduled time, however late the sweep runs.
    return due.update(closed_at=F("closes_at"))


# --- importing question files -------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    source: SourceDocument
    created: int
    updated: int
    unchanged: int


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


@transaction.atomic
def questions_import(*, path: Path) -> ImportResult:
    """Create or update a source document and its questions from a TOML question file.

    Idempotent by the stable keys of the source and the questions: importing the same file
    twice creates nothing new; edited text or dates update the existing rows in place.
    """
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
    for entry in entries:
        values = _question_values(entry, text)
        question = existing.get(entry["key"])
        if question is None:
            Question.objects.create(key=entry["key"], source=source, **values)
            created += 1
            continue
        if question.source_id == source.pk and all(
            getattr(question, f) == v for f, v in values.items()
        ):
            unchanged += 1
            continue
        for field, value in values.items():
            setattr(question, field, value)
        question.source = source
        question.save()
        updated += 1
    return ImportResult(source=source, created=created, updated=updated, unchanged=unchanged)
