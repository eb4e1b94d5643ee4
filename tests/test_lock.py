"""The lock files that `make lock` compiles from pyproject.toml: `make install` installs the
dev lock and the image the runtime lock, so what CI tests is what the image runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
# One entry of a lock, its continuation lines joined: `name==version [; marker] --hash=...`.
ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;]+)(?:\s*;\s*(?P<marker>.+?))?$")


def _entries(lock: Path) -> list[str]:
    joined = re.sub(r"\s*\\\n\s*", " ", lock.read_text())
    return [line for line in joined.splitlines() if line and not line.startswith(("#", " "))]


def _pins(lock: Path) -> dict[str, str]:
    """What the lock installs on this interpreter: canonical name -> version."""
    pins: dict[str, str] = {}
    for entry in _entries(lock):
        requirement = entry.split(" --hash=")[0]
        match = ENTRY.match(requirement)
        assert match, f"{lock.name}: not an exact pin: {requirement}"
        if match["marker"] is None or Marker(match["marker"]).evaluate():
            pins[canonicalize_name(match["name"])] = match["version"]
    return pins


def _unpinned(requirements: list[str], pins: dict[str, str]) -> list[str]:
    """The requirements (applicable here) that the pins leave out or pin outside their range."""
    missing = []
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        version = pins.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            missing.append(f"{text} (locked: {version})")
    return missing


def test_the_dev_lock_pins_every_requirement_of_pyproject_within_its_range() -> None:
    requirements = PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]

    missing = _unpinned(requirements, _pins(DEV_LOCK))

    assert missing == [], f"pyproject.toml changed since the lock: run `make lock`: {missing}"


def test_the_runtime_lock_pins_the_runtime_requirements_and_no_dev_tool() -> None:
    pins = _pins(RUNTIME_LOCK)

    missing = _unpinned(PROJECT["dependencies"], pins)

    assert missing == [], f"pyproject.toml changed since the lock: run `make lock`: {missing}"
    assert {"honcho", "pytest", "ruff", "playwright"}.isdisjoint(pins)


def test_honcho_only_starts_the_local_processes_so_it_is_a_dev_dependency() -> None:
    runtime = {Requirement(text).name for text in PROJECT["dependencies"]}
    dev = {Requirement(text).name for text in PROJECT["optional-dependencies"]["dev"]}

    assert "honcho" not in runtime
    assert "honcho" in dev


def test_the_image_runs_the_versions_ci_tests() -> None:
    dev_entries = {entry.split(" --hash=")[0] for entry in _entries(DEV_LOCK)}

    runtime_entries = {entry.split(" --hash=")[0] for entry in _entries(RUNTIME_LOCK)}

    assert runtime_entries - dev_entries == set()


def test_every_locked_package_carries_its_hashes() -> None:
    for lock in (RUNTIME_LOCK, DEV_LOCK):
        unhashed = [entry for entry in _entries(lock) if " --hash=sha256:" not in entry]

        assert unhashed == [], lock.name


def _dry_install(tree: Path) -> list[str]:
    """The commands `make install` would run in ``tree``, one per recipe line."""
    run = subprocess.run(
        [shutil.which("make") or "make", "-n", "install"],
        cwd=tree,
        env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return run.stdout.splitlines()


def _copy_for_install(tmp_path: Path) -> Path:
    for name in ("Makefile", "pyproject.toml", DEV_LOCK.name):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_a_fresh_install_installs_the_dev_lock_and_resolves_nothing(tmp_path: Path) -> None:
    tree = _copy_for_install(tmp_path)

    commands = _dry_install(tree)

    installs = [line for line in commands if re.search(r"pip (install|sync)", line)]
    assert any("uv pip sync" in line and DEV_LOCK.name in line for line in installs)
    assert any("--require-hashes" in line and DEV_LOCK.name in line for line in installs)
    resolving = [
        line
        for line in installs
        if not re.search(rf"uv==[\d.]+|{re.escape(DEV_LOCK.name)}|--no-deps", line)
    ]
    assert resolving == []


def test_a_second_install_does_nothing_until_the_lock_changes(tmp_path: Path) -> None:
    tree = _copy_for_install(tmp_path)
    (tree / ".venv" / "bin").mkdir(parents=True)
    (tree / ".venv" / "bin" / "python").touch()
    (tree / ".venv" / ".installed-stamp").touch()
    later = (tree / ".venv" / ".installed-stamp").stat().st_mtime + 10

    unchanged = _dry_install(tree)
    os.utime(tree / DEV_LOCK.name, (later, later))
    relocked = _dry_install(tree)

    assert not any("pip" in line for line in unchanged)
    assert any("uv pip sync" in line for line in relocked)
