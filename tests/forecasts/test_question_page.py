"""The question page: your forecast and the crowd first, forms answered in place with htmx
(the full page without JavaScript), and the crowd's histogram under the crowd's privacy rule."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from forecasts.histogram import bin_counts
from forecasts.lifecycle import question_resolve
from forecasts.models import Forecast
from forecasts.services import forecast_submit
from tests.factories import T0, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = T0 + dt.timedelta(days=3, minutes=30)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _detail(question) -> str:
    return reverse("forecasts:question_detail", args=[question.pk])


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _forecasts(question, probabilities, *, at=T0 + dt.timedelta(days=1)) -> None:
    for p in probabilities:
        forecast_submit(user=UserFactory(), question_id=question.pk, probability=p, now=at)


def test_the_forecast_form_comes_before_the_passage_and_the_dates() -> None:
    question = QuestionFactory()

    html = _client(UserFactory()).get(_detail(question)).content.decode()

    form, crowd = html.index('id="forecast-panel"'), html.index('id="crowd"')
    assert form < crowd < html.index("The passage it came from") < html.index("Dates (UTC)")


def test_a_refused_forecast_with_htmx_answers_the_panel_with_the_error_beside_the_field() -> None:
    question = QuestionFactory()

    response = _client(UserFactory()).post(_detail(question), {"probability": "1.5"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 400
    assert "<html" not in html and 'id="forecast-panel"' in html
    assert 'id="probability-errors"' in html and not Forecast.objects.exists()


def test_a_forecast_with_htmx_updates_the_panel_the_crowd_and_the_history_in_place() -> None:
    question, user = QuestionFactory(), UserFactory()

    response = _client(user).post(_detail(question), {"probability": "0.62"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Forecast saved: 62.0% YES." in html and "Update forecast" in html
    assert 'id="crowd"' in html and 'id="your-history" hx-swap-oob="true"' in html
    assert Forecast.objects.get(user=user).probability == 0.62


def test_without_htmx_a_forecast_is_redirected_back_as_before() -> None:
    question = QuestionFactory()

    response = _client(UserFactory()).post(_detail(question), {"probability": "0.62"})

    assert response.status_code == 302 and response["Location"] == _detail(question)


def test_withdrawing_with_htmx_answers_the_panel() -> None:
    question, user = QuestionFactory(), UserFactory()
    forecast_submit(user=user, question_id=question.pk, probability=0.4)
    url = reverse("forecasts:forecast_withdraw", args=[question.pk])

    response = _client(user).post(url, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200 and "Your forecast is withdrawn" in html
    assert "Submit forecast" in html and Forecast.objects.get(user=user).ends_at is not None


def test_an_anonymous_forecast_with_htmx_is_sent_to_log_in() -> None:
    question = QuestionFactory()

    response = Client().post(_detail(question), {"probability": "0.5"}, **HTMX)

    assert response["HX-Redirect"].startswith(reverse("login"))
    assert not Forecast.objects.exists()


def test_bins_are_tenths_closed_at_the_top() -> None:
    assert bin_counts([0.0, 0.05, 0.1, 0.3, 0.999, 1.0]) == [2, 1, 0, 1, 0, 0, 0, 0, 0, 2]


def test_the_histogram_is_hidden_while_the_crowd_is(settings) -> None:
    settings.CROWD_MIN_FORECASTERS = 5
    question = QuestionFactory()
    _forecasts(question, [0.1, 0.2, 0.3, 0.4])

    html = Client().get(_detail(question)).content.decode()

    assert "data-crowd-histogram" not in html and "data-crowd-median" not in html


def test_the_histogram_counts_the_forecasts_the_median_is_of(settings) -> None:
    settings.CROWD_MIN_FORECASTERS = 5
    question = QuestionFactory()
    _forecasts(question, [0.15, 0.15, 0.35, 0.72, 0.95])
    _forecasts(question, [0.55], at=NOW)  # after the last whole hour: not yet shown

    response = Client().get(_detail(question))

    histogram = response.context["histogram"]
    assert [bar.count for bar in histogram.bars] == [0, 2, 0, 1, 0, 0, 0, 1, 0, 1]
    assert histogram.total == response.context["crowd"].forecasters == 5


def test_once_scored_the_histogram_is_of_the_forecasts_at_the_end(settings) -> None:
    settings.CROWD_MIN_FORECASTERS = 5
    question = QuestionFactory()
    _forecasts(question, [0.15, 0.85])
    question_resolve(question_id=question.pk, resolution="yes", resolved_by=None, now=NOW)

    html = Client().get(_detail(question)).content.decode()

    assert "data-crowd-histogram" in html and "The 2 forecasts standing at the end" in html
