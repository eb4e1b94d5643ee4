"""A person forecasts a numeric and a date question: sets percentiles, sees the density and the
CDF drawn from the server's distribution as they type, submits, and sees their forecast beside
the crowd's; a refusal shows beside its field."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from forecasts.maths.continuous import CDF_POINTS
from forecasts.models import Forecast, Question
from forecasts.services import forecast_submit
from tests.factories import QuestionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNIFORM = np.linspace(0.0, 1.0, CDF_POINTS)


def _epoch(day: str) -> float:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp()


def _numeric() -> Question:
    return QuestionFactory(
        title="What will Fable's revenue be in 2027?",
        kind="numeric",
        range_min=0.0,
        range_max=100.0,
        open_upper_bound=True,
        unit="$bn",
    )


def _date() -> Question:
    return QuestionFactory(
        title="When will the export control on Fable 5 be lifted?",
        kind="date",
        range_min=_epoch("2026-06-12"),
        range_max=_epoch("2027-06-30"),
        open_upper_bound=True,
    )


def _crowd_of_five(question: Question) -> None:
    """Five forecasts standing since two hours ago: the crowd is shown."""
    two_hours_ago = timezone.now() - dt.timedelta(hours=2)
    for i in range(5):
        cdf = (0.9 * UNIFORM).tolist() if i % 2 else (0.8 * UNIFORM).tolist()
        forecast_submit(
            user=UserFactory(),
            question_id=question.pk,
            cdf=cdf,
            now=two_hours_ago + dt.timedelta(minutes=i),
        )


def _open_signed_in(page, live_server, question: Question) -> None:
    UserFactory(username="ada")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", "ada")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/questions/{question.pk}/")


def _drawn(page) -> tuple[str | None, int]:
    """The bucket count the preview drew and the length of its density's path."""
    page.wait_for_selector("[data-distribution-preview][data-state=drawn]")
    buckets = page.locator("[data-preview-chart]").get_attribute("data-buckets")
    path = page.locator("#preview-density").get_attribute("d") or ""
    return buckets, len(path)


def test_set_percentiles_see_the_density_submit_and_see_the_forecast(live_server, page) -> None:
    question = _numeric()
    _crowd_of_five(question)
    _open_signed_in(page, live_server, question)
    waiting = page.locator("[data-preview-status]").inner_text()

    page.fill("#id_q10", "20")
    page.fill("#id_q50", "40")
    page.fill("#id_q90", "70")
    buckets, path = _drawn(page)
    status = page.locator("[data-preview-status]").inner_text()
    above = page.locator("#preview-above").count()
    page.get_by_role("button", name="Submit forecast").click()

    assert "at least two" in waiting
    assert buckets == "200" and path > 1000
    assert status.startswith("Median 40") and above == 1
    assert "Forecast saved: median" in page.locator(".messages").inner_text()
    assert "40 $bn" in page.locator("table.history").inner_text()
    assert page.locator("[data-crowd-median]").inner_text().endswith("$bn")
    forecast = Forecast.objects.get(question=question, user__username="ada")
    assert forecast.quantiles == {"0.1": 20.0, "0.5": 40.0, "0.9": 70.0}
    # The standing forecast fills the fields again, and is drawn at once.
    assert page.locator("#id_q50").input_value() == "40"
    assert _drawn(page)[0] == "200"


def test_a_refused_percentile_is_named_in_the_preview_and_beside_its_field(
    live_server, page
) -> None:
    question = _numeric()
    _open_signed_in(page, live_server, question)

    page.fill("#id_q10", "60")
    page.fill("#id_q50", "40")
    page.wait_for_selector("[data-distribution-preview][data-state=refused]")
    preview = page.locator("[data-preview-status]").inner_text()
    page.get_by_role("button", name="Submit forecast").click()

    assert "Median (50th percentile): Must be higher" in preview
    assert "Must be higher than the 10th percentile" in page.locator("#q50-errors").inner_text()
    assert page.locator("#id_q10").input_value() == "60"
    assert not Forecast.objects.exists()


def test_a_date_question_takes_dates_and_draws_them(live_server, page) -> None:
    question = _date()
    _open_signed_in(page, live_server, question)

    types = {page.locator(f"#id_q{q}").get_attribute("type") for q in (10, 25, 50, 75, 90)}
    page.fill("#id_q10", "2026-08-01")
    page.fill("#id_q50", "2026-10-31")
    page.fill("#id_q90", "2027-03-01")
    buckets, _ = _drawn(page)
    ticks = page.locator("[data-preview-chart] text.tick").all_text_contents()
    page.get_by_role("button", name="Submit forecast").click()

    assert types == {"date"} and buckets == "200"
    assert "2026-06-12" in ticks and "2027-06-30" in ticks
    page.wait_for_selector("table.history")
    forecast = Forecast.objects.get(question=question, user__username="ada")
    assert forecast.quantiles == {
        "0.1": _epoch("2026-08-01"),
        "0.5": _epoch("2026-10-31"),
        "0.9": _epoch("2027-03-01"),
    }


def test_without_javascript_the_percentiles_alone_make_a_forecast(live_server, browser) -> None:
    question = _numeric()
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    _open_signed_in(page, live_server, question)

    preview_hidden = not page.locator("[data-distribution-preview]").is_visible()
    page.fill("#id_q10", "10")
    page.fill("#id_q90", "90")
    page.get_by_role("button", name="Submit forecast").click()
    page.wait_for_selector("table.history")
    context.close()

    assert preview_hidden
    forecast = Forecast.objects.get(question=question, user__username="ada")
    assert forecast.quantiles == {"0.1": 10.0, "0.9": 90.0}
