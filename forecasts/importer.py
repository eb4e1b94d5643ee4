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

from forecasts.models import CONTINUOUS_KINDS, Question, QuestionKind, SourceDocument
from forecasts.rules import (
    NO_MARKET,
    Outcomes,
    RungOf,
    auto_outcome_named,
    column_errors,
    outcome_changes_refused,
    passage_in_source,
    passages_broken_by,
    question_outcomes,
    question_rung,
)
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
SOURCE_TEXT_FIELDS = ("key", "title", "author", "url")

# Every key a question file may hold. Anything else is refused, naming it: a misspelt key, or
# one Crux does not support, silently ignored would import a different question than written.
FILE_KEYS = ("source", "questions")
SOURCE_KEYS = ("key", "title", "author", "published_on", "text_file", "url")
# A numeric or date question's range, by Metaculus's names (a date's as ISO 8601 dates).
RANGE_KEYS = ("range_min", "range_max", "open_lower_bound", "open_upper_bound", "log_scale", "unit")
QUESTION_KEYS = (
    "key",
    *QUESTION_TEXT_FIELDS,
    "kind",
    "options",
    *RANGE_KEYS,
    *QUESTION_TIME_FIELDS,
    "auto_outcome",
    "market_liquidity",
    # A yes/no question read off a numeric or date question: the key of that question, and
    # the value at most which its outcome makes this one YES.
    "rung_of",
    "rung_value",
)


