"""A forecaster comments on a question with htmx: a refusal appears beside the field, a comment
appears in place, rendered, and can be edited in place and deleted."""

from __future__ import annotations

import os

import pytest

from forecasts.discussion.models import Comment
from tests.factories import QuestionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("CRUX_SCREENSHOTS", "")


def _log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")


def test_comment_in_place_edit_and_delete(live_server, page) -> None:
    question = QuestionFactory(title="Will the control be lifted by 2027?")
    UserFactory(username="ada")
    _log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/questions/{question.pk}/")

    page.get_by_role("button", name="Post comment").click()
    page.wait_for_selector("#body-errors")
    assert "cannot be empty" in page.locator("#body-errors").inner_text()

    page.fill("#id_body", "Talks **resumed**, see <https://example.org/report>")
    page.get_by_role("button", name="Post comment").click()
    page.wait_for_selector(".comment-body strong")
    assert page.locator(".comment-body strong").inner_text() == "resumed"
    assert page.locator(".comment-body a").get_attribute("rel") == "nofollow noopener ugc"
    assert page.locator("[data-following]").count() == 1
    if SHOTS:
        page.locator("#discussion").screenshot(path=f"{SHOTS}/discussion-390.png")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.locator("#discussion").screenshot(path=f"{SHOTS}/discussion-1280.png")
        page.set_viewport_size({"width": 390, "height": 844})

    page.locator("#discussion").get_by_role("link", name="Edit").click()
    page.wait_for_selector("#id_edit_body")
    page.fill("#id_edit_body", "Talks stalled.")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Comment saved.")
    assert Comment.objects.get().body == "Talks stalled."

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#discussion").get_by_role("button", name="Delete").click()
    page.wait_for_selector("[data-deleted]")
    assert Comment.objects.get().is_deleted
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
