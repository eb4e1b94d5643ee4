"""Calibration of distributions: one PIT per forecaster and numeric or date question (the
time-weighted mean of its forecasts' PITs), the crowd's on the same questions, and both per
quarter of resolution time."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest

from forecasts.lifecycle import question_resolve
from forecasts.models import Question
from forecasts.scores.distribution_calibration import user_distribution_calibration
from forecasts.services import forecast_submit
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
NOW = T0 + 400 * DAY
# Uniform over the range: its PIT at an outcome is the outcome's position.
UNIFORM = [j / 200 for j in range(201)]
# F(u) = (u + u^2) / 2 on the grid: at position 0.37, (0.37 + 0.1369) / 2.
CONVEX = [(j / 200 + (j / 200) ** 2) / 2 for j in range(201)]
CONVEX_AT_37 = (0.37 + 0.37**2) / 2


def _numeric(*, resolves_in: int = 100, **fields: Any) -> Question:
    """A numeric question on [0, 100], open for ``resolves_in`` days and due when it closes."""
    return QuestionFactory(
        kind="numeric",
        range_min=0.0,
        range_max=100.0,
        opens_at=T0,
        closes_at=T0 + resolves_in * DAY,
        resolves_at=T0 + resolves_in * DAY,
        **fields,
    )


def _resolve(
    question: Question, value: float | None = None, *, resolution: str = "value", **more: Any
) -> None:
    question_resolve(
        question_id=question.pk,
        resolution=resolution,
        value=value,
        resolved_by=None,
        now=NOW,
        **more,
    )


def _forecast(user: Any, question: Question, cdf: list[float], day: float = 0) -> None:
    forecast_submit(user=user, question_id=question.pk, cdf=cdf, now=T0 + day * DAY)


def test_a_uniform_forecast_has_the_outcome_s_position_as_its_pit() -> None:
    ada = UserFactory()
    question = _numeric()
    _forecast(ada, question, UNIFORM)
    _resolve(question, 37.0)

    mine, _ = user_distribution_calibration(user=ada, now=NOW)

    assert mine.pits == {question.pk: pytest.approx(0.37)}
    assert mine.histogram.counts == (0, 0, 0, 1, 0, 0, 0, 0, 0, 0)
    assert [(c.level, c.inside, c.n) for c in mine.coverage] == [(0.5, 1, 1), (0.8, 1, 1)]


def test_each_question_counts_once_with_the_time_weighted_pit() -> None:
    ada = UserFactory()
    question = _numeric()
    _forecast(ada, question, UNIFORM, day=0)
    _forecast(ada, question, CONVEX, day=50)
    _resolve(question, 37.0)

    mine, _ = user_distribution_calibration(user=ada, now=NOW)

    assert mine.n == 1
    assert mine.pits[question.pk] == pytest.approx((0.37 + CONVEX_AT_37) / 2)


def test_time_without_a_forecast_does_not_count() -> None:
    ada = UserFactory()
    question = _numeric()
    _forecast(ada, question, CONVEX, day=60)
    _resolve(question, 37.0)

    mine, _ = user_distribution_calibration(user=ada, now=NOW)

    assert mine.pits[question.pk] == pytest.approx(CONVEX_AT_37)


def test_the_crowd_s_pit_is_that_of_its_recency_weighted_mean_cdf() -> None:
    ada, bob = UserFactory(), UserFactory()
    question = _numeric()
    _forecast(ada, question, UNIFORM, day=0)
    _forecast(bob, question, CONVEX, day=50)
    _resolve(question, 37.0)

    mine, crowd = user_distribution_calibration(user=ada, now=NOW)

    older = math.exp(1 - math.sqrt(2))  # the older of two forecasts' weight; the newer's is 1
    both = (older * 0.37 + CONVEX_AT_37) / (older + 1)
    assert mine.pits[question.pk] == pytest.approx(0.37)
    assert crowd.pits == {question.pk: pytest.approx((0.37 + both) / 2)}


def test_the_crowd_counts_only_the_user_s_questions() -> None:
    ada, bob = UserFactory(), UserFactory()
    hers, his = _numeric(), _numeric()
    _forecast(ada, hers, UNIFORM)
    _forecast(bob, his, UNIFORM)
    _resolve(hers, 10.0)
    _resolve(his, 90.0)

    _, crowd = user_distribution_calibration(user=ada, now=NOW)

    assert crowd.pits == {hers.pk: pytest.approx(0.1)}


def test_an_outcome_beyond_an_open_bound_has_the_middle_of_the_mass_beyond_it() -> None:
    ada = UserFactory()
    question = _numeric(open_upper_bound=True)
    _forecast(ada, question, [0.9 * u for u in UNIFORM])
    _resolve(question, resolution="above_upper_bound")

    mine, _ = user_distribution_calibration(user=ada, now=NOW)

    assert mine.pits[question.pk] == pytest.approx(0.95)
    assert mine.histogram.counts[9] == 1
    assert [c.inside for c in mine.coverage] == [0, 0]


def test_coverage_counts_the_outcomes_inside_each_central_interval() -> None:
    ada = UserFactory()
    for value in (5.0, 20.0, 50.0, 70.0, 85.0):  # outside, 80 % only, both, both, 80 % only
        question = _numeric()
        _forecast(ada, question, UNIFORM)
        _resolve(question, value)

    mine, crowd = user_distribution_calibration(user=ada, now=NOW)

    assert [(c.inside, c.n) for c in mine.coverage] == [(2, 5), (4, 5)]
    assert mine.coverage[0].share == pytest.approx(0.4)
    assert mine.coverage[0].low < 0.4 < mine.coverage[0].high
    assert mine.histogram.counts == (1, 0, 1, 0, 0, 1, 0, 1, 1, 0)
    assert crowd.histogram.counts == mine.histogram.counts


def test_windows_are_quarters_of_resolution_time_shared_with_the_crowd() -> None:
    ada = UserFactory()
    for days, effective in ((20, T0 + 30 * DAY), (20, T0 + 40 * DAY), (20, T0 + 200 * DAY)):
        question = _numeric(resolves_in=days)
        _forecast(ada, question, UNIFORM)
        _resolve(question, 50.0, effective_at=effective)

    mine, crowd = user_distribution_calibration(user=ada, now=NOW)

    # T0 is 2026-06-12: resolved in July (twice) and late December 2026.
    assert mine.window_labels == crowd.window_labels == ("2026 Q3", "2026 Q4")
    assert [w.n for w in mine.windows] == [w.n for w in crowd.windows] == [2, 1]
    assert [w.enough_data for w in mine.windows] == [False, False]
    assert [c.inside for c in mine.windows[0].coverage] == [2, 2]


def test_questions_not_yet_due_and_other_kinds_are_left_out() -> None:
    ada = UserFactory()
    early = _numeric(resolves_in=300)
    _forecast(ada, early, UNIFORM)
    _resolve(early, 50.0, effective_at=T0 + 10 * DAY)
    annulled = _numeric()
    _forecast(ada, annulled, UNIFORM)
    _resolve(annulled, resolution="annulled")
    binary = QuestionFactory(closes_at=T0 + 10 * DAY, resolves_at=T0 + 10 * DAY)
    forecast_submit(user=ada, question_id=binary.pk, probability=0.3, now=T0)
    _resolve(binary, resolution="yes")

    mine, crowd = user_distribution_calibration(user=ada, now=T0 + 200 * DAY)
    later, _ = user_distribution_calibration(user=ada, now=T0 + 300 * DAY)

    assert (mine.n, crowd.n, mine.windows, mine.window_labels) == (0, 0, (), ())
    assert list(later.pits) == [early.pk]


def test_it_reads_the_forecasts_and_the_crowd_in_two_queries(
    django_assert_num_queries: Any,
) -> None:
    ada, bob = UserFactory(), UserFactory()
    for value in (10.0, 60.0, 80.0):
        question = _numeric()
        _forecast(ada, question, UNIFORM)
        _forecast(bob, question, CONVEX, day=5)
        _forecast(ada, question, CONVEX, day=10)
        _resolve(question, value)

    with django_assert_num_queries(2):
        mine, crowd = user_distribution_calibration(user=ada, now=NOW)

    assert (mine.n, crowd.n) == (3, 3)
