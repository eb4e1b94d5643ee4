"""The score-type registry: complete entries, values the scorer really gives, one set of names
from the database to the pages, and no server error for a name that is no score type's."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from forecasts.lifecycle import question_resolve
from forecasts.maths import score_types
from forecasts.maths.intervals import Intervals, ScoreTable
from forecasts.maths.score_types import SCORE_TYPES, Direction, ScoreTypeSpec, Timing
from forecasts.maths.scoring import score_question
from forecasts.models import Score, ScoreType
from forecasts.services import forecast_submit
from forecasts.templatetags.crux import score
from tests.factories import T0, QuestionFactory, UserFactory

NAME = [pytest.param(t, id=t.name) for t in SCORE_TYPES]
# The types a binary question is scored on (the CRPS scores numeric and date ones).
DISCRETE = [pytest.param(t, id=t.name) for t in SCORE_TYPES if t.kinds.covers(continuous=False)]
OPEN, CLOSE = 0.0, 100.0


def _table(probs: list[float], outcome: int, ends: list[float] | None = None) -> ScoreTable:
    """One question open on [0, 100), user i forecasting probs[i] from the start."""
    n = len(probs)
    ends = ends if ends is not None else [math.nan] * n
    intervals = Intervals.of_question(range(n), [OPEN] * n, ends, probs)
    return score_question(intervals, OPEN, CLOSE, outcome)


@pytest.mark.parametrize("spec", NAME)
def test_every_score_type_has_every_entry(spec: ScoreTypeSpec) -> None:
    column_width = Score._meta.get_field("score_type").max_length

    assert spec.name and len(spec.name) <= column_width
    assert spec.label.strip()
    assert isinstance(spec.direction, Direction) and isinstance(spec.timing, Timing)
    assert math.isfinite(spec.uninformed)
    assert isinstance(spec.digits, int) and spec.digits >= 0
    assert isinstance(spec.on_track_record, bool)
    assert callable(spec.column)


def test_names_and_labels_are_unique() -> None:
    names = [t.name for t in SCORE_TYPES]
    labels = [t.label for t in SCORE_TYPES]

    assert len(set(names)) == len(names) and len(set(labels)) == len(labels)


@pytest.mark.parametrize("outcome", [0, 1])
@pytest.mark.parametrize("spec", DISCRETE)
def test_the_uninformed_value_is_what_the_scorer_gives_a_50_percent_forecast(
    spec: ScoreTypeSpec, outcome: int
) -> None:
    table = _table([0.5, 0.5], outcome)

    values = spec.column(table)

    assert values.shape == (2,)
    assert values.tolist() == pytest.approx([spec.uninformed] * 2, abs=1e-12)


@pytest.mark.parametrize("spec", NAME)
def test_the_direction_agrees_with_the_scorer(spec: ScoreTypeSpec) -> None:
    sharp, vague = spec.column(_table([0.9, 0.5], outcome=1))

    better_is_lower = sharp < vague

    assert better_is_lower == (spec.direction is Direction.LOWER)
    assert spec.lower_is_better == better_is_lower


@pytest.mark.parametrize("spec", NAME)
def test_only_at_close_scores_need_a_forecast_standing_at_close(spec: ScoreTypeSpec) -> None:
    withdrawn = _table([0.7, 0.6], outcome=1, ends=[50.0, 50.0])

    values = spec.column(withdrawn)

    assert np.isnan(values).all() == (spec.timing is Timing.AT_CLOSE)


def test_the_database_choices_equal_the_registry() -> None:
    assert ScoreType.choices == [(t.name, t.label) for t in SCORE_TYPES]
    assert list(score_types.CHOICES) == ScoreType.choices
    assert list(score_types.NAMES) == ScoreType.values


def test_a_lookup_by_an_unknown_name_says_which_names_exist() -> None:
    with pytest.raises(score_types.UnknownScoreType, match="brier_at_close") as error:
        score_types.score_type("bier")

    assert isinstance(error.value, ValueError)
    assert score_types.score_type(ScoreType.PEER_AT_CLOSE) is score_types.PEER_AT_CLOSE


def test_the_track_record_shows_the_time_averaged_four_in_order() -> None:
    names = [t.name for t in score_types.TRACK_RECORD]

    assert names == ["brier", "log", "baseline", "peer"]


@pytest.mark.parametrize("spec", NAME)
def test_scores_show_with_their_type_s_digits(spec: ScoreTypeSpec) -> None:
    shown = score(1 / 3, spec.name)

    assert len(shown.partition(".")[2]) == spec.digits


@pytest.mark.django_db
def test_resolution_stores_every_score_type_of_a_forecast_standing_at_close() -> None:
    question = QuestionFactory(opens_at=T0, closes_at=T0 + dt.timedelta(days=10))
    ada, bob = UserFactory(), UserFactory()
    for user, p in ((ada, 0.8), (bob, 0.4)):
        forecast_submit(user=user, question_id=question.pk, probability=p, now=T0)

    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None)

    stored = Score.objects.filter(user=ada).values_list("score_type", flat=True)
    discrete = [t.name for t in score_types.SCORE_TYPES if t.kinds.covers(continuous=False)]
    assert sorted(stored) == sorted(discrete)
    assert {"crps", "crps_at_close"} & set(stored) == set()


@pytest.mark.django_db
def test_an_unknown_score_type_in_a_query_string_is_no_server_error() -> None:
    UserFactory(username="ada")
    web, api = Client(), APIClient()

    record = web.get(reverse("forecasts:track_record", args=["ada"]), {"score": "bier"})
    board = web.get(reverse("forecasts:leaderboard"), {"score": "bier"})
    chart_url = reverse("forecasts:user_chart", args=["ada", "scores", "png"])
    known = web.get(chart_url, {"score": "peer_at_close"})
    chart = web.get(chart_url, {"score": "bier"})
    csv = web.get(reverse("forecasts:user_chart", args=["ada", "scores", "csv"]), {"score": ""})
    api_chart = api.get("/api/v1/users/ada/charts/scores/", {"score": "bier"})
    api_board = api.get("/api/v1/leaderboard/", {"score_type": "bier"})

    assert record.status_code == board.status_code == 200
    assert 'value="peer" selected' in board.content.decode()
    assert known.status_code == 200
    assert chart.status_code == csv.status_code == api_chart.status_code == 404
    assert api_board.status_code == 400
