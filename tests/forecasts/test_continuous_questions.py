"""Numeric and date questions: the one rule set their range obeys, and written through a question
file and the admin; every bad value refused naming its field, with nothing written."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from forecasts.importer import questions_import
from forecasts.models import Question, SourceDocument, outcome_value_text
from forecasts.rules import outcome_changes_refused, parse_outcome_value, question_outcomes
from markets.models import Market
from tests.factories import T0, QuestionFactory
from tests.forecasts.test_admin import _question_form, _staff_client

DAY = 86400.0
JULY_10 = dt.datetime(2026, 7, 10, tzinfo=dt.UTC).timestamp()
JUNE_30_2027 = dt.datetime(2027, 6, 30, tzinfo=dt.UTC).timestamp()
NUMERIC = {"kind": "numeric", "range_min": 0, "range_max": 500, "unit": "$bn"}
DATE = {"kind": "date", "range_min": "2026-07-10", "range_max": "2027-06-30"}


# --- the rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        (42, "numeric", 42.0),
        (" -2.5 ", "numeric", -2.5),
        ("2026-07-10", "date", JULY_10),
        ("2026-07-10T12:00:00Z", "date", JULY_10 + DAY / 2),
        ("2026-07-10T14:00:00+02:00", "date", JULY_10 + DAY / 2),
        ("2026-07-10T12:00", "date", JULY_10 + DAY / 2),  # no offset: UTC
        (dt.date(2026, 7, 10), "date", JULY_10),  # as TOML gives a date
        (JULY_10, "date", JULY_10),  # epoch seconds, as Metaculus writes a date's range
    ],
)
def test_a_value_is_a_number_or_a_dates_utc_epoch_seconds(
    raw: object, kind: str, expected: float
) -> None:
    assert parse_outcome_value(raw, kind=kind) == expected


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("NaN", "numeric"),
        (math.inf, "numeric"),
        ("twelve", "numeric"),
        (True, "numeric"),
        (None, "numeric"),
        ("2026-07-10", "numeric"),
        ("10/07/2026", "date"),
        ("soon", "date"),
        ("nan", "date"),
        (1e20, "date"),  # past the year 9999
        ([2026, 7, 10], "date"),
    ],
)
def test_a_bad_value_is_refused_naming_the_field(raw: object, kind: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_outcome_value(raw, kind=kind, field="range_min")

    assert list(refused.value.message_dict) == ["range_min"]


def test_a_numeric_question_keeps_its_range_bounds_scale_and_unit() -> None:
    outcomes, errors = question_outcomes(
        kind="numeric",
        range_min="1",
        range_max=1000,
        open_upper_bound=True,
        log_scale=True,
        unit=" $bn ",
        auto_outcome="above_upper_bound",
    )

    assert errors == {}
    assert outcomes is not None
    assert (outcomes.range_min, outcomes.range_max, outcomes.unit) == (1.0, 1000.0, "$bn")
    assert (outcomes.open_lower_bound, outcomes.open_upper_bound, outcomes.log_scale) == (
        False,
        True,
        True,
    )
    assert (outcomes.auto_outcome, outcomes.auto_option, outcomes.options) == (
        "above_upper_bound",
        None,
        [],
    )


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"range_min": 500, "range_max": 0}, "range_max"),
        ({"range_min": 5, "range_max": 5}, "range_max"),
        ({"range_min": None}, "range_min"),
        ({"range_max": ""}, "range_max"),
        ({"range_min": "NaN"}, "range_min"),
        ({"range_min": -1.7e308, "range_max": 1.7e308}, "range_max"),  # too wide to compute
        ({"log_scale": True}, "range_min"),  # a log scale from 0
        ({"unit": "x" * 31}, "unit"),
        ({"options": ["Low", "High"]}, "options"),
        ({"auto_outcome": "above_upper_bound"}, "auto_outcome"),  # the upper bound is closed
        ({"auto_outcome": "yes"}, "auto_outcome"),
        ({"auto_option_label": "Low"}, "auto_option"),
        ({"open_lower_bound": "yes"}, "open_lower_bound"),
        ({"unit": 5}, "unit"),
        ({"kind": "date", **DATE, "log_scale": True}, "log_scale"),
        ({"kind": "date", **DATE, "unit": "days"}, "unit"),
        ({"kind": "date", "range_min": "soon"}, "range_min"),
        ({"kind": "date", "range_min": "2027-06-30", "range_max": "2026-07-10"}, "range_max"),
        ({"kind": "binary", "range_max": None}, "range_min"),
        ({"kind": "binary", "range_min": None, "range_max": None, "unit": "km"}, "unit"),
        ({"kind": "binary", "range_min": None, "range_max": None, "log_scale": True}, "log_scale"),
        (
            {"kind": "binary", "range_min": None, "range_max": None, "open_upper_bound": True},
            "open_upper_bound",
        ),
        ({"kind": "multiple_choice", "options": ["A", "B"], "range_min": None}, "range_max"),
        ({"kind": "ranked"}, "kind"),
    ],
)
def test_bad_outcomes_are_refused_naming_the_field(given: dict[str, Any], field: str) -> None:
    outcomes, errors = question_outcomes(**{**NUMERIC, **given})

    assert outcomes is None
    assert field in errors, errors


def test_binary_and_multiple_choice_questions_have_no_range() -> None:
    binary, _ = question_outcomes(kind="binary", auto_outcome="no")
    choice, _ = question_outcomes(
        kind="multiple_choice", options=[" A ", "B"], auto_outcome="option", auto_option_label="b"
    )

    assert binary is not None and choice is not None
    assert (binary.range_min, binary.range_max, binary.unit, binary.auto_outcome) == (
        None,
        None,
        "",
        "no",
    )
    assert (choice.options, choice.auto_option, choice.range_min) == (["A", "B"], 1, None)


def test_a_fixed_range_names_what_changes_and_a_new_kind_alone() -> None:
    question = QuestionFactory.build(kind="numeric", range_min=0.0, range_max=500.0, unit="$bn")
    outcomes, _ = question_outcomes(**{**NUMERIC, "range_max": 900, "open_upper_bound": True})
    other_kind, _ = question_outcomes(kind="binary")
    assert outcomes is not None and other_kind is not None

    changed = outcome_changes_refused(question, outcomes.columns(), fixed_by="it opened")
    kind_changed = outcome_changes_refused(question, other_kind.columns(), fixed_by="it opened")

    assert changed == {
        "range_max": ["Fixed once it opened; it is 500."],
        "open_upper_bound": ["Fixed once it opened; it is false."],
    }
    assert list(kind_changed) == ["kind"]


@pytest.mark.parametrize(
    ("kind", "value", "unit", "shown"),
    [
        ("numeric", 1234567.5, "$bn", "1,234,567.5 $bn"),
        ("numeric", -0.0, "", "0"),
        ("numeric", 0.1 + 0.2, "%", "0.3 %"),
        ("date", JULY_10, "", "2026-07-10"),
        ("date", JULY_10 + 3600 * 9.5, "", "2026-07-10 09:30 UTC"),
    ],
)
def test_a_value_is_shown_with_its_unit_and_a_date_as_a_day(
    kind: str, value: float, unit: str, shown: str
) -> None:
    assert outcome_value_text(kind=kind, value=value, unit=unit) == shown


# --- question files ----------------------------------------------------------------------------

SOURCE = (
    '[source]\nkey = "tiny"\ntitle = "Tiny"\npublished_on = 2026-06-12\ntext_file = "text.txt"\n'
)
QUESTION = {
    "key": "lifted-when",
    "title": "When will the control on Fable 5 be lifted?",
    "resolution_criteria": "The day the control is lifted, as reported officially.",
    "passage": "lifted within weeks",
    "opens_at": "2026-06-12T12:00:00Z",
    "closes_at": "2027-06-30T12:00:00Z",
    "resolves_at": "2027-07-01T12:00:00Z",
}
BEFORE_OPENING = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
AFTER_OPENING = dt.datetime(2026, 6, 13, tzinfo=dt.UTC)


def _write(folder: Path, question: dict[str, Any], *, raw: str = "") -> Path:
    """A question file of one question; ``raw`` adds TOML lines as written (native dates)."""
    (folder / "text.txt").write_text("The control will be lifted within weeks.", encoding="utf-8")
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in {**QUESTION, **question}.items())
    path = folder / "set.toml"
    path.write_text(f"{SOURCE}[[questions]]\n{lines}{raw}", encoding="utf-8")
    return path


def _nothing_written() -> bool:
    return not (
        SourceDocument.objects.exists() or Question.objects.exists() or Market.objects.exists()
    )


@pytest.mark.django_db
def test_a_date_question_imports_its_range_as_epoch_seconds_and_gets_no_market(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, {**DATE, "open_upper_bound": True, "auto_outcome": "above_upper_bound"})

    result = questions_import(path=path, now=AFTER_OPENING)

    question = Question.objects.get()
    assert (question.kind, question.range_min, question.range_max) == (
        "date",
        JULY_10,
        JUNE_30_2027,
    )
    assert (question.open_lower_bound, question.open_upper_bound) == (False, True)
    assert question.auto_outcome == "above_upper_bound"
    assert (result.markets_opened, Market.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_a_date_range_may_be_written_as_toml_dates(tmp_path: Path) -> None:
    path = _write(
        tmp_path, {"kind": "date"}, raw="range_min = 2026-07-10\nrange_max = 2027-06-30T00:00:00Z\n"
    )

    questions_import(path=path, now=AFTER_OPENING)

    assert Question.objects.values_list("range_min", "range_max").get() == (JULY_10, JUNE_30_2027)


@pytest.mark.django_db
def test_a_numeric_question_imports_and_a_reimport_changes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, {**NUMERIC, "log_scale": True, "range_min": 1})
    questions_import(path=path, now=AFTER_OPENING)
    before = list(Question.objects.values())

    again = questions_import(path=path, now=AFTER_OPENING)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert list(Question.objects.values()) == before
    assert (before[0]["range_min"], before[0]["unit"], before[0]["log_scale"]) == (1.0, "$bn", True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("question", "field"),
    [
        ({**NUMERIC, "market_liquidity": 50}, "market_liquidity"),
        ({**NUMERIC, "range_max": -1}, "range_max"),
        ({**NUMERIC, "range_min": "NaN"}, "range_min"),
        ({"kind": "numeric", "range_max": 10}, "range_min"),
        ({**NUMERIC, "auto_outcome": "above_upper_bound"}, "auto_outcome"),
        ({**NUMERIC, "options": ["Low", "High"]}, "options"),
        ({**NUMERIC, "open_upper_bound": "yes"}, "open_upper_bound"),
        ({**DATE, "range_min": "early July"}, "range_min"),
        ({**DATE, "log_scale": True}, "log_scale"),
        ({"range_min": 0, "range_max": 1}, "range_min"),  # a binary question
        ({"unit": "km"}, "unit"),
        ({**NUMERIC, "scaling": "log"}, "scaling"),
    ],
)
def test_a_bad_range_is_refused_naming_the_key_and_nothing_is_written(
    tmp_path: Path, question: dict[str, Any], field: str
) -> None:
    path = _write(tmp_path, question)

    with pytest.raises(ValidationError) as refused:
        questions_import(path=path, now=AFTER_OPENING)

    named = [m.split(": ")[:2] for m in refused.value.messages]
    assert ["Question 'lifted-when'", field] in named, refused.value.messages
    assert _nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("edit", "field"),
    [
        ({"range_max": "2027-12-31"}, "range_max"),
        ({"open_lower_bound": True}, "open_lower_bound"),
        ({"kind": "numeric", "range_min": 0, "range_max": 10}, "kind"),
    ],
)
def test_the_range_is_fixed_once_the_question_has_opened(
    tmp_path: Path, edit: dict[str, Any], field: str
) -> None:
    questions_import(path=_write(tmp_path, DATE), now=BEFORE_OPENING)
    before = list(Question.objects.values())

    with pytest.raises(ValidationError) as refused:
        questions_import(path=_write(tmp_path, {**DATE, **edit}), now=AFTER_OPENING)

    assert [m.split(": ")[:2] for m in refused.value.messages] == [
        ["Question 'lifted-when'", field]
    ]
    assert list(Question.objects.values()) == before


@pytest.mark.django_db
def test_the_range_may_change_before_the_question_opens(tmp_path: Path) -> None:
    questions_import(path=_write(tmp_path, DATE), now=BEFORE_OPENING)

    result = questions_import(
        path=_write(tmp_path, {**DATE, "range_max": "2027-12-31"}), now=BEFORE_OPENING
    )

    assert result.updated == 1
    assert Question.objects.get().range_max == dt.datetime(2027, 12, 31, tzinfo=dt.UTC).timestamp()


# --- the admin ---------------------------------------------------------------------------------


def _add(**changes: Any) -> Any:
    new = QuestionFactory.build(key="new-one", source=QuestionFactory().source)
    form = _question_form(
        new, **{"kind": "numeric", "range_min": "0", "range_max": "500", **changes}
    )
    return _staff_client().post(reverse("admin:forecasts_question_add"), form)


def _errors(page: Any) -> dict[str, list[str]]:
    return dict(page.context["adminform"].form.errors) if page.context else {}


@pytest.mark.django_db
def test_staff_add_a_numeric_question_with_its_range_in_the_outcomes() -> None:
    page = _add(unit="$bn", open_upper_bound="on", auto_outcome="above_upper_bound")

    question = Question.objects.get(key="new-one")
    assert page.status_code == 302, _errors(page)
    assert (question.kind, question.range_min, question.range_max, question.unit) == (
        "numeric",
        0.0,
        500.0,
        "$bn",
    )
    assert (question.open_upper_bound, question.auto_outcome) == (True, "above_upper_bound")


@pytest.mark.django_db
def test_staff_add_a_date_question_by_iso_dates_and_see_them_back() -> None:
    page = _add(kind="date", range_min="2026-07-10", range_max="2027-06-30T00:00:00Z")
    question = Question.objects.get(key="new-one")

    shown = _staff_client().get(reverse("admin:forecasts_question_change", args=[question.pk]))

    assert page.status_code == 302, _errors(page)
    assert (question.range_min, question.range_max) == (JULY_10, JUNE_30_2027)
    assert 'name="range_min" value="2026-07-10T00:00:00Z"' in shown.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"range_min": ""}, "range_min"),
        ({"range_max": "-5"}, "range_max"),
        ({"range_min": "nan"}, "range_min"),
        ({"log_scale": "on"}, "range_min"),
        ({"unit": "x" * 31}, "unit"),
        ({"auto_outcome": "above_upper_bound"}, "auto_outcome"),
        ({"auto_outcome": "yes"}, "auto_outcome"),
        ({"kind": "date", "range_min": "early July"}, "range_min"),
        (
            {"kind": "date", "range_min": "2026-07-10", "range_max": "2027-06-30", "unit": "d"},
            "unit",
        ),
        ({"kind": "binary"}, "range_min"),
        (
            {"kind": "binary", "range_min": "", "range_max": "", "open_lower_bound": "on"},
            "open_lower_bound",
        ),
    ],
)
def test_a_bad_range_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    page = _add(**changes)

    assert page.status_code == 200
    assert field in _errors(page) and "__all__" not in _errors(page), _errors(page)
    assert not Question.objects.filter(key="new-one").exists()


@pytest.mark.django_db
def test_the_range_of_an_opened_question_is_fixed() -> None:
    question = QuestionFactory(kind="numeric", range_min=0.0, range_max=500.0)
    url = reverse("admin:forecasts_question_change", args=[question.pk])
    form = _question_form(question, range_min="0", range_max="900")

    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        page = _staff_client().post(url, form)

    assert "range_max" in _errors(page), _errors(page)
    question.refresh_from_db()
    assert question.range_max == 500.0


@pytest.mark.django_db
def test_an_upcoming_question_may_change_its_range() -> None:
    question = QuestionFactory(kind="numeric", range_min=0.0, range_max=500.0)
    url = reverse("admin:forecasts_question_change", args=[question.pk])
    form = _question_form(question, range_min="0", range_max="900", unit="km")

    with time_machine.travel(T0 - dt.timedelta(days=1), tick=False):
        page = _staff_client().post(url, form)

    question.refresh_from_db()
    assert page.status_code == 302, _errors(page)
    assert (question.range_max, question.unit) == (900.0, "km")
