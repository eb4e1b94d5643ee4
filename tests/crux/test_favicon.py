from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_favicon_ico_is_served_at_the_root() -> None:
    response = Client().get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO header


def test_every_page_links_its_svg_icon() -> None:
    page = Client().get("/").content.decode()

    assert '<link rel="icon" href="/static/crux/favicon.svg" type="image/svg+xml">' in page
