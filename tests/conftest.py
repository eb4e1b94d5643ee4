from __future__ import annotations

import datetime as dt
import os

import pytest

from tests.factories import T0


def skip_or_fail(reason: str) -> None:
    """Skip with a one-line reason, or fail when the run promises every service is present."""
    if os.environ.get("CRUX_STRICT_SERVICES") == "1":
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def now() -> dt.datetime:
    """A moment while the factories' default question is open."""
    return T0 + dt.timedelta(days=30)
