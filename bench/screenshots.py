"""Screenshots of Crux with demo data, for the README: written as PNGs to docs/.

    .venv/bin/python bench/screenshots.py [--out docs] [--questions 60]

Everything happens in a temporary directory (its own SQLite database, broker folders and
static files): the essay's questions are imported, the demo seeded (`seed_demo`), and
`manage.py runserver` serves them while Debian's Chromium (/usr/bin/chromium, headless)
takes each page whole at 1280 and 390 px wide. Nothing of this machine's own database is read
or written.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(questions: int) -> tuple[str, dict[str, str]]:
    """Migrate, import the essay, seed the demo; a session of demo-calibrated's and the
    addresses to photograph."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from forecasts.models import Question
    from markets.models import Market

    call_command("migrate", verbosity=0)
    call_command("import_questions", str(ROOT / "forecasts/questionsets/essay.toml"), verbosity=0)
    call_command("seed_demo", questions=questions, verbosity=0)
    practice = Question.objects.filter(title__startswith="[Practice]").exclude(resolution="")
    question = practice.order_by("-resolved_at").first()
    market = Market.objects.filter(question=question).first()
    assert question is not None and market is not None, "the demo made no resolved question"
    session = Client()
    session.force_login(get_user_model().objects.get(username="demo-calibrated"))
    return session.cookies[settings.SESSION_COOKIE_NAME].value, {
        "question": f"/questions/{question.pk}/",
        "track-record": "/users/demo-calibrated/",
        "market": f"/markets/{market.pk}/",
        "questions": "/?status=resolved&practice=1",
    }


# (file name, page, width, whole page or its first screen), seen by demo-calibrated. The
# README links the first two.
SHOTS = [
    ("question", "question", 1280, True),
    ("track-record", "track-record", 1280, True),
    ("question-390", "question", 390, True),
    ("market", "market", 1280, True),
    ("questions", "questions", 1280, False),
    ("questions-390", "questions", 390, False),
]
# Every image loaded (the charts are drawn on request, and lazily: once scrolled to).
IMAGES_LOADED = "() => [...document.images].every((img) => img.complete && img.naturalWidth > 0)"


def _wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 - our own local server
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.25)
    raise SystemExit(f"the server did not answer at {url}")


def _photograph(base: str, session: str, pages: dict[str, str], out: Path) -> None:
    from django.conf import settings
    from playwright.sync_api import sync_playwright

    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, page_name, width, whole in SHOTS:
            context = browser.new_context(viewport={"width": width, "height": 900})
            context.add_cookies([cookie])
            page = context.new_page()
            page.goto(base + pages[page_name], wait_until="networkidle")
            for img in page.locator("img").all():
                img.scroll_into_view_if_needed()
            page.wait_for_function(IMAGES_LOADED, timeout=120_000)
            page.evaluate("() => window.scrollTo(0, 0)")
            path = out / f"{name}.png"
            page.screenshot(path=str(path), full_page=whole)
            print(f"{path}: {pages[page_name]} at {width} px")
            context.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--questions", type=int, default=60)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crux-shots-") as var:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            "CRUX_VAR_DIR": var,
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "LOG_LEVEL": "WARNING",
        }
        for name in ("DATABASE_URL", "REDIS_URL"):
            env.pop(name, None)
        os.environ.clear()
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        session, pages = _seed(args.questions)
        port = _free_port()
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(base + "/")
            _photograph(base, session, pages, args.out)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
