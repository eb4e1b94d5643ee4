"""The shipped essay question set and the general importer."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from forecasts.importer import questions_import
from forecasts.models import Question, SourceDocument
from markets.audit import ledger_audit
from markets.models import Market

QUESTIONSETS = Path(__file__).resolve().parents[2] / "forecasts" / "questionsets"
ESSAY_FILE = QUESTIONSETS / "essay.toml"
ESSAY_DATE = dt.datetime(2026, 6, 12, tzinfo=dt.UTC)


def _essay() -> tuple[dict, str]:
    data = tomllib.loads(ESSAY_FILE.read_text(encoding="utf-8"))
    return data, (QUESTIONSETS / data["source"]["text_file"]).read_text(encoding="utf-8")


def test_every_passage_occurs_verbatim_in_the_shipped_essay() -> None:
    data, text = _essay()

    missing = [q["key"] for q in data["questions"] if q["passage"] not in text]

    assert len(data["questions"]) >= 20
    assert missing == []


def test_the_set_mixes_questions_due_now_with_horizons_into_2027() -> None:
    data, _ = _essay()
    closes = [dt.datetime.fromisoformat(q["closes_at"]) for q in data["questions"]]
    today = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)

    assert sum(c < today for c in closes) >= 5
    assert sum(c.year == 2027 for c in closes) >= 5
    assert all(dt.datetime.fromisoformat(q["opens_at"]) >= ESSAY_DATE for q in data["questions"])


@pytest.mark.django_db
def test_loading_the_file_twice_leaves_the_same_rows() -> None:
    call_command("import_questions", str(ESSAY_FILE), verbosity=0)
    first = list(Question.objects.order_by("key").values())

    result = questions_import(path=ESSAY_FILE)

    assert list(Question.objects.order_by("key").values()) == first
    assert (result.created, result.updated) == (0, 0)
    assert SourceDocument.objects.count() == 1
    assert Question.objects.count() == len(_essay()[0]["questions"])


def _write_set(folder: Path, title: str, passage: str = "lifted within weeks") -> Path:
    (folder / "text.txt").write_text("The control will be lifted within weeks.", encoding="utf-8")
    path = folder / "set.toml"
    path.write_text(
        f"""[source]
key = "tiny"
title = "Tiny"
published_on = "2026-06-12"
text_file = "text.txt"

[[questions]]
key = "lifted"
title = "{title}"
resolution_criteria = "YES if lifted."
passage = "{passage}"
opens_at = "2026-06-12T12:00:00Z"
closes_at = "2026-07-10T12:00:00Z"
resolves_at = "2026-07-11T12:00:00Z"
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.django_db
def test_a_reimport_updates_edited_text_in_place(tmp_path: Path) -> None:
    questions_import(path=_write_set(tmp_path, "Lifted?"))
    original = Question.objects.get(key="lifted")

    result = questions_import(path=_write_set(tmp_path, "Lifted by July?"))

    edited = Question.objects.get(key="lifted")
    assert (result.created, result.updated) == (0, 1)
    assert (edited.pk, edited.title) == (original.pk, "Lifted by July?")


@pytest.mark.django_db
def test_a_passage_not_in_the_source_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="verbatim"):
        questions_import(path=_write_set(tmp_path, "Lifted?", passage="never said"))

    assert not Question.objects.exists()
    assert not SourceDocument.objects.exists()


@pytest.mark.django_db
def test_each_open_question_gets_one_market_and_a_reimport_opens_none() -> None:
    now = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    without = [q["key"] for q in _essay()[0]["questions"] if q.get("market_liquidity") == 0]

    first = questions_import(path=ESSAY_FILE, now=now)
    again = questions_import(path=ESSAY_FILE, now=now)

    # No market runs on a numeric or date question.
    open_questions = Question.objects.filter(
        closes_at__gt=now, kind__in=["binary", "multiple_choice"]
    ).exclude(key__in=without)
    assert Question.objects.filter(kind__in=["numeric", "date"]).count() == 3
    assert first.markets_opened == open_questions.count() > 0
    assert again.markets_opened == 0
    assert set(Market.objects.values_list("question_id", flat=True)) == set(
        open_questions.values_list("pk", flat=True)
    )
    assert {m.b for m in Market.objects.all()} == {Decimal(settings.MARKET_DEFAULT_LIQUIDITY)}
    assert ledger_audit().ok


