"""CSV exports: every matching row, streamed, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from crux.api.renderers import csv_cell
from forecasts.lifecycle import question_resolve
from forecasts.models import Forecast, Score
from forecasts.services import forecast_submit
from tests.api.conftest import World
from tests.factories import T0, QuestionFactory, UserFactory


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("-", "'-"),
        ("plain text", "plain text"),
        ("", ""),
        (None, None),
        (-0.25, -0.25),
        (-3, -3),
        ("-0.25", "-0.25"),
        ("+12.5000", "+12.5000"),
        ("-1e-05", "-1e-05"),
        ("2026-06-12T12:00:00Z", "2026-06-12T12:00:00Z"),
    ],
)
def test_a_cell_that_would_be_a_formula_is_quoted_and_a_number_is_left_alone(
    value: object, written: object
) -> None:
    assert csv_cell(value) == written


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ([0.2, 0.5, 0.3], "[0.2, 0.5, 0.3]"),
        ((0.25, 0.75), "[0.25, 0.75]"),
        (["Lifted", "It's kept"], '["Lifted", "It\'s kept"]'),
        ({"Lifted": 0.5}, '{"Lifted": 0.5}'),
        ([], "[]"),
    ],
)
def test_a_list_or_a_mapping_is_one_cell_of_json(value: object, written: str) -> None:
    assert csv_cell(value) == written


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.django_db(transaction=True)
def test_scores_as_csv_are_every_matching_row_not_one_page(world: World, api) -> None:
    client = api(None, world)

    as_json = client.get("/scores/").json()
    as_csv = client.get("/scores/", params={"format": "csv"})

    rows = _rows(as_csv.text)
    assert as_json["count"] == Score.objects.count() > len(as_json["results"]) == 20
    assert len(rows) == as_json["count"]
    assert as_csv.headers["Content-Disposition"] == 'attachment; filename="scores.csv"'


@pytest.mark.django_db(transaction=True)
def test_forecasts_as_csv_are_every_matching_row_not_one_page(world: World, api) -> None:
    for step in range(45):
        forecast_submit(
            user=world.user, question_id=world.open_question.pk, probability=0.1 + step / 100
        )
    client = api("user", world)

    as_json = client.get("/forecasts/", params={"question": world.open_question.pk}).json()
    as_csv = client.get("/forecasts/", params={"question": world.open_question.pk, "format": "csv"})

    rows = _rows(as_csv.text)
    assert as_json["count"] == 46 and len(as_json["results"]) == 20
    assert [int(r["id"]) for r in rows] == list(
        Forecast.objects.filter(user=world.user, question=world.open_question)
        .order_by("-starts_at", "-id")
        .values_list("pk", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_csv_ignores_the_page_but_keeps_the_filters(world: World, api) -> None:
    client = api(None, world)

    rows = _rows(
        client.get(
            "/scores/", params={"user": "ada", "score_type": "brier", "page": 2, "format": "csv"}
        ).text
    )

    assert [(r["user"], r["score_type"]) for r in rows] == [("ada", "brier")]


@pytest.mark.django_db(transaction=True)
def test_json_lists_stay_paginated(world: World, api) -> None:
    body = api(None, world).get("/scores/", params={"page_size": 5}).json()

    assert len(body["results"]) == 5 and body["next"]


@pytest.mark.django_db(transaction=True)
def test_formulas_in_csv_cells_are_neutralised_and_negative_scores_stay_numbers(
    world: World, api
) -> None:
    question = QuestionFactory(
        title='=HYPERLINK("http://evil.example")',
        opens_at=T0,
        closes_at=T0 + dt.timedelta(days=5),
    )
    question.resolves_at = question.closes_at
    question.save()
    sneaky = UserFactory(username="-1+1")
    forecast_submit(user=sneaky, question_id=question.pk, probability=0.2, now=T0)
    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None)

    text = (
        api(None, world)
        .get("/scores/", params={"user": "-1+1", "score_type": "baseline", "format": "csv"})
        .text
    )

    [row] = _rows(text)
    assert row["question_title"] == '\'=HYPERLINK("http://evil.example")'
    assert row["user"] == "'-1+1"
    assert float(row["value"]) == pytest.approx(100 * (-2.321928 + 1), abs=1e-4)


@pytest.mark.django_db(transaction=True)
def test_a_rationale_that_is_a_formula_is_neutralised(world: World, api) -> None:
    forecast_submit(
        user=world.user,
        question_id=world.bare_question.pk,
        probability=0.4,
        rationale="@SUM(1+1)*cmd|' /C calc'!A0",
    )

    rows = _rows(api("user", world).get("/forecasts/", params={"format": "csv"}).text)

    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in [r["rationale"] for r in rows]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/scores/", "/api/v1/forecasts/"])
def test_csv_is_streamed_in_a_few_queries_whatever_the_number_of_rows(path: str) -> None:
    user = UserFactory(username="ada")
    for number in range(30):
        question = QuestionFactory(opens_at=T0, closes_at=T0 + dt.timedelta(days=3 + number))
        question.resolves_at = question.closes_at
        question.save()
        forecast_submit(user=user, question_id=question.pk, probability=0.3, now=T0)
        question_resolve(question_id=question.pk, resolution="no", resolved_by=None)
    client = APIClient()
    client.force_authenticate(user)

    response = client.get(path, {"format": "csv"})
    with CaptureQueriesContext(connection) as queries:
        body = b"".join(response.streaming_content).decode()

    assert response.streaming
    assert len(_rows(body)) >= 30
    assert len(queries) <= 3


@pytest.mark.django_db(transaction=True)
def test_the_scores_csv_keeps_its_etag(world: World, api) -> None:
    client = api(None, world)

    first = client.get("/scores/", params={"format": "csv"})
    again = client.get(
        "/scores/", params={"format": "csv"}, headers={"If-None-Match": first.headers["ETag"]}
    )

    assert (first.status_code, again.status_code) == (200, 304)
