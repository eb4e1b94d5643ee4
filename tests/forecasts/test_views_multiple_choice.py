"""The web pages of a multiple-choice question: the forecast form (a row per option), the
crowd per option within the privacy rule, the lists, and the staff resolution page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from forecasts.models import AggregatePoint, Forecast, Question, QuestionKind, Resolution
from tests.factories import ForecastFactory, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
OPTIONS = ["Lifted", "Narrowed", "Still in force"]


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def _question(**fields: object) -> Question:
    return QuestionFactory(kind=QuestionKind.MULTIPLE_CHOICE, options=OPTIONS, **fields)


def _crowd(question: Question, medians: list[float], forecasters: int) -> None:
    """The crowd as its history records it, two hours ago (so before the last step end)."""
    AggregatePoint.objects.create(
        question=question,
        at=TODAY - dt.timedelta(hours=2),
        medians=medians,
        geometric_means=medians,
        forecasters=forecasters,
    )
    Question.objects.filter(pk=question.pk).update(
        crowd_medians=medians, crowd_forecasters=forecasters
    )


def _detail(question: Question) -> str:
    return reverse("forecasts:question_detail", args=[question.pk])


def _numbers(page: str) -> list[str]:
    """The numbers in the form's rows, in order."""
    return re.findall(r'name="probabilities" id="id_probabilities_\d" value="([^"]*)"', page)


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_form_has_a_labelled_number_and_slider_per_option_with_the_crowd_beside() -> None:
    question = _question()
    _crowd(question, [0.5, 0.3, 0.2], forecasters=5)

    page = _logged_in(UserFactory()).get(_detail(question)).text

    for i, label in enumerate(OPTIONS):
        assert f'<label for="id_probabilities_{i}">{label}</label>' in page
        assert f'id="id_probabilities_{i}"' in page
    assert page.count('name="probabilities"') == 3 and page.count("data-option-slider") == 3
    assert re.findall(r"data-option-crowd>crowd ([\d.]+%)", page) == ["50.0%", "30.0%", "20.0%"]
    assert "data-normalise" in page and "options.js" in page


def test_a_crowd_below_the_minimum_is_shown_neither_beside_the_form_nor_in_the_panel() -> None:
    question = _question()
    _crowd(question, [0.5, 0.3, 0.2], forecasters=2)

    page = _logged_in(UserFactory()).get(_detail(question)).text

    assert "data-option-crowd" not in page and "data-crowd-medians" not in page
    assert "data-crowd-withheld" in page and "50.0%" not in page


def test_the_panel_shows_the_crowd_of_each_option() -> None:
    question = _question()
    _crowd(question, [0.5, 0.3, 0.2], forecasters=6)

    page = Client().get(_detail(question)).text

    panel = page[page.index("data-crowd-medians") :]
    assert re.findall(r"data-option-median>([\d.]+%)", panel) == ["50.0%", "30.0%", "20.0%"]
    assert all(label in panel for label in OPTIONS)


def test_submitting_a_vector_records_it() -> None:
    question, user = _question(), UserFactory()

    response = _logged_in(user).post(
        _detail(question),
        {"probabilities": ["0.2", "0.3", "0.5"], "rationale": "Courts."},
        follow=True,
    )

    assert response.redirect_chain == [(_detail(question), 302)]
    assert "Still in force most likely, at 50.0%" in response.text
    forecast = Forecast.objects.get(question=question, user=user)
    assert (forecast.probabilities, forecast.probability) == ([0.2, 0.3, 0.5], None)


@pytest.mark.parametrize(
    ("numbers", "message"),
    [
        (["0.5", "0.3", "0.1"], "must add up to 1 (they add up to 0.9)"),
        (["0.5", "", "0.5"], "none for: Narrowed"),
        (["0.5", "0.5"], "Give 3 probabilities"),
        (["0.5", "abc", "0.5"], "Probability 2 is not a number"),
        ([], "Give a probability for each option"),
    ],
)
def test_a_bad_vector_is_refused_next_to_the_field_and_nothing_is_written(
    numbers: list[str], message: str
) -> None:
    question = _question()
    standing = ForecastFactory(question=question, probability=None, probabilities=[0.4, 0.4, 0.2])

    response = _logged_in(standing.user).post(_detail(question), {"probabilities": numbers})

    assert response.status_code == 400
    errors = re.search(r'id="probabilities-errors">(.*?)</div>', response.text, re.S)
    assert errors and message in errors.group(1)
    assert list(Forecast.objects.values_list("probabilities", "ends_at")) == [
        ([0.4, 0.4, 0.2], None)
    ]


def test_the_numbers_typed_stay_in_the_rows_after_a_refusal() -> None:
    question = _question()

    response = _logged_in(UserFactory()).post(
        _detail(question), {"probabilities": ["0.5", "0.3", "0.1"]}
    )

    assert _numbers(response.text) == ["0.5", "0.3", "0.1"]


