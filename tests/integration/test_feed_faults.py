"""Real faults mid-file (issue 16, item 5): a real Celery worker and beat ingest a deaths
file on a private PostgreSQL cluster and a private Redis, started for these tests on free
ports (the shared servers are never touched). Mid-file the worker is SIGKILLed and another
started, or Redis is killed and restarted, or PostgreSQL is restarted. Each time the file
must be finished within 60 s of the fault with exact counts (every line once, none lost,
none applied twice) and every outbox email sent exactly once.

The recovery settings are the production defaults (heartbeat 5 s, stalled after 20 s,
sweep every 10 s, outbox delivery every 15 s): what is measured is what production does.
Runs in CI's PostgreSQL pass; skipped on SQLite and where the PostgreSQL 15 binaries or
redis-server are missing."""

import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

pytestmark = [pytest.mark.integration]
logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
REDIS_SERVER = shutil.which("redis-server")
RECOVERY_LIMIT_SECONDS = 60


@pytest.fixture(autouse=True)
def _needs_the_postgres_pass():
    if connection.vendor == "sqlite":
        pytest.skip("fault tests run in the PostgreSQL and Redis pass (make test-postgres)")
    if not (PG_BIN / "pg_ctl").exists() or REDIS_SERVER is None:
        pytest.skip("needs /usr/lib/postgresql/15/bin and redis-server to start private servers")


