"""The question list: a search covers every tab (links and counts), practice questions and
markets are left out unless asked for."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from forecasts import selectors
from forecasts.models import PRACTICE_SOURCE_KEY
from markets.services import market_create
from tests.factories import QuestionFactory, SourceDocumentFactory

pytestmark = pytest.mark.django_db

LIST = reverse("forecasts:question_list")


def _tabs(html: str) -> dict[str, tuple[str, int]]:
    """Each tab's link and count, by its status."""
    found = re.findall(
        r'<a href="([^"]*)"\s*(?:aria-current="page" class="current")? data-tab="(\w+)">'
        r'[^<]*<span class="count">(\d+)</span>',
        html,
    )
    return {key: (href.replace("&amp;", "&"), int(count)) for href, key, count in found}


@pytest.fixture
def labs() -> None:
    """Two open questions and one resolved that match "labs", and one open that does not."""
    QuestionFactory(title="Will other labs be hit?")
    QuestionFactory(title="Another", passage="Other labs may be next.")
    QuestionFactory(title="Will Fable 5 return?")
    resolved = QuestionFactory(title="Did the labs comply?")
    resolved.resolution, resolved.resolved_at = "yes", timezone.now()
    resolved.save()


def test_every_tab_keeps_the_search_and_counts_its_matches(labs) -> None:
    page = Client().get(LIST, {"status": "open", "q": "labs"}).text

    tabs = _tabs(page)
    assert {key: count for key, (_, count) in tabs.items()} == {
        "open": 2,
        "closing": 0,
        "awaiting": 0,
        "resolved": 1,
        "all": 3,
    }
    assert all(href == f"?status={key}&q=labs" for key, (href, _) in tabs.items())
    assert "Will Fable 5 return?" not in page


def test_the_tab_counts_are_one_query(labs, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        counts = selectors.question_status_counts(now=timezone.now(), search="labs")

    assert counts["all"] == 3 and counts["open"] == 2


def test_the_pager_keeps_the_search_and_the_tab(labs) -> None:
    for i in range(25):
        QuestionFactory(title=f"More labs {i}?")

    page = Client().get(LIST, {"status": "open", "q": "labs"}).text

    assert 'href="?status=open&amp;q=labs&amp;page=2">Next</a>' in page


def _practice_question(title: str):
    source = SourceDocumentFactory(key=PRACTICE_SOURCE_KEY)
    return QuestionFactory(title=title, source=source)


def test_practice_questions_are_left_out_unless_asked_for() -> None:
    QuestionFactory(title="A real question?")
    _practice_question("[Practice] A drill?")

    plain = Client().get(LIST).text
    practice = Client().get(LIST, {"practice": "1"}).text

    assert "A real question?" in plain and "[Practice] A drill?" not in plain
    assert _tabs(plain)["open"][1] == 1 and _tabs(practice)["open"][1] == 2
    assert 'href="?status=open&amp;practice=1" data-practice-toggle>' in plain
    assert "[Practice] A drill?" in practice
    assert 'href="?status=open" data-practice-toggle>leave them out' in practice
    assert all("practice=1" in href for href, _ in _tabs(practice).values())


def test_no_practice_toggle_without_practice_questions() -> None:
    QuestionFactory(title="A real question?")

    page = Client().get(LIST).text

    assert "data-practice-toggle" not in page


def test_the_market_list_leaves_practice_markets_out_unless_asked_for() -> None:
    now = timezone.now() - dt.timedelta(minutes=1)
    real = market_create(question_id=QuestionFactory(title="Real?").pk, b=Decimal(100), now=now)
    drill = market_create(
        question_id=_practice_question("[Practice] Drill?").pk, b=Decimal(100), now=now
    )
    url = reverse("markets:market_list")

    plain = Client().get(url).text
    practice = Client().get(url, {"practice": "1"}).text

    assert f'data-market="{real.pk}"' in plain and f'data-market="{drill.pk}"' not in plain
    assert f'data-market="{drill.pk}"' in practice
    assert 'name="practice" value="1" checked' in practice
