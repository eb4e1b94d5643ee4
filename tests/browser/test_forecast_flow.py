"""A person signs up, opens a question, moves the slider, submits and sees their history."""

from __future__ import annotations

import re

import pytest

from forecasts.models import Forecast
from tests.factories import QuestionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_move_the_slider_submit_and_see_the_history(live_server, page) -> None:
    question = QuestionFactory(title="Will the control on Fable 5 be lifted by 2027?")

    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("#id_username", "ada")
    page.fill("#id_email", "ada@example.org")
    page.fill("#id_password1", "a-long-pass-phrase-9")
    page.fill("#id_password2", "a-long-pass-phrase-9")
    page.click("button[type=submit]")
    page.get_by_role("link", name=question.title).click()
    slider = page.locator("[data-probability-slider]")
    slider.fill("730")  # per mille; fires the input event the page listens to
    readout = page.locator("[data-probability-readout]").inner_text()
    number = page.locator("[data-probability-input]").input_value()
    page.get_by_role("button", name="Submit forecast").click()

    assert (readout, number) == ("73.0%", "0.73")
    page.wait_for_selector("table.history")
    assert re.search(r"73\.0%", page.locator("table.history").inner_text())
    assert "Forecast saved" in page.locator(".messages").inner_text()
    forecast = Forecast.objects.get(question=question, user__username="ada")
    assert forecast.probability == 0.73 and forecast.ends_at is None


def test_a_bad_number_is_refused_on_the_page_with_the_field_named(live_server, page) -> None:
    from tests.factories import UserFactory

    question = QuestionFactory()
    UserFactory(username="bo")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", "bo")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/questions/{question.pk}/")

    page.fill("[data-probability-input]", "1.5")
    page.get_by_role("button", name="Submit forecast").click()

    assert "Probability:" in page.locator("#probability-errors").inner_text()
    assert not Forecast.objects.exists()
