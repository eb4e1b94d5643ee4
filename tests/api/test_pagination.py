"""The question list's paginator: a page and its total in one query, the same as Django's."""

from __future__ import annotations

import pytest
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forecasts.api_support import WindowCountPaginator
from forecasts.models import Question
from tests.factories import QuestionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("rows", [0, 1, 7, 20, 21])
@pytest.mark.parametrize("as_dicts", [True, False])
def test_every_page_matches_djangos_paginator(rows: int, as_dicts: bool) -> None:
    QuestionFactory.create_batch(rows)
    questions = Question.objects.order_by("closes_at", "id")
    if as_dicts:
        questions = questions.values("id", "title", "source__key")

    ours, django = WindowCountPaginator(questions, 7), Paginator(questions, 7)

    for number in django.page_range:
        mine, theirs = ours.page(number), django.page(number)
        assert list(mine) == list(theirs)
        assert (mine.paginator.count, mine.has_next(), mine.has_previous()) == (
            theirs.paginator.count,
            theirs.has_next(),
            theirs.has_previous(),
        )


def test_a_page_and_its_total_take_one_query() -> None:
    QuestionFactory.create_batch(25)

    with CaptureQueriesContext(connection) as queries:
        page = WindowCountPaginator(Question.objects.order_by("id").values("id"), 10).page(2)
        total = page.paginator.count

    assert (total, len(page), len(queries)) == (25, 10, 1)
    assert "crux_window_total" not in page[0]


@pytest.mark.parametrize(
    ("number", "error"), [(4, EmptyPage), (0, EmptyPage), ("x", PageNotAnInteger)]
)
def test_a_page_out_of_range_is_refused_as_djangos_is(number: object, error: type) -> None:
    QuestionFactory.create_batch(12)

    with pytest.raises(error):
        WindowCountPaginator(Question.objects.order_by("id"), 5).page(number)
