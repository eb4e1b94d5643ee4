from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import env_bool, env_int


def test_env_bool_reads_the_usual_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRUX_FLAG", "Yes")

    assert env_bool("CRUX_FLAG") is True


@pytest.mark.parametrize(("reader", "junk"), [(env_bool, "maybe"), (env_int, "ten")])
def test_junk_in_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch, reader, junk: str
) -> None:
    monkeypatch.setenv("CRUX_SETTING", junk)

    with pytest.raises(ImproperlyConfigured, match="CRUX_SETTING"):
        reader("CRUX_SETTING", 0) if reader is env_int else reader("CRUX_SETTING")
