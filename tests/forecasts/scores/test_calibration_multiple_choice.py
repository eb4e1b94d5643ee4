"""Calibration counts a multiple-choice question one-vs-rest: each option's probability is a
forecast that this option happens, so a question of n options adds n (probability, outcome)
pairs per forecaster, beside each binary question's one P(YES)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from forecasts.charts.registry import Kind, chart
from forecasts.lifecycle import question_resolve
from forecasts.models import AggregatePoint, Question, QuestionKind, Resolution
from forecasts.scores import selectors as score_selectors
from forecasts.services import forecast_submit
from markets.services import market_create
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
NOW = T0 + 400 * DAY


def _question(**fields: object) -> Question:
    return QuestionFactory(
        opens_at=T0, closes_at=T0 + 100 * DAY, resolves_at=T0 + 100 * DAY, **fields
    )


def _three_options(forecasts: dict, option: int = 1) -> Question:
    """A 3-option question: each user's vectors from the given days on, then resolved."""
    question = _question(kind=QuestionKind.MULTIPLE_CHOICE, options=["Lifted", "Kept", "Court"])
    for user, vectors in forecasts.items():
        for day, vector in vectors:
            forecast_submit(
                user=user, question_id=question.pk, probabilities=vector, now=T0 + day * DAY
            )
    question_resolve(
        question_id=question.pk,
        resolution=Resolution.OPTION,
        option=option,
        resolved_by=None,
        now=NOW,
    )
    return question


def _pairs(report: score_selectors.CalibrationReport) -> list[tuple[float, int, int]]:
    """(mean forecast, n, observed YES) of each populated bin."""
    return [(b.mean_forecast, b.n, b.yes_count) for b in report.table if b.n]


def test_one_vector_held_all_period_gives_one_pair_per_option() -> None:
    ada = UserFactory()
    _three_options({ada: [(0, [0.5, 0.3, 0.2])]}, option=1)

    mine, _ = score_selectors.user_calibration(user=ada, now=NOW)

    assert (mine.n, mine.questions) == (3, 1)
    assert _pairs(mine) == [(0.2, 1, 0), (0.3, 1, 1), (0.5, 1, 0)]
    assert mine.decomposition is not None
    assert mine.decomposition.brier == pytest.approx((0.2**2 + 0.7**2 + 0.5**2) / 3)


def test_the_binary_only_filter_leaves_multiple_choice_out() -> None:
    ada = UserFactory()
    _three_options({ada: [(0, [0.5, 0.3, 0.2])]})
    binary = _question()
    forecast_submit(user=ada, question_id=binary.pk, probability=0.7, now=T0)
    question_resolve(question_id=binary.pk, resolution="yes", resolved_by=None, now=NOW)

    every, crowd = score_selectors.user_calibration(user=ada, now=NOW)
    only, only_crowd = score_selectors.user_calibration(user=ada, now=NOW, kinds="binary")

    assert (every.n, every.questions, crowd.n) == (4, 2, 4)
    assert (only.n, only.questions, only_crowd.n) == (1, 1, 1)
    assert _pairs(only) == [(0.7, 1, 1)]


def test_each_option_is_time_weighted_over_the_open_period() -> None:
    ada = UserFactory()
    _three_options({ada: [(0, [0.6, 0.3, 0.1]), (50, [0.2, 0.7, 0.1])]}, option=0)

    mine, _ = score_selectors.user_calibration(user=ada, now=NOW)

    assert [(pytest.approx(f), n, yes) for f, n, yes in _pairs(mine)] == [
        (0.1, 1, 0),
        (0.4, 1, 1),
        (0.5, 1, 0),
    ]


def test_the_crowd_counts_its_median_of_each_option() -> None:
    ada, bob = UserFactory(), UserFactory()
    _three_options({ada: [(0, [0.6, 0.3, 0.1])], bob: [(50, [0.6, 0.3, 0.1])]}, option=2)
    _three_options({ada: [(0, [0.2, 0.2, 0.6])]}, option=2)

    crowd = score_selectors.crowd_calibration(now=NOW)
    binary = score_selectors.crowd_calibration(now=NOW, kinds="binary")

    assert (crowd.n, crowd.questions, binary.n) == (6, 2, 0)
    # The medians are renormalised, so within rounding of the forecasts themselves.
    assert _pairs(crowd) == [
        (pytest.approx(0.1), 1, 1),
        (pytest.approx(0.2), 2, 0),
        (pytest.approx(0.3), 1, 0),
        (pytest.approx(0.6), 2, 1),
    ]


def test_a_crowd_without_medians_yet_leaves_only_the_crowd_out() -> None:
    ada = UserFactory()
    question = _three_options({ada: [(0, [0.5, 0.3, 0.2])]})
    AggregatePoint.objects.filter(question=question).update(medians=None)

    mine, crowd = score_selectors.user_calibration(user=ada, now=NOW)

    assert (mine.n, crowd.n) == (3, 0)


def test_the_market_counts_each_option_price() -> None:
    ada = UserFactory()
    question = _question(kind=QuestionKind.MULTIPLE_CHOICE, options=["A", "B", "C"])
    market_create(question_id=question.pk, b=Decimal(100), now=T0)
    forecast_submit(user=ada, question_id=question.pk, probabilities=[0.5, 0.3, 0.2], now=T0)
    # Written directly: settling a market of options is not wired to the resolution yet, and
    # calibration reads only these fields.
    Question.objects.filter(pk=question.pk).update(
        resolution=Resolution.OPTION, resolved_option=0, resolved_at=NOW
    )

    market = score_selectors.user_market_calibration(user=ada, now=NOW)

    assert [(pytest.approx(f), n, yes) for f, n, yes in _pairs(market)] == [(1 / 3, 3, 1)]


def test_the_api_endpoint_honours_the_filter() -> None:
    ada = UserFactory(username="ada")
    _three_options({ada: [(0, [0.5, 0.3, 0.2])]})
    url = "/api/v1/users/ada/calibration/"

    every = Client().get(url).json()
    binary = Client().get(url, {"kinds": "binary"}).json()
    refused = Client().get(url, {"kinds": "numeric"})

    assert (every["forecaster"]["n"], every["crowd"]["n"]) == (3, 3)
    assert (binary["forecaster"]["n"], binary["crowd"]["n"]) == (0, 0)
    assert refused.status_code == 400 and "kinds" in str(refused.json())


def _counted(url: str, series: str, **query: str) -> int:
    rows = csv.DictReader(io.StringIO(Client().get(url, query).content.decode()))
    return sum(int(r["n"]) for r in rows if r["series"] == series)


def test_the_calibration_charts_honour_the_filter() -> None:
    cache.clear()
    ada = UserFactory(username="ada")
    _three_options({ada: [(0, [0.5, 0.3, 0.2])]})
    mine = chart(Kind.USER, "calibration").url("ada", fmt="csv")
    crowd = chart(Kind.CROWD, "calibration").url(fmt="csv")

    counts = [_counted(mine, "ada"), _counted(mine, "ada", kinds="binary")]
    counts += [_counted(crowd, "the crowd"), _counted(crowd, "the crowd", kinds="binary")]
    refused = Client().get(mine, {"kinds": "numeric"})

    assert counts == [3, 0, 3, 0]
    assert refused.status_code == 404
    cache.clear()