@pytest.mark.django_db
@pytest.mark.parametrize(("liquidity", "markets"), [("250", 1), ("0", 0)])
def test_a_question_file_sets_its_market_liquidity(tmp_path: Path, liquidity, markets) -> None:
    path = _write_set(tmp_path, "Lifted?")
    path.write_text(path.read_text() + f"market_liquidity = {liquidity}\n", encoding="utf-8")

    questions_import(path=path, now=dt.datetime(2026, 6, 13, tzinfo=dt.UTC))

    assert list(Market.objects.values_list("b", flat=True)) == [Decimal(liquidity)] * markets


@pytest.mark.django_db
def test_a_bad_market_liquidity_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    path = _write_set(tmp_path, "Lifted?")
    path.write_text(path.read_text() + 'market_liquidity = "lots"\n', encoding="utf-8")

    with pytest.raises(ValidationError, match="market_liquidity"):
        questions_import(path=path)

    assert not Question.objects.exists()
    assert not Market.objects.exists()


SOURCE = {
    "key": "tiny",
    "title": "Tiny",
    "published_on": "2026-06-12",
    "text_file": "text.txt",
    "url": "https://example.com/tiny",
}
QUESTION = {
    "key": "lifted",
    "title": "Lifted?",
    "resolution_criteria": "YES if lifted.",
    "passage": "lifted within weeks",
    "opens_at": "2026-06-12T12:00:00Z",
    "closes_at": "2026-07-10T12:00:00Z",
    "resolves_at": "2026-07-11T12:00:00Z",
}


def _toml_table(values: dict[str, str]) -> str:
    # A JSON string is a valid TOML basic string.
    return "".join(f"{name} = {json.dumps(value)}\n" for name, value in values.items())


def _write(folder: Path, source: dict | None = None, *questions: dict) -> Path:
    (folder / "text.txt").write_text("The control will be lifted within weeks.", encoding="utf-8")
    entries = questions or ({},)
    body = "[source]\n" + _toml_table({**SOURCE, **(source or {})})
    for number, entry in enumerate(entries):
        body += "\n[[questions]]\n" + _toml_table({**QUESTION, "key": f"q-{number}", **entry})
    path = folder / "set.toml"
    path.write_text(body, encoding="utf-8")
    return path


def _nothing_written() -> bool:
    return not (
        SourceDocument.objects.exists() or Question.objects.exists() or Market.objects.exists()
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "named", "says"),
    [
        ({"key": "tiny key!"}, "[source] key", "slug"),
        ({"key": "Tiny/../x"}, "[source] key", "slug"),
        ({"key": "k" * 101}, "[source] key", "at most 100 characters (it has 101)"),
        ({"title": "T" * 301}, "[source] title", "at most 300 characters (it has 301)"),
        ({"author": "A" * 201}, "[source] author", "at most 200 characters (it has 201)"),
        ({"url": "https://example.com/" + "u" * 200}, "[source] url", "at most 200 characters"),
        ({"url": "javascript:alert(1)"}, "[source] url", "http or https"),
        ({"url": "ftp://example.com/essay.txt"}, "[source] url", "http or https"),
        ({"url": "file:///etc/passwd"}, "[source] url", "http or https"),
        ({"url": "not a url"}, "[source] url", "http or https"),
    ],
)
def test_a_bad_source_is_refused_naming_the_field(
    tmp_path: Path, source: dict, named: str, says: str
) -> None:
    path = _write(tmp_path, source)

    with pytest.raises(ValidationError) as refused:
        questions_import(path=path)

    assert any(named in m and says in m for m in refused.value.messages), refused.value.messages
    assert _nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("question", "named", "says"),
    [
        ({"key": "lifted by july?"}, "Question 'lifted by july?': key", "slug"),
        ({"key": "q" * 101}, "key", "at most 100 characters (it has 101)"),
        ({"title": "T" * 201}, "Question 'q-1': title", "at most 200 characters (it has 201)"),
        ({"auto_outcome": "maybe"}, "Question 'q-1': auto_outcome", "'yes', 'no' or absent"),
    ],
)
def test_one_bad_question_among_good_ones_writes_nothing(
    tmp_path: Path, question: dict, named: str, says: str
) -> None:
    path = _write(tmp_path, None, {}, {"key": "q-1", **question}, {})

    with pytest.raises(ValidationError) as refused:
        questions_import(path=path, now=dt.datetime(2026, 6, 13, tzinfo=dt.UTC))

    assert any(named in m and says in m for m in refused.value.messages), refused.value.messages
    assert _nothing_written()


