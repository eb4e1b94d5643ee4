"""Property-based tests of the whole API against its own live OpenAPI schema.

schemathesis generates requests for every operation (a bounded number each) and checks that
no response is a server error and every response matches the schema: status code, content
type, headers and body.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crux.api.throttling import AnonIpThrottle, TokenRateThrottle
from tests.api.conftest import World

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
MAX_EXAMPLES = 15


def test_the_api_conforms_to_its_schema(
    world: World, live_server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _run(
        world,
        live_server,
        monkeypatch,
        tmp_path,
        role="user",
        # Revoking the token in use would turn every later case into a 401.
        options=["--exclude-operation-id", "tokens_destroy"],
    )


def test_the_staff_operations_conform_to_their_schema(
    world: World, live_server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With a user's token the staff operations only ever answer 403; with staff's, every
    request body they take is generated: creating questions of each kind, resolving them by
    each kind of outcome, opening markets."""
    _run(
        world,
        live_server,
        monkeypatch,
        tmp_path,
        role="staff",
        options=[
            "--include-tag",
            "questions (staff)",
            "--include-tag",
            "resolution (staff)",
            "--include-tag",
            "markets (staff)",
        ],
    )


def _run(
    world: World,
    live_server,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    *,
    role: str,
    options: list[str],
) -> None:
    # Throttling is tested on its own; here it would only turn generated cases into 429s.
    monkeypatch.setattr(AnonIpThrottle, "rate", "100000/min", raising=False)
    monkeypatch.setattr(TokenRateThrottle, "rate", "100000/min", raising=False)
    executable = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert executable, "schemathesis is a dev dependency: pip install -e '.[dev]'"
    # Random ids would only ever find 404s: aim the market operations at the world's market.
    (tmp_path / "schemathesis.toml").write_text(
        "[[operations]]\n"
        r"include-path-regex = '/markets/\{id\}/'"
        "\n"
        f'parameters = {{ "path.id" = "{world.market.pk}" }}\n'
    )

    run = subprocess.run(
        [
            executable,
            "run",
            f"{live_server.url}/api/v1/schema/",
            "--checks",
            CHECKS,
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            "1",
            "--workers",
            "1",
            "--header",
            f"Authorization: Bearer {world.tokens[role]}",
            *options,
            "--generation-database",
            "none",
            "--phases",
            "examples,coverage,fuzzing",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        check=False,
    )
    (tmp_path / "schemathesis.log").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
