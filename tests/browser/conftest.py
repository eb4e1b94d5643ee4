from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.conftest import skip_or_fail

CHROMIUM = "/usr/bin/chromium"
# Flags for a closed network: no background fetches, no first-run or sync traffic.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM):
        skip_or_fail(f"Debian's chromium is not installed at {CHROMIUM} (apt install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[dev]')")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls in the test
    # body are synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone's width
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
