"""The track record's calibration counts every kind of question (multiple choice one-vs-rest)
or the binary ones only, chosen by ``?kinds=``: its tables, its text and every calibration
chart on the page follow the choice."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from forecasts.charts import data as chart_data
from forecasts.lifecycle import question_resolve
from forecasts.models import QuestionKind, Resolution
from forecasts.services import forecast_submit
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
NOW = T0 + 400 * DAY


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ada():
    """Ada forecast a binary question (0.7, resolved YES) and a 3-option one (resolved to its
    second option): one forecast to calibrate on the first, three on the second."""
    ada = UserFactory(username="ada")
    dates = {"opens_at": T0, "closes_at": T0 + 100 * DAY, "resolves_at": T0 + 100 * DAY}
    binary = QuestionFactory(**dates)
    forecast_submit(user=ada, question_id=binary.pk, probability=0.7, now=T0)
    question_resolve(question_id=binary.pk, resolution="yes", resolved_by=None, now=NOW)
    options = QuestionFactory(
        kind=QuestionKind.MULTIPLE_CHOICE, options=["Lifted", "Kept", "Court"], **dates
    )
    forecast_submit(user=ada, question_id=options.pk, probabilities=[0.5, 0.3, 0.2], now=T0)
    question_resolve(
        question_id=options.pk, resolution=Resolution.OPTION, option=1, resolved_by=None, now=NOW
    )
    return ada


def _page(**query: str) -> str:
    response = Client().get(reverse("forecasts:track_record", args=["ada"]), query)
    assert response.status_code == 200
    return response.text


def _bins(page: str) -> int:
    return sum(int(n) for n in re.findall(r'data-bin-n="(\d+)"', page))


def _calibration_links(page: str) -> list[str]:
    """Every address of a calibration chart on the page, its images and its downloads."""
    return re.findall(r'(?:src|href)="(/charts/users/ada/calibration[^"]*)"', page)


def _current_tab(page: str) -> str:
    [href] = re.findall(r'<a href="\?kinds=(\w+)#calibration" aria-current="page"', page)
    return href


def test_by_default_every_kind_counts_and_the_text_says_one_vs_rest(ada) -> None:
    page = _page()

    assert _current_tab(page) == "all"
    assert _bins(page) == 4
    assert "one-vs-rest" in page and "4 forecasts in all" in page
    assert "2 resolved questions" in page


def test_binary_only_counts_the_binary_question_alone(ada) -> None:
    page = _page(kinds="binary")

    assert _current_tab(page) == "binary"
    assert _bins(page) == 1
    assert "1 question resolved YES or NO" in page and "one-vs-rest" not in page


@pytest.mark.parametrize("kinds", ["all", "binary"])
def test_every_calibration_chart_on_the_page_asks_for_the_kinds_shown(ada, kinds: str) -> None:
    links = _calibration_links(_page(kinds=kinds))

    assert len(links) == 6  # both charts: an image, its SVG and its CSV
    assert all(parse_qs(urlsplit(link).query)["kinds"] == [kinds] for link in links)


def test_the_charts_linked_from_the_page_draw_what_the_table_shows(ada) -> None:
    client = Client()

    counts = []
    for kinds in ("all", "binary"):
        csv_link = next(link for link in _calibration_links(_page(kinds=kinds)) if "csv" in link)
        rows = client.get(csv_link.replace("&amp;", "&")).content.decode().splitlines()[1:]
        counts.append(sum(int(row.split(",")[2]) for row in rows if row.startswith("ada,")))

    assert counts == [4, 1]


@pytest.mark.parametrize("junk", ["numeric", "", "ALL", "binary,all"])
def test_an_unknown_kinds_falls_back_to_the_default(ada, junk: str) -> None:
    page = _page(kinds=junk)

    assert _current_tab(page) == "all" and _bins(page) == 4


def test_each_kind_has_a_tab(ada) -> None:
    from forecasts.scores.selectors import CALIBRATION_KINDS

    page = _page()

    assert re.findall(r'href="\?kinds=(\w+)#calibration"', page) == list(CALIBRATION_KINDS)


def test_a_forecaster_of_multiple_choice_only_has_no_binary_calibration(ada) -> None:
    from forecasts.models import Question

    Question.objects.filter(kind=QuestionKind.BINARY).delete()

    page = _page(kinds="binary")

    assert "No resolved binary questions with forecasts yet." in page
    assert _current_tab(page) == "binary"


@pytest.mark.parametrize(("kinds", "n"), [("all", 4), ("binary", 1)])
def test_the_chart_data_follow_the_kinds(ada, kinds: str, n: int) -> None:
    drawn = chart_data.user_calibration_chart(user=ada, now=NOW, kinds=kinds)
    over_time = chart_data.user_calibration_over_time_chart(user=ada, now=NOW, kinds=kinds)

    assert sum(r["n"] for r in drawn.rows if r["series"] == "ada") == n
    assert sum(r["n"] for r in over_time.rows) == n
    assert ("binary questions only" in drawn.title) is (kinds == "binary")
