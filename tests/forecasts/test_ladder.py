"""Coherence: the yes/no rungs of a numeric or date question, written through question files,
and each rung's crowd beside what the question's crowd implies for it, as the public may see
both."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse

from forecasts.importer import questions_import
from forecasts.maths.continuous import prob_below
from forecasts.models import AggregatePoint, Question, SourceDocument
from forecasts.rules import RungOf, question_rung
from forecasts.selectors import question_ladder, rung_implied
from forecasts.services import forecast_submit
from markets.models import Market
from tests.factories import T0, QuestionFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
ESSAY_FILE = ROOT / "forecasts" / "questionsets" / "essay.toml"
BEFORE_OPENING = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(days=30, minutes=20)
STEP_END = T0 + dt.timedelta(days=30)  # the last whole hour at NOW
JULY_10 = dt.datetime(2026, 7, 10, 23, 59, tzinfo=dt.UTC).timestamp()
DEC_31 = dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC).timestamp()
RANGE = (T0.timestamp(), dt.datetime(2027, 6, 30, 23, 59, tzinfo=dt.UTC).timestamp())
GRID = np.linspace(0.0, 1.0, 201)
# A crowd CDF with a curve, so that reading it between grid points matters; 85% by the end.
CROWD_CDF = [float(v) for v in 0.05 * GRID + 0.8 * GRID**2]

DATES = {
    "key": "lifted-date",
    "title": "When will the control be lifted?",
    "kind": "date",
    "range_min": "2026-06-12",
    "range_max": "2027-06-30T23:59:00Z",
    "open_upper_bound": True,
}
COMMON = {
    "resolution_criteria": "As stated.",
    "passage": "lifted within weeks",
    "opens_at": "2026-06-12T12:00:00Z",
    "closes_at": "2027-06-30T12:00:00Z",
    "resolves_at": "2027-07-02T12:00:00Z",
    "market_liquidity": 0,
}


def _rung(date: str, **fields: Any) -> dict[str, Any]:
    return {
        "key": f"lifted-by-{date}",
        "title": f"Lifted by {date}?",
        "rung_of": "lifted-date",
        "rung_value": f"{date}T23:59:00Z",
        **fields,
    }


def _write(folder: Path, *questions: dict[str, Any], source: str = "tiny") -> Path:
    (folder / "text.txt").write_text("The control will be lifted within weeks.", encoding="utf-8")
    body = f'[source]\nkey = "{source}"\npublished_on = "2026-06-12"\ntext_file = "text.txt"\n'
    for question in questions:
        body += "[[questions]]\n" + "".join(
            f"{key} = {json.dumps(value)}\n" for key, value in {**COMMON, **question}.items()
        )
    path = folder / f"{source}.toml"
    path.write_text(body, encoding="utf-8")
    return path


def _links() -> dict[str, tuple[str | None, float | None]]:
    return {
        q.key: (q.rung_of.key if q.rung_of else None, q.rung_value)
        for q in Question.objects.select_related("rung_of")
    }


def _nothing_written() -> bool:
    return not (
        SourceDocument.objects.exists() or Question.objects.exists() or Market.objects.exists()
    )


def _refusal(path: Path) -> str:
    with pytest.raises(ValidationError) as refused:
        questions_import(path=path, now=BEFORE_OPENING)
    return " ".join(refused.value.messages)


# --- question files ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("rungs_first", [True, False], ids=["rungs first", "question first"])
def test_a_file_links_its_rungs_in_either_order(tmp_path: Path, rungs_first: bool) -> None:
    rungs = [_rung("2026-07-10"), _rung("2026-12-31")]
    path = _write(tmp_path, *([*rungs, DATES] if rungs_first else [DATES, *rungs]))

    result = questions_import(path=path, now=BEFORE_OPENING)

    assert result.created == 3
    assert _links() == {
        "lifted-date": (None, None),
        "lifted-by-2026-07-10": ("lifted-date", JULY_10),
        "lifted-by-2026-12-31": ("lifted-date", DEC_31),
    }


@pytest.mark.django_db
def test_a_reimport_changes_nothing_and_a_link_left_out_is_undone(tmp_path: Path) -> None:
    path = _write(tmp_path, DATES, _rung("2026-07-10"))
    questions_import(path=path, now=BEFORE_OPENING)

    again = questions_import(path=path, now=BEFORE_OPENING)
    unlinked = _rung("2026-07-10")
    del unlinked["rung_of"], unlinked["rung_value"]
    undone = questions_import(path=_write(tmp_path, DATES, unlinked), now=BEFORE_OPENING)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert (undone.updated, undone.unchanged) == (1, 1)
    assert _links()["lifted-by-2026-07-10"] == (None, None)


@pytest.mark.django_db
def test_a_rung_may_name_a_question_imported_before_from_another_file(tmp_path: Path) -> None:
    questions_import(path=_write(tmp_path, DATES), now=BEFORE_OPENING)

    questions_import(path=_write(tmp_path, _rung("2026-07-10"), source="other"), now=BEFORE_OPENING)

    assert _links()["lifted-by-2026-07-10"] == ("lifted-date", JULY_10)


NUMERIC = {
    "key": "models",
    "title": "How many?",
    "kind": "numeric",
    "range_min": 0,
    "range_max": 20,
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("questions", "field", "says"),
    [
        ([DATES, NUMERIC | {"rung_of": "lifted-date", "rung_value": 3}], "rung_of", "yes/no"),
        (
            [{"key": "yes-no", "title": "Yes?"}, _rung("2026-07-10", rung_of="yes-no")],
            "rung_of",
            "a binary question",
        ),
        ([_rung("2026-07-10", rung_of="nowhere")], "rung_of", "No question 'nowhere'"),
        ([DATES, _rung("2026-07-10", rung_value="2026-13-45")], "rung_value", "ISO 8601"),
        ([DATES, _rung("2026-07-10", rung_value="soon")], "rung_value", "ISO 8601"),
        ([DATES, _rung("2026-07-10", rung_value="2028-01-01")], "rung_value", "range"),
        ([DATES, _rung("2026-07-10", rung_of=None)], "rung_of", "needs rung_of"),
        ([DATES, _rung("2026-07-10", rung_value=None)], "rung_value", "needs its rung_value"),
        ([DATES, _rung("2026-07-10", rung_of=7)], "rung_of", "by its key"),
        ([DATES, _rung("2026-07-10", rung_at="2026-07-10")], "rung_at", "Not a key Crux knows"),
    ],
    ids=[
        "rung on a numeric question",
        "rung of a binary question",
        "unknown question",
        "impossible date",
        "not a date",
        "outside the range",
        "value without a question",
        "question without a value",
        "key not a string",
        "unknown key",
    ],
)
def test_a_bad_rung_is_refused_naming_the_field_and_nothing_is_written(
    tmp_path: Path, questions: list[dict[str, Any]], field: str, says: str
) -> None:
    # None stands for a key left out of the file.
    entries = [{k: v for k, v in q.items() if v is not None} for q in questions]

    message = _refusal(_write(tmp_path, *entries))

    assert f" {field}: " in message
    assert says in message
    assert _nothing_written()


@pytest.mark.django_db
def test_a_rung_of_a_stored_question_that_does_not_fit_writes_nothing(tmp_path: Path) -> None:
    questions_import(path=_write(tmp_path, DATES), now=BEFORE_OPENING)
    path = _write(tmp_path, _rung("2026-07-10", rung_value=12), source="other")

    message = _refusal(path)

    assert "rung_value: " in message
    assert not SourceDocument.objects.filter(key="other").exists()
    assert Question.objects.count() == 1


@pytest.mark.django_db
def test_the_essays_four_lifted_by_rungs_are_read_off_its_date_question() -> None:
    questions_import(path=ESSAY_FILE, now=BEFORE_OPENING)

    date = Question.objects.get(key="control-lifted-date")
    rungs = list(date.rungs.order_by("rung_value"))

    assert [r.key for r in rungs] == [
        "control-lifted-by-2026-07-10",
        "control-lifted-by-2026-10-31",
        "control-lifted-by-2026-12-31",
        "control-lifted-by-2027-06-30",
    ]
    # Each at 23:59 UTC on its deadline, the date in its key; the last at the range's end.
    assert [dt.datetime.fromtimestamp(r.rung_value, dt.UTC) for r in rungs] == [
        dt.datetime.fromisoformat(f"{r.key[-10:]}T23:59:00+00:00") for r in rungs
    ]
    assert rungs[-1].rung_value == date.range_max


# --- the rules and the model -------------------------------------------------------------------


def test_the_rules_take_a_rung_value_as_its_questions_kind_reads_it() -> None:
    of = RungOf("count", "numeric", 0.0, 20.0)

    assert question_rung(kind="binary", rung_of=of, rung_value="12.5") == (12.5, {})
    assert question_rung(kind="binary", rung_of=None, rung_value=None) == (None, {})


@pytest.mark.django_db
def test_a_link_never_stands_without_its_value() -> None:
    parent = QuestionFactory(kind="date", range_min=RANGE[0], range_max=RANGE[1])

    with pytest.raises(IntegrityError):
        QuestionFactory(rung_of=parent)


@pytest.mark.django_db
def test_a_question_with_rungs_cannot_be_deleted_from_under_them() -> None:
    parent = QuestionFactory(kind="date", range_min=RANGE[0], range_max=RANGE[1])
    QuestionFactory(rung_of=parent, rung_value=JULY_10)

    with pytest.raises(ProtectedError):
        parent.delete()


# --- the ladder --------------------------------------------------------------------------------


def _ladder(settings: Any, *, forecasters: int = 5, at: dt.datetime = STEP_END):
    """A date question with a crowd CDF and two rungs, each rung's crowd standing since ``at``
    (by ``forecasters`` forecasts): the December rung before the July one, to see the order."""
    settings.CROWD_MIN_FORECASTERS = 5
    parent = QuestionFactory(
        kind="date", range_min=RANGE[0], range_max=RANGE[1], open_upper_bound=True
    )
    AggregatePoint.objects.create(question=parent, at=at, cdf=CROWD_CDF, forecasters=forecasters)
    rungs = []
    for value, median in ((DEC_31, 0.61), (JULY_10, 0.12)):
        rung = QuestionFactory(rung_of=parent, rung_value=value, crowd_median=median)
        AggregatePoint.objects.create(question=rung, at=at, median=median, forecasters=forecasters)
        rungs.append(rung)
    return parent, rungs


def _position(value: float) -> float:
    return (value - RANGE[0]) / (RANGE[1] - RANGE[0])


@pytest.mark.django_db
def test_each_rung_sits_beside_what_the_crowd_cdf_implies_for_its_date(settings) -> None:
    parent, _ = _ladder(settings)

    rows = question_ladder(question=parent, now=NOW)

    assert [row.value for row in rows] == [JULY_10, DEC_31]
    assert [row.value_text for row in rows] == ["2026-07-10 23:59 UTC", "2026-12-31 23:59 UTC"]
    assert [row.crowd for row in rows] == [0.12, 0.61]
    for row in rows:
        # The CDF read linearly between its grid points, by hand and by the maths.
        by_hand = np.interp(_position(row.value), GRID, CROWD_CDF)
        assert row.implied == pytest.approx(by_hand, abs=1e-12)
        assert row.implied == pytest.approx(prob_below(CROWD_CDF, _position(row.value)))
        assert row.gap == pytest.approx((row.crowd - row.implied) * 100)


@pytest.mark.django_db
def test_a_rungs_page_reads_the_same_number_off_its_question(settings) -> None:
    parent, (december, _) = _ladder(settings)
    rung = Question.objects.select_related("rung_of").get(pk=december.pk)

    implied = rung_implied(question=rung, now=NOW)

    assert implied is not None and implied.of == parent
    assert implied.implied == pytest.approx(np.interp(_position(DEC_31), GRID, CROWD_CDF))
    assert rung_implied(question=parent, now=NOW) is None


@pytest.mark.django_db
def test_crowds_too_small_to_show_stay_hidden_on_both_sides(settings) -> None:
    parent, _ = _ladder(settings, forecasters=4)

    rows = question_ladder(question=parent, now=NOW)

    assert [(row.crowd, row.implied, row.gap) for row in rows] == [(None, None, None)] * 2


@pytest.mark.django_db
def test_crowds_formed_within_the_current_hour_stay_hidden(settings) -> None:
    parent, (december, _) = _ladder(settings, at=STEP_END + dt.timedelta(minutes=5))

    rows = question_ladder(question=parent, now=NOW)
    implied = rung_implied(question=december, now=NOW)

    assert [(row.crowd, row.implied) for row in rows] == [(None, None)] * 2
    assert implied is not None and implied.implied is None


@pytest.mark.django_db
def test_a_question_without_rungs_has_no_ladder_and_asks_nothing(
    django_assert_num_queries,
) -> None:
    binary = QuestionFactory()

    with django_assert_num_queries(0):
        assert question_ladder(question=binary, now=NOW) == []
        assert rung_implied(question=binary, now=NOW) is None


# --- the pages ---------------------------------------------------------------------------------


def _cdf_forecasts(parent: Question, n: int, at: dt.datetime) -> None:
    for _ in range(n):
        forecast_submit(user=UserFactory(), question_id=parent.pk, cdf=CROWD_CDF, now=at)


@pytest.mark.django_db
def test_the_date_questions_page_shows_the_ladder(settings) -> None:
    parent, (december, july) = _ladder(settings)

    with time_machine.travel(NOW, tick=False):
        page = Client().get(reverse("forecasts:question_detail", args=[parent.pk])).text

    assert "data-ladder" in page
    assert (
        "If the crowds were coherent, each rung's crowd would equal what the date question's "
        "crowd implies for its date." in page
    )
    assert page.index(july.title) < page.index(december.title)
    implied = np.interp(_position(DEC_31), GRID, CROWD_CDF)
    assert f"{implied * 100:.1f}%" in page and "61.0%" in page
    assert f"{(0.61 - implied) * 100:+.1f} pp" in page


@pytest.mark.django_db
def test_a_rungs_page_says_what_the_date_question_implies(settings) -> None:
    settings.CROWD_MIN_FORECASTERS = 5
    parent = QuestionFactory(
        kind="date", range_min=RANGE[0], range_max=RANGE[1], open_upper_bound=True
    )
    rung = QuestionFactory(rung_of=parent, rung_value=DEC_31)
    _cdf_forecasts(parent, 5, T0 + dt.timedelta(days=1))
    implied = np.interp(_position(DEC_31), GRID, CROWD_CDF)

    with time_machine.travel(NOW, tick=False):
        page = Client().get(reverse("forecasts:question_detail", args=[rung.pk])).text

    assert "The date question's crowd" in page
    assert f"implies <strong>{implied * 100:.1f}%</strong> for this date" in page


@pytest.mark.django_db
def test_the_ladder_on_the_page_shows_no_crowd_the_public_may_not_see(settings) -> None:
    settings.CROWD_MIN_FORECASTERS = 5
    parent = QuestionFactory(
        kind="date", range_min=RANGE[0], range_max=RANGE[1], open_upper_bound=True
    )
    QuestionFactory(rung_of=parent, rung_value=DEC_31, crowd_median=0.61)
    _cdf_forecasts(parent, 4, T0 + dt.timedelta(days=1))
    implied = np.interp(_position(DEC_31), GRID, CROWD_CDF)

    with time_machine.travel(NOW, tick=False):
        page = Client().get(reverse("forecasts:question_detail", args=[parent.pk])).text

    assert "data-ladder" in page
    assert f"{implied * 100:.1f}%" not in page and "61.0%" not in page