class FileErrors:
    """Every problem in a question file, gathered so one run reports them all."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, where: str, field: str, messages: list[str]) -> None:
        self.messages.extend(f"{where} {field}: {message}" for message in messages)

    def raise_any(self) -> None:
        if self.messages:
            raise ValidationError(self.messages)


def _unknown_keys(
    entry: dict[str, Any], known: tuple[str, ...], *, where: str, errors: FileErrors
) -> None:
    for name in entry:
        if name not in known:
            errors.add(where, name, [f"Not a key Crux knows (it knows: {', '.join(known)})."])


def _aware(value: object, *, field: str, where: str, errors: FileErrors) -> dt.datetime | None:
    try:
        parsed = value if isinstance(value, dt.datetime) else parse_datetime(str(value))
    except ValueError:  # well-formed but impossible, e.g. a 13th month
        parsed = None
    if parsed is None:
        errors.add(where, field, [f"Not an ISO-8601 date-time: {value!r}."])
    elif timezone.is_naive(parsed):
        errors.add(where, field, ["Needs a time zone (e.g. a trailing Z)."])
        parsed = None
    return parsed


def _question_values(
    entry: dict[str, Any], text: str | None, errors: FileErrors
) -> dict[str, Any] | None:
    """A question's stored values from its file entry, or None with its problems in ``errors``.

    ``text`` None: the source is unreadable, so the passage cannot be checked (that problem
    is reported on the source).
    """
    key = entry.get("key", "")
    if not key:
        errors.messages.append("Every question needs a stable 'key'.")
        return None
    where = f"Question {key!r}:"
    before = len(errors.messages)
    _unknown_keys(entry, QUESTION_KEYS, where=where, errors=errors)
    missing = [
        f
        for f in (*QUESTION_TEXT_FIELDS, *QUESTION_TIME_FIELDS)
        if f != "body" and not entry.get(f)
    ]
    if missing:
        errors.messages.append(f"{where} is missing: {', '.join(missing)}")
        return None
    raw = {f: entry.get(f, "") for f in ("key", *QUESTION_TEXT_FIELDS)}
    values: dict[str, Any] = {
        f: v.strip() if isinstance(v, str) and f != "passage" else v for f, v in raw.items()
    }
    for field, value in values.items():
        errors.add(where, field, column_errors(Question, field, value))
    del values["key"]
    passage = values["passage"]
    if text is not None and isinstance(passage, str) and not passage_in_source(passage, text):
        errors.messages.append(f"{where} the passage does not occur verbatim in the source")
    for field in QUESTION_TIME_FIELDS:
        values[field] = _aware(entry[field], field=field, where=where, errors=errors)
    times = [values[field] for field in QUESTION_TIME_FIELDS]
    if None not in times and not times[0] < times[1] <= times[2]:
        errors.messages.append(f"{where} needs opens_at < closes_at <= resolves_at")
    outcomes = _outcomes(entry, where=where, errors=errors)
    if outcomes is not None:
        values |= outcomes.columns()
    return values if len(errors.messages) == before else None


def _outcomes(entry: dict[str, Any], *, where: str, errors: FileErrors) -> Outcomes | None:
    """The question's kind (binary unless given) and what it takes, checked by the rules every
    edge applies (``question_outcomes``). A file's ``auto_outcome`` names a multiple-choice
    question's option by label, and so do its messages (the column of its index is
    ``auto_option``)."""
    kind = entry.get("kind", QuestionKind.BINARY.value)
    auto_outcome, label = auto_outcome_named(kind, entry.get("auto_outcome", ""))
    outcomes, problems = question_outcomes(
        kind=kind,
        options=entry.get("options"),
        auto_outcome=auto_outcome,
        auto_option_label=label,
        range_min=entry.get("range_min"),
        range_max=entry.get("range_max"),
        open_lower_bound=entry.get("open_lower_bound", False),
        open_upper_bound=entry.get("open_upper_bound", False),
        log_scale=entry.get("log_scale", False),
        unit=entry.get("unit", ""),
    )
    for field, messages in problems.items():
        errors.add(where, "auto_outcome" if field == "auto_option" else field, messages)
    return outcomes


def _liquidity(entry: dict[str, Any], errors: FileErrors) -> Decimal:
    """The question's market liquidity ``b``: ``market_liquidity`` or the site default; 0: none.
    A numeric or date question has no market: none by default, and any other is refused."""
    continuous = entry.get("kind") in CONTINUOUS_KINDS
    raw = entry.get("market_liquidity", 0 if continuous else settings.MARKET_DEFAULT_LIQUIDITY)
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        errors.messages.append(
            f"Question {entry.get('key')!r}: market_liquidity must be a number >= 0"
        )
    elif continuous and value:
        errors.messages.append(f"Question {entry.get('key')!r}: market_liquidity: {NO_MARKET}")
    return value


# A rung as its file writes it: the key its ``rung_of`` names (None if absent) and its
# ``rung_value``.
RungEntry = tuple[str | None, object]


@dataclass(frozen=True)
class QuestionFile:
    """A question file, read and checked: what to write, and nothing written yet. ``rungs``
    by question key; a rung of a question outside the file is checked on import, which reads
    that question."""

    source: dict[str, Any]
    questions: list[tuple[str, dict[str, Any], Decimal]]
    rungs: dict[str, RungEntry]


def _rung_entries(entries: list[dict[str, Any]], errors: FileErrors) -> dict[str, RungEntry]:
    """The file's rungs, by question key: each entry with a ``rung_of`` or a ``rung_value``."""
    rungs: dict[str, RungEntry] = {}
    for entry in entries:
        key = entry.get("key")
        if not key or ("rung_of" not in entry and "rung_value" not in entry):
            continue
        of = entry.get("rung_of")
        if of is not None and (not isinstance(of, str) or not of.strip()):
            errors.add(
                f"Question {key!r}:", "rung_of", ["Name the numeric or date question by its key."]
            )
            continue
        rungs[key] = (of.strip() if of is not None else None, entry.get("rung_value"))
    return rungs


def _rungs_checked(
    rungs: dict[str, RungEntry],
    kinds: dict[str, str],
    parents: dict[str, RungOf],
    *,
    errors: FileErrors,
    all_read: bool,
) -> dict[str, tuple[str, float]]:
    """Each rung's link, (the key of its question, its value), checked by the rules every edge
    applies (``question_rung``). ``kinds``: the kind of each question of the file whose values
    are valid (the others' problems are reported already); ``parents``: the questions a rung
    may name. ``all_read``: every question a rung may name is in ``parents``, so one that is
    not is refused; else it is left for the import to check."""
    links: dict[str, tuple[str, float]] = {}
    for key, (of, raw) in rungs.items():
        if key not in kinds:
            continue
        parent = None
        if of is not None:
            parent = parents.get(of)
            if parent is None:
                if all_read:
                    errors.add(
                        f"Question {key!r}:",
                        "rung_of",
                        [f"No question {of!r} in this file or imported before."],
                    )
                continue
        value, problems = question_rung(kind=kinds[key], rung_of=parent, rung_value=raw)
        for name, messages in problems.items():
            errors.add(f"Question {key!r}:", name, messages)
        if parent is not None and value is not None:
            links[key] = (parent.key, value)
    return links


