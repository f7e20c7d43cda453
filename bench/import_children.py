"""Benchmark `manage.py import_children` on a fresh database: first import, then re-import.

    .venv/bin/python bench/import_children.py --rows 1000000

Run from the repository root (or anywhere: paths are taken from this file). It

1. drops and creates the PostgreSQL database --database (default signposting_bench) on
   --pg-host/--pg-port as --pg-user (trust auth), or with --sqlite uses a fresh SQLite
   file bench/out/<database>.sqlite3 instead;
2. runs `manage.py migrate` and `manage.py seed_demo --children 0` (the four demo local
   authorities) with DATABASE_URL pointing at it and
   DJANGO_SETTINGS_MODULE=signposting.settings.local;
3. generates bench/out/children-<rows>.csv with bench/generate_import_csv.py unless it is
   already there for the same rows, seed and day;
4. runs `manage.py import_children FILE` under /usr/bin/time -v, timing the wall clock,
   then runs it again on the same file (the re-import must change nothing);
5. checks the database against the generator's manifest (children = distinct valid keys,
   statuses, other names, rejections; the re-import created and updated nothing);
6. prints a table of rows, seconds, rows/second and peak RSS for each run.

Exits 1 if a check fails or, on PostgreSQL, the first import takes longer than --limit
seconds (default 600). DEBUG is off during the imports (as in production: Django's debug cursor keeps the
SQL of the last 9,000 queries); pass --debug to import with the local default DEBUG=True.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYTHON = ROOT / ".venv" / "bin" / "python"
if not PYTHON.exists():
    PYTHON = Path(sys.executable)
SUMMARY = re.compile(
    r"Read (?P<read>\d+) rows: (?P<created>\d+) children added, (?P<updated>\d+) updated, "
    r"(?P<unchanged>\d+) unchanged, (?P<statuses>\d+) statuses written, (?P<rejected>\d+) rows rejected"
)

COUNTS_SCRIPT = """
import json
from audit.models import AuditEvent
from registry.models import Child, OtherName, ProtectionStatus
print("COUNTS " + json.dumps({
    "children": Child.objects.count(),
    "children_with_nhs_number": Child.objects.filter(nhs_number__isnull=False).count(),
    "statuses": ProtectionStatus.objects.count(),
    "other_names": OtherName.objects.count(),
    "import_audit_events": AuditEvent.objects.filter(action=AuditEvent.Action.CHILDREN_IMPORTED).count(),
    "max_child_version": max(Child.objects.values_list("version", flat=True).order_by("-version")[:1] or [0]),
}))
"""


@dataclass
class Run:
    label: str
    seconds: float
    peak_rss_kib: int
    summary: dict[str, int]


def step(message: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", flush=True)


def run(command: list[str], env: dict[str, str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, env=env, cwd=ROOT, text=True, capture_output=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"Failed ({result.returncode}): {' '.join(command)}")
    return result


def database_prepare(args: argparse.Namespace, env: dict[str, str]) -> str:
    if args.sqlite:
        path = OUT / f"{args.database}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    connection = ["-h", args.pg_host, "-p", str(args.pg_port), "-U", args.pg_user]
    run(["dropdb", *connection, "--if-exists", args.database], env)
    run(["createdb", *connection, args.database], env)
    return f"postgres://{args.pg_user}@{args.pg_host}:{args.pg_port}/{args.database}"


def csv_ensure(args: argparse.Namespace) -> tuple[Path, dict[str, object]]:
    path: Path = args.csv or OUT / f"children-{args.rows}.csv"
    manifest_path = path.with_suffix(".manifest.json")
    wanted = {"rows": args.rows, "seed": args.seed, "today": args.today}
    if path.exists() and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if all(manifest.get(key) == value for key, value in wanted.items()):
            step(f"Using existing {path}")
            return path, manifest
    step(f"Generating {args.rows:,} rows into {path}")
    started = time.perf_counter()
    command = [str(PYTHON), str(ROOT / "bench" / "generate_import_csv.py"), "--rows", str(args.rows),
               "--out", str(path), "--seed", str(args.seed), "--today", args.today]  # fmt: skip
    subprocess.run(command, check=True, cwd=ROOT)
    step(f"Generated in {time.perf_counter() - started:.1f}s")
    return path, json.loads(manifest_path.read_text(encoding="utf-8"))


def import_run(label: str, path: Path, env: dict[str, str], args: argparse.Namespace) -> Run:
    report = OUT / f"{path.stem}.{label.replace(' ', '-')}.rejected.csv"
    command = [str(PYTHON), "manage.py", "import_children", str(path), "--report", str(report)]
    if args.profile:
        profile = OUT / f"{path.stem}.{label.replace(' ', '-')}.prof"
        command = [str(PYTHON), "-m", "cProfile", "-o", str(profile), *command[1:]]
    time_output = OUT / f"{path.stem}.{label.replace(' ', '-')}.time.txt"
    use_time = Path("/usr/bin/time").exists()
    if use_time:
        command = ["/usr/bin/time", "-v", "-o", str(time_output), *command]
    step(f"{label}: {' '.join(command)}")
    started = time.perf_counter()
    result = run(command, env)
    seconds = time.perf_counter() - started
    sys.stdout.write(result.stdout)
    match = SUMMARY.search(result.stdout)
    if not match:
        raise SystemExit(f"Could not read the import's summary from: {result.stdout!r}")
    summary = {key: int(value) for key, value in match.groupdict().items()}
    peak = 0
    if use_time:
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_output.read_text(encoding="utf-8"))
        peak = int(found.group(1)) if found else 0
    step(f"{label}: {seconds:.1f}s")
    return Run(label, seconds, peak, summary)


def counts(env: dict[str, str]) -> dict[str, int]:
    result = run([str(PYTHON), "manage.py", "shell", "-c", COUNTS_SCRIPT], env)
    line = next(line for line in result.stdout.splitlines() if line.startswith("COUNTS "))
    return json.loads(line.removeprefix("COUNTS "))  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the children import (first import and re-import).")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20260)
    parser.add_argument("--today", default=datetime.date.today().isoformat(), help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help="CSV to import (default bench/out/children-ROWS.csv, generated)")
    parser.add_argument("--database", default="signposting_bench")
    parser.add_argument("--sqlite", action="store_true", help="Use a fresh SQLite file instead of PostgreSQL")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--batch-size", type=int, help="IMPORT_BATCH_SIZE for the imports (default: settings)")
    parser.add_argument(
        "--limit", type=float, default=600.0, help="Fail if the first import takes longer (s; PostgreSQL only)"
    )
    parser.add_argument("--debug", action="store_true", help="Import with DEBUG=True (the local default)")
    parser.add_argument("--profile", action="store_true", help="cProfile each import into bench/out/*.prof")
    parser.add_argument("--skip-reimport", action="store_true")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "signposting.settings.local", "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    backend = "SQLite" if args.sqlite else "PostgreSQL"
    step(f"Preparing a fresh {backend} database {args.database}")
    env["DATABASE_URL"] = database_prepare(args, env)
    run([str(PYTHON), "manage.py", "migrate", "--no-input", "-v", "0"], env)
    run([str(PYTHON), "manage.py", "seed_demo", "--children", "0"], env)
    path, manifest = csv_ensure(args)

    env["DEBUG"] = "True" if args.debug else "False"
    if args.batch_size:
        env["IMPORT_BATCH_SIZE"] = str(args.batch_size)
    load_before = os.getloadavg()
    runs = [import_run("first import", path, env, args)]
    after_first = counts(env)
    if not args.skip_reimport:
        runs.append(import_run("re-import", path, env, args))
    after_second = counts(env)

    checks: list[tuple[str, object, object]] = [
        ("children = distinct valid keys", after_first["children"], manifest["children"]),
        ("children with an NHS number", after_first["children_with_nhs_number"], manifest["children_with_nhs_number"]),
        ("statuses", after_first["statuses"], manifest["statuses"]),
        ("other names", after_first["other_names"], manifest["other_names"]),
        ("first import: rows rejected", runs[0].summary["rejected"], manifest["bad_rows"]),
        ("first import: children added", runs[0].summary["created"], manifest["children"]),
    ]
    if not args.skip_reimport:
        second = runs[1].summary
        checks += [
            ("re-import: children added", second["created"], 0),
            ("re-import: children updated", second["updated"], 0),
            ("re-import: rows rejected", second["rejected"], manifest["bad_rows"]),
            ("re-import: children in the database", after_second["children"], after_first["children"]),
            ("re-import: statuses in the database", after_second["statuses"], after_first["statuses"]),
            ("re-import: other names in the database", after_second["other_names"], after_first["other_names"]),
            ("re-import: no child's version changed", after_second["max_child_version"], 1),
        ]

    batch = args.batch_size or int(os.environ.get("IMPORT_BATCH_SIZE", 0) or 2000)
    print()
    print(f"Import benchmark: {backend}, {args.rows:,} rows ({manifest['bad_rows']:,} bad), batch size {batch}, "
          f"DEBUG={env['DEBUG']}, {os.cpu_count()} CPUs")  # fmt: skip
    header = f"{'run':<14} {'rows':>10} {'seconds':>9} {'rows/s':>9} {'peak RSS MiB':>13}"
    print(f"{header}  created / updated / unchanged / rejected")
    for item in runs:
        s = item.summary
        outcome = f"{s['created']:,} / {s['updated']:,} / {s['unchanged']:,} / {s['rejected']:,}"
        print(
            f"{item.label:<14} {s['read']:>10,} {item.seconds:>9.1f} {s['read'] / item.seconds:>9,.0f} "
            f"{item.peak_rss_kib / 1024:>13,.0f}  {outcome}"
        )
    print(f"Audit events for imports: {after_second['import_audit_events']:,}")
    load_after = os.getloadavg()
    print(
        f"Load average (1, 5, 15 min) before the first import: {', '.join(f'{x:.2f}' for x in load_before)}; "
        f"at the end: {', '.join(f'{x:.2f}' for x in load_after)} (other work on the machine slows the imports)"
    )
    print()
    failed = False
    for name, actual, expected in checks:
        ok = actual == expected
        failed |= not ok
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {actual:,} (expected {expected:,})")  # type: ignore[str-format]
    if args.sqlite:
        print(f"  (no time limit on SQLite: the {args.limit:.0f}s requirement is for PostgreSQL)")
    elif runs[0].seconds > args.limit:
        print(f"FAIL: the first import took {runs[0].seconds:.0f}s, over the {args.limit:.0f}s limit")
        failed = True
    else:
        print(f"  ok   first import within {args.limit:.0f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
