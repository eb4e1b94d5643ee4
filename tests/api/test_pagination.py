"""The question list's paginator: a page and its total in one query, the same as Django's."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crux.api.pagination import WindowCountPaginator
from forecasts.models import Question
from tests.api.conftest import World
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


LARGEST_OFFSET_PAGE = (2**63 - 1) // 20  # its last row is the largest 64-bit OFFSET


@pytest.mark.parametrize("number", [LARGEST_OFFSET_PAGE + 1, 2**63 - 1, 2**64])
def test_a_page_past_any_possible_offset_is_out_of_range_without_a_query(number: int) -> None:
    QuestionFactory.create_batch(3)

    with CaptureQueriesContext(connection) as queries, pytest.raises(EmptyPage):
        WindowCountPaginator(Question.objects.order_by("id"), 20).page(number)

    assert len(queries) == 0


def test_the_largest_page_the_database_can_offset_to_is_simply_empty() -> None:
    QuestionFactory.create_batch(3)

    with pytest.raises(EmptyPage):
        WindowCountPaginator(Question.objects.order_by("id"), 20).page(LARGEST_OFFSET_PAGE)


PAGINATED: list[tuple[str, Callable[[World], str]]] = [
    ("questions", lambda w: "/questions/"),
    ("crowd history", lambda w: f"/questions/{w.open_question.pk}/crowd-history/"),
    ("question scores", lambda w: f"/questions/{w.resolved_question.pk}/scores/"),
    ("forecasts", lambda w: "/forecasts/"),
    ("scores", lambda w: "/scores/"),
    ("leaderboard", lambda w: "/leaderboard/"),
    ("sources", lambda w: "/sources/"),
    ("tokens", lambda w: "/tokens/"),
    ("markets", lambda w: "/markets/"),
    ("price history", lambda w: f"/markets/{w.market.pk}/price-history/"),
    ("tape", lambda w: f"/markets/{w.market.pk}/trades/"),
    ("market leaderboard", lambda w: "/markets/leaderboard/"),
    ("my positions", lambda w: "/me/positions/"),
    ("my trades", lambda w: "/me/trades/"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("page_size", [None, 500])
@pytest.mark.parametrize(("name", "path"), PAGINATED, ids=[name for name, _ in PAGINATED])
def test_a_page_far_past_the_end_is_a_json_404_on_every_list(
    world: World, api, name: str, path: Callable[[World], str], page_size: int | None
) -> None:
    params = {"page": str(2**63 - 1), "page_size": page_size}

    response = api("user", world).get(path(world), params=params)

    assert response.status_code == 404, response.text
    assert response.json() == {"message": "Invalid page.", "errors": {}}
