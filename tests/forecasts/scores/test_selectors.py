from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from forecasts.lifecycle import question_resolve
from forecasts.models import Resolution, ScoreType
from forecasts.scores import selectors as score_selectors
from forecasts.services import forecast_submit
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
NOW = T0 + 400 * DAY


def _resolved(forecasts: dict, outcome: str = Resolution.YES, close_day: int = 100):
    question = QuestionFactory(
        opens_at=T0, closes_at=T0 + close_day * DAY, resolves_at=T0 + close_day * DAY
    )
    for user, p in forecasts.items():
        forecast_submit(user=user, question_id=question.pk, probability=p, now=T0)
    question_resolve(question_id=question.pk, resolution=outcome, resolved_by=None, now=NOW)
    return question


def test_one_lucky_question_does_not_top_a_steady_record() -> None:
    lucky, steady, field = (
        UserFactory(username="lucky"),
        UserFactory(username="steady"),
        UserFactory(),
    )
    _resolved({lucky: 0.99, field: 0.5, steady: 0.8})
    for _ in range(9):
        _resolved({steady: 0.8, field: 0.5})

    board = score_selectors.leaderboard(score_type=ScoreType.PEER)

    assert [r.username for r in board.rows][:2] == ["steady", "lucky"]
    assert board.rows[1].mean > board.rows[0].mean  # lucky's raw mean is higher


def test_brier_ranks_lower_first_and_the_crowd_is_shown_for_reference() -> None:
    good, bad = UserFactory(username="good"), UserFactory(username="bad")
    for _ in range(3):
        _resolved({good: 0.9, bad: 0.2})

    board = score_selectors.leaderboard(score_type=ScoreType.BRIER)

    assert [r.username for r in board.rows] == ["good", "bad"]
    assert board.crowd_questions == 3 and board.crowd_mean is not None


def test_the_leaderboard_filters_by_resolution_period() -> None:
    ada = UserFactory()
    _resolved({ada: 0.9})

    inside = score_selectors.leaderboard(score_type=ScoreType.LOG, since=NOW - DAY)
    outside = score_selectors.leaderboard(score_type=ScoreType.LOG, until=NOW - DAY)

    assert len(inside.rows) == 1 and outside.rows == []


def test_the_leaderboard_takes_two_queries_however_many_forecasters(
    django_assert_num_queries,
) -> None:
    _resolved({UserFactory(): 0.1 * i for i in range(1, 9)})

    with django_assert_num_queries(2):
        board = score_selectors.leaderboard(score_type=ScoreType.PEER)

    assert len(board.rows) == 8


def test_the_track_record_takes_two_queries_however_many_questions(
    django_assert_num_queries,
) -> None:
    ada = UserFactory()
    for _ in range(5):
        _resolved({ada: 0.7, UserFactory(): 0.4})

    with django_assert_num_queries(2):
        record = score_selectors.user_track_record(user=ada)
        titles = [row.question.title for row in record.rows]

    assert len(titles) == 5
    assert record.means["brier"] == pytest.approx(0.09)


def test_calibration_counts_one_time_weighted_forecast_per_question(
    django_assert_num_queries,
) -> None:
    ada = UserFactory()
    question = QuestionFactory(opens_at=T0, closes_at=T0 + 100 * DAY, resolves_at=T0 + 100 * DAY)
    forecast_submit(user=ada, question_id=question.pk, probability=0.2, now=T0)
    forecast_submit(user=ada, question_id=question.pk, probability=0.4, now=T0 + 50 * DAY)
    question_resolve(question_id=question.pk, resolution="no", resolved_by=None, now=NOW)

    with django_assert_num_queries(3):
        mine, crowd = score_selectors.user_calibration(user=ada, now=NOW)

    assert mine.n == 1
    populated = [b for b in mine.table if b.n]
    assert len(populated) == 1 and populated[0].mean_forecast == pytest.approx(0.3)
    assert crowd.n == 1


