"""Searches while a GRO deaths file ingests: do practitioners wait on the feed? (issue 16, item 1)

    .venv/bin/python bench/import_children.py --rows 200000 --database sp_ingestbench --skip-reimport
    .venv/bin/python bench/search_during_ingest.py --database sp_ingestbench --rows 1000000 --rate 10

The database must already hold a register (the first command). The script migrates it,
creates --users trained practitioners, each signed in with two factors (a session made as
the sign-in page makes one: password and authenticator), starts gunicorn (production
settings) and one Celery worker (solo pool) on Redis, then offers searches through
`POST /api/v1/search/` at a fixed --rate (an open model, as bench/search_speed.py: each
request is due at its own time and its latency counts from then), spread over the users so
that no one meets the per-user search throttle:

1. **without an ingest**, for --baseline seconds;
2. **during an ingest**: a deaths file of --rows rows (--in-scope of them born in the last 19
   years, half of those the NHS number of a child on the register, as bench/feeds_ingest.py
   makes them) is queued to the worker, and searches run until the worker marks the file
   done (or --max-seconds). Only searches sent while the file was ingesting are counted.

It prints requests, errors, median, p95 and p99 for each phase, the ratio of the two, the
file's outcome and the ingest's rows per second, and checks that every search wrote its
audit event. Target (issue 16): p50 and p95 during the ingest within 1.5x of without.
Exits 1 if the target is missed, a search failed or an audit event is missing.

The register's children are changed (deaths recorded): use a benchmark database only.
"""

import argparse
import hashlib
import http.client
import json
import os
import queue
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from feeds_ingest import generate, nhs_numbers  # noqa: E402
from search_speed import OUT, build_queries, environment, manage, percentile  # noqa: E402

PORT = 8101
PYTHON = ROOT / ".venv" / "bin" / "python"

# Users, each with a session as accounts' sign-in makes one (password, then the second
# factor: django-otp's device key), and a query sample from the register.
PREPARE = """
import datetime, json, random, time
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.middleware.csrf import _get_new_csrf_string
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts.models import LocalAuthority, User
from accounts.roles import Role
from accounts.services import user_create
from accounts.services import session_start
from registry.models import Child
engine = import_module(settings.SESSION_ENGINE)
authority = LocalAuthority.objects.order_by("pk").first()
sessions = []
for index in range(%(users)d):
    email = f"ingest.bench.{index}@example.gov.uk"
    user = User.objects.filter(email=email).first() or user_create(
        email=email, full_name=f"Ingest Bench {index}", roles=[Role.PRACTITIONER], local_authority=authority,
        training_completed_on=datetime.date(2026, 1, 1))
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="Bench authenticator", confirmed=True)
    session = engine.SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "accounts.backends.PeopleOnlyBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    session_start(session=session, user=user)
    session.save()
    sessions.append({"session": session.session_key, "csrf": _get_new_csrf_string()})
rng = random.Random(7)
top = Child.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
ids = sorted({rng.randint(1, top) for _ in range(%(sample)d)})
rows = list(Child.objects.filter(pk__in=ids, date_of_birth__isnull=False, date_of_death__isnull=True).values(
    "nhs_number", "family_name", "given_names", "date_of_birth", "postcode"))
for row in rows:
    row["date_of_birth"] = row["date_of_birth"].isoformat()
print(json.dumps({"sessions": sessions, "children": Child.objects.count(), "sample": rows}))
"""

AUDITED_SEARCHES = "from audit.models import AuditEvent; print(AuditEvent.objects.filter(action='search').count())"


