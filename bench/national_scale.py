"""Grow an imported register to national scale (ContactPoint held 11 million children) by
copying its children in SQL, for bench/search_speed.py.

    .venv/bin/python bench/import_children.py --rows 1000000 --database sp_nationalscale --skip-reimport
    .venv/bin/python bench/national_scale.py --database sp_nationalscale --children 4000000
    .venv/bin/python bench/national_scale.py --database sp_nationalscale --children 11000000

The children `import_children` wrote (the originals: born, so with a date of birth) are
copied round after round, each round in one `INSERT ... SELECT` per table, until the register
holds --children children. A copy keeps the original's names, sex, postcode, authority and
shielding, and differs in what makes a child a different child to the matcher:

* a date of birth shifted by a different number of days for every round and child, wrapped
  to stay within the originals' range (the last 17 years), so the copies spread over the
  same dates as the originals and every day gains as many children as the register grows;
* a new register ID (12 characters of the register's alphabet from an MD5 of the new id);
* no NHS number (the test range holds fewer than a million valid ones);
* an `la_reference` of `nsc<round>-<original's id>` (unique within the authority, and how a
  copy is recognised), no date of death.

Their other names and protection statuses are copied with them (same kinds and dates; an
other name takes its copy's date of birth, OtherName.child_date_of_birth).
Unborn children are not copied: their plans are found by the mother's details, which
copies would only repeat. Nothing is audited: the audit trail (whose triggers are on the
audit tables only) is left as it was, so its hash chain stays valid for the searches.

For speed, the secondary indexes of the three tables (those not backing a constraint) are
dropped before the copy and built again afterwards (their definitions are kept in the table
`bench_national_scale_index` meanwhile, so a run that stops half-way restores them next
time), foreign-key triggers are skipped for the copy session (session_replication_role =
replica: the ids are derived, so they are known to exist), then the tables are vacuumed and
analysed (the machine's PostgreSQL runs with autovacuum off). Running it again with a
larger --children adds rounds; with the same one it only restores and analyses.
"""

import argparse
import time
from typing import Any

import psycopg

TABLES = ("registry_child", "registry_othername", "registry_protectionstatus")
# Copy k of original child i has id i + k * ID_STRIDE: its other names and statuses find
# it without a lookup table. Bigger than any id import_children gives a million-row file.
ID_STRIDE = 2_000_000
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# 12 characters of the register's alphabet, from 60 bits of an MD5 of the new id, as
# AAAA-BBBB-CCCC (registry.identity.REGISTER_ID_PATTERN).
_BITS = "('x' || substr(md5(%(id)s::text), 1, 15))::bit(60)::bigint"
_CHARACTERS = [f"substr('{ALPHABET}', ((({_BITS}) >> {shift}) & 31)::int + 1, 1)" for shift in range(0, 60, 5)]
REGISTER_ID_SQL = " || ".join([*_CHARACTERS[:4], "'-'", *_CHARACTERS[4:8], "'-'", *_CHARACTERS[8:]])


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def value(cursor: psycopg.Cursor, sql: str, params: list[Any] | None = None) -> Any:
    """The first column of the one row a query returns."""
    cursor.execute(sql, params)
    row = cursor.fetchone()
    assert row is not None
    return row[0]


