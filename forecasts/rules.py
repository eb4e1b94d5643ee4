"""Rules a source, its questions and a forecast obey however they are written: by the importer,
the admin, a web form or the API.

Pure checks that return messages; the callers decide how to report them (a file's list of
problems, a form's field errors). ``parse_probability`` is the one parsing of a forecast's
probability, for the forecast form and the API's serializer alike.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models

from forecasts.models import (
    OPTION_LABEL_MAX,
    OPTIONS_MAX,
    OPTIONS_MIN,
    PROBABILITY_MAX,
    PROBABILITY_MIN,
    Question,
)

WEB_SCHEMES = ("http", "https")
# Django's URLField also takes ftp and ftps; a source is a web page, and a scheme we do not
# expect (ftp, file, javascript) has no business in a link.
web_url = URLValidator(schemes=list(WEB_SCHEMES), message="Enter a web address (http or https).")
PASSAGE_NOT_IN_SOURCE = "The passage does not occur verbatim in the source's text."
PROBABILITY_ERROR = (
    f"Enter a probability between {PROBABILITY_MIN} and {PROBABILITY_MAX} "
    f"({PROBABILITY_MIN:.1%} to {PROBABILITY_MAX:.1%})."
)


def parse_probability(raw: object) -> float:
    """A probability of YES from user input (a form's text, a JSON number), refusing anything
    outside [0.001, 0.999]."""
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
    return probability_in_range(value)


def probability_in_range(value: float) -> float:
    """``value`` if it is in [0.001, 0.999] (a NaN or an infinity is not); refused otherwise."""
    if not math.isfinite(value) or not PROBABILITY_MIN <= value <= PROBABILITY_MAX:
        raise ValidationError({"probability": PROBABILITY_ERROR})
    return value


# A vector's sum may miss 1 by this much (rounding in a client); nothing is renormalised.
SUM_TOLERANCE = 1e-6


def parse_probabilities(raw: object, *, options: int) -> tuple[float, ...]:
    """A multiple-choice forecast from user input: one probability per option (numbers or
    numeric strings), each at least 0.001, summing to 1 within 1e-6. Refused otherwise, naming
    "probabilities"; a vector that does not sum to 1 is refused, never normalised silently."""
    if not isinstance(raw, list | tuple):
        raise ValidationError({"probabilities": "Give a list of probabilities, one per option."})
    if len(raw) != options:
        raise ValidationError(
            {"probabilities": f"Give {options} probabilities, one per option (got {len(raw)})."}
        )
    values = []
    for position, item in enumerate(raw, start=1):
        if isinstance(item, bool) or item is None or not isinstance(item, int | float | str):
            raise ValidationError({"probabilities": f"Probability {position} is not a number."})
        try:
            value = float(item.strip() if isinstance(item, str) else item)
        except ValueError:
            raise ValidationError(
                {"probabilities": f"Probability {position} is not a number."}
            ) from None
        if not math.isfinite(value) or not PROBABILITY_MIN <= value <= 1 - PROBABILITY_MIN:
            raise ValidationError(
                {
                    "probabilities": f"Probability {position} must be between "
                    f"{PROBABILITY_MIN} and {1 - PROBABILITY_MIN:g}."
                }
            )
        values.append(value)
    total = math.fsum(values)
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ValidationError(
            {"probabilities": f"The probabilities must add up to 1 (they add up to {total:g})."}
        )
    return tuple(values)


RESERVED_LABELS = frozenset({"annulled", "ambiguous"})


def option_errors(options: object) -> list[str]:
    """What is wrong with a multiple-choice question's option labels: 2 to 20 distinct,
    non-empty labels of at most 100 characters, in order."""
    if not isinstance(options, list | tuple) or not all(isinstance(o, str) for o in options):
        return ["Give the options as a list of labels."]
    labels = [o.strip() for o in options]
    errors = []
    if not OPTIONS_MIN <= len(labels) <= OPTIONS_MAX:
        errors.append(f"Give {OPTIONS_MIN} to {OPTIONS_MAX} options (got {len(labels)}).")
    if any(not label for label in labels):
        errors.append("An option's label cannot be empty.")
    if any(len(label) > OPTION_LABEL_MAX for label in labels):
        errors.append(f"An option's label may be at most {OPTION_LABEL_MAX} characters.")
    if len({label.casefold() for label in labels}) != len(labels):
        errors.append("Each option needs its own label.")
    # A resolution names an option by its label, or says "annulled" or "ambiguous": an option
    # of either name could not be told from that resolution.
    if any(label.casefold() in RESERVED_LABELS for label in labels):
        errors.append("An option cannot be called 'annulled' or 'ambiguous'.")
    return errors


def passage_in_source(passage: str, text: str) -> bool:
    """Whether a question's passage occurs, character for character, in its source's text."""
    return passage in text


def column_errors(model: type[models.Model], name: str, value: Any) -> list[str]:
    """What the column ``model.name`` would refuse in ``value``: a missing required value, a
    value longer than its ``max_length`` (PostgreSQL fails, SQLite stores it oversize), and
    its validators (a slug, a web URL)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):  # a reverse relation: no column of its own
        raise TypeError(f"{model.__name__}.{name} is not a column")
    if not isinstance(value, str):
        return ["Must be a string."]
    if not value:
        return [] if field.blank else ["This field is required."]
    validators = [v for v in field.validators if not isinstance(v, URLValidator)]
    if isinstance(field, models.URLField):
        validators.append(web_url)
    errors: list[str] = []
    for validator in validators:
        try:
            validator(value)
        except ValidationError as error:
            errors.extend(error.messages)
    return errors


def passages_broken_by(text: str, questions: Iterable[Question]) -> list[str]:
    """The keys of the questions whose passage would not occur in ``text``."""
    return [q.key for q in questions if not passage_in_source(q.passage, text)]


def recorded_close(*, closes_at: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """What ``closed_at`` holds for an unresolved question closing at ``closes_at``: the close
    once it has passed (as the sweep records it), None while it is still ahead."""
    return closes_at if closes_at <= now else None


def question_reschedule(
    question: Question,
    *,
    old_closes_at: dt.datetime,
    old_resolves_at: dt.datetime,
    now: dt.datetime,
) -> bool:
    """Bring an unresolved question's lifecycle record in line with its new dates, in memory
    (the caller saves). Returns whether a closed question reopened.

    A close moved into the future reopens the question: forecasts and trades are taken again
    and the sweep records the close at the new time. A due date moved into the future is a new
    due date: staff are reminded again when it passes.
    """
    assert not question.resolution, "a resolved question keeps its dates"
    was_closed = question.closed_at is not None
    if question.closes_at != old_closes_at:
        question.closed_at = recorded_close(closes_at=question.closes_at, now=now)
    if question.resolves_at != old_resolves_at and question.resolves_at > now:
        question.staff_reminded_at = None
    return was_closed and question.closed_at is None
