"""A person forecasts on a multiple-choice question: moves the sliders, normalises, submits and
sees the forecast; a vector off 1 is refused beside the field; without JavaScript the numbers
alone do the job."""

from __future__ import annotations

import pytest

from forecasts.models import Forecast, Question, QuestionKind
from tests.factories import QuestionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OPTIONS = ["Lifted", "Narrowed to some users", "Still in force"]


def _question() -> Question:
    return QuestionFactory(
        title="How will the control on Fable 5 end?",
        kind=QuestionKind.MULTIPLE_CHOICE,
        options=OPTIONS,
    )


def _open_signed_in(page, live_server, question: Question) -> None:
    UserFactory(username="ada")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", "ada")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/questions/{question.pk}/")


def _numbers(page) -> list[str]:
    inputs = page.locator("[data-option-input]")
    return [inputs.nth(i).input_value() for i in range(inputs.count())]


def test_move_the_sliders_normalise_submit_and_see_the_forecast(live_server, page) -> None:
    question = _question()
    _open_signed_in(page, live_server, question)
    even = (_numbers(page), page.locator("[data-probability-sum]").inner_text())
    sliders = page.locator("[data-option-slider]")

    for i, per_mille in enumerate(("600", "300", "300")):
        sliders.nth(i).fill(per_mille)  # fires the input event the page listens to
    moved = (page.locator("[data-probability-sum]").inner_text(), _numbers(page))
    warned = page.locator("[data-sum-off]").is_visible()
    page.get_by_role("button", name="Normalise").click()
    normalised = (page.locator("[data-probability-sum]").inner_text(), _numbers(page))
    page.get_by_role("button", name="Submit forecast").click()

    assert even == (["0.334", "0.333", "0.333"], "100.0%")
    assert moved == ("120.0%", ["0.6", "0.3", "0.3"]) and warned
    assert normalised == ("100.0%", ["0.5", "0.25", "0.25"])
    assert "Lifted most likely, at 50.0%" in page.locator(".messages").inner_text()
    history = page.locator("table.history").inner_text()
    assert "50.0%" in history and "25.0%" in history
    forecast = Forecast.objects.get(question=question, user__username="ada")
    assert (forecast.probabilities, forecast.ends_at) == ([0.5, 0.25, 0.25], None)


def test_a_sum_off_one_is_refused_beside_the_field(live_server, page) -> None:
    question = _question()
    _open_signed_in(page, live_server, question)

    for i, number in enumerate(("0.5", "0.3", "0.1")):
        page.locator("[data-option-input]").nth(i).fill(number)
    shown = page.locator("[data-probability-sum]").inner_text()
    page.get_by_role("button", name="Submit forecast").click()

    assert shown == "90.0%"
    errors = page.locator("#probabilities-errors")
    assert "must add up to 1 (they add up to 0.9)" in errors.inner_text()
    assert page.locator("fieldset.options").get_attribute("aria-describedby") == (
        "probabilities-errors"
    )
    assert _numbers(page) == ["0.5", "0.3", "0.1"]
    assert not Forecast.objects.exists()


def test_without_javascript_the_numbers_alone_make_a_forecast(live_server, browser) -> None:
    question = _question()
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    _open_signed_in(page, live_server, question)

    hidden = [
        not page.locator(selector).first.is_visible()
        for selector in ("[data-option-slider]", "[data-sum-line]")
    ]
    for i, number in enumerate(("0.2", "0.3", "0.5")):
        page.locator("[data-option-input]").nth(i).fill(number)
    page.get_by_role("button", name="Submit forecast").click()
    page.wait_for_selector("table.history")
    context.close()

    assert hidden == [True, True]
    forecast = Forecast.objects.get(question=question, user__username="ada")
    assert forecast.probabilities == [0.2, 0.3, 0.5]
