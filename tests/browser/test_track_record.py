"""A demo forecaster's track record: the charts load and the table agrees with the API."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def test_the_track_record_charts_load_and_the_table_matches_the_api(live_server, page) -> None:
    call_command("seed_demo", questions=30, now=NOW, verbosity=0)

    page.goto(f"{live_server.url}/users/demo-calibrated/")
    charts = page.locator("img[data-chart]")
    for i in range(charts.count()):  # the images load lazily, when scrolled into view
        charts.nth(i).scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('img[data-chart]')]"
        ".every(img => img.complete && img.naturalWidth > 0)",
        timeout=60_000,
    )
    widths = charts.evaluate_all("imgs => imgs.map(img => img.naturalWidth)")
    table_n = page.locator("table[data-calibration] tr[data-bin-n]").evaluate_all(
        "rows => rows.map(row => Number(row.dataset.binN))"
    )
    api = requests.get(f"{live_server.url}/api/v1/users/demo-calibrated/calibration/", timeout=30)

    assert len(widths) == 3 and all(w >= 600 for w in widths)
    assert table_n == [b["n"] for b in api.json()["forecaster"]["bins"]]
    assert sum(table_n) > 0
