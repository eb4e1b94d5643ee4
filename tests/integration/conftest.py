"""Real processes for the integration tests: Celery worker and beat, and a private redis-server.

The processes use the very database this test process uses (pytest-django's test database;
the tests are transactional, so each side sees what the other commits) and a broker of the
test's own: folders under ``tmp_path``, or, when the run has REDIS_URL, a Redis database
nothing else uses (one test on the machine at a time; runs in parallel wait). Each process
runs in a session of its own, so that stopping it stops its children too; its output goes to
a file in ``tmp_path``, shown when a test fails.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.db import connection
from redis.backoff import NoBackoff
from redis.retry import Retry

from config.celery import app as celery_app
from tests.conftest import skip_or_fail

T = TypeVar("T")

BASE_DIR = Path(settings.BASE_DIR)
CELERY = (sys.executable, "-m", "celery", "-A", "config")
REDIS_SERVER = Path("/usr/bin/redis-server")
# A Redis database index nothing else uses, so that a test may empty it.
TEST_REDIS_DB = 15
POLL_SECONDS = 0.25
TIMEOUT_SECONDS = 60.0
STOP_SECONDS = 10.0
TAIL_LINES = 60
# The test process's settings that must not leak into the processes, which run as deployed.
NOT_INHERITED = frozenset(
    {"DJANGO_SETTINGS_MODULE", "DEBUG", "DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}
)

PROCESSES = pytest.StashKey["Processes"]()


class ProcessesTimeout(AssertionError):
    """A wait that timed out; its message already carries the processes' output."""


@dataclass
class Process:
    """A process in a session of its own, with its output (stdout and stderr) in ``log``."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    stopped: bool = False

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = TAIL_LINES) -> str:
        text = "\n".join(self.output().splitlines()[-lines:])
        state = "running" if self.popen.poll() is None else f"exit {self.popen.returncode}"
        return f"----- {self.name} (pid {self.popen.pid}, {state}, {self.log}) -----\n{text}"

    def stop(self) -> None:
        """Stop gracefully (SIGTERM to the group), and kill the group if that takes too long."""
        if self.popen.returncode is not None:  # stopped and reaped already
            return
        self.stopped = True
        self._signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(STOP_SECONDS)
        self.kill()  # whatever is left of the group

    def kill(self) -> None:
        """SIGKILL the whole group at once: no shutdown code runs, as on a crash."""
        self.stopped = True
        self._signal(signal.SIGKILL)
        self.popen.wait()

    def _signal(self, signum: signal.Signals) -> None:
        # ProcessLookupError: every process of the group has exited already.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)


class Processes:
    """The processes of one test: started on demand, all stopped when the test ends."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[Process] = []

    def start(self, name: str, argv: Sequence[str], *, env: Mapping[str, str]) -> Process:
        log = self.directory / f"{len(self.started):02d}-{name}.log"
        with log.open("wb") as output:
            popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=self.directory,
                start_new_session=True,
            )
        process = Process(name, popen, log)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()

    def tails(self) -> str:
        return "\n".join(process.tail() for process in self.started)

    def wait_until(self, condition: Callable[[], T], what: str) -> T:
        """Poll ``condition`` until it holds (its value is returned), for at most a minute."""
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while not (value := condition()):
            # A process that died will not make it happen: say so now rather than in a minute.
            dead = [p.name for p in self.started if not p.stopped and p.popen.poll() is not None]
            if dead or time.monotonic() > deadline:
                reason = f"{', '.join(dead)} exited" if dead else f"{TIMEOUT_SECONDS:.0f} s passed"
                raise ProcessesTimeout(f"waiting for {what}: {reason}\n{self.tails()}")
            time.sleep(POLL_SECONDS)
        return value


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Add the processes' output to any failure that does not carry it already."""
    report = yield
    processes = item.stash.get(PROCESSES, None)
    if report.failed and processes and not call.excinfo.errisinstance(ProcessesTimeout):
        for process in processes.started:
            report.sections.append((f"output of {process.name}", process.tail()))
    return report


@pytest.fixture
def processes(
    request: pytest.FixtureRequest, transactional_db: None, tmp_path: Path
) -> Iterator[Processes]:
    """Depends on ``transactional_db`` so that the processes stop before the database is reset."""
    started = Processes(tmp_path)
    request.node.stash[PROCESSES] = started
    yield started
    started.stop_all()


