"""Forecasts on numeric and date questions over HTTP: a CDF or quantiles in, the forecast and
the crowd's distribution out (as the public may see it, with quantiles a script reads without
maths), the CSV, and the scores after resolution; every bad input refused naming its field,
with nothing written."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import numpy as np
import pytest

from forecasts.lifecycle import question_resolve
from forecasts.maths.continuous import CDF_POINTS
from forecasts.maths.quantiles import cdf_from_quantiles
from forecasts.models import AggregatePoint, Forecast, Question
from forecasts.services import forecast_submit
from tests.api.conftest import World
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

UNIFORM = np.linspace(0.0, 1.0, CDF_POINTS).tolist()  # closed bounds: F(u) = u
JULY_10 = dt.datetime(2026, 7, 10, tzinfo=dt.UTC).timestamp()
JUNE_30_2027 = dt.datetime(2027, 6, 30, tzinfo=dt.UTC).timestamp()
CLOSE = T0 + dt.timedelta(days=10)


def _numeric(**fields: Any) -> Question:
    """A numeric question from 0 to 100 $bn, both bounds closed, open to forecasts."""
    return QuestionFactory(
        **{"kind": "numeric", "range_min": 0.0, "range_max": 100.0, "unit": "$bn", **fields}
    )


def _date(**fields: Any) -> Question:
    return QuestionFactory(
        **{"kind": "date", "range_min": JULY_10, "range_max": JUNE_30_2027, **fields}
    )


def _crowd_of(question: Question, n: int, cdf: list[float] = UNIFORM) -> None:
    for _ in range(n):
        forecast_submit(user=UserFactory(), question_id=question.pk, cdf=cdf, now=T0)


def _written() -> tuple[int, int]:
    return Forecast.objects.count(), AggregatePoint.objects.count()


# --- submitting --------------------------------------------------------------------------------


def test_a_forecast_by_cdf_is_stored_and_read_back(world: World, api) -> None:
    question = _numeric()

    response = api("user", world).post("/forecasts/", {"question": question.pk, "cdf": UNIFORM})

    body = response.json()
    assert response.status_code == 201, body
    assert (body["cdf"], body["quantiles"], body["quantiles_dates"]) == (UNIFORM, None, None)
    assert body["probability"] is body["probabilities"] is None
    assert Forecast.objects.get(pk=body["id"]).cdf == UNIFORM


def test_a_forecast_by_quantiles_is_stored_as_their_cdf_beside_them(world: World, api) -> None:
    question = _numeric(open_upper_bound=True)

    response = api("user", world).post(
        "/forecasts/",
        {"question": question.pk, "quantiles": {"0.9": 70.5, "0.1": 20, "0.5": "40"}},
    )

    body = response.json()
    assert response.status_code == 201, body
    assert body["quantiles"] == {"0.1": 20.0, "0.5": 40.0, "0.9": 70.5}
    expected = cdf_from_quantiles({0.1: 20.0, 0.5: 40.0, 0.9: 70.5}, question.scale)
    assert body["cdf"] == pytest.approx(expected.tolist(), abs=1e-12)
    assert Forecast.objects.get(pk=body["id"]).quantiles == body["quantiles"]


def test_a_date_forecast_takes_iso_dates_and_gives_them_back(world: World, api) -> None:
    question = _date()
    asked = {"0.1": "2026-08-01", "0.5": "2026-11-01T00:00:00Z", "0.9": "2027-03-01"}

    body = api("user", world).post("/forecasts/", {"question": question.pk, "quantiles": asked})
    body = body.json()

    november = dt.datetime(2026, 11, 1, tzinfo=dt.UTC).timestamp()
    assert body["quantiles"]["0.5"] == november
    assert body["quantiles_dates"] == {
        "0.1": "2026-08-01T00:00:00Z",
        "0.5": "2026-11-01T00:00:00Z",
        "0.9": "2027-03-01T00:00:00Z",
    }
    assert len(body["cdf"]) == CDF_POINTS


def _steep() -> list[float]:
    """Valid but for one step of 0.25, from cdf[100] to cdf[101]."""
    cdf = np.linspace(0.0, 0.7, CDF_POINTS)
    cdf[101:] += 0.25 - 0.7 / 200
    cdf[101:] = np.linspace(cdf[101], 1.0, 100)
    return cdf.tolist()


BAD = [
    pytest.param({"cdf": UNIFORM[:200]}, "cdf", id="200 values"),
    pytest.param({"cdf": [*UNIFORM, 1.0]}, "cdf", id="202 values"),
    pytest.param({"cdf": UNIFORM[::-1]}, "cdf", id="decreasing"),
    pytest.param({"cdf": _steep()}, "cdf", id="a step over 0.2"),
    pytest.param({"cdf": [0.01, *UNIFORM[1:]]}, "cdf", id="cdf[0] above 0, lower bound closed"),
    pytest.param({"cdf": [*UNIFORM[:50], "NaN", *UNIFORM[51:]]}, "cdf", id="NaN in the cdf"),
    pytest.param({"cdf": "0.5"}, "cdf", id="cdf not a list"),
    pytest.param({"quantiles": {"0.1": 60, "0.9": 20}}, "quantiles", id="out of order"),
    pytest.param({"quantiles": {"0.1": -5, "0.9": 50}}, "quantiles", id="below a closed bound"),
    pytest.param({"quantiles": {"0.1": 5, "0.9": 150}}, "quantiles", id="above a closed bound"),
    pytest.param({"quantiles": {"0.1": "NaN", "0.9": 50}}, "quantiles", id="NaN value"),
    pytest.param({"quantiles": {"NaN": 5, "0.9": 50}}, "quantiles", id="NaN level"),
    pytest.param({"quantiles": {"0.5": 40}}, "quantiles", id="a single quantile"),
    pytest.param({"quantiles": [20, 40]}, "quantiles", id="quantiles not an object"),
    pytest.param({"cdf": UNIFORM, "quantiles": {"0.1": 5, "0.9": 50}}, "cdf", id="both"),
    pytest.param({"probability": 0.4}, "probability", id="a probability"),
    pytest.param({}, "cdf", id="nothing"),
]


@pytest.mark.parametrize(("given", "field"), BAD)
def test_a_bad_forecast_is_refused_naming_its_field_and_nothing_is_written(
    world: World, api, given: dict[str, Any], field: str
) -> None:
    question = _numeric()
    before = _written()

    response = api("user", world).post("/forecasts/", {"question": question.pk, **given})

    assert response.status_code == 400, response.text
    assert field in response.json()["errors"]
    assert _written() == before


def test_a_binary_question_refuses_a_cdf_and_quantiles(world: World, api) -> None:
    before = _written()
    client = api("user", world)

    by_cdf = client.post("/forecasts/", {"question": world.open_question.pk, "cdf": UNIFORM})
    by_quantiles = client.post(
        "/forecasts/", {"question": world.open_question.pk, "quantiles": {"0.1": 1, "0.9": 2}}
    )

    assert (by_cdf.status_code, by_quantiles.status_code) == (400, 400)
    assert "cdf" in by_cdf.json()["errors"]
    assert "quantiles" in by_quantiles.json()["errors"]
    assert _written() == before


def test_an_open_lower_bound_needs_mass_below_the_range(world: World, api) -> None:
    question = _numeric(open_lower_bound=True)

    response = api("user", world).post("/forecasts/", {"question": question.pk, "cdf": UNIFORM})

    assert response.status_code == 400
    assert any("cdf[0]" in message for message in response.json()["errors"]["cdf"])


# --- the crowd ---------------------------------------------------------------------------------


def test_a_crowd_of_too_few_stays_private(world: World, api, settings) -> None:
    question = _numeric()
    _crowd_of(question, settings.CROWD_MIN_FORECASTERS - 1)
    client = api(None, world)

    detail = client.get(f"/questions/{question.pk}/").json()
    listed = client.get("/questions/", params={"kind": "numeric"}).json()["results"]
    history = client.get(f"/questions/{question.pk}/crowd-history/", params={"cdf": 1}).json()

    assert detail["forecasters"] == settings.CROWD_MIN_FORECASTERS - 1
    assert (detail["crowd_cdf"], detail["crowd_quantiles"]) == (None, None)
    assert (detail["crowd"]["cdf"], detail["crowd"]["quantiles"]) == (None, None)
    assert [(q["crowd_cdf"], q["crowd_quantiles"]) for q in listed] == [(None, None)]
    assert all(p["quantiles"] is p["cdf"] is None for p in history["results"])


def test_a_crowd_of_enough_shows_its_cdf_and_quantiles_in_units(world: World, api, settings):
    question = _numeric()
    _crowd_of(question, settings.CROWD_MIN_FORECASTERS)
    client = api(None, world)

    detail = client.get(f"/questions/{question.pk}/").json()
    listed = client.get("/questions/", params={"kind": "numeric"}).json()["results"]

    # A uniform CDF on [0, 100] reaches each level L at 100 L.
    quantiles = {"0.1": 10.0, "0.25": 25.0, "0.5": 50.0, "0.75": 75.0, "0.9": 90.0}
    assert detail["crowd_quantiles"] == pytest.approx(quantiles)
    assert detail["crowd"]["quantiles"] == pytest.approx(quantiles)
    # The whole CDF only once scored: two hourly means a forecast apart would give it away.
    assert detail["crowd_cdf"] is None and detail["crowd"]["cdf"] is None
    assert listed[0]["crowd_quantiles"] == pytest.approx(quantiles)
    assert detail["crowd_quantiles_dates"] is None
    assert detail["crowd"]["median"] is None


def test_the_crowd_shown_is_as_of_the_last_whole_hour_until_scored(
    world: World, api, settings
) -> None:
    question = _numeric()
    _crowd_of(question, settings.CROWD_MIN_FORECASTERS)
    grid = np.linspace(0.0, 1.0, CDF_POINTS)
    # Made now, after the last hour's end: not shown until the question is scored.
    late = {"question": question.pk, "cdf": ((grid + grid**2) / 2).tolist()}
    assert api("user", world).post("/forecasts/", late).status_code == 201
    client = api(None, world)

    hidden = client.get(f"/questions/{question.pk}/").json()
    question_resolve(question_id=question.pk, resolution="value", value=50.0, resolved_by=None)
    shown = client.get(f"/questions/{question.pk}/").json()

    assert hidden["crowd_cdf"] is None
    assert hidden["crowd_quantiles"]["0.5"] == pytest.approx(50.0)
    assert hidden["crowd"]["as_of"] is not None
    assert shown["crowd_cdf"] != pytest.approx(UNIFORM)
    assert shown["crowd_cdf"] == pytest.approx(shown["crowd"]["cdf"], abs=1e-12)
    assert shown["crowd_quantiles"]["0.5"] > 50.0  # the late forecast leans high


def test_a_date_questions_crowd_gives_its_quantiles_as_iso_dates(world: World, api, settings):
    question = _date()
    _crowd_of(question, settings.CROWD_MIN_FORECASTERS)

    detail = api(None, world).get(f"/questions/{question.pk}/").json()

    # Halfway through the 355 days from 10 July 2026.
    assert detail["crowd_quantiles_dates"]["0.5"] == "2027-01-03T12:00:00Z"
    assert detail["crowd"]["quantiles_dates"]["0.5"] == "2027-01-03T12:00:00Z"
    assert detail["crowd_quantiles"]["0.5"] == (JULY_10 + JUNE_30_2027) / 2


def test_the_crowd_history_gives_median_and_80_interval_and_the_cdf_on_request(
    world: World, api, settings
) -> None:
    question = _date()
    _crowd_of(question, settings.CROWD_MIN_FORECASTERS)
    path = f"/questions/{question.pk}/crowd-history/"
    client = api(None, world)

    plain = client.get(path).json()["results"][-1]
    full = client.get(path, params={"cdf": "true"}).json()["results"][-1]

    assert "cdf" not in plain
    assert sorted(plain["quantiles"]) == ["0.1", "0.5", "0.9"]
    assert plain["quantiles"]["0.1"] == pytest.approx(JULY_10 + 0.1 * (JUNE_30_2027 - JULY_10))
    assert plain["quantiles_dates"]["0.5"] == "2027-01-03T12:00:00Z"
    assert full["cdf"] is None  # the whole CDF once scored
    assert client.get(path, params={"cdf": "maybe"}).status_code == 400
    question_resolve(question_id=question.pk, resolution="value", value=JULY_10, resolved_by=None)
    scored = client.get(path, params={"cdf": "true"}).json()["results"][-1]
    assert scored["cdf"] == pytest.approx(UNIFORM)


def test_a_binary_questions_crowd_carries_no_distribution(world: World, api) -> None:
    client = api(None, world)

    detail = client.get(f"/questions/{world.resolved_question.pk}/").json()
    point = client.get(f"/questions/{world.resolved_question.pk}/crowd-history/").json()

    assert (detail["crowd_cdf"], detail["crowd_quantiles"]) == (None, None)
    assert "cdf" not in detail["crowd"]
    assert point["results"][0]["quantiles"] is None


# --- CSV and scores ----------------------------------------------------------------------------


def test_the_csv_carries_the_cdf_and_quantiles_as_json_cells(world: World, api) -> None:
    question = _date()
    asked = {"0.1": "2026-08-01", "0.9": "2027-03-01"}
    client = api("user", world)
    client.post("/forecasts/", {"question": question.pk, "quantiles": asked})

    response = client.get("/forecasts/", params={"format": "csv", "question": question.pk})

    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert len(json.loads(row["cdf"])) == CDF_POINTS
    assert json.loads(row["quantiles_dates"]) == {
        "0.1": "2026-08-01T00:00:00Z",
        "0.9": "2027-03-01T00:00:00Z",
    }
    august = dt.datetime(2026, 8, 1, tzinfo=dt.UTC).timestamp()
    assert json.loads(row["quantiles"])["0.1"] == august
    assert (row["probability"], row["probabilities"]) == ("", "")


def test_scores_after_resolution_carry_the_value_and_the_crps(world: World, api) -> None:
    question = _numeric(closes_at=CLOSE)
    forecast_submit(user=world.user, question_id=question.pk, cdf=UNIFORM, now=T0)
    question_resolve(question_id=question.pk, resolution="value", value=42.0, resolved_by=None)
    client = api(None, world)

    rows = client.get(f"/questions/{question.pk}/scores/").json()["results"]
    board = client.get("/leaderboard/", params={"score_type": "crps"})

    mine = {r["score_type"]: r for r in rows if r["user"] == "ada"}
    # A uniform CDF's CRPS at y = 0.42: the integral of u^2 below y and (1 - u)^2 above it.
    crps = (0.42**3 + 0.58**3) / 3
    assert mine["crps"]["value"] == pytest.approx(crps, abs=1e-12)
    assert mine["crps_at_close"]["value"] == pytest.approx(crps, abs=1e-12)
    assert {(r["resolved_value"], r["resolved_value_date"]) for r in rows} == {(42.0, None)}
    assert board.status_code == 200, board.text
    assert [r["user"] for r in board.json()["results"]] == ["ada"]


def test_a_date_questions_scores_give_the_resolved_date(world: World, api) -> None:
    question = _date(closes_at=CLOSE)
    forecast_submit(user=world.user, question_id=question.pk, cdf=UNIFORM, now=T0)
    resolved = dt.datetime(2027, 1, 3, 12, tzinfo=dt.UTC).timestamp()
    question_resolve(question_id=question.pk, resolution="value", value=resolved, resolved_by=None)

    rows = api(None, world).get("/scores/", params={"question": question.pk}).json()["results"]
    record = api(None, world).get("/users/ada/track-record/").json()["questions"]

    assert {(r["resolved_value"], r["resolved_value_date"]) for r in rows} == {
        (resolved, "2027-01-03T12:00:00Z")
    }
    [row] = [r for r in record if r["question"] == question.pk]
    assert row["resolved_value_date"] == "2027-01-03T12:00:00Z"


def test_the_schema_documents_a_cdf_and_quantiles_submission(world: World, api) -> None:
    schemas = api(None, world).get("/schema/", params={"format": "json"}).json()
    schemas = schemas["components"]["schemas"]

    shapes = [ref["$ref"].rsplit("/", 1)[1] for ref in schemas["ForecastSubmitRequest"]["oneOf"]]

    required = [sorted(schemas[shape]["required"]) for shape in shapes]
    assert ["cdf", "question"] in required
    assert ["quantiles", "question"] in required
    assert {"crowd_cdf", "crowd_quantiles", "crowd_quantiles_dates"} <= set(
        schemas["Question"]["properties"]
    )
    assert {"cdf", "quantiles", "quantiles_dates"} <= set(schemas["Forecast"]["properties"])
