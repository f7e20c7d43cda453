"""Benchmark the audit trail on PostgreSQL: `verify_audit` and the auditors' filtered queries.

    .venv/bin/python bench/audit_verify.py --database postgres://postgres@127.0.0.1:5432/signposting_audit_bench \
        --events 10000000 --plans docs/audit-query-plans.md

It

1. creates the database if it does not exist (--fresh drops it first) and migrates it;
2. unless it already holds --events events, loads them: 20 local authorities, 200
   organisations, 5,000 users, then the events by COPY (searches, record views, sign-ins,
   spread over two years in id order) with their chain hashes computed in Python by the
   application's own definition (audit.chain), and the child index rows; the append-only
   triggers are disabled for the load only (this database is the benchmark's own) and the
   secondary indexes are built after it; then ANALYZE, and VACUUM on the index tables
   (autovacuum may be off);
3. times audit.chain.chain_verify (what `manage.py verify_audit` runs) and prints events/s;
4. times each auditor query the pages make (first page of 25 and the capped count), as a
   national and as a one-authority auditor, prints the slowest run of --repeat, and writes
   EXPLAIN (ANALYZE, BUFFERS) of each to --plans if given.

Exits 1 if the chain does not verify, verification is slower than 200,000 events/s, or a
query takes 1 s or more.
"""

import argparse
import datetime
import hashlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AUTHORITIES = 20
ORGANISATIONS = 200
USERS = 5000
CHILDREN = 400_000
FAMILY_NAMES = ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Khan")