class SessionLoad:
    """Open-model load through signed-in sessions: request i is due at start + i / rate."""

    def __init__(self, sessions: list[dict[str, str]], queries: list[dict[str, str]], threads: int = 32) -> None:
        self.sessions = sessions
        self.queries = queries
        self.jobs: queue.Queue[tuple[float, dict[str, str], dict[str, str]] | None] = queue.Queue()
        self.results: list[tuple[float, float, int]] = []  # (due, latency, status)
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def _work(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        while (job := self.jobs.get()) is not None:
            due, session, body = job
            headers = {
                "Content-Type": "application/json",
                "Cookie": f"__Host-sessionid={session['session']}; __Host-csrftoken={session['csrf']}",
                "X-CSRFToken": session["csrf"],
            }
            status = 0
            try:
                connection.request("POST", "/api/v1/search/", body=json.dumps(body), headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
            with self.lock:
                self.results.append((due, time.perf_counter() - due, status))

    def offer(
        self, rate: float, until: Callable[[], bool], rng: random.Random, max_seconds: float
    ) -> tuple[float, float]:
        """Offer searches at `rate` until `until()` (asked once a second) is true; returns
        (start, end) of the offer."""
        start = time.perf_counter() + 0.2
        index = 0
        asked = 0.0
        while True:
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if due - start > max_seconds:
                break
            if due - asked >= 1.0:
                asked = due
                if until():
                    break
            self.jobs.put((due, self.sessions[index % len(self.sessions)], rng.choice(self.queries)))
            index += 1
        end = time.perf_counter()
        deadline = end + 60
        while self.jobs.qsize() and time.perf_counter() < deadline:
            time.sleep(0.05)
        time.sleep(1)
        return start, end

    def window(self, start: float, end: float) -> list[tuple[float, int]]:
        with self.lock:
            return [(latency, status) for due, latency, status in self.results if start <= due < end]

    def stop(self) -> None:
        for _ in self.threads:
            self.jobs.put(None)


class FileWatch(threading.Thread):
    """Reads the file's state every quarter second, off the thread that offers searches."""

    def __init__(self, read_state: Callable[[], str]) -> None:
        super().__init__(daemon=True)
        self.read_state = read_state
        self.finished = threading.Event()
        self.stopping = threading.Event()
        self.started_ingesting: float | None = None

    def run(self) -> None:
        while not self.stopping.is_set():
            state = self.read_state()
            if self.started_ingesting is None and state.startswith("ingesting"):
                self.started_ingesting = time.perf_counter()
            if state.startswith(("done", "failed", "stopped")):
                self.finished.set()
                return
            self.stopping.wait(0.25)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


def summary(label: str, results: list[tuple[float, int]]) -> tuple[float, float, int]:
    latencies = [latency * 1000 for latency, _ in results]
    errors = sum(1 for _, status in results if status != 200)
    median, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    print(f"{label:<16} {len(results):9d} {errors:7d} {median:10.1f} {p95:8.1f} {percentile(latencies, 0.99):8.1f} "
          f"{max(latencies):8.1f}")  # fmt: skip
    return median, p95, errors


def main() -> int:
    global PORT  # the load threads read it
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="sp_ingestbench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13", help="broker and cache for the run")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the deaths file")
    parser.add_argument("--in-scope", type=float, default=0.02)
    parser.add_argument("--rate", type=float, default=10.0, help="searches a second")
    parser.add_argument("--baseline", type=float, default=60.0, help="seconds of searches without an ingest")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="give up on the ingest after this")
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--port", type=int, default=PORT, help="gunicorn's port (another run may hold the default)")
    parser.add_argument(
        "--worker-nice", type=int, default=0, help="run the Celery worker at this niceness (0: as the others)"
    )
    parser.add_argument(
        "--latencies", type=Path, default=None,
        help="write each search as a line: wall-clock time due, latency ms, HTTP status (to line up with samples)",
    )  # fmt: skip
    args = parser.parse_args()
    PORT = args.port
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    env = environment(args.database, args.redis) | {
        "REDIS_URL": args.redis,
        "CELERY_BROKER_URL": args.redis,
        "FEEDS_STORE_DIR": str(OUT / "ingest-bench-store"),
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    print(f"Preparing {args.database}: migrate, collectstatic, {args.users} signed-in practitioners, query sample")
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    prepared = json.loads(
        manage(env, "shell", "--no-imports", "-c", PREPARE % {"users": args.users, "sample": 3000})
        .strip()
        .splitlines()[-1]
    )
    queries = build_queries(prepared["sample"], rng)
    print(f"Register holds {prepared['children']:,} children; {len(queries):,} queries")

    path = OUT / f"ingest-bench-deaths-{args.rows}-{args.seed}.csv"
    print(f"Generating {path.name}: {args.rows:,} rows, {args.in_scope:.1%} born in the last 19 years")
    generate(path, args.rows, args.in_scope, nhs_numbers(env, int(args.rows * args.in_scope / 2) + 1), args.seed)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()

    audited_before = int(manage(env, "shell", "--no-imports", "-c", AUDITED_SEARCHES).strip())
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "signposting.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
         "--workers", str(args.workers), "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    worker = subprocess.Popen(
        ["nice", "-n", str(args.worker_nice), str(PYTHON), "-m", "celery", "-A", "signposting", "worker",
         "--pool=solo", "--loglevel=WARNING", f"--hostname=ingest-bench-{os.getpid()}@%h", "--without-gossip",
         "--without-mingle"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    state_connection = psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{args.database}", autocommit=True)
    state_query = "select state, lines_committed, rows_applied, rows_unmatched from feeds_feedfile where sha256 = %s"

    def file_state() -> str:
        row = state_connection.execute(state_query, (sha256,)).fetchone()
        return "|".join(str(value) for value in row) if row else ""

    try:
        for _ in range(150):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/sign-in/")
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(5)  # the worker's start-up
        load = SessionLoad(prepared["sessions"], queries)
        warm_until = time.perf_counter() + 10
        load.offer(args.rate, lambda: time.perf_counter() > warm_until, rng, 10)
        header = ("phase", "requests", "errors", "median ms", "p95 ms", "p99 ms", "max ms")
        print("\n{:<16} {:>9} {:>7} {:>10} {:>8} {:>8} {:>8}".format(*header))
        base_until = time.perf_counter() + args.baseline
        start, end = load.offer(args.rate, lambda: time.perf_counter() > base_until, rng, args.baseline)
        base_median, base_p95, base_errors = summary("without ingest", load.window(start, end))

        subprocess.run([str(PYTHON), "manage.py", "ingest_feed", "--queue", str(path)], env=env, cwd=ROOT,
                       check=True, capture_output=True)  # fmt: skip
        queued = time.perf_counter()
        # The file's state is read in a thread of its own: read in the loop that offers the
        # searches (as this script first did, a psql process once a second), it held back the
        # search due at that moment by the time the read took, and that one search in ten
        # counted as slow against the ingest.
        watch = FileWatch(file_state)
        watch.start()
        start, end = load.offer(args.rate, watch.finished.is_set, rng, args.max_seconds)
        watch.stop()
        ingest_seconds = end - queued
        during = load.window(watch.started_ingesting or start, end)
        ingest_median, ingest_p95, ingest_errors = summary("during ingest", during)
        load.stop()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        os.killpg(worker.pid, signal.SIGTERM)
        server.wait(timeout=30)
        worker.wait(timeout=60)
    if args.latencies:
        wall = time.time() - time.perf_counter()
        with args.latencies.open("w") as handle:
            for due, latency, status in sorted(load.results):
                handle.write(f"{due + wall:.3f}\t{latency * 1000:.1f}\t{status}\n")
    final = file_state()
    audited = int(manage(env, "shell", "--no-imports", "-c", AUDITED_SEARCHES).strip()) - audited_before
    sent = len(load.results)
    print(f"\nFile: state|lines|applied|unmatched = {final}; {args.rows:,} rows in {ingest_seconds:.1f} s "
          f"from queueing ({args.rows / ingest_seconds:,.0f} rows/s)")  # fmt: skip
    print(f"Audit events written for searches: {audited:,} of {sent:,} requests sent")
    ratio_median, ratio_p95 = ingest_median / base_median, ingest_p95 / base_p95
    met = ratio_median <= 1.5 and ratio_p95 <= 1.5
    print(f"During/without: median x{ratio_median:.2f}, p95 x{ratio_p95:.2f} (target 1.5): "
          f"{'target met' if met else 'TARGET MISSED'}")  # fmt: skip
    with open("/proc/loadavg") as handle:
        print(f"Load average at the end: {handle.read().split()[:3]}")
    ok = met and base_errors == 0 and ingest_errors == 0 and audited == sent and final.startswith("done")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