def shared_database_url() -> str:
    """The URL of the database this test process uses, for the processes it starts."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            pytest.fail("the processes need a file test database, not an in-memory one")
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if connection.vendor == "postgresql":
        user = quote(db["USER"], safe="")
        password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
        port = f":{db['PORT']}" if db["PORT"] else ""
        return f"postgres://{user}{password}@{db['HOST']}{port}/{db['NAME']}"
    pytest.fail(f"no URL for a {connection.vendor} database")


@dataclass(frozen=True)
class Celery:
    """Starts Celery processes configured as deployed, on the test database and broker."""

    processes: Processes
    env: Mapping[str, str]

    def with_broker(self, redis_url: str) -> Celery:
        return replace(self, env={**self.env, "REDIS_URL": redis_url})

    def worker(self, *, hold_resolution: Path | None = None) -> Process:
        """One worker process; ``hold_resolution``: see worker_hooks."""
        argv = [
            *CELERY,
            "worker",
            "--loglevel=INFO",
            "--pool=solo",
            "--concurrency=1",
            # The broker is the test's own: there are no other workers to synchronise with.
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            f"--hostname=crux-test-{uuid.uuid4().hex[:8]}@%h",
        ]
        env = dict(self.env)
        if hold_resolution is not None:
            argv.append("--include=tests.integration.worker_hooks")
            env["CRUX_TEST_HOLD_RESOLUTION"] = str(hold_resolution)
        return self.processes.start("worker", argv, env=env)

    def beat(self) -> Process:
        schedule = self.processes.directory / "celerybeat-schedule"
        argv = [*CELERY, "beat", "--loglevel=INFO", f"--schedule={schedule}"]
        return self.processes.start("beat", argv, env=self.env)


def celery_env(directory: Path, redis_url: str | None) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
    env |= {
        # The deployed settings, not the tests' (whose tasks run inline, in the caller).
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "integration-test-processes-only",
        "DATABASE_URL": shared_database_url(),
        # The filesystem broker's folders and beat's schedule: private to the test.
        "CRUX_VAR_DIR": str(directory),
        "LIFECYCLE_SWEEP_SECONDS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BASE_DIR), os.environ.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@pytest.fixture
def redis_db_url() -> Iterator[str | None]:
    """The run's Redis (REDIS_URL) on the tests' own database, emptied; None without Redis.

    Every test run on this machine shares that database, so one test at a time may use it.
    """
    base = os.environ.get("REDIS_URL")
    if not base:
        yield None
        return
    url = urlunsplit(urlsplit(base)._replace(path=f"/{TEST_REDIS_DB}"))
    with machine_wide_lock(f"crux-tests-redis-db{TEST_REDIS_DB}"):
        try:
            with redis.Redis.from_url(url, socket_timeout=5) as client:
                client.flushdb()
        except redis.ConnectionError as error:
            skip_or_fail(f"Redis at REDIS_URL={base} is unreachable: {error}")
        yield url


@contextlib.contextmanager
def machine_wide_lock(name: str) -> Iterator[None]:
    """Wait (a bounded time) until no other process on this machine holds the lock ``name``."""
    with (Path(tempfile.gettempdir()) / f"{name}.lock").open("a") as handle:
        deadline = time.monotonic() + 2 * TIMEOUT_SECONDS
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"another test run held the lock {name} for too long")
                time.sleep(POLL_SECONDS)
        yield  # closing the file releases the lock


@pytest.fixture
def celery(redis_db_url: str | None, processes: Processes) -> Iterator[Celery]:
    """Redis when the run has REDIS_URL (as CI's second run), else the filesystem broker."""
    yield Celery(processes, celery_env(processes.directory, redis_db_url))
    processes.stop_all()  # before the Redis database is given up to another test


@dataclass
class RedisServer:
    """A redis-server of the test's own, on a free port, that the test may stop and restart."""

    processes: Processes
    port: int
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [str(REDIS_SERVER), "--bind", "127.0.0.1", "--port", str(self.port)]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        self.process = self.processes.start("redis-server", argv, env=os.environ)
        self.processes.wait_until(self.answers, f"redis-server to answer on port {self.port}")

    def stop(self) -> None:
        assert self.process is not None
        self.process.stop()
        assert not self.answers()

    def answers(self) -> bool:
        try:
            # Without retries: redis-py's default ones take seconds to report a refusal.
            client = redis.Redis(port=self.port, socket_timeout=1, retry=Retry(NoBackoff(), 0))
            with client:
                return bool(client.ping())
        except redis.ConnectionError:
            return False


@pytest.fixture
def redis_server(processes: Processes) -> RedisServer:
    if not REDIS_SERVER.is_file():
        skip_or_fail(f"redis-server is not installed at {REDIS_SERVER} (apt install redis-server)")
    server = RedisServer(processes, free_port())
    server.start()
    return server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PUBLISHING = ("task_always_eager", "broker_url", "broker_transport_options")


@contextlib.contextmanager
def celery_publishing_to(broker_url: str) -> Iterator[None]:
    """This process's Celery sends tasks to ``broker_url`` instead of running them inline."""
    conf = celery_app.conf
    saved = {name: conf[name] for name in PUBLISHING}
    conf.update(task_always_eager=False, broker_url=broker_url, broker_transport_options={})
    _drop_broker_connections()
    try:
        yield
    finally:
        conf.update(saved)
        _drop_broker_connections()


def _drop_broker_connections() -> None:
    """Forget pooled connections, so that the next publish connects to the configured broker."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
