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


# Every document the browser opens reports what its Content-Security-Policy blocked. An init
# script runs before the page's own scripts and is not itself subject to the policy. (Tests
# pass wait_for_function a function, "() => ...": a bare expression is run with eval, which
# the policy refuses.)
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.cruxCspViolation({
    page: document.location.href,
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: `${event.sourceFile}:${event.lineNumber}`,
    sample: event.sample,
  });
});
"""


@pytest.fixture
def csp_violations() -> list[dict[str, str]]:
    """What the Content-Security-Policy blocked in the current test, as the browser reports it
    (events from every document, and the console's messages). Any left here fails the test."""
    return []


@pytest.fixture
def page(browser, csp_violations: list[dict[str, str]]) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone's width
    context.expose_function("cruxCspViolation", lambda violation: csp_violations.append(violation))
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            csp_violations.append({"page": page.url, "console": message.text})
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.set_default_timeout(15_000)
    yield page
    context.close()
    if csp_violations:
        pytest.fail(
            "the Content-Security-Policy blocked something:\n"
            + "\n".join(map(str, csp_violations)),
            pytrace=False,
        )