def test_the_standing_forecast_fills_the_rows_and_the_history_shows_each_option() -> None:
    question = _question()
    standing = ForecastFactory(question=question, probability=None, probabilities=[0.6, 0.3, 0.1])

    page = _logged_in(standing.user).get(_detail(question)).text

    assert _numbers(page) == ["0.6", "0.3", "0.1"]
    history = page[page.index('<table class="history">') :]
    assert all(f'<th scope="col" class="num">{label}</th>' in history for label in OPTIONS)
    assert re.findall(r'<td class="num">([\d.]+%)</td>', history)[:3] == ["60.0%", "30.0%", "10.0%"]
    assert "Update forecast" in page


def test_a_resolved_question_names_its_option_and_shows_the_whole_crowd() -> None:
    question = _question(
        closes_at=TODAY - dt.timedelta(days=2), resolves_at=TODAY - dt.timedelta(days=1)
    )
    _crowd(question, [0.5, 0.3, 0.2], forecasters=2)  # fewer than the minimum: public once scored
    Question.objects.filter(pk=question.pk).update(
        resolution=Resolution.OPTION, resolved_option=1, resolved_at=TODAY - dt.timedelta(days=1)
    )

    page = Client().get(_detail(question)).text

    assert "Resolved: Narrowed" in page
    assert re.findall(r"data-option-median>([\d.]+%)", page) == ["50.0%", "30.0%", "20.0%"]
    assert "Geometric mean" in page and 'class="happened"' in page


def test_the_list_shows_the_leading_option_of_the_public_crowd() -> None:
    shown, withheld = _question(title="Shown?"), _question(title="Withheld?")
    _crowd(shown, [0.2, 0.5, 0.3], forecasters=5)
    _crowd(withheld, [0.2, 0.5, 0.3], forecasters=2)

    page = Client().get(reverse("forecasts:question_list")).text

    leads = re.findall(r"data-crowd-lead>(.*?)</span>", page)
    assert leads == ["Narrowed <strong>50.0%</strong>"]
    assert page.count("3 options") == 2


def test_my_forecasts_shows_the_top_option_of_my_latest_forecast() -> None:
    standing = ForecastFactory(
        question=_question(), probability=None, probabilities=[0.1, 0.2, 0.7]
    )

    page = _logged_in(standing.user).get(reverse("forecasts:my_forecasts")).text

    assert "data-forecast-lead>Still in force 70.0%<" in page


# --- staff resolution ---------------------------------------------------------------------


def _resolve_url(question: Question) -> str:
    return reverse("forecasts:staff_resolve", args=[question.pk])


def test_the_staff_page_offers_each_option_with_its_label_and_no_yes_or_no() -> None:
    question = _question()

    page = _logged_in(UserFactory(is_staff=True)).get(_resolve_url(question)).text

    radios = re.findall(
        r'<label for="(id_resolution_\d)"><input type="radio" name="resolution" value="([^"]+)"'
        r'[^>]*id="\1"[^>]*>\s*([^<]+)</label>',
        page,
    )
    assert [(value, label.strip()) for _, value, label in radios] == [
        ("option-0", "Lifted"),
        ("option-1", "Narrowed"),
        ("option-2", "Still in force"),
        ("annulled", "Annulled"),
        ("ambiguous", "Ambiguous"),
    ]


def test_a_binary_question_is_not_offered_an_option() -> None:
    page = _logged_in(UserFactory(is_staff=True)).get(_resolve_url(QuestionFactory())).text

    values = re.findall(r'name="resolution" value="([^"]+)"', page)
    assert values == ["yes", "no", "annulled", "ambiguous"]


def test_staff_resolve_a_multiple_choice_question_to_an_option() -> None:
    question = _question(
        closes_at=TODAY - dt.timedelta(days=2), resolves_at=TODAY - dt.timedelta(days=1)
    )
    client = _logged_in(UserFactory(is_staff=True))

    response = client.post(_resolve_url(question), {"resolution": "option-2"}, follow=True)

    question.refresh_from_db()
    assert (question.resolution, question.resolved_option) == (Resolution.OPTION, 2)
    assert "Resolved: Still in force." in response.text


@pytest.mark.parametrize("bad", ["option-3", "yes", "option-x"])
def test_staff_cannot_resolve_to_an_option_the_question_lacks(bad: str) -> None:
    question = _question(
        closes_at=TODAY - dt.timedelta(days=2), resolves_at=TODAY - dt.timedelta(days=1)
    )

    response = _logged_in(UserFactory(is_staff=True)).post(
        _resolve_url(question), {"resolution": bad}
    )

    assert response.status_code == 400 and "Resolution:" in response.text
    question.refresh_from_db()
    assert question.resolution == ""