def step(message: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", flush=True)


def _database_create(url: str, fresh: bool) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def _django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signposting.settings.local")
    os.environ.setdefault("DEBUG", "False")
    import django

    django.setup()


def _people() -> tuple[list[str], list[tuple[int, int, str]]]:
    """Authorities, organisations and users; returns (codes, [(user id, org id, code)])."""
    from accounts.models import LocalAuthority, Organisation, User

    codes = [f"E09{n:06d}" for n in range(1, AUTHORITIES + 1)]
    authorities = LocalAuthority.objects.bulk_create(
        LocalAuthority(gss_code=code, name=f"Bench authority {code}", office_hours_phone="0", out_of_hours_phone="0",
                       secure_email="la@example.gov.uk")
        for code in codes
    )  # fmt: skip
    organisations = Organisation.objects.bulk_create(
        Organisation(name=f"Bench organisation {n}", kind="school", local_authority=authorities[n % AUTHORITIES])
        for n in range(ORGANISATIONS)
    )
    users = User.objects.bulk_create(
        User(email=f"bench{n}@example.gov.uk", full_name=f"Bench User{n} {FAMILY_NAMES[n % 10]}",
             organisation=organisations[n % ORGANISATIONS],
             local_authority=organisations[n % ORGANISATIONS].local_authority,
             password="!")  # noqa: S106 - an unusable password
        for n in range(USERS)
    )  # fmt: skip
    return codes, [(user.pk, user.organisation.pk, user.local_authority.gss_code) for user in users]  # type: ignore[union-attr]


STAGE_SQL = """
CREATE TEMP TABLE bench_users AS
    SELECT (row_number() OVER (ORDER BY u.id) - 1)::int AS idx, u.id, u.organisation_id, la.gss_code
    FROM accounts_user u JOIN accounts_localauthority la ON la.id = u.local_authority_id;
CREATE INDEX ON bench_users (idx);
DROP TABLE IF EXISTS bench_stage;
CREATE UNLOGGED TABLE bench_stage (LIKE audit_auditevent INCLUDING DEFAULTS);
SELECT setseed(%(seed)s);
INSERT INTO bench_stage
    (id, occurred_at, action, actor_id, actor_roles, actor_organisation_id, actor_local_authority_code, ip_address,
     request_id, register_ids, subject_user_id, local_authority_code, details, reason, reason_detail, criteria,
     outcome, channel, previous_hash, chain_hash)
SELECT g.i,
       %(start)s::timestamptz + make_interval(secs => g.i * %(step)s),
       k.action, u.id, '["practitioner"]'::jsonb, u.organisation_id, u.gss_code,
       ('10.' || g.i %% 250 || '.' || (g.i / 250) %% 250 || '.' || (g.i %% 200 + 1))::inet,
       lpad(to_hex(g.i), 32, '0'),
       CASE WHEN k.action = 'child_viewed' OR (k.action = 'search' AND g.r2 >= 0.33) THEN
                CASE WHEN k.action = 'search' AND g.r2 >= 0.66 THEN jsonb_build_array(c.r1, c.r2)
                     ELSE jsonb_build_array(c.r1) END
            ELSE '[]'::jsonb END,
       NULL,
       CASE WHEN k.action = 'child_viewed' THEN c.la1 ELSE '' END,
       '{}'::jsonb,
       k.reason, '',
       CASE k.action
           WHEN 'search' THEN jsonb_build_object('family_name', (ARRAY['Smith','Jones','Taylor','Brown','Williams',
                'Wilson','Johnson','Davies','Patel','Khan'])[g.i %% 10 + 1], 'date_of_birth',
                '201' || g.i %% 10 || '-0' || (1 + g.i %% 9) || '-1' || g.i %% 10)
           WHEN 'child_viewed' THEN jsonb_build_object('register_id', c.r1)
           ELSE '{}'::jsonb END,
       CASE WHEN k.action = 'search' THEN CASE WHEN g.r2 >= 0.33 THEN 'results' ELSE 'no_results' END
            WHEN k.action = 'child_viewed' THEN 'viewed' ELSE '' END,
       CASE WHEN k.reason <> '' THEN 'web' ELSE '' END,
       '', ''
FROM (SELECT i, random() AS r, random() AS r2, random() AS r3, floor(random() * %(users)s)::int AS who,
             floor(random() * %(children)s)::bigint AS c1, floor(random() * %(children)s)::bigint AS c2
      FROM generate_series(1, %(events)s) AS i) g
JOIN bench_users u ON u.idx = g.who
CROSS JOIN LATERAL (SELECT
    CASE WHEN g.r < 0.5 THEN 'search' WHEN g.r < 0.85 THEN 'child_viewed'
         ELSE (ARRAY['login_succeeded', 'logged_out', 'involvement_added'])[g.i %% 3 + 1] END AS action,
    CASE WHEN g.r >= 0.85 THEN ''
         WHEN g.r3 < 0.3 THEN 'new_concern' WHEN g.r3 < 0.6 THEN 'assessment' WHEN g.r3 < 0.97 THEN 'ongoing_work'
         WHEN g.r3 < 0.99 THEN 'emergency' ELSE 'other' END AS reason) k
CROSS JOIN LATERAL (SELECT
    substr(lpad(g.c1::text, 12, '0'), 1, 4) || '-' || substr(lpad(g.c1::text, 12, '0'), 5, 4) || '-'
        || substr(lpad(g.c1::text, 12, '0'), 9, 4) AS r1,
    substr(lpad(g.c2::text, 12, '0'), 1, 4) || '-' || substr(lpad(g.c2::text, 12, '0'), 5, 4) || '-'
        || substr(lpad(g.c2::text, 12, '0'), 9, 4) AS r2,
    'E09' || lpad((g.c1 %% %(authorities)s + 1)::text, 6, '0') AS la1) c;
"""

FINISH_SQL = """
INSERT INTO audit_auditevent SELECT {columns} FROM bench_stage s JOIN bench_hashes h ON h.id = s.id;
INSERT INTO audit_auditeventchild (event_id, register_id, local_authority_code, occurred_at)
SELECT s.id, r.value, 'E09' || lpad((replace(r.value, '-', '')::bigint %% %(authorities)s + 1)::text, 6, '0'),
       s.occurred_at
FROM bench_stage s CROSS JOIN LATERAL jsonb_array_elements_text(s.register_ids) AS r(value);
{authorities_backfill};
DROP TABLE bench_stage;
DROP TABLE bench_hashes
"""


def _authorities_backfill() -> str:
    # The same statement migration audit/0005 runs over existing events.
    from importlib import import_module

    migration = import_module("audit.migrations.0005_authority_index")
    return str(migration.PG_BACKFILL).strip().replace("%", "%%")


def _load(events: int, seed: int) -> None:
    """Generate the events in SQL, chain them in Python from their canonical content (as
    PostgreSQL prints it), then insert them with their hashes."""
    import psycopg
    from django.conf import settings
    from django.db import connection

    from audit.chain import CONTENT_SQL
    from audit.models import GENESIS_HASH

    _people()
    # Child numbers are spread over the authorities the same way in the events and the index.
    params = {
        "seed": seed / 100, "start": "2024-11-23T00:00:00+00:00", "step": 2 * 365 * 24 * 3600 / events,
        "users": USERS, "children": CHILDREN, "events": events, "authorities": AUTHORITIES,
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
                       "('audit_auditevent', 'audit_auditeventchild', 'audit_auditeventauthority') "
                       "AND indexdef NOT LIKE 'CREATE UNIQUE%%'")  # fmt: skip
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET work_mem = '256MB'")
        step("generating events in SQL")
        for statement in STAGE_SQL.split(";\n"):
            if statement.strip():
                cursor.execute(statement, params)
        cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'audit_auditevent' "
                       "ORDER BY ordinal_position")  # fmt: skip
        columns = [name for (name,) in cursor.fetchall()]
        cursor.execute("CREATE UNLOGGED TABLE bench_hashes (id bigint, previous_hash text, chain_hash text)")
    step("chaining")
    previous = GENESIS_HASH
    url = settings.DATABASES["default"]
    dsn = f"host={url['HOST']} port={url['PORT'] or 5432} user={url['USER']} dbname={url['NAME']}"
    with (
        psycopg.connect(dsn) as reader,
        psycopg.connect(dsn, autocommit=True) as writer,
        reader.cursor().copy(
            f"COPY (SELECT e.id, {CONTENT_SQL} FROM bench_stage e ORDER BY e.id) TO STDOUT"  # noqa: S608
        ) as source,
        writer.cursor().copy("COPY bench_hashes FROM STDIN") as sink,
    ):
        out: list[str] = []
        done = 0
        for event_id, content in source.rows():
            this_hash = hashlib.sha256((previous + content).encode()).hexdigest()
            out.append(f"{event_id}\t{previous}\t{this_hash}\n")
            previous = this_hash
            if len(out) >= 500_000:
                sink.write("".join(out))
                done += len(out)
                out.clear()
                step(f"  {done:,}")
        sink.write("".join(out))
    step("inserting")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL")
        cursor.execute("ALTER TABLE audit_auditeventchild DISABLE TRIGGER ALL")
        cursor.execute("CREATE INDEX ON bench_hashes (id)")
        selected = ", ".join(f"h.{c}" if c in ("previous_hash", "chain_hash") else f"s.{c}" for c in columns)
        finish = FINISH_SQL.replace("{columns}", selected).replace("{authorities_backfill}", _authorities_backfill())
        for statement in finish.split(";\n"):
            cursor.execute(statement, {"authorities": AUTHORITIES})
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER ALL")
        cursor.execute("ALTER TABLE audit_auditeventchild ENABLE TRIGGER ALL")
        cursor.execute("SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), %s)", [events])
        step("building indexes")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in indexes:
            step(f"  {name}")
            cursor.execute(definition)
        step("VACUUM ANALYZE")
        cursor.execute("ANALYZE audit_auditevent")
        # What autovacuum would do in production: set the visibility map, so that the scope's
        # semi-join is answered from the index alone.
        cursor.execute("VACUUM (ANALYZE) audit_auditeventchild")
        cursor.execute("VACUUM (ANALYZE) audit_auditeventauthority")
        cursor.execute("ANALYZE accounts_user")


