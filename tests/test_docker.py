"""The deployment files, tested without a Docker engine: the compose file's structure, and
the image's commands run directly against a throwaway database."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
DOCKERFILE = (ROOT / "docker" / "Dockerfile").read_text()
APP_SERVICES = ("web", "worker", "beat")


def test_the_stack_has_every_service_with_a_health_check() -> None:
    services = COMPOSE["services"]

    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    assert all("healthcheck" in services[name] for name in services)


def test_app_services_share_one_image_one_env_and_wait_for_healthy_stores() -> None:
    services = COMPOSE["services"]

    for name in APP_SERVICES:
        service = services[name]
        assert service["env_file"] == "../.env"
        assert service["image"] == "crux:latest"
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
        assert service["environment"]["REDIS_URL"].startswith("redis://redis:6379")
        assert service["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
    assert {"postgres-data", "redis-data"} <= set(COMPOSE["volumes"])


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ``${NAME:-default}``: the variable if set and not empty, else the default."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1)) or m.group(2), value)


def _published(env: dict[str, str]) -> list[str]:
    return [_interpolate(str(port), env) for port in COMPOSE["services"]["web"]["ports"]]


def test_the_web_port_is_published_on_the_loopback_address_unless_told_otherwise() -> None:
    default = _published({})
    everywhere = _published({"WEB_BIND": "0.0.0.0", "WEB_PORT": "8123"})  # noqa: S104

    assert default == ["127.0.0.1:8000:8000"]
    assert everywhere == ["0.0.0.0:8123:8000"]


def test_only_the_web_service_publishes_a_port() -> None:
    publishing = {name for name, service in COMPOSE["services"].items() if "ports" in service}

    assert publishing == {"web"}


def test_the_image_runs_as_a_non_root_user() -> None:
    assert re.search(r"^USER crux$", DOCKERFILE, re.MULTILINE)


def _pip_installs() -> list[list[str]]:
    """The arguments of every `pip install` the Dockerfile runs."""
    steps = re.sub(r"\\\n", " ", DOCKERFILE)
    commands = re.findall(r"pip install ([^&;\n]*)", steps)
    return [shlex.split(command) for command in commands]


def test_the_image_installs_the_runtime_lock_with_its_hashes_and_nothing_else() -> None:
    installs = _pip_installs()

    assert installs, "the image installs nothing"
    for arguments in installs:
        assert "--require-hashes" in arguments
        assert arguments[arguments.index("-r") + 1] == "requirements.lock"
        files = {arguments[i + 1] for i, argument in enumerate(arguments) if argument == "-r"}
        named = [a for a in arguments if not a.startswith("-") and a not in files]
        assert named == [], f"installed outside the lock: {named}"
    assert re.search(r"^COPY requirements\.lock ", DOCKERFILE, re.MULTILINE)


def test_the_image_holds_every_package_of_the_project() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]

    packages = {pattern.rstrip("*") for pattern in patterns}

    copied = set(re.findall(r"^COPY (\w+) \./\1$", DOCKERFILE, re.MULTILINE))
    assert packages <= copied


def _env(tmp_path: Path) -> dict[str, str]:
    relaxed = {"SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"}
    env = {k: v for k, v in os.environ.items() if k not in relaxed}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CRUX_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
    }


def _run(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_dockerfile_collectstatic_step_runs(tmp_path: Path) -> None:
    step = re.search(
        r"RUN (DEBUG=0 SECRET_KEY=\S+ python manage.py collectstatic[^\\\n]*)", DOCKERFILE
    ).group(1)

    run = _run(step, _env(tmp_path))

    assert run.returncode == 0, run.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()


def test_the_web_service_command_migrates_imports_and_its_gunicorn_config_loads(
    tmp_path: Path,
) -> None:
    command = COMPOSE["services"]["web"]["command"]
    setup, gunicorn = command.rsplit("&&", 1)
    env = {**_env(tmp_path), "SECRET_KEY": "compose-test-secret", "DEBUG": "0"}
    env.pop("DATABASE_URL", None)  # the image's steps against a throwaway SQLite database

    migrated = _run(setup.strip().removeprefix('sh -c "'), env)
    checked = _run(gunicorn.strip().rstrip('"') + " --check-config", env)

    assert migrated.returncode == 0, migrated.stderr
    assert "33 created" in migrated.stdout
    assert checked.returncode == 0, checked.stderr


def test_the_worker_and_beat_commands_parse() -> None:
    for name in ("worker", "beat"):
        argv = shlex.split(COMPOSE["services"][name]["command"])
        assert argv[:3] == ["celery", "-A", "config"]
        run = subprocess.run(
            [str(Path(sys.executable).parent / "celery"), *argv[1:], "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 0, run.stderr
