"""Imported by a test's Celery worker (``--include``) to stop a resolution at a chosen point.

With ``CRUX_TEST_HOLD_RESOLUTION=<path>`` set, a resolution's scores are computed and written
as usual, inside its still-open transaction; then ``<path>`` is created, holding how many score
rows were written, and the worker sleeps, so that the test can kill it exactly there. Without
the variable this module changes nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import time
from collections.abc import Callable
from pathlib import Path

from forecasts import lifecycle
from forecasts.models import Question

HOLD_VARIABLE = "CRUX_TEST_HOLD_RESOLUTION"
# Far longer than the test needs to notice the marker and kill the worker.
HOLD_SECONDS = 60

ScoresCompute = Callable[..., int]


def held_after_writing(compute: ScoresCompute, marker: Path) -> ScoresCompute:
    @functools.wraps(compute)
    def held(*, question: Question, now: dt.datetime | None = None) -> int:
        written = compute(question=question, now=now)
        # Written whole and then renamed, so the test never reads a half-written count.
        partial = marker.with_suffix(".partial")
        partial.write_text(str(written))
        partial.replace(marker)
        time.sleep(HOLD_SECONDS)
        return written

    return held


if marker := os.environ.get(HOLD_VARIABLE):
    # lifecycle.py calls the name it imported, so that is the one to replace.
    lifecycle.question_scores_compute = held_after_writing(
        lifecycle.question_scores_compute, Path(marker)
    )
