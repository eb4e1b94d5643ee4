"""The web pages of numeric and date questions: the quantile form without JavaScript (values
kept and refusals beside their field), the preview of a distribution, the range, the crowd's
median and 80% interval within the privacy rule, the resolution, and the list."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from forecasts.maths.continuous import CDF_POINTS
from forecasts.maths.quantiles import cdf_from_quantiles
from forecasts.models import AggregatePoint, Forecast, Question, Resolution
from forecasts.services import forecast_submit
from tests.factories import QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 29, 12, 30, tzinfo=dt.UTC)  # the last step end: 12:00
UNIFORM = np.linspace(0.0, 1.0, CDF_POINTS).tolist()  # 10th, 50th, 90th: 10, 50, 90 of 0-100


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def _numeric(**fields: Any) -> Question:
    defaults: dict[str, Any] = {"kind": "numeric", "range_min": 0.0, "range_max": 100.0}
    return QuestionFactory(**{**defaults, "unit": "$bn", **fields})


def _epoch(day: str) -> float:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp()


def _date(**fields: Any) -> Question:
    return QuestionFactory(
        kind="date",
        range_min=_epoch("2026-06-12"),
        range_max=_epoch("2027-06-30"),
        open_upper_bound=True,
        **fields,
    )


def _detail(question: Question) -> str:
    return reverse("forecasts:question_detail", args=[question.pk])


def _preview(question: Question) -> str:
    return reverse("forecasts:distribution_preview", args=[question.pk])


def _logged_in(user=None) -> Client:
    client = Client()
    client.force_login(user or UserFactory())
    return client


def _inputs(page: str) -> dict[str, tuple[str, str]]:
    """Each quantile input's type and value, by name."""
    found = re.findall(r'<input type="(\w+)" name="(q\d\d)"([^>]*)>', page)
    values = {name: re.search(r'value="([^"]*)"', rest) for _, name, rest in found}
    return {name: (kind, values[name].group(1) if values[name] else "") for kind, name, _ in found}


def _field_errors(page: str, name: str) -> str:
    found = re.search(rf'id="{name}-errors">(.*?)</div>', page, re.S)
    return found.group(1) if found else ""


def _crowd(question: Question, cdf: list[float], forecasters: int, at: dt.datetime) -> None:
    AggregatePoint.objects.create(question=question, at=at, cdf=cdf, forecasters=forecasters)
    Question.objects.filter(pk=question.pk).update(crowd_cdf=cdf, crowd_forecasters=forecasters)


# --- the form -------------------------------------------------------------------------------


def test_a_numeric_question_asks_for_five_percentiles_in_its_unit_and_has_no_market() -> None:
    page = _logged_in().get(_detail(_numeric())).text

    assert _inputs(page) == {name: ("number", "") for name in ("q10", "q25", "q50", "q75", "q90")}
    assert page.count('<span class="unit"') == 5 and "$bn</span>" in page
    assert "data-preview-url" in page and "forecasts/distribution.js" in page
    assert "data-no-market" not in page and "The market" not in page


def test_a_date_question_asks_for_dates() -> None:
    page = _logged_in().get(_detail(_date())).text

    assert {kind for kind, _ in _inputs(page).values()} == {"date"}
    assert "Your distribution (dates, UTC)" in page


def test_submitting_quantiles_without_javascript_records_their_distribution() -> None:
    question, user = _numeric(open_upper_bound=True), UserFactory()

    response = _logged_in(user).post(
        _detail(question), {"q10": "20", "q50": "40", "q90": "70.5", "rationale": "Trend."}
    )

    assert response.status_code == 302
    forecast = Forecast.objects.get(question=question, user=user)
    assert forecast.quantiles == {"0.1": 20.0, "0.5": 40.0, "0.9": 70.5}
    expected = cdf_from_quantiles({0.1: 20.0, 0.5: 40.0, 0.9: 70.5}, question.scale)
    assert forecast.cdf == pytest.approx(expected.tolist(), abs=1e-12)
    assert forecast.rationale == "Trend."