def _rung_of(key: str, values: dict[str, Any]) -> RungOf:
    return RungOf(key, values["kind"], values["range_min"], values["range_max"])


def _read_source(path: Path, data: dict[str, Any], errors: FileErrors) -> dict[str, Any]:
    source = data.get("source")
    if not isinstance(source, dict) or not source.get("key") or not source.get("text_file"):
        raise ValidationError("The [source] table needs 'key' and 'text_file'.")
    _unknown_keys(source, SOURCE_KEYS, where="[source]", errors=errors)
    values = {
        "key": source["key"],
        "title": source.get("title", source["key"]),
        "author": source.get("author", ""),
        "url": source.get("url", ""),
    }
    for field in SOURCE_TEXT_FIELDS:
        errors.add("[source]", field, column_errors(SourceDocument, field, values[field]))
    try:
        published = parse_date(str(source.get("published_on", "")))
    except ValueError:  # well-formed but impossible
        published = None
    if published is None:
        errors.add("[source]", "published_on", ["Must be a date (YYYY-MM-DD)."])
    values["published_on"] = published
    text_file = path.parent / str(source["text_file"])
    try:
        values["text"] = text_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        errors.add("[source]", "text_file", [f"no such file: {text_file}"])
    except (OSError, UnicodeDecodeError) as error:
        errors.add("[source]", "text_file", [f"cannot be read as UTF-8 text: {error}"])
    return values