def _as_postgres_user(command: list[Any]) -> list[Any]:
    """PostgreSQL refuses to run as root: as root (a container), run it as `postgres`."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(condition: Callable[[], bool], *, seconds: float, what: str, logs: list[Path] | None = None) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():
            return time.monotonic() - start
        time.sleep(0.2)
    tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}" for log in logs or [])
    raise AssertionError(f"{what}: not within {seconds} s\n{tails}")


@dataclass
class PrivatePostgres:
    directory: Path
    port: int = field(default_factory=_free_port)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        subprocess.run(_as_postgres_user(
            [PG_BIN / "pg_ctl", "-D", self.directory / "data", "-l", self.directory / "postgres.log", "-w", "start",
             "-o", f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
                   " -c synchronous_commit=off -c full_page_writes=off"]),
            check=True, capture_output=True,
        )  # fmt: skip

    def restart(self) -> None:
        subprocess.run(
            # -l again: without it the server would write to (and keep open) this pipe.
            _as_postgres_user([PG_BIN / "pg_ctl", "-D", self.directory / "data", "-l", self.directory / "postgres.log",
                               "-m", "fast", "-w", "restart"]),
            check=True, capture_output=True,
        )  # fmt: skip

    def stop(self) -> None:
        subprocess.run(
            _as_postgres_user([PG_BIN / "pg_ctl", "-D", self.directory / "data", "-m", "immediate", "-w", "stop"]),
            capture_output=True,
        )

    def execute(self, sql: str, database: str = "postgres", params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as db:
            cursor = db.execute(sql, params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []


@dataclass
class PrivateRedis:
    directory: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        # No persistence: a restart loses every queued message, the worst case for the pipeline.
        self.process = subprocess.Popen(
            [REDIS_SERVER or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=(self.directory / "redis.log").open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        _wait(self._answers, seconds=10, what="private redis-server")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as client:
                client.sendall(b"PING\r\n")
                return client.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    if connection.vendor == "sqlite" or not (PG_BIN / "initdb").exists() or REDIS_SERVER is None:
        pytest.skip("fault tests need PostgreSQL 15 binaries and redis-server (PostgreSQL pass only)")
    # Not under pytest's temporary folder, which only its owner may enter: the server may
    # run as another user (postgres).
    directory = Path(tempfile.mkdtemp(prefix="signposting-faults-"))
    if os.geteuid() == 0:
        shutil.chown(directory, user="postgres", group="postgres")
    postgres, redis = PrivatePostgres(directory), PrivateRedis(directory)
    subprocess.run(
        _as_postgres_user([PG_BIN / "initdb", "-D", directory / "data", "-U", "postgres", "-A", "trust", "--no-sync"]),
        check=True, capture_output=True,
    )  # fmt: skip
    postgres.start()
    redis.start()
    try:
        # Migrated once; each test copies it (CREATE DATABASE ... TEMPLATE).
        postgres.execute("CREATE DATABASE faults_template")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT, check=True, capture_output=True,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "signposting.settings.test",
                 "DATABASE_URL": postgres.url("faults_template")},
        )  # fmt: skip
        yield postgres, redis
    finally:
        redis.kill()
        postgres.stop()
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Pipeline:
    """One test's database, its worker and beat, and the expected counts."""

    postgres: PrivatePostgres
    redis: PrivateRedis
    directory: Path
    database: str
    expected: dict[str, Any] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.integration.fault_settings",
            "CELERY_TASK_ALWAYS_EAGER": "False",
            "DATABASE_URL": self.postgres.url(self.database),
            "REDIS_URL": self.redis.url,
            "CELERY_BROKER_URL": self.redis.url,
            "VAR_DIR": str(self.directory / "var"),
            "FAULT_EMAIL_DIR": str(self.directory / "emails"),
            "FEEDS_CHUNK_SIZE": "100",
            "FAULT_CHUNK_PAUSE": "0.3",
        }

    def log(self, name: str) -> Path:
        return self.directory / f"{name}.log"

    @property
    def logs(self) -> list[Path]:
        return [self.log(name) for name in self.processes]

    def start(self, name: str, *arguments: str) -> None:
        command = [sys.executable, "-m", "celery", "-A", "signposting", *arguments, "--loglevel=WARNING"]
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log(name).open("ab"), stderr=subprocess.STDOUT
        )

    def start_worker(self, name: str) -> None:
        self.start(name, "worker", "--pool=solo", f"--hostname={name}-{os.getpid()}@%h", "--without-gossip",
                   "--without-mingle", "--without-heartbeat")  # fmt: skip

    def start_beat(self) -> None:
        self.start("beat", "beat", "--schedule", str(self.directory / "beat-schedule"))

    def kill(self, name: str) -> None:
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self.postgres.execute(sql, self.database, params)

    def file_state(self) -> tuple[str, int]:
        state, lines = self.query("SELECT state, lines_committed FROM feeds_feedfile WHERE id = %s", self.feed_file)[0]
        return str(state), int(lines)

    @property
    def feed_file(self) -> str:
        return str(self.expected["feed_file"])

    def settled(self) -> bool:
        try:
            state, _ = self.file_state()
            pending = self.query("SELECT count(*) FROM accounts_outboundemail WHERE sent_at IS NULL")[0][0]
        except psycopg.OperationalError:
            return False
        return state == "done" and pending == 0 and self.emails_written() >= self.expected["emails"]

    def emails_written(self) -> int:
        return len(self.message_ids())

    def message_ids(self) -> list[str]:
        folder = self.directory / "emails"
        if not folder.is_dir():
            return []
        text = "".join(path.read_text(errors="replace") for path in sorted(folder.iterdir()))
        return re.findall(r"^Message-ID: (<outbox-[^>]+>)", text, flags=re.MULTILINE)