def test_a_date_forecast_takes_days() -> None:
    question, user = _date(), UserFactory()

    _logged_in(user).post(_detail(question), {"q10": "2026-08-01", "q90": "2027-03-01"})

    forecast = Forecast.objects.get(question=question, user=user)
    assert forecast.quantiles == {"0.1": _epoch("2026-08-01"), "0.9": _epoch("2027-03-01")}


def test_the_saved_message_and_the_history_give_the_median_and_the_interval() -> None:
    question, user = _numeric(), UserFactory()
    forecast_submit(user=user, question_id=question.pk, cdf=UNIFORM)

    page = _logged_in(user).post(_detail(question), {"q10": "10", "q90": "90"}, follow=True).text

    saved = re.search(r'class="message success">(.*?)</li>', page)
    assert saved and saved.group(1).startswith("Forecast saved: median 50 $bn, 80% between 1")
    history = page[page.index('<table class="history">') :]
    assert '<th scope="col">80% interval</th>' in history
    rows = re.findall(r"data-own-median>(.*?)</td><td>(.*?)</td>", history)
    assert rows[1] == ("50 $bn", "10 $bn to 90 $bn")  # the uniform one, ended


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"q10": "20", "q90": "150"}, "q90", "Above the range, which ends at 100 $bn"),
        ({"q10": "-1", "q90": "50"}, "q10", "Below the range, which starts at 0 $bn"),
        ({"q10": "50", "q50": "40"}, "q50", "Must be higher than the 10th percentile (50 $bn)"),
        ({"q10": "abc", "q90": "50"}, "q10", "Enter a finite number."),
        ({"q10": "nan", "q90": "50"}, "q10", "Enter a finite number."),
    ],
)
def test_a_bad_quantile_is_refused_beside_its_field_with_the_values_kept(
    typed: dict[str, str], field: str, message: str
) -> None:
    question = _numeric()

    response = _logged_in().post(_detail(question), typed)

    assert response.status_code == 400
    assert message in _field_errors(response.text, field)
    inputs = _inputs(response.text)
    assert {name: inputs[name][1] for name in typed} == typed
    assert not Forecast.objects.exists()


def test_fewer_than_two_quantiles_are_refused_above_the_fields() -> None:
    question = _numeric()

    response = _logged_in().post(_detail(question), {"q50": "40"})

    assert response.status_code == 400
    assert "Give at least two quantiles" in _field_errors(response.text, "quantiles")
    assert _inputs(response.text)["q50"] == ("number", "40")
    assert not Forecast.objects.exists()


def test_a_refusal_of_the_maths_naming_a_quantile_is_shown_beside_it() -> None:
    question = _numeric(range_min=1.0, range_max=1000.0, log_scale=True, open_lower_bound=True)

    response = _logged_in().post(_detail(question), {"q10": "-5", "q90": "50"})

    assert response.status_code == 400
    assert "a value on a log scale must be above 0" in _field_errors(response.text, "q10")


def test_a_date_out_of_the_range_is_named_as_a_date() -> None:
    question = _date()

    response = _logged_in().post(_detail(question), {"q10": "2026-01-01", "q90": "2027-01-01"})

    assert "Before the range, which starts at 2026-06-12" in _field_errors(response.text, "q10")


def test_the_standing_forecast_fills_the_fields_it_was_given_as() -> None:
    question, user = _numeric(open_upper_bound=True), UserFactory()
    forecast_submit(user=user, question_id=question.pk, quantiles={0.1: 20.0, 0.5: 40.0, 0.9: 70.5})

    page = _logged_in(user).get(_detail(question)).text

    values = {name: value for name, (_, value) in _inputs(page).items()}
    assert values == {"q10": "20", "q25": "", "q50": "40", "q75": "", "q90": "70.5"}
    assert "Update forecast" in page