@pytest.mark.django_db
def test_the_longest_values_the_columns_hold_are_imported(tmp_path: Path) -> None:
    url = "https://example.com/" + "u" * 180
    path = _write(
        tmp_path, {"key": "k" * 100, "title": "T" * 300, "url": url}, {"title": "T" * 200}
    )

    questions_import(path=path)

    source = SourceDocument.objects.get()
    assert (len(source.key), len(source.title), source.url) == (100, 300, url)
    assert len(Question.objects.get().title) == 200


@pytest.mark.django_db
def test_a_bad_edit_on_reimport_leaves_the_stored_rows_as_they_were(tmp_path: Path) -> None:
    questions_import(path=_write(tmp_path, None, {}, {}))
    before = list(Question.objects.order_by("key").values()), list(SourceDocument.objects.values())

    with pytest.raises(ValidationError):
        questions_import(path=_write(tmp_path, {"title": "Renamed"}, {}, {"title": "T" * 201}))

    after = list(Question.objects.order_by("key").values()), list(SourceDocument.objects.values())
    assert after == before


@pytest.mark.django_db
def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = _write(tmp_path, {"key": "bad key", "url": "ftp://x.org"}, {"title": "T" * 201})

    with pytest.raises(ValidationError) as refused:
        questions_import(path=path)

    assert len(refused.value.messages) == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("[source\nkey = 1", "is not valid TOML"),
        (
            'questions = "none"\n[source]\nkey = "tiny"\ntext_file = "essay.txt"',
            "'questions' must be a list of tables",
        ),
    ],
)
def test_the_command_reports_a_broken_file_without_a_traceback(
    tmp_path: Path, content: str, says: str
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(CommandError, match=says):
        call_command("import_questions", str(path), verbosity=0)

    assert _nothing_written()


@pytest.mark.django_db
def test_the_command_names_a_missing_text_file(tmp_path: Path) -> None:
    path = _write(tmp_path, {"text_file": "missing.txt"})

    with pytest.raises(CommandError, match=r"\[source\] text_file: no such file"):
        call_command("import_questions", str(path), verbosity=0)

    assert _nothing_written()


@pytest.mark.django_db
def test_the_command_names_the_field_in_its_error(tmp_path: Path) -> None:
    path = _write(tmp_path, {"url": "javascript:alert(1)"})

    with pytest.raises(CommandError, match=r"\[source\] url: .*http or https"):
        call_command("import_questions", str(path), verbosity=0)


@pytest.mark.django_db
def test_a_new_source_text_that_loses_a_passage_of_a_question_left_out_is_refused(
    tmp_path: Path,
) -> None:
    questions_import(path=_write(tmp_path, None, {}, {}))
    path = _write(tmp_path, None, {})
    (tmp_path / "text.txt").write_text("Only lifted within weeks, now.", encoding="utf-8")
    elsewhere = Question.objects.get(key="q-1")
    Question.objects.filter(pk=elsewhere.pk).update(passage="The control will be")

    with pytest.raises(ValidationError, match=r"'q-1'.*no longer occur"):
        questions_import(path=path)

    assert SourceDocument.objects.get().text == "The control will be lifted within weeks."