def questions_read(*, path: Path) -> QuestionFile:
    """Read a TOML question file and check every value against the rules and the columns.

    Raises ``ValidationError`` listing every problem found, each naming its table and field;
    reads nothing from the database and writes nothing.
    """
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ValidationError(f"{path.name} is not valid TOML: {error}") from None
    errors = FileErrors()
    for name in data:
        if name not in FILE_KEYS:
            errors.messages.append(
                f"{name}: not a table Crux knows (a file holds [source] and [[questions]])."
            )
    source = _read_source(path, data, errors)
    entries = data.get("questions", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        errors.messages.append("'questions' must be a list of tables ([[questions]]).")
        errors.raise_any()
    keys = [entry.get("key") for entry in entries]
    if not all(isinstance(k, str | None) for k in keys) or len(keys) != len(set(keys)):
        raise ValidationError("Question keys must be unique strings within a file.")
    questions = []
    for entry in entries:
        values = _question_values(entry, source.get("text"), errors)
        liquidity = _liquidity(entry, errors)
        if values is not None:
            questions.append((entry["key"], values, liquidity))
    # The file's questions may come in any order: a rung is checked once all are read.
    rungs = _rung_entries(entries, errors)
    in_file = {key: _rung_of(key, values) for key, values, _ in questions}
    kinds = {key: values["kind"] for key, values, _ in questions}
    _rungs_checked(rungs, kinds, in_file, errors=errors, all_read=False)
    errors.raise_any()
    return QuestionFile(source=source, questions=questions, rungs=rungs)


def _rung_links(checked: QuestionFile) -> dict[str, tuple[str, float]]:
    """Each rung's link, once the questions its rungs name outside the file are read too;
    refused, listing every problem, if one is missing or does not fit."""
    parents = {key: _rung_of(key, values) for key, values, _ in checked.questions}
    outside = {of for of, _ in checked.rungs.values() if of is not None} - parents.keys()
    for question in Question.objects.filter(key__in=outside).only(
        "key", "kind", "range_min", "range_max"
    ):
        parents[question.key] = RungOf(
            question.key, question.kind, question.range_min, question.range_max
        )
    kinds = {key: values["kind"] for key, values, _ in checked.questions}
    errors = FileErrors()
    links = _rungs_checked(checked.rungs, kinds, parents, errors=errors, all_read=True)
    errors.raise_any()
    return links


def _refuse_breaking_stored_rows(
    checked: QuestionFile, existing: dict[str, Question], *, now: dt.datetime
) -> None:
    """Refuse, listing every problem, a file whose import would break what is stored: a
    passage of a question the file leaves out that the new text loses, or the kind, options
    or range of a question that has opened (its forecasts are spread over them)."""
    errors = FileErrors()
    left_out = Question.objects.filter(source__key=checked.source["key"]).exclude(
        key__in=[key for key, _, _ in checked.questions]
    )
    for key in passages_broken_by(checked.source["text"], left_out.only("key", "passage")):
        errors.messages.append(
            f"[source] text_file: the passage of question {key!r} (not in this file) would "
            "no longer occur verbatim in the source"
        )
    for key, values, _ in checked.questions:
        question = existing.get(key)
        if question is None or now < question.opens_at:
            continue
        refused = outcome_changes_refused(question, values, fixed_by="the question has opened")
        for field, messages in refused.items():
            errors.add(f"Question {key!r}:", field, messages)
    errors.raise_any()


def _rungs_linked(saved: dict[str, Question], links: dict[str, tuple[str, float]]) -> set[str]:
    """Link each question of the file to the question it is a rung of, or unlink it, once all
    are saved (a rung may come before its question); the keys of those that changed. Both
    columns change in one write: a link never stands without its value."""
    ids = dict(
        Question.objects.filter(key__in={of for of, _ in links.values()}).values_list("key", "pk")
    )
    changed = set()
    for key, question in saved.items():
        of, value = links.get(key, (None, None))
        wanted = (None if of is None else ids[of], value)
        if (question.rung_of_id, question.rung_value) != wanted:
            question.rung_of_id, question.rung_value = wanted
            question.save(update_fields=["rung_of", "rung_value", "updated_at"])
            changed.add(key)
    return changed


@transaction.atomic
def questions_import(*, path: Path, now: dt.datetime | None = None) -> ImportResult:
    """Create or update a source document and its questions from a TOML question file.

    Idempotent by the stable keys of the source and the questions: importing the same file
    twice creates nothing new; edited text or dates update the existing rows in place.
    Each question still open for forecasts gets a market (liquidity ``market_liquidity``, or
    ``MARKET_DEFAULT_LIQUIDITY``; 0 for none) unless it has one; closed ones get none, nor do
    numeric and date questions.
    """
    now = now or timezone.now()
    checked = questions_read(path=path)
    existing = {
        q.key: q for q in Question.objects.filter(key__in=[k for k, _, _ in checked.questions])
    }
    _refuse_breaking_stored_rows(checked, existing, now=now)
    links = _rung_links(checked)
    source_values = dict(checked.source)
    source, _ = SourceDocument.objects.update_or_create(
        key=source_values.pop("key"), defaults=source_values
    )
    created = updated = 0
    saved: dict[str, Question] = {}
    untouched: set[str] = set()
    wanted: list[tuple[Question, Decimal]] = []
    for key, values, liquidity in checked.questions:
        question = existing.get(key)
        if question is None:
            question = Question.objects.create(key=key, source=source, **values)
            created += 1
        elif question.source_id == source.pk and all(
            getattr(question, f) == v for f, v in values.items()
        ):
            untouched.add(key)
        else:
            for field, value in values.items():
                setattr(question, field, value)
            question.source = source
            question.save()
            updated += 1
        saved[key] = question
        if liquidity > 0 and not question.resolution and question.closes_at > now:
            wanted.append((question, liquidity))
    relinked = _rungs_linked(saved, links)
    updated += len(untouched & relinked)
    unchanged = len(untouched - relinked)
    with_market = set(
        Market.objects.filter(question__in=[q for q, _ in wanted]).values_list(
            "question_id", flat=True
        )
    )
    opened = 0
    for question, liquidity in wanted:
        if question.pk not in with_market:
            market_create(question_id=question.pk, b=liquidity, now=now)
            opened += 1
    return ImportResult(
        source=source,
        created=created,
        updated=updated,
        unchanged=unchanged,
        markets_opened=opened,
    )
