"""Time a cold `make run`: from a fresh copy of the tree until its first page answers 200.

    .venv/bin/python bench/first_run.py [--source [LABEL=]DIR ...] [--rounds 1]
        [--cache cold|warm] [--pip-config isolated|machine]

Each source (default: this tree as it is, uncommitted files included) is copied file by file
(git's tracked files and its untracked, not ignored ones: no .venv, no var/) into a temporary
directory, where `make run WEB_PORT=<a free port>` starts on the SQLite default. The phases
are read from make's own output: install (until make echoes `manage.py migrate`), migrate and
import (until the run recipe announces "Crux is starting"), server up (until GET / answers
200). Then the whole process group is stopped and the copy removed.

Caches: `cold` gives every run empty pip and uv caches (PIP_CACHE_DIR and UV_CACHE_DIR in a
temporary directory), so every package is downloaded; `warm` gives each source one pair of
caches for all its runs, filled by a first run that is not reported. The user's own caches are
never read or written. `--pip-config isolated` (the default) hides this machine's pip
configuration and its local package mirrors, so that pip, like uv, fetches from the package
index alone, as on a developer's machine.

With several sources the rounds alternate between them, so that ratios compare runs made
minutes apart on the same noisy machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("install", "migrate+import", "server up")
# Lines of make's output that end a phase (make echoes each command before it runs it).
MARKS = ("manage.py migrate", "Crux is starting")
# Variables that would point the copy at another database, broker or environment.
UNSET = {"DATABASE_URL", "REDIS_URL", "VIRTUAL_ENV", "DEBUG", "SITE_URL", "HOST", "WEB_PORT"}
UNSET |= {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTHONPATH", "PIP_CACHE_DIR", "UV_CACHE_DIR"}
STOP_TIMEOUT_SECONDS = 30
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Run:
    label: str
    phases: tuple[float, float, float]
    packages: int

    @property
    def total(self) -> float:
        return sum(self.phases)


def copy_tree(source: Path, destination: Path) -> None:
    """The files a fresh clone of ``source``'s work tree would have, as they are now."""
    listed = subprocess.run(  # noqa: S603
        ["git", "-C", str(source), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        path = source / name
        if not path.is_file():  # deleted in the work tree but still in the index
            continue
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination / name, follow_symlinks=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(caches: Path, pip_config: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    if pip_config == "isolated":
        env = {k: v for k, v in env.items() if not k.startswith(("PIP_", "UV_"))}
        env["PIP_CONFIG_FILE"] = os.devnull
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return {
        **env,
        "PIP_CACHE_DIR": str(caches / "pip"),
        "UV_CACHE_DIR": str(caches / "uv"),
        "PYTHONUNBUFFERED": "1",  # so that the log shows each step as it happens
    }


def answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own server
            return int(response.status) == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def stop(process: subprocess.Popen[str], tree: Path) -> None:
    """Stop make's whole process group (honcho stops the groups of its own children), then
    any process of ours still working in the copy."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
            break
        except subprocess.TimeoutExpired:
            continue
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and Path(os.readlink(proc / "cwd")).is_relative_to(tree):
                os.kill(int(proc.name), signal.SIGKILL)
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue


def installed_packages(tree: Path) -> int:
    return sum(1 for _ in tree.glob(".venv/lib/python*/site-packages/*.dist-info"))


def first_run(label: str, source: Path, caches: Path, pip_config: str, timeout: float) -> Run:
    with tempfile.TemporaryDirectory(prefix="crux-first-run-") as scratch:
        tree = Path(scratch) / "crux"
        copy_tree(source, tree)
        port = free_port()
        log = (Path(scratch) / "make.log").open("w")
        lines: list[tuple[float, str]] = []
        started = time.monotonic()
        process = subprocess.Popen(  # noqa: S603
            ["make", "run", f"WEB_PORT={port}"],  # noqa: S607
            cwd=tree,
            env=environment(caches, pip_config),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append((time.monotonic(), line))
                log.write(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            while not answers_200(f"http://127.0.0.1:{port}/"):
                if process.poll() is not None or time.monotonic() - started > timeout:
                    reader.join(timeout=5)
                    tail = "".join(line for _, line in lines[-40:])
                    raise SystemExit(f"{label}: make run ended or timed out before a 200:\n{tail}")
                time.sleep(POLL_SECONDS)
            up = time.monotonic()
            marks = [next(t for t, line in lines if mark in line) for mark in MARKS]
            packages = installed_packages(tree)
        finally:
            stop(process, tree)
            reader.join(timeout=5)
            log.close()
    return Run(
        label,
        (marks[0] - started, marks[1] - marks[0], up - marks[1]),
        packages,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", action="append", default=[], metavar="[LABEL=]DIR")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--cache", choices=("cold", "warm"), default="cold")
    parser.add_argument("--pip-config", choices=("isolated", "machine"), default="isolated")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per run")
    args = parser.parse_args()
    sources = [
        (label, Path(path).resolve()) if path else (label, Path(label).resolve())
        for label, _, path in (s.partition("=") for s in args.source or [str(ROOT)])
    ]
    if len({label for label, _ in sources}) < len(sources):
        parser.error("give each source its own label: --source LABEL=DIR")

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, caches {args.cache}, "
        f"pip configuration {args.pip_config}"
    )
    with tempfile.TemporaryDirectory(prefix="crux-first-run-caches-") as cache_root:
        shared = {label: Path(cache_root) / label for label, _ in sources}
        if args.cache == "warm":
            for label, source in sources:
                first_run(label, source, shared[label], args.pip_config, args.timeout)
                print(f"{label}: caches filled")
        runs: list[Run] = []
        for round_ in range(args.rounds):
            for label, source in sources:
                caches = shared[label] if args.cache == "warm" else Path(cache_root) / "cold"
                run = first_run(label, source, caches, args.pip_config, args.timeout)
                shutil.rmtree(Path(cache_root) / "cold", ignore_errors=True)
                runs.append(run)
                spent = ", ".join(f"{n} {s:.1f} s" for n, s in zip(PHASES, run.phases, strict=True))
                print(
                    f"round {round_ + 1} {label}: total {run.total:.1f} s ({spent}), "
                    f"{run.packages} packages"
                )

    print(f"\n| source | {' | '.join(PHASES)} | total | packages |")
    print("|---|" + "---|" * (len(PHASES) + 2))
    medians = {}
    for label, _ in sources:
        mine = [run for run in runs if run.label == label]
        median = [statistics.median(run.phases[i] for run in mine) for i in range(len(PHASES))]
        medians[label] = statistics.median(run.total for run in mine)
        cells = " | ".join(f"{s:.1f} s" for s in median)
        print(f"| {label} | {cells} | {medians[label]:.1f} s | {mine[0].packages} |")
    first = sources[0][0]
    for label, _ in sources[1:]:
        print(f"{first} / {label} (median totals): {medians[first] / medians[label]:.1f}x")


if __name__ == "__main__":
    main()
