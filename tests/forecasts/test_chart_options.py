"""The question's options chart served: the crowd's median of each option, as the public may
see it, on the web and in its CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from forecasts.charts.registry import Kind, chart
from forecasts.models import AggregatePoint, Question, QuestionKind
from tests.factories import QuestionFactory

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    cache.clear()
    with time_machine.travel(TODAY, tick=False):
        yield
    cache.clear()


def _point(question: Question, hours_ago: int, forecasters: int, **values: object) -> None:
    at = TODAY - dt.timedelta(hours=hours_ago)
    AggregatePoint.objects.create(question=question, at=at, forecasters=forecasters, **values)


def _csv(question: Question) -> list[dict[str, str]]:
    response = Client().get(chart(Kind.QUESTION, "options").url(question.pk, fmt="csv"))
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_csv_has_a_row_per_moment_and_option_hiding_a_crowd_too_small() -> None:
    question = QuestionFactory(kind=QuestionKind.MULTIPLE_CHOICE, options=["A", "B", "C"])
    _point(question, 5, 5, medians=[0.5, 0.3, 0.2])
    _point(question, 3, 2, medians=[0.1, 0.1, 0.8])

    rows = _csv(question)

    assert [(r["option"], r["median"], r["forecasters"]) for r in rows] == [
        ("A", "0.5", "5"),
        ("B", "0.3", "5"),
        ("C", "0.2", "5"),
        ("A", "", "2"),
        ("B", "", "2"),
        ("C", "", "2"),
    ]


def test_a_binary_question_draws_yes_and_no() -> None:
    question = QuestionFactory()
    _point(question, 5, 5, median=0.7)

    rows = _csv(question)
    svg = Client().get(chart(Kind.QUESTION, "options").url(question.pk, fmt="svg"))

    assert [(r["option"], float(r["median"])) for r in rows] == [
        ("Yes", 0.7),
        ("No", pytest.approx(0.3)),
    ]
    assert b'id="series-option-0"' in svg.content and b'id="series-option-1"' in svg.content