def columns(cursor: psycopg.Cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def indexes_drop(cursor: psycopg.Cursor) -> None:
    """Drop the secondary indexes of TABLES, keeping their definitions to build them again."""
    cursor.execute("CREATE TABLE IF NOT EXISTS bench_national_scale_index (name text PRIMARY KEY, definition text)")
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.indexname))::regclass)
        """,
        [list(TABLES)],
    )
    for name, definition in cursor.fetchall():
        cursor.execute(
            "INSERT INTO bench_national_scale_index VALUES (%s, %s) ON CONFLICT DO NOTHING", [name, definition]
        )
        cursor.execute(f'DROP INDEX "{name}"')
    log("Secondary indexes dropped")


def indexes_restore(cursor: psycopg.Cursor) -> None:
    if value(cursor, "SELECT to_regclass('bench_national_scale_index')") is None:
        return
    cursor.execute("SELECT name, definition FROM bench_national_scale_index ORDER BY name")
    for name, definition in cursor.fetchall():
        started = time.monotonic()
        if value(cursor, "SELECT to_regclass(%s)", [name]) is None:
            cursor.execute(definition)
            log(f"Built {name} in {time.monotonic() - started:.0f}s")
        cursor.execute("DELETE FROM bench_national_scale_index WHERE name = %s", [name])
    cursor.execute("DROP TABLE bench_national_scale_index")


def copy_round(cursor: psycopg.Cursor, *, round_: int, limit: int) -> int:
    """Copy up to `limit` originals (lowest ids first) as round `round_`; returns how many."""
    offset = round_ * ID_STRIDE
    child_columns = columns(cursor, "registry_child")
    replaced = {
        "id": f"c.id + {offset}",
        "register_id": REGISTER_ID_SQL % {"id": f"(c.id + {offset})"},
        "nhs_number": "NULL",
        "la_reference": f"'nsc{round_}-' || c.id",
        "date_of_death": "NULL",
        # A shift of 53 days a round plus a few days per child, wrapped into the originals'
        # range [first, first + span): every round lands on a different spread of dates.
        "date_of_birth": f"r.first + ((c.date_of_birth - r.first) + {round_} * 53 + (c.id %% 97)::int) %% r.span",
    }
    select = ", ".join(replaced.get(column, f"c.{column}") for column in child_columns)
    cursor.execute(
        f"""
        WITH r AS (SELECT min(date_of_birth) AS first, max(date_of_birth) - min(date_of_birth) + 1 AS span
                   FROM registry_child WHERE la_reference NOT LIKE 'nsc%%' AND date_of_birth IS NOT NULL),
             originals AS (SELECT id FROM registry_child
                           WHERE la_reference NOT LIKE 'nsc%%' AND date_of_birth IS NOT NULL
                           ORDER BY id LIMIT %s)
        INSERT INTO registry_child ({", ".join(child_columns)})
        SELECT {select} FROM registry_child c CROSS JOIN r WHERE c.id IN (SELECT id FROM originals)
        """,  # noqa: S608 (column names from the catalogue, numbers from this script)
        [limit],
    )
    copied = cursor.rowcount
    for table in ("registry_othername", "registry_protectionstatus"):
        table_columns = [column for column in columns(cursor, table) if column != "id"]
        replaced = {
            "child_id": f"t.child_id + {offset}",
            # An other name carries its child's date of birth (registry migration 0014): the copy's.
            "child_date_of_birth": f"(SELECT n.date_of_birth FROM registry_child n WHERE n.id = t.child_id + {offset})",  # noqa: S608
        }
        select = ", ".join(replaced.get(column, f"t.{column}") for column in table_columns)
        cursor.execute(
            f"""
            INSERT INTO {table} ({", ".join(table_columns)})
            SELECT {select} FROM {table} t
            WHERE t.child_id IN (SELECT id - %s FROM registry_child WHERE id > %s AND id < %s)
            """,  # noqa: S608
            [offset, offset, offset + ID_STRIDE],
        )
        log(f"  round {round_}: {cursor.rowcount:,} rows of {table}")
    return copied


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="sp_nationalscale")
    parser.add_argument("--children", type=int, required=True, help="children the register should hold")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--pg-user", default="postgres")
    args = parser.parse_args()
    started = time.monotonic()
    with psycopg.connect(
        host=args.pg_host, port=args.pg_port, user=args.pg_user, dbname=args.database, autocommit=True
    ) as connection:
        cursor = connection.cursor()
        cursor.execute("SET maintenance_work_mem = '1GB'")
        total = value(cursor, "SELECT count(*) FROM registry_child")
        originals = value(
            cursor,
            "SELECT count(*) FROM registry_child WHERE la_reference NOT LIKE 'nsc%' AND date_of_birth IS NOT NULL",
        )
        log(f"{args.database}: {total:,} children, {originals:,} originals to copy from")
        if (value(cursor, "SELECT max(id) FROM registry_child WHERE la_reference NOT LIKE 'nsc%'") or 0) >= ID_STRIDE:
            raise SystemExit(f"Original child ids reach ID_STRIDE ({ID_STRIDE:,}): make it larger")
        if total < args.children:
            last_round = value(
                cursor,
                "SELECT coalesce(max(substring(la_reference from '^nsc([0-9]+)-')::int), 0) FROM registry_child"
                " WHERE la_reference LIKE 'nsc%'",
            )
            indexes_drop(cursor)
            cursor.execute("SET session_replication_role = replica")
            round_ = last_round
            while total < args.children:
                round_ += 1
                copied = copy_round(cursor, round_=round_, limit=min(originals, args.children - total))
                total += copied
                log(f"Round {round_}: {copied:,} children copied, {total:,} on the register")
            cursor.execute("SET session_replication_role = origin")
            for table in TABLES:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
                )
        indexes_restore(cursor)
        for table in TABLES:
            step = time.monotonic()
            cursor.execute(f"VACUUM (ANALYZE) {table}")
            log(f"Vacuumed and analysed {table} in {time.monotonic() - step:.0f}s")
        total = value(cursor, "SELECT count(*) FROM registry_child")
        log(f"{total:,} children; {time.monotonic() - started:.0f}s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
