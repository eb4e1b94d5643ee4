"""Rules a source, its questions and a forecast obey however they are written: by the importer,
the admin, a web form or the API.

Pure checks that return messages; the callers decide how to report them (a file's list of
problems, a form's field errors). ``parse_probability`` is the one parsing of a forecast's
probability, for the forecast form and the API's serializer alike; ``question_outcomes`` the one
check of a question's kind and what its kind takes (options, range, automatic outcome), for the
importer, the admin and the API alike.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models

from forecasts.maths.continuous import Scale, cdf_errors
from forecasts.maths.quantiles import cdf_from_quantiles
from forecasts.models import (
    CONTINUOUS_KINDS,
    OPTION_LABEL_MAX,
    OPTIONS_MAX,
    OPTIONS_MIN,
    PROBABILITY_MAX,
    PROBABILITY_MIN,
    UNIT_MAX,
    AutoOutcome,
    Question,
    QuestionKind,
    outcome_value_text,
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


# A probability is kept to the forecast form's step, 0.001 (0.1 percentage point): what is
# stored, scored and shown is what the forecaster saw in the form, the API's alike.
PROBABILITY_DECIMALS = 3


def parse_probability(raw: object) -> float:
    """A probability of YES from user input (a form's text, a JSON number), refusing anything
    outside [0.001, 0.999], rounded to 0.001 (``PROBABILITY_DECIMALS``)."""
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
    # Checked before rounding: 0.9996 is refused, not taken as 1.
    return round(probability_in_range(value), PROBABILITY_DECIMALS)


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


# --- a question's outcomes: its kind and what the kind takes ----------------------------------

# What a question's forecasts (and a multiple-choice question's market) are spread over: fixed
# once it opens, or has forecasts or a market.
OUTCOME_FIELDS = (
    "kind",
    "options",
    "range_min",
    "range_max",
    "open_lower_bound",
    "open_upper_bound",
    "log_scale",
    "unit",
)
NUMERIC_ERROR = "Enter a finite number."
DATE_ERROR = (
    "Enter an ISO 8601 date or date-time (UTC), such as 2027-06-30 or 2027-06-30T12:00:00Z, "
    "or a number of UTC epoch seconds."
)
NO_MARKET = "Numeric and date questions have no market: leave market_liquidity out, or give 0."


@dataclasses.dataclass(frozen=True)
class Outcomes:
    """A question's kind and what the kind takes, as its columns store them: a multiple-choice
    question's option labels; a numeric or date question's range (floats, a date's as UTC
    epoch seconds), its bounds, scale and unit; the automatic outcome and its option index."""

    kind: str
    options: list[str] = dataclasses.field(default_factory=list)
    auto_outcome: str = AutoOutcome.NONE.value
    auto_option: int | None = None
    range_min: float | None = None
    range_max: float | None = None
    open_lower_bound: bool = False
    open_upper_bound: bool = False
    log_scale: bool = False
    unit: str = ""

    def columns(self) -> dict[str, Any]:
        """The question's column values: ``Question(**outcomes.columns())``."""
        return dataclasses.asdict(self)


def parse_outcome_value(raw: object, *, kind: str, field: str = "value") -> float:
    """A numeric question's value, or a date question's instant as UTC epoch seconds, from
    user input; refused naming ``field`` otherwise.

    A numeric question takes a number or a numeric string. A date question takes an ISO 8601
    date or date-time (a date alone is 00:00 UTC, a date-time without an offset is UTC; one
    with an offset is converted), a ``datetime.date`` or ``datetime`` (as TOML gives them), or
    a number of UTC epoch seconds (as Metaculus's API writes a date question's range). NaN and
    the infinities are refused, and a date must fall within the years 1 to 9999.
    """
    message = DATE_ERROR if kind == QuestionKind.DATE else NUMERIC_ERROR
    value = _outcome_value(raw, date=kind == QuestionKind.DATE)
    if value is None or not math.isfinite(value):
        raise ValidationError({field: message})
    if kind == QuestionKind.DATE:
        try:
            dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise ValidationError({field: message}) from None
    return value


def _outcome_value(raw: object, *, date: bool) -> float | None:
    """``raw`` as a float (a date's as epoch seconds), or None if it is no such value."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float):
        try:
            return float(raw)
        except OverflowError:  # an int beyond any float
            return None
    if date:
        if isinstance(raw, str):
            try:
                raw = dt.datetime.fromisoformat(raw.strip())
            except ValueError:
                return None
        if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
            raw = dt.datetime.combine(raw, dt.time(), dt.UTC)
        if not isinstance(raw, dt.datetime):
            return None
        return (raw if raw.tzinfo is not None else raw.replace(tzinfo=dt.UTC)).timestamp()
    if not isinstance(raw, str):
        return None
    try:
        return float(raw.strip())
    except ValueError:
        return None


# --- rungs: a yes/no question read off a numeric or date question ------------------------------


@dataclasses.dataclass(frozen=True)
class RungOf:
    """What the rules need of the question a rung is a rung of: its key, kind and range (a
    date's as UTC epoch seconds)."""

    key: str
    kind: str
    range_min: float | None
    range_max: float | None


def question_rung(
    *, kind: object, rung_of: RungOf | None, rung_value: object
) -> tuple[float | None, dict[str, list[str]]]:
    """A question's ``rung_value`` checked with its kind and the question it is a rung of
    (``rung_of``; None: none named): the value (a date's as UTC epoch seconds; None when it is
    no rung), or None and the problems by field.

    A rung resolves YES iff its question's outcome is at most ``rung_value``. Only a binary
    question is a rung, of a numeric or date question; the value is that question's kind's
    (``parse_outcome_value``: a date question's an ISO date) and lies within its range, where
    its crowd's CDF says what it implies. ``rung_of`` and ``rung_value`` come together."""
    if rung_of is None:
        if _absent(rung_value):
            return None, {}
        return None, {
            "rung_of": ["A rung_value needs rung_of: the numeric or date question it is read off."]
        }
    errors: dict[str, list[str]] = {}
    if kind != QuestionKind.BINARY:
        errors["rung_of"] = ["Only a yes/no question can be a rung of another question."]
    elif rung_of.kind not in CONTINUOUS_KINDS:
        errors["rung_of"] = [
            f"{rung_of.key!r} is a {rung_of.kind} question: a rung is read off a numeric or "
            "date question."
        ]
    if _absent(rung_value):
        errors["rung_value"] = [
            "A rung needs its rung_value: it resolves YES iff the outcome is at most this."
        ]
    if errors:
        return None, errors
    try:
        value = parse_outcome_value(rung_value, kind=rung_of.kind, field="rung_value")
    except ValidationError as error:
        return None, error.message_dict
    low, high = rung_of.range_min, rung_of.range_max
    if low is not None and high is not None and not low <= value <= high:
        shown = " to ".join(outcome_value_text(kind=rung_of.kind, value=v) for v in (low, high))
        return None, {"rung_value": [f"Must lie within {rung_of.key!r}'s range ({shown})."]}
    return value, {}


def outcome_value_iso(value: float | None) -> str | None:
    """A date question's value (UTC epoch seconds) in ISO 8601, UTC with a trailing Z."""
    if value is None:
        return None
    moment = dt.datetime.fromtimestamp(value, dt.UTC)
    return moment.isoformat().replace("+00:00", "Z")


def auto_outcome_named(kind: object, given: object) -> tuple[object, object]:
    """A question file's or a request's ``auto_outcome`` as ``question_outcomes`` takes it,
    (auto_outcome, auto_option_label): there, a multiple-choice question's names its option
    by label; the other kinds' name the outcome itself ("yes", "above_upper_bound")."""
    if kind == QuestionKind.MULTIPLE_CHOICE and isinstance(given, str) and given.strip():
        return AutoOutcome.OPTION.value, given
    return given, ""


def question_outcomes(
    *,
    kind: object,
    options: object = (),
    auto_outcome: object = "",
    auto_option_label: object = "",
    range_min: object = None,
    range_max: object = None,
    open_lower_bound: object = False,
    open_upper_bound: object = False,
    log_scale: object = False,
    unit: object = "",
) -> tuple[Outcomes | None, dict[str, list[str]]]:
    """A question's kind and what its kind takes, checked together: the stored values, or
    None and the problems by field (the model's names; Metaculus's for the range).

    - binary: no options, no range (bounds closed, no scale, no unit); automatic outcome
      "yes", "no" or none;
    - multiple_choice: 2 to 20 distinct option labels (``option_errors``); the automatic
      outcome "option" names one by ``auto_option_label`` (in any case), or none;
    - numeric and date: ``range_min`` < ``range_max``, finite (``parse_outcome_value``: a date
      question's as ISO dates); ``log_scale`` on a numeric question only, and then
      ``range_min`` > 0; a ``unit`` on a numeric question only, at most 30 characters; no
      options; the automatic outcome "above_upper_bound" with an open upper bound, or none.

    Absent values are None or "" (an unset range), empty (options), False (the flags).
    """
    if not isinstance(kind, str) or kind not in QuestionKind.values:
        kinds = " or ".join(repr(k) for k in QuestionKind.values)
        return None, {"kind": [f"Must be {kinds} (got {kind!r})."]}
    errors: dict[str, list[str]] = {}
    labels = _options(kind, options, errors)
    flags = {
        "open_lower_bound": open_lower_bound,
        "open_upper_bound": open_upper_bound,
        "log_scale": log_scale,
    }
    for name, flag in flags.items():
        if not isinstance(flag, bool):
            errors[name] = ["Must be true or false."]
    if not isinstance(unit, str):
        errors["unit"] = ["Must be a string."]
    unit = unit.strip() if isinstance(unit, str) else ""
    if kind in CONTINUOUS_KINDS:
        bounds = _range(kind, range_min, range_max, log_scale is True, unit, errors)
    else:
        _no_range(range_min=range_min, range_max=range_max, unit=unit, flags=flags, errors=errors)
        bounds = (None, None)
    auto, index = _auto_outcome(
        kind, labels, auto_outcome, auto_option_label, open_upper_bound is True, errors
    )
    if errors:
        return None, errors
    return Outcomes(
        kind=kind,
        options=labels or [],
        auto_outcome=auto,
        auto_option=index,
        range_min=bounds[0],
        range_max=bounds[1],
        open_lower_bound=open_lower_bound is True,
        open_upper_bound=open_upper_bound is True,
        log_scale=log_scale is True,
        unit=unit,
    ), {}


def _options(kind: str, options: object, errors: dict[str, list[str]]) -> list[str] | None:
    """A multiple-choice question's option labels, stripped; None if they are wrong. The other
    kinds have none."""
    if kind != QuestionKind.MULTIPLE_CHOICE:
        if options:
            errors["options"] = ["Only a multiple-choice question has options."]
        return []
    if options is None:
        errors["options"] = ["A multiple-choice question needs its option labels."]
        return None
    if problems := option_errors(options):
        errors["options"] = problems
        return None
    assert isinstance(options, list | tuple)
    return [label.strip() for label in options]


def _absent(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _no_range(
    *,
    range_min: object,
    range_max: object,
    unit: str,
    flags: dict[str, object],
    errors: dict[str, list[str]],
) -> None:
    """A binary or multiple-choice question has no range, nor anything a range has."""
    for name, value in (("range_min", range_min), ("range_max", range_max)):
        if not _absent(value):
            errors[name] = ["Only a numeric or date question has a range."]
    for name in ("open_lower_bound", "open_upper_bound"):
        if flags[name] is True:
            errors[name] = ["Only a numeric or date question has bounds to open."]
    if flags["log_scale"] is True:
        errors["log_scale"] = ["Only a numeric question has a log scale."]
    if unit:
        errors["unit"] = ["Only a numeric question has a unit."]


def _range(
    kind: str,
    range_min: object,
    range_max: object,
    log_scale: bool,
    unit: str,
    errors: dict[str, list[str]],
) -> tuple[float | None, float | None]:
    """A numeric or date question's range, checked with its scale and unit."""
    bounds: dict[str, float | None] = {}
    for name, raw in (("range_min", range_min), ("range_max", range_max)):
        bounds[name] = None
        if _absent(raw):
            errors[name] = [
                "A numeric or date question needs its range: give range_min and range_max."
            ]
            continue
        try:
            bounds[name] = parse_outcome_value(raw, kind=kind, field=name)
        except ValidationError as error:
            errors.update(error.message_dict)
    low, high = bounds["range_min"], bounds["range_max"]
    if low is not None and high is not None:
        if not low < high:
            errors["range_max"] = ["Must be greater than range_min."]
        elif not math.isfinite(high - low):
            errors["range_max"] = ["The range is too wide to compute with."]
    if kind == QuestionKind.DATE:
        if log_scale:
            errors["log_scale"] = ["Only a numeric question has a log scale."]
        if unit:
            errors["unit"] = ["Only a numeric question has a unit (a date's is the date)."]
    else:
        if log_scale and low is not None and not low > 0:
            errors.setdefault("range_min", []).append("Must be greater than 0 on a log scale.")
        if len(unit) > UNIT_MAX:
            errors["unit"] = [f"At most {UNIT_MAX} characters (got {len(unit)})."]
    return low, high


def _auto_outcome(
    kind: str,
    labels: list[str] | None,
    auto_outcome: object,
    label: object,
    open_upper_bound: bool,
    errors: dict[str, list[str]],
) -> tuple[str, int | None]:
    """The stored automatic outcome and option index. ``labels`` None: the options are wrong
    (and reported), so there is nothing to name yet."""
    label = label.strip() if isinstance(label, str) else label
    if label and kind != QuestionKind.MULTIPLE_CHOICE:
        errors["auto_option"] = [
            "Only a multiple-choice question's automatic outcome names an option."
        ]
    if not isinstance(auto_outcome, str) or not auto_outcome:
        if auto_outcome not in ("", None):
            errors["auto_outcome"] = [_AUTO_OUTCOMES[kind]]
        elif label and kind == QuestionKind.MULTIPLE_CHOICE:
            errors["auto_option"] = [
                'Only the automatic outcome "option" names an option: '
                "choose it, or leave this empty."
            ]
        return AutoOutcome.NONE.value, None
    if kind == QuestionKind.MULTIPLE_CHOICE:
        if auto_outcome != AutoOutcome.OPTION:
            errors["auto_outcome"] = [_AUTO_OUTCOMES[kind]]
        elif labels is None:
            errors["auto_option"] = ["Name an option once the options are valid."]
        else:
            index = _option_index(str(label), labels)
            if index is not None:
                return auto_outcome, index
            errors["auto_option"] = [f"Name one of the options' labels ({'; '.join(labels)})."]
        return AutoOutcome.NONE.value, None
    if auto_outcome not in _AUTO_OUTCOME_VALUES[kind]:
        errors["auto_outcome"] = [_AUTO_OUTCOMES[kind]]
    elif auto_outcome == AutoOutcome.ABOVE and not open_upper_bound:
        errors["auto_outcome"] = [
            "Only a question whose upper bound is open (open_upper_bound) resolves above it."
        ]
    return auto_outcome, None


# What each kind's automatic outcome may be (besides none), and what to say if it is not.
_AUTO_OUTCOME_VALUES: dict[str, tuple[str, ...]] = {
    QuestionKind.BINARY: (AutoOutcome.YES, AutoOutcome.NO),
    QuestionKind.NUMERIC: (AutoOutcome.ABOVE,),
    QuestionKind.DATE: (AutoOutcome.ABOVE,),
}
_AUTO_OUTCOMES: dict[str, str] = {
    QuestionKind.BINARY: "A binary question's automatic outcome is 'yes', 'no' or absent.",
    QuestionKind.MULTIPLE_CHOICE: "A multiple-choice question's automatic outcome is one of "
    "its options, or absent.",
    QuestionKind.NUMERIC: "A numeric question's automatic outcome is 'above_upper_bound' "
    "(with an open upper bound) or absent.",
    QuestionKind.DATE: "A date question's automatic outcome is 'above_upper_bound' (with an "
    "open upper bound) or absent.",
}


def _option_index(label: str, options: list[str]) -> int | None:
    """The index of the option ``label`` names, in any case (labels differ in more than
    case); None if it names none."""
    wanted = label.strip().casefold()
    return next((i for i, option in enumerate(options) if option.casefold() == wanted), None)


def outcome_changes_refused(
    question: Question, wanted: Mapping[str, Any], *, fixed_by: str
) -> dict[str, list[str]]:
    """The refusals of a change to ``question``'s outcomes once they are fixed (``fixed_by``
    says why: "the question has opened"): ``wanted`` holds the new values of
    ``OUTCOME_FIELDS`` (``Outcomes.columns()``); its kind alone is refused if that changes,
    else each field that does, saying what it is."""
    if wanted["kind"] != question.kind:
        shown = question.get_kind_display().lower()
        return {"kind": [f"Fixed once {fixed_by}; it is {shown}."]}
    errors: dict[str, list[str]] = {}
    for name in OUTCOME_FIELDS[1:]:
        stored = getattr(question, name)
        if wanted[name] != stored:
            errors[name] = [f"Fixed once {fixed_by}; {_stored_text(question, name, stored)}."]
    return errors


def _stored_text(question: Question, name: str, stored: Any) -> str:
    if name == "options":
        return f"they are: {'; '.join(stored) or 'none'}"
    if name in ("range_min", "range_max") and stored is not None:
        return f"it is {outcome_value_text(kind=question.kind, value=stored)}"
    if isinstance(stored, bool):
        return f"it is {str(stored).lower()}"
    return f"it is {stored!r}"


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


# --- numeric and date forecasts ----------------------------------------------------------------


def parse_cdf(raw: object, *, scale: Scale) -> list[float]:
    """A numeric or date forecast given as its CDF: 201 numbers on the question's scaled range
    (``forecasts.maths.continuous``), refused naming ``cdf`` with what is wrong. Nothing is
    repaired or normalised."""
    problems = cdf_errors(raw, open_lower=scale.open_lower, open_upper=scale.open_upper)
    if problems:
        raise ValidationError({"cdf": problems})
    assert isinstance(raw, list | tuple)
    return [float(v) for v in raw]


def parse_quantiles(raw: object, *, kind: str, scale: Scale) -> dict[float, float]:
    """A numeric or date forecast given as quantiles, ``{level: value}``: levels in (0, 1) (as
    numbers or strings such as "0.1"), values as ``parse_outcome_value`` reads them (a date
    question's as ISO dates), strictly increasing with the level. Refused naming
    ``quantiles``; returned as floats (a date's as epoch seconds), by level."""
    if not isinstance(raw, Mapping) or len(raw) < 2:
        raise ValidationError(
            {"quantiles": 'Give at least two quantiles, as {"0.1": value, "0.9": value}.'}
        )
    quantiles: dict[float, float] = {}
    for level_raw, value_raw in raw.items():
        level = _quantile_level(level_raw)
        try:
            value = parse_outcome_value(value_raw, kind=kind, field="quantiles")
        except ValidationError:
            expected = DATE_ERROR if kind == QuestionKind.DATE else NUMERIC_ERROR
            raise ValidationError({"quantiles": f"Quantile {level_raw}: {expected}"}) from None
        if level in quantiles:
            raise ValidationError({"quantiles": f"Quantile {level_raw} is given twice."})
        quantiles[level] = value
    try:
        cdf_from_quantiles(quantiles, scale)
    except ValueError as error:
        raise ValidationError({"quantiles": str(error)}) from None
    return dict(sorted(quantiles.items()))


def _quantile_level(raw: object) -> float:
    level = None if isinstance(raw, bool) else _outcome_value(raw, date=False)
    if level is None or not 0 < level < 1:
        raise ValidationError(
            {"quantiles": f"A quantile's level is a number between 0 and 1 (got {raw!r})."}
        )
    return level
