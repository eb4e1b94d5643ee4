"""The shipped essay question set and the general importer."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command

from forecasts.importer import questions_import
from forecasts.models import Question, SourceDocument
from markets.models import Market
from markets.selectors import ledger_audit

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

    first = questions_import(path=ESSAY_FILE, now=now)
    again = questions_import(path=ESSAY_FILE, now=now)

    open_questions = Question.objects.filter(closes_at__gt=now)
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
