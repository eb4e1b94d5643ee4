"""What a resolved multiple-choice question gives the API: its scores (JSON and CSV), the
crowd's history per option, and calibration that counts it one-vs-rest unless asked for binary
questions only; and the forecasts' CSV, whose vector is one cell of JSON."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math

import pytest

from forecasts.lifecycle import question_resolve
from forecasts.models import Question, QuestionKind, Resolution
from forecasts.services import forecast_submit
from tests.api.conftest import World
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

OPTIONS = ["Lifted", "Narrowed", "In force"]
ADA = [0.2, 0.5, 0.3]
BOB = [0.6, 0.2, 0.2]
DAY = dt.timedelta(days=1)


def _resolved(world: World) -> Question:
    """A 3-option question that ada and bob forecast from its opening, resolved "Narrowed"."""
    question = QuestionFactory(
        kind=QuestionKind.MULTIPLE_CHOICE,
        options=OPTIONS,
        source=world.open_question.source,
        opens_at=T0,
        closes_at=T0 + 10 * DAY,
        resolves_at=T0 + 10 * DAY,
    )
    for user, vector in ((world.user, ADA), (world.other, BOB)):
        forecast_submit(user=user, question_id=question.pk, probabilities=vector, now=T0)
    question_resolve(
        question_id=question.pk, resolution=Resolution.OPTION, option=1, resolved_by=None
    )
    return question


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# --- scores ----------------------------------------------------------------------------------


def test_the_scores_of_a_multiple_choice_question_are_served_with_its_outcome(
    world: World, api
) -> None:
    question = _resolved(world)

    rows = api(None, world).get(f"/questions/{question.pk}/scores/").json()["results"]

    ada = {r["score_type"]: r for r in rows if r["user"] == "ada"}
    assert ada["brier"]["value"] == pytest.approx(0.2**2 + 0.5**2 + 0.3**2)
    assert ada["log"]["value"] == pytest.approx(math.log(0.5))
    assert ada["baseline"]["value"] == pytest.approx(100 * math.log(3 * 0.5) / math.log(3))
    assert ada["brier"]["coverage"] == pytest.approx(1.0)
    assert {(r["resolution"], r["resolved_option"], r["resolved_option_label"]) for r in rows} == {
        ("option", 1, "Narrowed")
    }
    assert {r["forecaster"] for r in rows} >= {"user", "crowd_median"}


def test_peer_scores_on_a_multiple_choice_question_sum_to_zero(world: World, api) -> None:
    question = _resolved(world)

    rows = (
        api(None, world)
        .get("/scores/", params={"question": question.pk, "score_type": "peer"})
        .json()["results"]
    )

    by_user = {r["user"]: r["value"] for r in rows if r["forecaster"] == "user"}
    # 100 N/(N-1) (ln p_k - mean ln p_k), N = 2: 100 ln(0.5 / 0.2) for ada.
    assert by_user["ada"] == pytest.approx(100 * math.log(0.5 / 0.2))
    assert sum(by_user.values()) == pytest.approx(0.0, abs=1e-9)


def test_a_binary_score_names_its_outcome_the_same_way(world: World, api) -> None:
    rows = (
        api(None, world)
        .get("/scores/", params={"question": world.resolved_question.pk})
        .json()["results"]
    )

    assert {(r["resolution"], r["resolved_option"], r["resolved_option_label"]) for r in rows} == {
        ("yes", 0, "Yes")
    }


def test_the_track_record_lists_the_multiple_choice_question_with_its_option(
    world: World, api
) -> None:
    question = _resolved(world)

    record = api(None, world).get("/users/ada/track-record/").json()

    row = next(q for q in record["questions"] if q["question"] == question.pk)
    assert (row["resolution"], row["resolved_option"], row["resolved_option_label"]) == (
        "option",
        1,
        "Narrowed",
    )
    assert row["scores"]["log"] == pytest.approx(math.log(0.5))


# --- crowd history ---------------------------------------------------------------------------


def test_the_crowd_history_carries_each_options_median_and_geometric_mean(
    world: World, api
) -> None:
    question = _resolved(world)

    history = api(None, world).get(f"/questions/{question.pk}/crowd-history/").json()["results"]

    last = history[-1]
    assert (last["median"], last["geometric_mean_odds"], last["forecasters"]) == (None, None, 2)
    assert last["medians"] == pytest.approx([0.4, 0.35, 0.25])  # a pair's medians, renormalised
    geometric = [math.sqrt(a * b) for a, b in zip(ADA, BOB, strict=True)]
    assert last["geometric_means"] == pytest.approx([g / sum(geometric) for g in geometric])


def test_a_binary_crowd_history_has_no_vectors(world: World, api) -> None:
    path = f"/questions/{world.resolved_question.pk}/crowd-history/"

    last = api(None, world).get(path).json()["results"][-1]

    assert last["median"] == pytest.approx(0.55)
    assert (last["medians"], last["geometric_means"]) == (None, None)


# --- calibration -----------------------------------------------------------------------------


def test_calibration_counts_each_option_unless_asked_for_binary_questions_only(
    world: World, api
) -> None:
    _resolved(world)
    client = api(None, world)

    every = client.get("/users/ada/calibration/").json()
    binary = client.get("/users/ada/calibration/", params={"kinds": "binary"}).json()
    refused = client.get("/users/ada/calibration/", params={"kinds": "numeric"})

    # ada: 0.8 on the binary question (YES); 0.2, 0.5, 0.3 on the options ("Narrowed").
    assert (every["forecaster"]["n"], binary["forecaster"]["n"]) == (4, 1)
    assert _populated(binary["forecaster"]) == [(0.8, 1, 1)]
    assert _populated(every["forecaster"]) == [(0.2, 1, 0), (0.3, 1, 0), (0.5, 1, 1), (0.8, 1, 1)]
    assert (every["crowd"]["n"], binary["crowd"]["n"]) == (4, 1)
    assert refused.status_code == 400 and "kinds" in refused.json()["errors"]


def _populated(report: dict) -> list[tuple[float, int, int]]:
    return [
        (round(b["mean_forecast"], 6), b["n"], b["yes_count"]) for b in report["bins"] if b["n"]
    ]


# --- CSV -------------------------------------------------------------------------------------


def test_the_forecasts_csv_holds_a_vector_as_one_cell_of_json(world: World, api) -> None:
    question = _resolved(world)
    binary = world.resolved_question

    rows = _csv(api("user", world).get("/forecasts/", params={"format": "csv"}).text)

    by_question = {int(r["question"]): r for r in rows}
    assert json.loads(by_question[question.pk]["probabilities"]) == ADA
    assert by_question[question.pk]["probability"] == ""
    assert (by_question[binary.pk]["probability"], by_question[binary.pk]["probabilities"]) == (
        "0.8",
        "",
    )


def test_one_forecast_as_csv_holds_its_vector_as_json_too(world: World, api) -> None:
    question = _resolved(world)
    client = api("user", world)
    [listed] = client.get("/forecasts/", params={"question": question.pk}).json()["results"]

    [row] = _csv(client.get(f"/forecasts/{listed['id']}/", params={"format": "csv"}).text)

    assert json.loads(row["probabilities"]) == ADA


def test_the_scores_csv_names_the_option_that_happened(world: World, api) -> None:
    question = _resolved(world)

    rows = _csv(
        api(None, world)
        .get("/scores/", params={"question": question.pk, "user": "ada", "format": "csv"})
        .text
    )

    assert {(r["resolution"], r["resolved_option"], r["resolved_option_label"]) for r in rows} == {
        ("option", "1", "Narrowed")
    }
    assert float(next(r for r in rows if r["score_type"] == "log")["value"]) == pytest.approx(
        math.log(0.5)
    )


def test_a_label_that_reads_as_a_formula_is_quoted_in_the_scores_csv(world: World, api) -> None:
    question = QuestionFactory(
        kind=QuestionKind.MULTIPLE_CHOICE,
        options=["=CMD()", "Other"],
        opens_at=T0,
        closes_at=T0 + DAY,
        resolves_at=T0 + DAY,
    )
    forecast_submit(user=UserFactory(), question_id=question.pk, probabilities=[0.5, 0.5], now=T0)
    question_resolve(
        question_id=question.pk, resolution=Resolution.OPTION, option=0, resolved_by=None
    )

    rows = _csv(
        api(None, world).get("/scores/", params={"question": question.pk, "format": "csv"}).text
    )

    assert {r["resolved_option_label"] for r in rows} == {"'=CMD()"}
