"""Resolution stores scores in the same transaction; hand-computed references for each type.

Every question here opens at T0 and closes 100 days later; times are chosen so that the
arithmetic of the time averages can be written down.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.core.exceptions import ValidationError

from forecasts.lifecycle import question_aggregates_rebuild, question_resolve, question_unresolve
from forecasts.models import AggregatePoint, Forecaster, Question, Resolution, Score
from forecasts.services import forecast_submit
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
CLOSE = T0 + 100 * DAY
AFTER = CLOSE + DAY


def _question() -> Question:
    return QuestionFactory(opens_at=T0, closes_at=CLOSE, resolves_at=CLOSE)


def _scores(question: Question, user=None, forecaster: str = Forecaster.USER) -> dict[str, float]:
    rows = Score.objects.filter(question=question, forecaster=forecaster)
    if user is not None:
        rows = rows.filter(user=user)
    return {s.score_type: s.value for s in rows}


def _resolve(question: Question, outcome: str = Resolution.YES, **kwargs) -> Question:
    return question_resolve(
        question_id=question.pk, resolution=outcome, resolved_by=None, now=AFTER, **kwargs
    )


def test_one_forecaster_for_the_whole_period_gets_the_plain_scores_and_peer_zero() -> None:
    question, ada = _question(), UserFactory()
    forecast_submit(user=ada, question_id=question.pk, probability=0.8, now=T0)

    _resolve(question)

    scores = _scores(question, ada)
    assert scores["brier"] == pytest.approx((0.8 - 1) ** 2)  # 0.04
    assert scores["log"] == pytest.approx(math.log(0.8))
    assert scores["baseline"] == pytest.approx(100 * (math.log2(0.8) + 1))  # 67.8
    assert scores["peer"] == 0  # N = 1
    assert scores["brier_at_close"] == pytest.approx(0.04)
    assert Score.objects.get(question=question, user=ada, score_type="log").coverage == 1


def test_a_forecast_made_halfway_covers_half_and_earns_half_the_log_score() -> None:
    question, ada = _question(), UserFactory()
    forecast_submit(user=ada, question_id=question.pk, probability=0.8, now=T0 + 50 * DAY)

    _resolve(question)

    row = Score.objects.get(question=question, user=ada, score_type="log")
    assert row.coverage == pytest.approx(0.5)
    assert row.value == pytest.approx(0.5 * math.log(0.8))  # 50 days of ln 0.8, 50 days of 0
    assert _scores(question, ada)["brier"] == pytest.approx(0.04)  # over covered time only


def test_an_update_mid_question_averages_the_two_forecasts_by_time() -> None:
    question, ada = _question(), UserFactory()
    forecast_submit(user=ada, question_id=question.pk, probability=0.6, now=T0)
    forecast_submit(user=ada, question_id=question.pk, probability=0.9, now=T0 + 50 * DAY)

    _resolve(question)

    scores = _scores(question, ada)
    assert scores["brier"] == pytest.approx((0.16 + 0.01) / 2)  # (0.4^2 + 0.1^2) / 2 = 0.085
    assert scores["log"] == pytest.approx((math.log(0.6) + math.log(0.9)) / 2)
    assert scores["log_at_close"] == pytest.approx(math.log(0.9))


def test_two_forecasters_peer_scores_are_opposite_and_the_crowd_is_scored_too() -> None:
    question, ada, bob = _question(), UserFactory(), UserFactory()
    forecast_submit(user=ada, question_id=question.pk, probability=0.8, now=T0)
    forecast_submit(user=bob, question_id=question.pk, probability=0.4, now=T0)

    _resolve(question)

    # GM = sqrt(0.8 * 0.4); peer = 100 * N/(N-1) * ln(p / GM) = 200 * ln(sqrt(0.8/0.4))
    assert _scores(question, ada)["peer"] == pytest.approx(100 * math.log(2))
    assert _scores(question, bob)["peer"] == pytest.approx(-100 * math.log(2))
    crowd = _scores(question, forecaster=Forecaster.CROWD_MEDIAN)
    assert crowd["brier"] == pytest.approx(0.16)  # unweighted median of two: 0.6
    assert crowd["peer"] == pytest.approx(200 * math.log(0.6 / math.sqrt(0.32)))


def test_a_question_closed_early_is_scored_up_to_its_effective_resolution() -> None:
    question, ada = _question(), UserFactory()
    forecast_submit(user=ada, question_id=question.pk, probability=0.7, now=T0)
    forecast_submit(user=ada, question_id=question.pk, probability=0.1, now=T0 + 60 * DAY)

    resolved = _resolve(question, effective_at=T0 + 50 * DAY)

    scores = _scores(question, ada)
    assert scores["brier"] == pytest.approx(0.09)  # only the 0.7 stood before the close
    assert Score.objects.get(question=question, user=ada, score_type="log").coverage == 1
    assert resolved.open_fraction == pytest.approx(0.5)


@pytest.mark.parametrize("outcome", [Resolution.ANNULLED, Resolution.AMBIGUOUS])
def test_annulled_and_ambiguous_questions_carry_no_scores(outcome: str) -> None:
    question = _question()
    forecast_submit(user=UserFactory(), question_id=question.pk, probability=0.7, now=T0)

    _resolve(question, outcome)

    assert not Score.objects.filter(question=question).exists()


def test_resolving_twice_changes_nothing_and_unresolving_removes_the_scores() -> None:
    question = _question()
    forecast_submit(user=UserFactory(), question_id=question.pk, probability=0.7, now=T0)
    _resolve(question)
    first = list(Score.objects.order_by("pk").values())

    _resolve(question)
    second = list(Score.objects.order_by("pk").values())
    question_unresolve(question_id=question.pk, now=AFTER)

    assert first == second and len(first) > 0
    assert not Score.objects.exists()
    question.refresh_from_db()
    assert (question.resolution, question.resolved_at) == ("", None)


def test_a_different_outcome_needs_an_unresolve_first() -> None:
    question = _question()
    _resolve(question, Resolution.NO)

    with pytest.raises(ValidationError) as error:
        _resolve(question, Resolution.YES)

    assert "resolution" in error.value.message_dict
    assert Question.objects.get(pk=question.pk).resolution == Resolution.NO


@pytest.mark.parametrize("effective", [T0 - DAY, AFTER + DAY])
def test_an_effective_time_outside_the_open_past_is_refused(effective: dt.datetime) -> None:
    question = _question()

    with pytest.raises(ValidationError) as error:
        _resolve(question, effective_at=effective)

    assert "effective_at" in error.value.message_dict
    assert Question.objects.get(pk=question.pk).resolution == ""


def test_the_incremental_crowd_history_equals_the_one_rebuilt_from_all_forecasts() -> None:
    question, users = _question(), UserFactory.create_batch(4)
    for day, (user, p) in enumerate(
        zip(users * 2, [0.2, 0.9, 0.5, 0.7, 0.3, 0.6, 0.4, 0.8], strict=True)
    ):
        forecast_submit(user=user, question_id=question.pk, probability=p, now=T0 + day * DAY)
    incremental = list(
        AggregatePoint.objects.order_by("at").values_list(
            "at", "median", "geometric_mean_odds", "forecasters"
        )
    )

    rewritten = question_aggregates_rebuild(question_id=question.pk)

    assert rewritten == 0  # nothing differed
    assert len(incremental) == 8 and incremental[-1][3] == 4