def _queries(codes: list[str]) -> list[tuple[str, object, object]]:
    from django.db import connection

    from audit.models import AuditEvent, AuditEventChild
    from audit.selectors import AuditorScope, AuditQuery, audit_events_find

    with connection.cursor() as cursor:
        cursor.execute("SELECT register_id FROM audit_auditeventchild ORDER BY id DESC LIMIT 1")
        register_id = cursor.fetchone()[0]
    busy_user = AuditEvent.objects.order_by("-id").values_list("actor_id", flat=True).first()
    organisation = AuditEvent.objects.order_by("-id").values_list("actor_organisation_id", flat=True).first()
    national = AuditorScope(None)
    one = AuditorScope(frozenset({codes[3]}))
    october = {"date_from": datetime.date(2026, 10, 1), "date_to": datetime.date(2026, 10, 31)}
    one_day = {"date_from": datetime.date(2025, 6, 2), "date_to": datetime.date(2025, 6, 2)}
    assert AuditEventChild.objects.filter(register_id=register_id).exists()
    cases = [
        ("national: child history (register ID)", national, AuditQuery(register_id=register_id)),
        ("national: user activity", national, AuditQuery(actor_id=busy_user)),
        ("national: everything, newest first", national, AuditQuery()),
        ("national: authority + month", national, AuditQuery(local_authority_code=codes[5], **october)),
        ("national: organisation + action + month", national,
         AuditQuery(organisation_id=organisation, action="search", **october)),
        ("national: action + month", national, AuditQuery(action="child_viewed", **october)),
        ("national: one day in 2025", national, AuditQuery(**one_day)),
        ("one authority: everything, newest first", one, AuditQuery()),
        ("one authority: action + month", one, AuditQuery(action="search", **october)),
        ("one authority: child history", one, AuditQuery(register_id=register_id)),
    ]  # fmt: skip
    result = []
    for label, scope, query in cases:
        events = audit_events_find(scope=scope, query=query)
        result.append((label, events[:25], events[:10_001]))
    return result


