"""Benchmark GRO deaths-feed ingestion against a register already in a database.

    .venv/bin/python bench/import_children.py --rows 1000000 --skip-reimport   # the register
    .venv/bin/python bench/feeds_ingest.py --rows 1000000                       # the feed

It generates bench/out/deaths-<rows>.csv: mostly adults (out of scope, as in a real deaths
file), --in-scope of the rows born in the last 19 years, of which half carry the NHS number
of a child on the register (applied) and half a name no child has (matched by name, and
unmatched). Then it runs `manage.py ingest_feed FILE` under /usr/bin/time -v (or, with
--worker-redis URL, queues it to a real Celery worker on that Redis and times the worker) against
--database (settings signposting.settings.local, DEBUG off) and prints rows, seconds,
rows per second and peak RSS. The database's children are changed (deaths recorded): use
the benchmark database, never a real one. Ingesting the same rows again (a copy of the file
with one extra line) must apply nothing: it is run too, and its timing printed.
"""

import argparse
import csv
import datetime
import hashlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYTHON = ROOT / ".venv" / "bin" / "python"
# As feeds.parsing.DEATH_COLUMNS (not imported: that needs Django set up).
DEATH_COLUMNS = (
    "registration_district", "sub_district", "entry_number", "registration_date", "forenames", "surname",
    "aliases", "sex", "date_of_birth", "date_of_death", "place_of_death", "address", "postcode", "nhs_number",
    "record_status",
)  # fmt: skip

SUMMARY = re.compile(r"(\d+) of (\d+) rows; (\d+) applied, (\d+) for review, (\d+) unmatched, (\d+) duplicate")


def nhs_numbers(env: dict[str, str], limit: int) -> list[tuple[str, str]]:
    """(NHS number, date of birth) of children on the register, alive, at random."""
    script = (
        "from registry.models import Child\n"
        "rows = Child.objects.filter(nhs_number__isnull=False, date_of_death__isnull=True, date_of_birth__isnull=False)"
        f".order_by('?').values_list('nhs_number', 'date_of_birth')[:{limit}]\n"
        "print('\\n'.join(f'{n},{d}' for n, d in rows))"
    )
    result = subprocess.run([str(PYTHON), "manage.py", "shell", "-c", script], env=env, cwd=ROOT, text=True,
                            capture_output=True, check=True)  # fmt: skip
    pairs = [line.split(",") for line in result.stdout.splitlines()]
    return [(pair[0], pair[1]) for pair in pairs if len(pair) == 2]


def generate(path: Path, rows: int, in_scope: float, numbers: list[tuple[str, str]], seed: int) -> None:
    rng = random.Random(seed)
    today = datetime.date.today()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(DEATH_COLUMNS)
        for entry in range(1, rows + 1):
            young = rng.random() < in_scope
            born = today - datetime.timedelta(
                days=rng.randint(30, 18 * 365) if young else rng.randint(20 * 365, 95 * 365)
            )
            died = min(today - datetime.timedelta(days=2), born + datetime.timedelta(days=rng.randint(1, 40 * 365)))
            number = ""
            if young and numbers and rng.random() < 0.5:
                number, birth = numbers.pop()
                born = datetime.date.fromisoformat(birth)
                died = min(today - datetime.timedelta(days=2), born + datetime.timedelta(days=rng.randint(1, 300)))
            writer.writerow([
                f"District {entry % 300}", "Sub", entry, died + datetime.timedelta(days=1), "Alex",
                f"Benchmark{rng.randint(1, 10**6)}", "", rng.choice("MF"), born, died, "Hospital",
                "1 Road", "SW1A 1AA", number, "registered",
            ])  # fmt: skip