@pytest.fixture
def pipeline(servers, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Pipeline]:
    postgres, redis = servers
    database = re.sub(r"\W", "_", request.node.name)[:40].lower()
    postgres.execute(f"CREATE DATABASE {database} TEMPLATE faults_template")
    (tmp_path / "var").mkdir()
    (tmp_path / "emails").mkdir()
    line = Pipeline(postgres=postgres, redis=redis, directory=tmp_path, database=database)
    try:
        built = subprocess.run(
            [sys.executable, "-m", "tests.integration.fault_scenario"],
            cwd=ROOT, env=line.env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        line.expected = json.loads(built.stdout)
        yield line
    finally:
        line.stop_all()


def _midway(pipeline: Pipeline) -> None:
    """Start the worker and beat and wait until the file is over half done (the rest, about
    ten chunks, is still to do when the fault strikes)."""
    pipeline.start_beat()
    pipeline.start_worker("worker-1")
    _wait(lambda: pipeline.file_state()[1] >= 1500, seconds=120, what="the first 1,500 lines", logs=pipeline.logs)
    state, lines = pipeline.file_state()
    assert state == "running" and lines < pipeline.expected["rows_total"] - 600, "the file ended before the fault"


def _assert_exact(pipeline: Pipeline) -> None:
    expected = pipeline.expected
    (counts,) = pipeline.query(
        "SELECT rows_total, lines_committed, rows_applied, rows_unmatched, rows_out_of_scope, rows_quarantined, "
        "rows_duplicate, rows_for_review FROM feeds_feedfile WHERE id = %s",
        pipeline.feed_file,
    )
    assert counts == (
        expected["rows_total"], expected["rows_total"], expected["applied"], expected["unmatched"],
        expected["out_of_scope"], expected["quarantined"], 0, 0,
    )  # fmt: skip
    single = {
        "registrations": "SELECT count(*) FROM feeds_registration",
        "quarantined": "SELECT count(*) FROM feeds_quarantinedrow",
        "dead": "SELECT count(*) FROM registry_child WHERE date_of_death IS NOT NULL",
        "applied matches": "SELECT count(*) FROM feeds_feedmatch WHERE state = 'applied'",
        "deaths audited": "SELECT count(*) FROM audit_auditevent WHERE action = 'child_death_recorded'",
        "notifications": "SELECT count(*) FROM registry_notification WHERE kind = 'death_registered'",
        "outbox rows": "SELECT count(*) FROM accounts_outboundemail",
        "outbox sent": "SELECT count(*) FROM accounts_outboundemail WHERE sent_at IS NOT NULL",
    }
    found = {name: pipeline.query(sql)[0][0] for name, sql in single.items()}
    assert found == {
        "registrations": expected["applied"] + expected["unmatched"],
        "quarantined": expected["quarantined"],
        "dead": expected["applied"],
        "applied matches": expected["applied"],
        "deaths audited": expected["applied"],
        "notifications": expected["emails"],
        "outbox rows": expected["emails"],
        "outbox sent": expected["emails"],
    }
    # Every email written once: as many messages as outbox rows, no Message-ID twice.
    message_ids = pipeline.message_ids()
    assert len(message_ids) == len(set(message_ids)) == expected["emails"]


def test_a_worker_killed_mid_file_is_replaced_and_the_file_finished_within_60_s(pipeline):
    _midway(pipeline)
    pipeline.kill("worker-1")
    killed = time.monotonic()
    pipeline.start_worker("worker-2")
    _wait(pipeline.settled, seconds=RECOVERY_LIMIT_SECONDS, what="file done and emails sent after SIGKILL",
          logs=pipeline.logs)  # fmt: skip
    logger.warning("finished %.1f s after SIGKILL", time.monotonic() - killed)
    _assert_exact(pipeline)


def test_redis_killed_and_restarted_mid_file_loses_nothing_within_60_s(pipeline):
    _midway(pipeline)
    pipeline.redis.kill()
    killed = time.monotonic()
    time.sleep(3)  # chunks commit, and their emails are written, while the broker is down
    pipeline.redis.start()
    _wait(pipeline.settled, seconds=RECOVERY_LIMIT_SECONDS, what="file done and emails sent after Redis restart",
          logs=pipeline.logs)  # fmt: skip
    logger.warning("finished %.1f s after Redis was killed", time.monotonic() - killed)
    _assert_exact(pipeline)


def test_postgres_restarted_mid_file_loses_nothing_within_60_s(pipeline):
    _midway(pipeline)
    restarted = time.monotonic()
    pipeline.postgres.restart()
    _wait(pipeline.settled, seconds=RECOVERY_LIMIT_SECONDS, what="file done and emails sent after PostgreSQL restart",
          logs=pipeline.logs)  # fmt: skip
    logger.warning("finished %.1f s after PostgreSQL restarted", time.monotonic() - restarted)
    _assert_exact(pipeline)
