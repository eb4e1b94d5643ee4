from __future__ import annotations

import datetime as dt

import pytest

from forecasts.models import QuestionStatus, Resolution
from tests.factories import T0, QuestionFactory

DAY = dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (T0 - DAY, QuestionStatus.UPCOMING),
        (T0, QuestionStatus.OPEN),
        (T0 + 365 * DAY, QuestionStatus.CLOSED),
        (T0 + 366 * DAY, QuestionStatus.AWAITING),
    ],
)
def test_status_follows_the_dates(moment: dt.datetime, expected: QuestionStatus) -> None:
    question = QuestionFactory.build()

    assert question.status(moment) == expected


def test_a_resolution_wins_over_the_dates() -> None:
    question = QuestionFactory.build(resolution=Resolution.NO)

    assert question.status(T0 + DAY) == QuestionStatus.RESOLVED


def test_a_recorded_close_ends_forecasting_even_before_closes_at() -> None:
    question = QuestionFactory.build(closed_at=T0 + DAY)

    assert question.status(T0 + 2 * DAY) == QuestionStatus.CLOSED
    assert not question.is_open_for_forecasts(T0 + 2 * DAY)
