"""The market beside the crowd: its price steps feed the question chart and calibration."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from forecasts.charts import data as chart_data
from forecasts.lifecycle import question_resolve
from forecasts.scores import selectors as score_selectors
from forecasts.services import forecast_submit
from markets.selectors import price_steps
from markets.services import market_create
from tests.factories import T0, QuestionFactory, UserFactory, buy

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _cache():
    cache.clear()
    yield
    cache.clear()


def test_price_steps_start_at_even_odds_and_follow_each_trade(market, trader) -> None:
    yes = buy(trader, market, outcome="yes", shares=40, now=T0 + DAY)
    no = buy(trader, market, outcome="no", shares=15, now=T0 + 2 * DAY)

    steps = price_steps(question_ids=[market.question_id])

    market.refresh_from_db()
    assert [(s[1], s[2]) for s in steps] == [
        (market.created_at, T0 + DAY),
        (T0 + DAY, T0 + 2 * DAY),
        (T0 + 2 * DAY, None),
    ]
    assert [s[3] for s in steps] == pytest.approx([0.5, yes.price_after, 1 - no.price_after])
    assert steps[-1][3] == pytest.approx(market.price_yes)
    assert {s[0] for s in steps} == {market.question_id}
    assert price_steps(question_ids=[]) == []


def test_the_question_chart_draws_the_market_and_its_version_moves_with_a_trade(
    market, trader
) -> None:
    question, now = market.question, T0 + 3 * DAY
    before = chart_data.question_chart_version(question=question, user=None, now=now)

    buy(trader, market, outcome="yes", target_price="0.7", now=T0 + DAY)

    after = chart_data.question_chart_version(question=question, user=None, now=now)
    history = chart_data.question_history_chart(question=question, user=None, now=now).data
    assert before != after
    assert [p for _, p in history.market] == pytest.approx([0.5, 0.7], abs=1e-4)


def _resolved_with_market(ada, outcome: str, price: str, crowd: float):
    """A question that resolves ``outcome``; the market sat at ``price``, ada said ``crowd``."""
    question = QuestionFactory(opens_at=T0, closes_at=T0 + 10 * DAY)
    question.resolves_at = question.closes_at
    question.save()
    market = market_create(question_id=question.pk, b=Decimal(100), now=T0)
    buy(UserFactory(), market, outcome="yes", target_price=price, now=T0)
    forecast_submit(user=ada, question_id=question.pk, probability=crowd, now=T0)
    question_resolve(question_id=question.pk, resolution=outcome, resolved_by=None)
    return question


def test_calibration_compares_the_market_with_the_crowd_on_the_same_questions() -> None:
    now, ada = T0 + 30 * DAY, UserFactory(username="ada")
    _resolved_with_market(ada, "yes", "0.9", crowd=0.6)
    _resolved_with_market(ada, "no", "0.8", crowd=0.3)
    no_market = QuestionFactory(opens_at=T0, closes_at=T0 + 10 * DAY)
    no_market.resolves_at = no_market.closes_at
    no_market.save()
    forecast_submit(user=ada, question_id=no_market.pk, probability=0.5, now=T0)
    question_resolve(question_id=no_market.pk, resolution="yes", resolved_by=None)

    overall = score_selectors.market_calibration(now=now)
    mine = score_selectors.user_market_calibration(user=ada, now=now)
    chart = chart_data.user_calibration_chart(user=ada, now=now)
    crowd_chart = chart_data.crowd_calibration_chart(now=now)

    assert overall.n == mine.n == 2  # the question without a market is not the market's
    filled = [b for b in overall.table if b.n]
    assert [b.mean_forecast for b in filled] == pytest.approx([0.8, 0.9], abs=2e-3)
    assert [b.observed_frequency for b in filled] == [0.0, 1.0]
    assert [s.label for s in chart.data][-1] == "the market, same questions"
    assert sum(r["n"] or 0 for r in chart.rows if r["series"] == "the market") == 2
    assert [s.label for s in crowd_chart.data] == ["the crowd (median)", "the market (price)"]


def test_the_track_record_page_and_the_api_show_the_market_beside_the_crowd() -> None:
    ada = UserFactory(username="ada")
    _resolved_with_market(ada, "yes", "0.9", crowd=0.6)

    page = Client().get(reverse("forecasts:track_record", args=["ada"])).content.decode()
    api = APIClient().get("/api/v1/users/ada/calibration/").json()

    assert "Market, same questions with a market (1)" in page
    assert (api["forecaster"]["n"], api["crowd"]["n"], api["market"]["n"]) == (1, 1, 1)
    assert api["market"]["decomposition"]["brier"] == pytest.approx((1 - 0.9) ** 2, abs=1e-3)
