"""The Content-Security-Policy each kind of response carries (the browser tests check that
every page runs under it with nothing blocked)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    directives = (part.split() for part in response["Content-Security-Policy"].split(";"))
    return {words[0]: words[1:] for words in directives if words}


def test_a_page_gets_the_strict_policy() -> None:
    response = Client().get("/")

    assert _policy(response) == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }


@pytest.mark.parametrize("path", ["/admin/login/", "/accounts/login/", "/api/v1/questions/"])
def test_no_page_may_run_inline_script(path: str) -> None:
    response = Client().get(path, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert _policy(response)["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in _policy(response).get("style-src", [])


def test_the_browsable_api_may_use_style_attributes_and_its_one_highlighting_style() -> None:
    policy = _policy(Client().get("/api/v1/questions/", HTTP_ACCEPT="text/html"))

    assert policy["style-src-attr"] == ["'unsafe-inline'"]
    assert [s for s in policy["style-src"] if s.startswith("'sha256-")]


def test_the_api_docs_start_from_a_script_url_and_may_show_data_images() -> None:
    page = Client().get("/api/v1/docs/")
    script = Client().get("/api/v1/docs/?script=")

    assert "<script>" not in page.text and "<style>" not in page.text
    assert 'src="/api/v1/docs/?script="' in page.text
    assert script["Content-Type"].startswith("application/javascript")
    assert _policy(page)["img-src"] == ["'self'", "data:"]
    assert _policy(page)["script-src"] == ["'self'"]


def test_the_second_docs_address_leads_to_the_docs() -> None:
    response = Client().get("/api/v1/redoc/")

    assert (response.status_code, response["Location"]) == (302, "/api/v1/docs/")


def test_an_svg_chart_may_style_itself_but_runs_no_script() -> None:
    question = QuestionFactory()

    response = Client().get(f"/charts/questions/{question.pk}/history.svg")

    assert response["Content-Type"].startswith("image/svg+xml")
    assert _policy(response)["style-src"] == ["'self'", "'unsafe-inline'"]
    assert _policy(response)["script-src"] == ["'self'"]


def test_a_png_chart_has_no_policy_for_the_browser_to_apply_to_its_image_viewer() -> None:
    question = QuestionFactory()

    response = Client().get(f"/charts/questions/{question.pk}/history.png")

    assert response.status_code == 200
    assert "Content-Security-Policy" not in response


def test_a_staff_page_gets_the_strict_policy() -> None:
    client = Client()
    client.force_login(UserFactory(is_staff=True))

    response = client.get("/staff/due/")

    assert _policy(response)["script-src"] == ["'self'"]
    assert _policy(response)["frame-ancestors"] == ["'none'"]