def test_a_forecast_given_as_a_cdf_fills_the_fields_with_its_quantiles() -> None:
    question, user = _numeric(), UserFactory()
    forecast_submit(user=user, question_id=question.pk, cdf=UNIFORM)

    page = _logged_in(user).get(_detail(question)).text

    values = [value for _, value in _inputs(page).values()]
    assert values == ["10", "25", "50", "75", "90"]


def test_a_date_forecast_fills_the_fields_with_days() -> None:
    question, user = _date(), UserFactory()
    quantiles = {0.1: _epoch("2026-08-01"), 0.9: _epoch("2027-03-01")}
    forecast_submit(user=user, question_id=question.pk, quantiles=quantiles)

    page = _logged_in(user).get(_detail(question)).text

    assert _inputs(page)["q10"] == ("date", "2026-08-01")
    assert _inputs(page)["q90"] == ("date", "2027-03-01")


# --- the preview ----------------------------------------------------------------------------


def test_the_preview_is_the_cdf_the_forecast_would_be() -> None:
    question = _numeric(open_upper_bound=True)

    response = Client().get(_preview(question), {"q10": "20", "q50": "40", "q90": "70.5"})

    assert response.status_code == 200
    body = response.json()
    expected = cdf_from_quantiles({0.1: 20.0, 0.5: 40.0, 0.9: 70.5}, question.scale)
    assert body["cdf"] == pytest.approx(expected.tolist(), abs=1e-8)
    assert body["quantiles"] == [
        {"level": 0.1, "position": 0.2},
        {"level": 0.5, "position": 0.4},
        {"level": 0.9, "position": pytest.approx(0.705)},
    ]
    assert [tick["label"] for tick in body["axis"]] == ["0", "25", "50", "75", "100"]
    assert (body["open_lower_bound"], body["open_upper_bound"]) == (False, True)
    assert set(body["summary"]) == {"low", "median", "high"}
    assert not Forecast.objects.exists()


def test_the_preview_of_a_uniform_forecast_names_its_median_and_interval() -> None:
    question = _numeric()

    body = Client().get(_preview(question), {"q10": "10", "q50": "50", "q90": "90"}).json()

    assert body["summary"]["median"] == "50 $bn"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"q10": "20", "q90": "150"}, "q90", "Above the range"),
        ({"q10": "nan", "q90": "50"}, "q10", "Enter a finite number."),
        ({"q10": "1e400", "q90": "50"}, "q10", "Enter a finite number."),
        ({"q50": "40"}, "quantiles", "Give at least two quantiles"),
        ({}, "quantiles", "Give at least two quantiles"),
        ({"q10": "x" * 200, "q90": "50"}, "q10", "at most 100 characters"),
    ],
)
def test_a_bad_preview_is_a_400_naming_the_field(
    query: dict[str, str], field: str, message: str
) -> None:
    question = _numeric()

    response = Client().get(_preview(question), query)

    assert response.status_code == 400
    body = response.json()
    assert field in body["message"] and any(message in m for m in body["errors"][field])


def test_a_bad_date_preview_is_a_400() -> None:
    response = Client().get(_preview(_date()), {"q10": "2026-13-45", "q90": "2027-01-01"})

    assert response.status_code == 400
    assert "ISO 8601" in response.json()["errors"]["q10"][0]


def test_only_a_numeric_or_date_question_has_a_preview() -> None:
    binary = QuestionFactory()

    responses = [
        Client().get(_preview(binary), {"q10": "1", "q90": "2"}),
        Client().get(reverse("forecasts:distribution_preview", args=[binary.pk + 99])),
        Client().post(_preview(_numeric()), {"q10": "1", "q90": "2"}),
    ]

    assert [r.status_code for r in responses] == [404, 404, 405]


# --- the page: range, crowd, resolution -----------------------------------------------------


def test_the_page_names_the_range_and_its_bounds() -> None:
    page = Client().get(_detail(_numeric(open_upper_bound=True))).text

    section = page[page.index("data-range") : page.index("</section>", page.index("data-range"))]
    assert "<strong>0 $bn</strong> · closed: the outcome cannot be below it" in section
    assert "<strong>100 $bn</strong> · open: the outcome may be above it" in section