def ingest(path: Path, env: dict[str, str]) -> tuple[float, int, str]:
    started = time.monotonic()
    result = subprocess.run(["/usr/bin/time", "-v", str(PYTHON), "manage.py", "ingest_feed", str(path)],
                            env=env, cwd=ROOT, text=True, capture_output=True)  # fmt: skip
    seconds = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(result.stdout + result.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    summary = SUMMARY.search(result.stdout)
    return seconds, int(rss.group(1)) if rss else 0, summary.group(0) if summary else result.stdout[-300:]


def ingest_on_worker(path: Path, env: dict[str, str], args: argparse.Namespace) -> tuple[float, int, str]:
    """Queue the file to a real Celery worker on Redis and wait until the worker finishes it."""
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    worker = subprocess.Popen(
        [str(PYTHON), "-m", "celery", "-A", "signposting", "worker", "--pool=solo", "--loglevel=WARNING",
         f"--hostname=feeds-bench-{os.getpid()}@%h", "--without-gossip", "--without-mingle"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(5)  # the worker's start-up is not the ingestion's time
        started = time.monotonic()
        subprocess.run([str(PYTHON), "manage.py", "ingest_feed", "--queue", str(path)], env=env, cwd=ROOT,
                       check=True, capture_output=True)  # fmt: skip
        query = (
            "select state, lines_committed, rows_applied, rows_unmatched, rows_duplicate "
            "from feeds_feedfile where sha256 = :'sha';"
        )
        psql = ["psql", "-h", args.pg_host, "-U", args.pg_user, "-d", args.database, "-At", "-v", f"sha={sha256}"]
        row = ""
        while not row.startswith("done"):
            if worker.poll() is not None:
                sys.exit("the worker stopped")
            time.sleep(0.5)
            row = subprocess.run(psql, input=query, capture_output=True, text=True, check=True).stdout.strip()
        seconds = time.monotonic() - started
        # The solo pool runs tasks in the worker process itself: its high-water mark is the peak.
        status = Path(f"/proc/{worker.pid}/status").read_text()
        rss = re.search(r"VmHWM:\s+(\d+) kB", status)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    return seconds, int(rss.group(1)) if rss else 0, f"state|done|applied|unmatched|duplicate: {row}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--in-scope", type=float, default=0.02, help="share of rows born in the last 19 years")
    parser.add_argument("--database", default="signposting_bench")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--worker-redis", help="ingest on a real Celery worker with this Redis URL as its broker")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "signposting.settings.local",
        "DATABASE_URL": f"postgres://{args.pg_user}@{args.pg_host}:5432/{args.database}",
        "DEBUG": "False",
        "FEEDS_STORE_DIR": str(OUT / "feeds-store"),
        # Notification emails are queued to a file broker that nothing reads: the benchmark
        # times ingestion, not mail.
        "VAR_DIR": str(OUT / "feeds-var"),
    }
    if args.worker_redis:
        env |= {"REDIS_URL": args.worker_redis, "CELERY_BROKER_URL": args.worker_redis,
                "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}  # fmt: skip
    for folder in ("out", "processed", "control"):
        (OUT / "feeds-var" / "broker" / folder).mkdir(parents=True, exist_ok=True)
    numbers = nhs_numbers(env, int(args.rows * args.in_scope / 2) + 1)
    path = OUT / f"deaths-{args.rows}.csv"
    generate(path, args.rows, args.in_scope, numbers, args.seed)
    again = OUT / f"deaths-{args.rows}-again.csv"
    again.write_bytes(path.read_bytes() + b"Other,Sub,0,2026-01-02,A,B,,M,1950-01-01,2026-01-01,H,R,,,registered\n")
    print(f"{'run':<10} {'rows':>9} {'seconds':>8} {'rows/s':>8} {'peak RSS MB':>12}  outcome")
    for label, file in (("first", path), ("same rows", again)):
        seconds, rss, summary = ingest_on_worker(file, env, args) if args.worker_redis else ingest(file, env)
        print(f"{label:<10} {args.rows:>9} {seconds:>8.1f} {args.rows / seconds:>8.0f} {rss / 1024:>12.0f}  {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
