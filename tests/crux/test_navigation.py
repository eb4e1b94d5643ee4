from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_nav_links_your_own_track_record_by_name() -> None:
    client = Client()
    client.force_login(UserFactory(username="ada"))

    page = client.get("/markets/").content.decode()

    assert '<a href="/users/ada/">My track record</a>' in page
    assert '<a href="/markets/" aria-current="page">Markets</a>' in page


def test_on_a_narrow_screen_the_links_fold_into_a_menu_that_needs_no_script() -> None:
    page = Client().get("/").content.decode()

    menu = page[page.index('<details class="nav-menu">') :]
    assert "<summary>Menu</summary>" in menu and 'href="/accounts/login/"' in menu
    assert "My track record" not in page  # logged out: there is none