def _time_queries(codes: list[str], repeat: int, plans: Path | None) -> list[tuple[str, float, int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows = []
    plan_text = []
    for label, page, capped in _queries(codes):
        worst = 0.0
        count = 0
        for _ in range(repeat):
            started = time.perf_counter()
            list(page)  # fresh evaluation each time: a new queryset clone
            count = capped.count()
            worst = max(worst, time.perf_counter() - started)
            page, capped = page.all(), capped.all()
        rows.append((label, worst, count))
        if plans is not None:
            for part, run in (("page of 25", page.all), ("count (capped at 10,001)", capped.count)):
                with CaptureQueriesContext(connection) as captured:
                    list(run()) if part.startswith("page") else run()
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {captured.captured_queries[-1]['sql']}")
                    plan = "\n".join(line for (line,) in cursor.fetchall())
                plan_text.append(f"### {label}: {part}\n\n```\n{plan}\n```\n")
    if plans is not None:
        plans.write_text(
            "# Audit query plans\n\nWritten by `bench/audit_verify.py --plans`; see docs/audit.md for the "
            "figures and how they were taken.\n\n" + "\n".join(plan_text)
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/signposting_audit_bench")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database first")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="verify_audit --workers")
    parser.add_argument("--plans", type=Path, help="write EXPLAIN ANALYZE plans to this Markdown file")
    args = parser.parse_args()

    _database_create(args.database, args.fresh)
    _django(args.database)
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import LocalAuthority
    from audit.chain import chain_verify
    from audit.models import AuditEvent

    step("migrating")
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        # A table a migration has just filled: statistics and visibility map (autovacuum may be off).
        cursor.execute("VACUUM (ANALYZE) audit_auditeventauthority")
    have = AuditEvent.objects.count()
    if have != args.events:
        if have:
            raise SystemExit(f"The database holds {have:,} events, not {args.events:,}: run with --fresh")
        started = time.perf_counter()
        _load(args.events, args.seed)
        step(f"loaded in {time.perf_counter() - started:.0f} s")
    codes = sorted(LocalAuthority.objects.values_list("gss_code", flat=True))

    step("verifying the chain")
    started = time.perf_counter()
    report = chain_verify(workers=args.workers)
    seconds = time.perf_counter() - started
    rate = report.events_checked / seconds
    print(f"verify_audit: {report.events_checked:,} events in {seconds:.1f} s = {rate:,.0f} events/s; "
          f"intact={report.intact} head={report.head_hash}")  # fmt: skip
    failed = not report.intact or rate < 200_000

    step("auditor queries")
    print(f"{'query':55} {'worst of ' + str(args.repeat):>12} {'matches':>8}")
    for label, worst, count in _time_queries(codes, args.repeat, args.plans):
        print(f"{label:55} {worst * 1000:9.0f} ms {count:>8}{'' if worst < 1 else '  TOO SLOW'}")
        failed = failed or worst >= 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