def test_questions_not_yet_due_are_left_out_of_calibration() -> None:
    ada = UserFactory()
    question = QuestionFactory(opens_at=T0, closes_at=T0 + 100 * DAY, resolves_at=NOW + DAY)
    forecast_submit(user=ada, question_id=question.pk, probability=0.9, now=T0)
    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None, now=NOW)

    mine, _ = score_selectors.user_calibration(user=ada, now=NOW)

    assert mine.n == 0


def test_the_pages_show_the_leaderboard_and_a_track_record() -> None:
    ada = UserFactory(username="ada")
    _resolved({ada: 0.8, UserFactory(): 0.3})
    client = Client()

    board = client.get(reverse("forecasts:leaderboard"), {"score": "brier"})
    record = client.get(reverse("forecasts:track_record", args=["ada"]))

    assert board.status_code == 200 and "ada" in board.text
    assert record.status_code == 200
    assert "0.040" in record.text  # Brier of 0.8 on YES
    assert "Reliability" in record.text


def test_practice_questions_stay_off_the_leaderboard_unless_asked_for() -> None:
    from forecasts.models import PRACTICE_SOURCE_KEY
    from tests.factories import SourceDocumentFactory

    ada = UserFactory(username="ada")
    practice = _resolved({ada: 0.9})
    practice.source = SourceDocumentFactory(key=PRACTICE_SOURCE_KEY)
    practice.save()

    default = score_selectors.leaderboard(score_type=ScoreType.BRIER)
    with_practice = score_selectors.leaderboard(score_type=ScoreType.BRIER, include_practice=True)

    assert default.rows == [] and default.crowd_questions == 0
    assert [r.username for r in with_practice.rows] == ["ada"]


@pytest.mark.parametrize("k", range(1, 10))
def test_a_forecast_of_exactly_k_tenths_counts_in_bin_k_for_the_user_and_the_crowd(k: int) -> None:
    ada = UserFactory()
    question = QuestionFactory(opens_at=T0, closes_at=T0 + 100 * DAY, resolves_at=T0 + 100 * DAY)
    forecast_submit(
        user=ada, question_id=question.pk, probability=float(f"0.{k}"), now=T0 + 30 * DAY
    )
    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None, now=NOW)

    mine, crowd = score_selectors.user_calibration(user=ada, now=NOW)

    assert [b.n for b in mine.table] == [int(i == k) for i in range(10)]
    assert [b.n for b in crowd.table] == [int(i == k) for i in range(10)]


def test_the_calibration_section_says_when_early_resolved_questions_start_counting() -> None:
    ada = UserFactory(username="ada")
    for scheduled in (NOW + 30 * DAY, NOW + 5 * DAY, NOW + 60 * DAY):
        question = QuestionFactory(opens_at=T0, closes_at=T0 + 100 * DAY, resolves_at=scheduled)
        forecast_submit(user=ada, question_id=question.pk, probability=0.7, now=T0)
        question_resolve(question_id=question.pk, resolution="yes", resolved_by=None, now=NOW)

    with time_machine.travel(NOW + DAY, tick=False):
        page = Client().get(reverse("forecasts:track_record", args=["ada"])).text

    assert "No resolved questions with forecasts yet" not in page
    assert "3 scored questions resolved early" in page
    assert ">22 Jul 2027, 12:00 UTC</time>" in page  # NOW + 5 days, the earliest


def test_beside_counted_questions_the_calibration_says_how_many_more_wait() -> None:
    ada = UserFactory(username="ada")
    _resolved({ada: 0.8})
    waiting = QuestionFactory(opens_at=T0, closes_at=T0 + 100 * DAY, resolves_at=NOW + 5 * DAY)
    forecast_submit(user=ada, question_id=waiting.pk, probability=0.7, now=T0)
    question_resolve(question_id=waiting.pk, resolution="no", resolved_by=None, now=NOW)

    with time_machine.travel(NOW + DAY, tick=False):
        page = Client().get(reverse("forecasts:track_record", args=["ada"])).text

    assert 'data-calibration="user"' in page
    assert "1 more scored question resolved early" in page and "It counts from" in page
