"""Question files with multiple-choice questions, the keys a file may hold, and the essay's
multiple-choice questions."""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from forecasts.importer import QUESTION_KEYS, SOURCE_KEYS, questions_import
from forecasts.models import AutoOutcome, Question, QuestionKind, SourceDocument
from markets.models import Market

ROOT = Path(__file__).resolve().parents[2]
ESSAY_FILE = ROOT / "forecasts" / "questionsets" / "essay.toml"
BEFORE_OPENING = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
AFTER_OPENING = dt.datetime(2026, 6, 13, tzinfo=dt.UTC)
OPTIONS = ["Lifted", "Narrowed", "Set aside by a court", "Still in force"]
SOURCE = {"key": "tiny", "title": "Tiny", "published_on": "2026-06-12", "text_file": "text.txt"}
CHOICE = {
    "key": "ending",
    "title": "How will the control end?",
    "kind": "multiple_choice",
    "options": OPTIONS,
    "resolution_criteria": "The option that describes the control on the deadline.",
    "passage": "lifted within weeks",
    "opens_at": "2026-06-12T12:00:00Z",
    "closes_at": "2027-06-30T12:00:00Z",
    "resolves_at": "2027-07-01T12:00:00Z",
    "market_liquidity": 0,  # a market of its options: tested on its own below
}


def _write(folder: Path, question: dict, *, source: dict | None = None, extra: str = "") -> Path:
    (folder / "text.txt").write_text("The control will be lifted within weeks.", encoding="utf-8")
    tables = {"source": {**SOURCE, **(source or {})}, "questions": {**CHOICE, **question}}
    body = extra
    for name, table in tables.items():
        body += "[[questions]]\n" if name == "questions" else "[source]\n"
        # A JSON string, number or list of strings is valid TOML too.
        body += "".join(
            f"{key} = {json.dumps(value)}\n" for key, value in table.items() if value is not None
        )
    path = folder / "set.toml"
    path.write_text(body, encoding="utf-8")
    return path


def _nothing_written() -> bool:
    return not (
        SourceDocument.objects.exists() or Question.objects.exists() or Market.objects.exists()
    )


@pytest.mark.django_db
def test_a_multiple_choice_question_imports_with_its_options_in_order(tmp_path: Path) -> None:
    questions_import(path=_write(tmp_path, {}), now=AFTER_OPENING)

    question = Question.objects.get()
    assert question.kind == QuestionKind.MULTIPLE_CHOICE
    assert question.options == OPTIONS
    assert question.option_labels == tuple(OPTIONS)
    assert (question.auto_outcome, question.auto_option) == ("", None)


@pytest.mark.django_db
def test_its_automatic_outcome_is_named_by_label_and_stored_as_the_option_index(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, {"auto_outcome": "Still in force"})

    questions_import(path=path, now=AFTER_OPENING)

    question = Question.objects.get()
    assert (question.auto_outcome, question.auto_option) == (AutoOutcome.OPTION, 3)


@pytest.mark.django_db
def test_a_question_without_a_kind_is_binary_and_its_auto_outcome_stays_yes_or_no(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, {"kind": None, "options": None, "auto_outcome": "no"})

    questions_import(path=path, now=AFTER_OPENING)

    question = Question.objects.get()
    assert (question.kind, question.options) == (QuestionKind.BINARY, [])
    assert (question.auto_outcome, question.auto_option) == (AutoOutcome.NO, None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("question", "named", "says"),
    [
        ({"options": ["Only"]}, "Question 'ending': options", "2 to 20 options (got 1)"),
        (
            {"options": [f"Option {n}" for n in range(21)]},
            "Question 'ending': options",
            "2 to 20 options (got 21)",
        ),
        ({"options": ["Lifted", "lifted"]}, "Question 'ending': options", "its own label"),
        ({"options": None}, "Question 'ending': options", "needs its option labels"),
        ({"auto_outcome": "Repealed"}, "Question 'ending': auto_outcome", "options' labels"),
        ({"auto_outcome": "yes"}, "Question 'ending': auto_outcome", "options' labels"),
        ({"kind": None}, "Question 'ending': options", "Only a multiple-choice question"),
        ({"kind": "binary"}, "Question 'ending': options", "Only a multiple-choice question"),
        (
            {"kind": None, "options": None, "auto_outcome": "option"},
            "Question 'ending': auto_outcome",
            "'yes', 'no' or absent",
        ),
        ({"kind": "ranked"}, "Question 'ending': kind", "(got 'ranked')"),
        ({"choices": ["A", "B"]}, "Question 'ending': choices", "Not a key Crux knows"),
    ],
)
def test_a_bad_question_is_refused_naming_the_field_and_nothing_is_written(
    tmp_path: Path, question: dict, named: str, says: str
) -> None:
    path = _write(tmp_path, question)

    with pytest.raises(ValidationError) as refused:
        questions_import(path=path, now=AFTER_OPENING)

    assert any(named in m and says in m for m in refused.value.messages), refused.value.messages
    assert _nothing_written()