def test_the_crowd_shows_its_median_and_80_percent_interval_once_enough_forecasts_stand() -> None:
    question = _numeric()
    _crowd(question, UNIFORM, forecasters=5, at=TODAY - dt.timedelta(hours=2))

    page = Client().get(_detail(question)).text

    assert re.search(r"data-crowd-median>50 \$bn<", page)
    assert "80% between <strong>10 $bn</strong> and <strong>90 $bn</strong>" in page
    assert 'data-chart="fan"' in page


def test_a_crowd_beyond_an_open_bound_is_named_so() -> None:
    question = _numeric(open_upper_bound=True)
    _crowd(question, (0.8 * np.array(UNIFORM)).tolist(), 5, at=TODAY - dt.timedelta(hours=2))

    page = Client().get(_detail(question)).text

    assert "and <strong>above 100 $bn</strong>" in page


@pytest.mark.parametrize(
    ("forecasters", "ago"),
    [(2, dt.timedelta(hours=2)), (5, dt.timedelta(minutes=20))],
    ids=["too-few", "after-the-last-step-end"],
)
def test_the_crowd_is_withheld_as_the_binary_one_is(forecasters: int, ago: dt.timedelta) -> None:
    question = _numeric()
    _crowd(question, UNIFORM, forecasters=forecasters, at=TODAY - ago)

    page = _logged_in().get(_detail(question)).text

    assert "data-crowd-median" not in page and "50 $bn" not in page
    assert "data-crowd-withheld" in page


def test_once_scored_the_whole_crowd_is_public_and_the_value_is_named() -> None:
    question = _numeric(
        closes_at=TODAY - dt.timedelta(days=2), resolves_at=TODAY - dt.timedelta(days=1)
    )
    _crowd(question, UNIFORM, forecasters=2, at=TODAY - dt.timedelta(days=3))
    Question.objects.filter(pk=question.pk).update(
        resolution=Resolution.VALUE, resolved_value=43.2, resolved_at=TODAY - dt.timedelta(days=1)
    )

    page = Client().get(_detail(question)).text

    assert re.search(r"data-resolution>Resolved: 43.2 \$bn<", page)
    assert re.search(r"data-crowd-median>50 \$bn<", page)


def test_an_outcome_beyond_an_open_bound_names_the_bound() -> None:
    question = _numeric(
        open_upper_bound=True,
        closes_at=TODAY - dt.timedelta(days=2),
        resolves_at=TODAY - dt.timedelta(days=1),
    )
    Question.objects.filter(pk=question.pk).update(
        resolution=Resolution.ABOVE, resolved_at=TODAY - dt.timedelta(days=1)
    )

    page = Client().get(_detail(question)).text

    assert re.search(r"data-resolution>Resolved: above the range, over 100 \$bn<", page)


def test_a_date_question_resolved_names_the_day() -> None:
    question = _date(
        closes_at=TODAY - dt.timedelta(days=2), resolves_at=TODAY - dt.timedelta(days=1)
    )
    Question.objects.filter(pk=question.pk).update(
        resolution=Resolution.VALUE,
        resolved_value=_epoch("2026-10-01"),
        resolved_at=TODAY - dt.timedelta(days=1),
    )

    page = Client().get(_detail(question)).text

    assert re.search(r"data-resolution>Resolved: 2026-10-01<", page)


def test_the_list_shows_the_public_crowd_median_in_units() -> None:
    shown, withheld = _numeric(title="Shown?"), _numeric(title="Withheld?")
    _crowd(shown, UNIFORM, forecasters=5, at=TODAY - dt.timedelta(hours=2))
    _crowd(withheld, UNIFORM, forecasters=2, at=TODAY - dt.timedelta(hours=2))

    page = Client().get(reverse("forecasts:question_list")).text

    assert re.findall(r"data-crowd-value>(.*?)</strong>", page) == ["50 $bn"]
    assert page.count('<span class="badge">numeric</span>') == 2
