"""API throughput under gunicorn, against a bare Django JSON view measured in the same run.

    .venv/bin/python bench/api.py [--seconds 10] [--connections 8] [--workers 2] [--rounds 3]

Seeds a throwaway database (SQLite in a temporary folder, or the PostgreSQL database named by
DATABASE_URL, flushed first; REDIS_URL, if set, is the cache), starts gunicorn with production
settings (DEBUG off, persistent database connections), and drives each endpoint with wrk
(Debian's ``wrk``) for the same time and connections, in interleaved rounds. Prints requests/s,
p50 and p99 latency and each endpoint's throughput as a share of the floor's in the same round
(the median round, and every round's ratio).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

from seed import ROOT, fresh_database, seed_resolved, setup_django

ENDPOINTS = {
    "floor (bare Django JSON view)": "/bench/floor/",
    "question list": "/api/v1/questions/",
    "leaderboard": "/api/v1/leaderboard/?score_type=peer",
    "a user's scores": "/api/v1/scores/?user=bench7",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - our own local server
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer at {url}")


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk(url: str, seconds: int, connections: int) -> tuple[float, float, float, int]:
    out = subprocess.run(  # noqa: S603
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    return rps, p50, p99, int(bad.group(1)) if bad else 0 + (1 if errors else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--forecasts", type=int, default=20_000)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds through every endpoint in turn; each ratio is taken within a round",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt install wrk")
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
        "DB_CONN_MAX_AGE": "60",
        "API_THROTTLE_ANON": "100000000/s",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    setup_django("bench.settings")
    from django.core.management import call_command
    from django.db import connection

    from forecasts.scores.services import scores_recompute_all

    fresh_database()
    seed_resolved(args.forecasts, seed=1)
    call_command("import_questions", str(ROOT / "forecasts/questionsets/essay.toml"), verbosity=0)
    scores_recompute_all()
    call_command("collectstatic", interactive=False, verbosity=0)
    vendor = connection.vendor
    with connection.cursor() as cursor:  # planner statistics, as autovacuum keeps them live
        cursor.execute("ANALYZE")
    connection.close()

    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.wsgi:application",
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(base + "/bench/floor/")
        cache_kind = "redis" if os.environ.get("REDIS_URL") else "local memory"
        print(
            f"database: {vendor}; cache: {cache_kind};"
            f" gunicorn sync workers: {args.workers}; wrk: 1 thread, {args.connections} "
            f"connections, {args.seconds} s each; cores: {os.cpu_count()}"
        )
        for path in ENDPOINTS.values():
            _wrk(base + path, 2, args.connections)  # warm up: caches, connections
        # Interleaved rounds: a load change on this shared machine hits every endpoint of a
        # round alike, so each endpoint's ratio to the floor is taken within its round and the
        # median round is reported.
        rounds = [
            {
                name: _wrk(base + path, args.seconds, args.connections)
                for name, path in ENDPOINTS.items()
            }
            for _ in range(args.rounds)
        ]
        floor_name = next(iter(ENDPOINTS))
        print(
            f"{'endpoint':34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs floor':>9}"
            f" {'non-2xx':>8}  ratio in each round"
        )
        for name in ENDPOINTS:
            ratios = [r[name][0] / r[floor_name][0] for r in rounds]
            median = sorted(range(len(rounds)), key=lambda i: ratios[i])[len(rounds) // 2]
            rps, p50, p99, _ = rounds[median][name]
            bad = sum(r[name][3] for r in rounds)
            each = " ".join(f"{x:.2f}" for x in ratios)
            print(
                f"{name:34} {rps:9.0f} {p50:8.2f} {p99:8.2f} {ratios[median]:9.2f} {bad:8d}  {each}"
            )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