@pytest.mark.django_db
def test_unknown_keys_in_the_source_and_the_file_are_refused_naming_them(tmp_path: Path) -> None:
    path = _write(tmp_path, {}, source={"publisher": "Someone"}, extra='version = "2"\n')

    with pytest.raises(ValidationError) as refused:
        questions_import(path=path)

    assert [m.split(":")[0] for m in refused.value.messages] == ["version", "[source] publisher"]
    assert _nothing_written()


@pytest.mark.django_db
def test_every_problem_in_a_multiple_choice_question_is_listed_at_once(tmp_path: Path) -> None:
    path = _write(tmp_path, {"kind": "multiple choice", "choices": [], "title": "T" * 201})

    with pytest.raises(ValidationError) as refused:
        questions_import(path=path)

    fields = sorted(m.split(": ")[1] for m in refused.value.messages)
    assert fields == ["choices", "kind", "title"]


@pytest.mark.django_db
def test_a_reimport_of_a_multiple_choice_question_changes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, {"auto_outcome": "Narrowed"})
    questions_import(path=path, now=AFTER_OPENING)
    before = list(Question.objects.values())

    again = questions_import(path=path, now=AFTER_OPENING)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert list(Question.objects.values()) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("edit", "field"),
    [
        ({"options": [*OPTIONS, "Other"]}, "options"),
        ({"options": list(reversed(OPTIONS))}, "options"),
        ({"kind": None, "options": None}, "kind"),
    ],
)
def test_the_options_are_fixed_once_the_question_has_opened(
    tmp_path: Path, edit: dict, field: str
) -> None:
    questions_import(path=_write(tmp_path, {}), now=BEFORE_OPENING)
    before = list(Question.objects.values()), list(SourceDocument.objects.values())

    with pytest.raises(ValidationError) as refused:
        questions_import(
            path=_write(tmp_path, edit, source={"title": "Renamed"}), now=AFTER_OPENING
        )

    assert [m.split(": ")[:2] for m in refused.value.messages] == [["Question 'ending'", field]]
    assert (list(Question.objects.values()), list(SourceDocument.objects.values())) == before


@pytest.mark.django_db
def test_the_options_may_change_before_the_question_opens(tmp_path: Path) -> None:
    questions_import(path=_write(tmp_path, {}), now=BEFORE_OPENING)
    edited = {"options": ["Lifted", "Still in force"], "auto_outcome": "Still in force"}

    result = questions_import(path=_write(tmp_path, edited), now=BEFORE_OPENING)

    question = Question.objects.get()
    assert result.updated == 1
    assert (question.options, question.auto_option) == (["Lifted", "Still in force"], 1)


def _essay_choices() -> list[dict]:
    data = tomllib.loads(ESSAY_FILE.read_text(encoding="utf-8"))
    return [q for q in data["questions"] if q.get("kind") == QuestionKind.MULTIPLE_CHOICE]


def test_the_essays_multiple_choice_questions_quote_it_verbatim() -> None:
    text = (ESSAY_FILE.parent / "essay.txt").read_text(encoding="utf-8")

    choices = _essay_choices()

    assert len(choices) >= 3
    assert [q["key"] for q in choices if q["passage"] not in text] == []
    assert all(q["auto_outcome"] in q["options"] for q in choices if "auto_outcome" in q)


@pytest.mark.django_db
def test_the_essay_imports_its_multiple_choice_questions_with_their_options() -> None:
    questions_import(path=ESSAY_FILE, now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))

    imported = Question.objects.filter(kind=QuestionKind.MULTIPLE_CHOICE)

    assert {q.key: q.options for q in imported} == {
        q["key"]: q["options"] for q in _essay_choices()
    }
    assert all(q.closes_at.year == 2027 for q in imported)
    # Each trades in a market of its options, opened at the uniform price.
    markets = Market.objects.filter(question__in=imported).select_related("question")
    assert {m.question.key: m.labels for m in markets} == {
        q.key: tuple(q.options) for q in imported
    }
    assert all(m.prices() == pytest.approx([1 / m.n_outcomes] * m.n_outcomes) for m in markets)


def test_the_readme_names_every_key_a_question_file_may_hold() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Question files", 1)[1].split("\n## ", 1)[0]

    named = set(re.findall(r"`(\w+)`", section))

    assert set(SOURCE_KEYS + QUESTION_KEYS) - named == set()
