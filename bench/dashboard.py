"""Benchmark the register dashboard on PostgreSQL: the refresh, and the pages' answer times.

    .venv/bin/python bench/dashboard.py --database postgres://postgres@127.0.0.1:5432/sp_dashboard

It

1. drops and creates the database (unless --reuse and it already holds the data), migrates it;
2. loads, with SQL (generate_series) in the database itself: 150 local authorities, 3,000
   users, 1,001,000 children (1,000 of them deliberate duplicates of another child of the
   same authority), a status and one or two involvements for most children, 300,000 match
   notifications, 1,000 legal holds, then 10,000,000 audit events over two years (45%
   searches with every outcome, 35% record views, half of those opened from the search just
   before, 20% sign-ins) with their child index rows. The append-only and hash-chain
   triggers are disabled for the load only, so the chain in this database is not valid;
3. times the first refresh (every event and row since the beginning), then adds 10,000
   events and times the incremental refresh that beat would run next;
4. times each dashboard page through the Django test client, --repeat times, as a register
   manager of the largest authority and as a system administrator, and prints the slowest.

Exits 1 if any page takes 1 s or more.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AUTHORITIES = 150
USERS_PER_AUTHORITY = 20
CHILDREN = 1_000_000
DUPLICATE_EVERY = 1000  # one deliberate duplicate per this many children
EVENTS = 10_000_000
NOTIFICATIONS = 300_000
HOLDS = 1000
GIVEN = [
    "Oliver",
    "George",
    "Harry",
    "Noah",
    "Jack",
    "Leo",
    "Arthur",
    "Muhammad",
    "Oscar",
    "Charlie",
    "Jacob",
    "Thomas",
    "Henry",
    "William",
    "Alfie",
    "Joshua",
    "Freddie",
    "Archie",
    "Theo",
    "Isaac",
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Ivy",
    "Freya",
    "Lily",
    "Florence",
    "Mia",
    "Willow",
    "Rosie",
    "Sophia",
    "Isabella",
    "Grace",
    "Daisy",
    "Sienna",
    "Poppy",
    "Elsie",
    "Emily",
    "Ella",
    "Evelyn",
    "Phoebe",
    "Sofia",
    "Evie",
    "Charlotte",
    "Harper",
    "Millie",
    "Matilda",
    "Ruby",
    "Aisha",
    "Fatima",
    "Zainab",
    "Maryam",
    "Hassan",
    "Ali",
    "Omar",
    "Yusuf",
    "Ibrahim",
    "Amir",
    "Kacper",
    "Jakub",
    "Zofia",
    "Maja",
    "Chloe",
    "Jessica",
    "Megan",
    "Liam",
    "Mason",
    "Ethan",
    "Lucas",
    "Logan",
    "Dylan",
    "Ryan",
    "Kai",
    "Tyler",
    "Ellie",
    "Erin",
    "Layla",
    "Holly",
    "Jasmine",
    "Niamh",
    "Ciara",
    "Aoife",
    "Sean",
    "Callum",
    "Rhys",
    "Owen",
    "Gareth",
    "Carys",
    "Ffion",
    "Seren",
    "Morgan",
    "Riley",
    "Jordan",
    "Taylor",
    "Casey",
    "Reece",
    "Kian",
    "Nathan",
    "Aaron",
]
SYLLABLES_A = [
    "Ash",
    "Brad",
    "Carl",
    "Dun",
    "Ell",
    "Fair",
    "Gold",
    "Hart",
    "Ing",
    "Kings",
    "Lang",
    "Mar",
    "Nor",
    "Old",
    "Pen",
    "Ross",
    "Stan",
    "Thorn",
    "Went",
    "Whit",
]
SYLLABLES_B = [
    "by",
    "combe",
    "den",
    "field",
    "ford",
    "ham",
    "hurst",
    "ley",
    "low",
    "more",
    "ridge",
    "stead",
    "thorpe",
    "ton",
    "wick",
    "wood",
    "worth",
    "ell",
    "er",
]


def step(message: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", flush=True)


def _database_create(url: str, fresh: bool) -> bool:
    """Create the database; True if it was (re)created."""
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
            return True
    return False


def _setup_django(url: str, redis_url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DEBUG", "False")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signposting.settings.local")
    import django

    django.setup()
    from django.conf import settings

    # DEBUG=False as in production, but without running collectstatic for the benchmark.
    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


def _people() -> None:
    """Authorities, one organisation each, and their users (ORM: a few thousand rows)."""
    from accounts.models import LocalAuthority, Organisation, User

    LocalAuthority.objects.bulk_create(
        LocalAuthority(
            gss_code=f"E09{n:06d}",
            name=f"Authority {n:03d}",
            office_hours_phone="020 7000 0000",
            out_of_hours_phone="020 7000 9999",
            secure_email=f"la{n}@example.gov.uk",
        )
        for n in range(1, AUTHORITIES + 1)
    )
    authorities = list(LocalAuthority.objects.order_by("gss_code"))
    Organisation.objects.bulk_create(
        Organisation(name=f"Social care {la.gss_code}", kind="childrens_social_care", local_authority=la)
        for la in authorities
    )
    organisations = {org.local_authority_id: org for org in Organisation.objects.all()}
    User.objects.bulk_create(
        User(
            email=f"user{la.pk}-{n}@example.gov.uk",
            full_name=f"Practitioner {la.pk}-{n}",
            organisation=organisations[la.pk],
            local_authority=la,
            password="!",  # noqa: S106 (an unusable password: nobody signs in as these users)
        )
        for la in authorities
        for n in range(USERS_PER_AUTHORITY)
    )


def _names_table(cursor) -> None:  # type: ignore[no-untyped-def]
    """Every (given, family) pair with the matching keys the application computes for it."""
    from registry.matching.keys import name_keys

    families = [a + b for a in SYLLABLES_A for b in SYLLABLES_B]
    cursor.execute(
        "CREATE UNLOGGED TABLE bench_names (n int PRIMARY KEY, given text, family text, gn text, fn text, "
        "gp text, fp text, ffp text, flp text, ini text)"
    )
    rows = []
    for n, (given, family) in enumerate((g, f) for g in GIVEN for f in families):
        keys = name_keys(given_names=given, family_name=family)
        rows.append(
            (
                n,
                given,
                family,
                keys.given_names_normalised,
                keys.family_name_normalised,
                keys.given_name_phonetic,
                keys.family_name_phonetic,
                keys.family_name_first_phonetic,
                keys.family_name_last_phonetic,
                keys.name_initials,
            )
        )
    with cursor.copy("COPY bench_names FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute("ANALYZE bench_names")


REGISTER_ID = """
CREATE FUNCTION bench_rid(n bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT substr(s, 1, 4) || '-' || substr(s, 5, 4) || '-' || substr(s, 9, 4) FROM (
    SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', (((n * 7919 + 104729) >> (5 * k)) & 31)::int + 1, 1),
                      '' ORDER BY k) AS s
    FROM generate_series(0, 11) k) chars
$$;
"""


# A child's date of birth, hashed independently of its authority ((g * 7919) % AUTHORITIES):
# a multiple of g modulo 6200 would repeat with the authority every lcm(6200, 150) = 18,600
# children, putting ~50 children of one authority on each date (a register no authority has,
# and a duplicate scan comparing nearly everyone).
DOB_OFFSET = """
CREATE FUNCTION bench_dob_offset(g bigint) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT (((g * 2654435761) % 4294967296) % 6200)::int
$$;
"""


def _register(cursor) -> None:  # type: ignore[no-untyped-def]
    cursor.execute(REGISTER_ID)
    cursor.execute(DOB_OFFSET)
    cursor.execute("SELECT count(*) FROM bench_names")
    names = cursor.fetchone()[0]
    cursor.execute("SELECT min(id) FROM accounts_localauthority")
    first_la = cursor.fetchone()[0]
    step("children")
    cursor.execute(
        f"""
        INSERT INTO registry_child (id, register_id, nhs_number, responsible_local_authority_id, la_reference,
            given_names, family_name, date_of_birth, sex, address_line_1, address_line_2, town, postcode,
            is_shielded, shielding_reason, date_of_death, created_at, updated_at, version,
            given_names_normalised, family_name_normalised, given_name_phonetic, family_name_phonetic,
            family_name_first_phonetic, family_name_last_phonetic, name_initials)
        SELECT g, bench_rid(g),
            CASE WHEN g % 10 = 0 OR g % 11 = 0 THEN NULL ELSE lpad((1000000000 + g)::text, 10, '0') END,
            {first_la} + (g * 7919) % {AUTHORITIES}, 'REF-' || g,
            CASE WHEN g % 10 = 0 THEN '' ELSE nm.given END, nm.family,
            CASE WHEN g % 10 = 0 THEN NULL ELSE date '2009-12-01' + bench_dob_offset(g) END,
            CASE WHEN g % 2 = 0 THEN 'female' ELSE 'male' END, '1 High Street', '', 'Town',
            CASE WHEN g % 50 = 0 OR g % 10 = 0 THEN '' ELSE 'AB' || (10 + g % 90) || ' ' || (g % 9) || 'AA' END,
            false, '', NULL, now() - ((g % 730) || ' days')::interval, now() - ((g % 730) || ' days')::interval, 1,
            CASE WHEN g % 10 = 0 THEN '' ELSE nm.gn END, nm.fn, CASE WHEN g % 10 = 0 THEN '' ELSE nm.gp END, nm.fp,
            nm.ffp, nm.flp, nm.ini
        FROM generate_series(1::bigint, {CHILDREN}) g JOIN bench_names nm ON nm.n = (g * 31) % {names}
        """  # noqa: S608 (constants and numbers only)
    )
    # Deliberate duplicates: another record of the same child, same authority, no NHS number.
    cursor.execute(
        f"""
        INSERT INTO registry_child (id, register_id, nhs_number, responsible_local_authority_id, la_reference,
            given_names, family_name, date_of_birth, sex, address_line_1, address_line_2, town, postcode,
            is_shielded, shielding_reason, date_of_death, created_at, updated_at, version,
            given_names_normalised, family_name_normalised, given_name_phonetic, family_name_phonetic,
            family_name_first_phonetic, family_name_last_phonetic, name_initials)
        SELECT {CHILDREN} + id, bench_rid({CHILDREN} + id), NULL, responsible_local_authority_id, 'DUP-' || id,
            given_names, family_name, date_of_birth, sex, address_line_1, address_line_2, town, postcode,
            false, '', NULL, created_at, updated_at, 1, given_names_normalised, family_name_normalised,
            given_name_phonetic, family_name_phonetic, family_name_first_phonetic, family_name_last_phonetic,
            name_initials
        FROM registry_child WHERE id % {DUPLICATE_EVERY} = 1 AND date_of_birth IS NOT NULL
        """  # noqa: S608 (constants and numbers only)
    )
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence('registry_child', 'id'), (SELECT max(id) FROM registry_child))"
    )


def _register_around_children(cursor) -> None:  # type: ignore[no-untyped-def]
    """Statuses, involvements, notifications and holds of the children already loaded."""
    cursor.execute("SELECT min(id) FROM accounts_localauthority")
    first_la = cursor.fetchone()[0]
    cursor.execute("SELECT min(id) FROM accounts_user")
    first_user = cursor.fetchone()[0]
    step("statuses")
    cursor.execute(
        """
        INSERT INTO registry_protectionstatus (child_id, kind, legal_basis, start_date, end_date,
            responsible_local_authority_id, expected_delivery_date, mother_given_names, mother_family_name,
            mother_date_of_birth, mother_nhs_number, created_at, updated_at)
        SELECT id,
            CASE WHEN date_of_birth IS NULL THEN 'unborn_cpp' WHEN id % 10 < 6 THEN 'cpp' ELSE 'looked_after' END,
            CASE WHEN date_of_birth IS NULL OR id % 10 < 6 THEN ''
                 ELSE (ARRAY['s31', 's38', 's20', 'other'])[1 + id % 4] END,
            current_date - (30 + id % 700)::int, CASE WHEN id % 7 = 0 THEN current_date - (id % 30)::int END,
            responsible_local_authority_id,
            CASE WHEN date_of_birth IS NULL THEN current_date + (id % 200)::int END, '', '', NULL, '', now(), now()
        FROM registry_child
        """
    )
    step("involvements")
    users_per = USERS_PER_AUTHORITY
    cursor.execute(
        f"""
        INSERT INTO registry_involvement (child_id, practitioner_id, contact_name, contact_organisation_id,
            contact_organisation_name, contact_role, contact_phone, contact_email, service_type, sensitive_category,
            is_lead, start_date, end_date, created_at, authority_notified_at, confirmed_at)
        SELECT id, {first_user} + (responsible_local_authority_id - {first_la}) * {users_per} + id % {users_per},
            '', NULL::bigint, '', '', '', '', 'social_care', '', id % 3 <> 0,
            current_date - (id % 900)::int, NULL::date,
            now() - ((id % 900) || ' days')::interval, NULL::timestamptz,
            CASE WHEN id % 4 = 0 THEN now() - ((id % 200) || ' days')::interval END
        FROM registry_child WHERE id % 5 <> 0
        UNION ALL
        SELECT id, {first_user} + (responsible_local_authority_id - {first_la}) * {users_per} + (id + 1) % {users_per},
            '', NULL::bigint, '', '', '', '', 'health_visiting', '', false, current_date - (id % 400)::int, NULL::date,
            now() - ((id % 400) || ' days')::interval, NULL::timestamptz, NULL::timestamptz
        FROM registry_child WHERE id % 4 = 0
        """  # noqa: S608 (constants and numbers only)
    )
    step("notifications and legal holds")
    cursor.execute(
        f"""
        INSERT INTO registry_notification (recipient_id, child_id, kind, message, created_at, read_at, emailed_at)
        SELECT {first_user} + g % {AUTHORITIES * users_per}, 1 + (g * 7) % {CHILDREN}, 'involvement_match',
            'Another practitioner is working with a child you work with',
            now() - interval '84 days' * (1 - g::float / {NOTIFICATIONS}) - interval '10 minutes', NULL, NULL
        FROM generate_series(1::bigint, {NOTIFICATIONS}) g
        """  # noqa: S608 (constants and numbers only)
    )
    cursor.execute(
        f"""
        INSERT INTO registry_legalhold (child_id, reason, reference, set_by_id, set_at, lifted_by_id, lifted_at,
            lift_reason)
        SELECT 1 + (g * 997) % {CHILDREN}, 'Public inquiry', 'INQ-' || g, {first_user}, now() - interval '30 days',
            NULL, NULL, ''
        FROM generate_series(1, {HOLDS}) g
        """  # noqa: S608 (constants and numbers only)
    )


FEED_MATCHES = 50_000
TRANSFERS = 5_000
REMOVALS = 20_000


def _movements_and_feeds(cursor) -> None:  # type: ignore[no-untyped-def]
    """What the joiners', leavers' and feed lists show: transfers between authorities,
    removal receipts over the last year, and GRO feed matches in every state."""
    cursor.execute("SELECT min(id) FROM accounts_user")
    first_user = cursor.fetchone()[0]
    cursor.execute("SELECT min(id) FROM accounts_localauthority")
    first_la = cursor.fetchone()[0]
    step("transfers, removal receipts and feed matches")
    cursor.execute(
        f"""
        INSERT INTO registry_childtransfer (child_id, from_local_authority_id, to_local_authority_id, transferred_on,
            transferred_by_id, created_at)
        SELECT c.id, {first_la} + (c.responsible_local_authority_id - {first_la} + 1) % {AUTHORITIES},
            c.responsible_local_authority_id, current_date - (g % 360)::int, {first_user}, now() - interval '1 hour'
        FROM generate_series(1, {TRANSFERS}) g JOIN registry_child c ON c.id = 1 + (g * 104723) % {CHILDREN}
        """  # noqa: S608 (constants and numbers only)
    )
    cursor.execute(
        f"""
        INSERT INTO registry_removalreceipt (register_id, responsible_local_authority_id, rule, manual_reason, due_on,
            removed_at, removed_by_id, deleted_counts, run_id)
        SELECT 'RM' || lpad(g::text, 6, '0') || '-GONE', {first_la} + g % {AUTHORITIES},
            (ARRAY['statuses_ended', 'eighteenth_birthday', 'unborn_no_birth', 'death'])[1 + g % 4], '',
            current_date - (g % 360)::int, now() - ((g % 360) || ' days')::interval, NULL, '{{}}'::jsonb, NULL
        FROM generate_series(1, {REMOVALS}) g
        """  # noqa: S608 (constants and numbers only)
    )
    cursor.execute(
        "INSERT INTO feeds_feedfile (id, event_type, sha256, original_name, size_bytes, is_gzip, source, stored_path, "
        "state, lines_committed, rows_applied, rows_for_review, rows_unmatched, rows_duplicate, rows_out_of_scope, "
        "rows_quarantined, failure, received_at, deliveries) VALUES ('00000000-0000-0000-0000-000000000001', "
        "'death', repeat('0', 64), 'deaths.csv', 1, false, 'command', '', 'done', 0, 0, 0, 0, 0, 0, 0, '', now(), 1)"
    )
    cursor.execute(
        f"""
        INSERT INTO feeds_registration (id, event_type, registration_district, entry_number, registration_year,
            record_status, content_sha256, outcome, line_number, first_seen_at, updated_at, feed_file_id)
        SELECT g, 'death', 'District', g::text, 2026, 'registered', lpad(g::text, 64, '0'), 'applied', g,
            now() - ((g % 300) || ' days')::interval, now(), '00000000-0000-0000-0000-000000000001'
        FROM generate_series(1, {FEED_MATCHES}) g
        """  # noqa: S608 (constants and numbers only)
    )
    cursor.execute(
        f"""
        INSERT INTO feeds_feedmatch (registration_id, child_id, unborn_status_id, local_authority_id, method, state,
            grade, reasons, details, previous_date_of_death, decided_by_id, decided_at, created_at, updated_at)
        SELECT g, c.id, NULL, c.responsible_local_authority_id, 'nhs_number',
            (ARRAY['applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'confirmed',
                   'pending', 'rejected'])[1 + g % 10], '', '[]'::jsonb, '{{}}'::jsonb, NULL, NULL, NULL,
            now() - ((g % 300) || ' days')::interval, now()
        FROM generate_series(1, {FEED_MATCHES}) g JOIN registry_child c ON c.id = 1 + (g * 7727) % {CHILDREN}
        """  # noqa: S608 (constants and numbers only)
    )
    for table in ("feeds_registration", "feeds_feedmatch"):
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608


def _audit_trail(cursor, *, events: int, first_id: int, end_minutes_ago: int, span_days: float) -> None:  # type: ignore[no-untyped-def]
    """`events` audit events with ids from first_id, spread evenly over `span_days` up to
    `end_minutes_ago`, and their child index rows."""
    cursor.execute("SELECT min(id) FROM accounts_user")
    first_user = cursor.fetchone()[0]
    users = AUTHORITIES * USERS_PER_AUTHORITY
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS bench_user AS SELECT u.id - %s AS idx, u.id, u.organisation_id, "
        "la.gss_code FROM accounts_user u JOIN accounts_localauthority la ON la.id = u.local_authority_id",
        [first_user],
    )
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS bench_child AS SELECT c.id, c.register_id, la.gss_code "
        "FROM registry_child c JOIN accounts_localauthority la ON la.id = c.responsible_local_authority_id"
    )
    cursor.execute("ALTER TABLE bench_user ADD PRIMARY KEY (idx)") if first_id == 1 else None
    cursor.execute("ALTER TABLE bench_child ADD PRIMARY KEY (id)") if first_id == 1 else None
    cursor.execute("ANALYZE bench_user; ANALYZE bench_child")
    last = first_id + events - 1
    cursor.execute(
        f"""
        INSERT INTO audit_auditevent (id, occurred_at, action, actor_id, actor_roles, actor_organisation_id,
            actor_local_authority_code, ip_address, request_id, register_ids, subject_user_id, local_authority_code,
            details, reason, reason_detail, criteria, outcome, channel, previous_hash, chain_hash)
        SELECT e.e,
            now() - interval '{end_minutes_ago} minutes'
                - interval '1 day' * ({span_days} * ({last} - e.e)::float / {events}),
            CASE WHEN e.e % 20 < 9 THEN 'search' WHEN e.e % 20 < 16 THEN 'child_viewed' ELSE 'login_succeeded' END,
            u.id, '["practitioner"]', u.organisation_id, u.gss_code, NULL, '',
            CASE WHEN e.e % 20 < 9 AND (e.e / 20) % 20 < 12 THEN jsonb_build_array(c.register_id)
                 WHEN e.e % 20 BETWEEN 9 AND 15 THEN jsonb_build_array(c.register_id) ELSE '[]'::jsonb END,
            NULL,
            CASE WHEN e.e % 20 BETWEEN 9 AND 15 THEN c.gss_code ELSE '' END,
            CASE WHEN e.e % 20 = 9 THEN jsonb_build_object('search_event', e.e - 1) ELSE '{{}}'::jsonb END,
            CASE WHEN e.e % 20 < 16
                 THEN (ARRAY['new_concern', 'assessment', 'ongoing_work', 'emergency', 'other'])[1 + e.e % 5]
                 ELSE '' END,
            '', '{{}}'::jsonb,
            CASE WHEN e.e % 20 < 9 THEN
                CASE WHEN (e.e / 20) % 20 < 12 THEN 'results' WHEN (e.e / 20) % 20 < 17 THEN 'no_results'
                     WHEN (e.e / 20) % 20 = 17 THEN 'too_many' ELSE 'refused' END
                 WHEN e.e % 20 < 16 THEN 'viewed' ELSE '' END,
            CASE WHEN e.e % 20 >= 16 THEN '' WHEN e.e % 7 = 0 THEN 'api' ELSE 'web' END,
            '', ''
        FROM generate_series({first_id}::bigint, {last}) e(e)
        JOIN bench_user u ON u.idx = (e.e * 31) % {users}
        JOIN bench_child c ON c.id = 1 + ((CASE WHEN e.e % 20 = 9 THEN e.e - 1 ELSE e.e END) * 7919) % {CHILDREN}
        """  # noqa: S608 (constants and numbers only)
    )
    cursor.execute(
        f"""
        INSERT INTO audit_auditeventchild (event_id, register_id, local_authority_code, occurred_at)
        SELECT ev.id, ev.register_ids ->> 0, c.gss_code, ev.occurred_at
        FROM audit_auditevent ev JOIN bench_child c ON c.register_id = ev.register_ids ->> 0
        WHERE ev.id BETWEEN {first_id} AND {last} AND jsonb_array_length(ev.register_ids) > 0
        """  # noqa: S608 (constants and numbers only)
    )
    cursor.execute("SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), %s)", [last])


def _load(url: str) -> None:
    import psycopg
    from django.core.management import call_command

    step("migrate")
    call_command("migrate", verbosity=0)
    step("authorities and users")
    _people()
    with psycopg.connect(url, autocommit=True) as connection, connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        # The audit tables' append-only and hash-chain triggers, for the load only.
        cursor.execute("SET session_replication_role = replica")
        _names_table(cursor)
        # Secondary indexes of the register are built once after the load, not row by row.
        register_indexes = _indexes_drop(
            cursor, ("registry_child", "registry_protectionstatus", "registry_involvement")
        )
        _register(cursor)
        _load_rest(cursor, register_indexes)


def _indexes_drop(cursor, tables: tuple[str, ...]) -> list[str]:  # type: ignore[no-untyped-def]
    """Drop the tables' non-unique indexes; returns their definitions to build them again."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexdef NOT LIKE '%%UNIQUE%%'",
        [list(tables)],
    )
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in indexes]


def _load_rest(cursor, register_indexes: list[str] | None = None) -> None:  # type: ignore[no-untyped-def]
    """Everything after the children: a load stopped after them can be continued from here."""
    _register_around_children(cursor)
    _movements_and_feeds(cursor)
    step(f"{EVENTS:,} audit events")
    indexes = _indexes_drop(cursor, ("audit_auditevent", "audit_auditeventchild"))
    _audit_trail(cursor, events=EVENTS, first_id=1, end_minutes_ago=10, span_days=730)
    step("indexes")
    for definition in [*(register_indexes or []), *indexes]:
        cursor.execute(definition)
    step("analyze")
    cursor.execute("ANALYZE")


def _first_duplicate_scan_complete() -> bool:
    from django.db.models import Max

    from registry.dashboard.refresh import DUPLICATES_FIRST_SCAN_BOOKMARK
    from registry.models import Child, DashboardBookmark

    bookmark = DashboardBookmark.objects.filter(source=DUPLICATES_FIRST_SCAN_BOOKMARK).first()
    top = Child.objects.aggregate(top=Max("id"))["top"] or 0
    return bookmark is not None and bookmark.last_id >= top


def _signed_in_client(user):  # type: ignore[no-untyped-def]
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(
        user=user, name="Bench", confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def _time_pages(repeat: int) -> list[tuple[str, float, float, float]]:
    from django.db.models import Count
    from django.urls import reverse

    from accounts.models import LocalAuthority, User
    from accounts.roles import Role
    from accounts.services import user_grant_role

    largest = LocalAuthority.objects.annotate(n=Count("children")).order_by("-n").first()
    assert largest is not None
    manager, _ = User.objects.get_or_create(
        email="bench-manager@example.gov.uk",
        defaults={
            "full_name": "Bench Manager",
            "local_authority": largest,
            "training_completed_on": datetime.date.today(),
        },
    )
    user_grant_role(user=manager, role=Role.REGISTER_MANAGER, local_authority=largest, granted_by=None)
    admin, _ = User.objects.get_or_create(
        email="bench-admin@example.gov.uk",
        defaults={"full_name": "Bench Administrator", "training_completed_on": datetime.date.today()},
    )
    user_grant_role(user=admin, role=Role.SYSTEM_ADMINISTRATOR, local_authority=None, granted_by=None)
    code = largest.gss_code
    pages = [
        ("manager", "authority dashboard", reverse("dashboard:authority")),
        ("manager", "children: no lead", reverse("dashboard:children", args=[code, "no-lead"])),
        ("manager", "children: no NHS number", reverse("dashboard:children", args=[code, "no-nhs-number"])),
        (
            "manager",
            "children: looked after s31",
            reverse("dashboard:children", args=[code, "status-looked-after-s31"]),
        ),
        ("manager", "children: all", reverse("dashboard:children", args=[code, "all"])),
        ("manager", "children: no postcode", reverse("dashboard:children", args=[code, "no-postcode"])),
        ("manager", "children: no involvement", reverse("dashboard:children", args=[code, "no-current-involvement"])),
        ("manager", "children: legal holds", reverse("dashboard:children", args=[code, "legal-holds"])),
        ("manager", "children: unborn", reverse("dashboard:children", args=[code, "status-unborn-cpp"])),
        ("manager", "joiners", reverse("dashboard:movements", args=[code, "joiners"])),
        ("manager", "leavers", reverse("dashboard:movements", args=[code, "leavers"])),
        ("manager", "practitioners put in touch", reverse("dashboard:match-notifications", args=[code])),
        ("manager", "feed: applied", reverse("feeds:dashboard-matches", args=[code, "applied"])),
        ("manager", "feed: waiting", reverse("feeds:dashboard-matches", args=[code, "waiting"])),
        ("manager", "feed: rejected", reverse("feeds:dashboard-matches", args=[code, "rejected"])),
        ("manager", "stale involvements", reverse("dashboard:stale-involvements", args=[code])),
        ("manager", "likely duplicates", reverse("dashboard:duplicates", args=[code])),
        ("manager", "removals due", reverse("dashboard:removals-due", args=[code])),
        ("admin", "national dashboard", reverse("dashboard:national")),
        ("admin", "national CSV export", reverse("dashboard:national-export")),
        ("admin", "authority dashboard (admin)", reverse("dashboard:authority") + f"?authority={code}"),
    ]
    clients = {"manager": _signed_in_client(manager), "admin": _signed_in_client(admin)}
    results = []
    for who, name, url in pages:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = clients[who].get(url)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, (name, response.status_code)
        results.append((name, statistics.median(times), _p95(times), max(times)))
    return results


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    global CHILDREN, EVENTS, NOTIFICATIONS  # the sizes of the one run this process makes
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/sp_dashbench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--reuse", action="store_true", help="keep the database if it exists (skip the load)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--pages-only", action="store_true", help="time the pages only (the refresh has run)")
    parser.add_argument(
        "--continue-load", action="store_true", help="the children are loaded: load the rest, then measure"
    )
    parser.add_argument("--load-only", action="store_true", help="load the database, then stop")
    parser.add_argument("--children", type=int, default=CHILDREN, help="a smaller number for a quick trial")
    parser.add_argument("--events", type=int, default=EVENTS, help="a smaller number for a quick trial")
    args = parser.parse_args()
    CHILDREN, EVENTS = args.children, args.events
    NOTIFICATIONS = min(NOTIFICATIONS, CHILDREN // 3)
    started = time.perf_counter()
    created = _database_create(args.database, fresh=not args.reuse and not args.continue_load)
    _setup_django(args.database, args.redis)
    if args.continue_load:
        import psycopg

        load_start = time.perf_counter()
        with psycopg.connect(args.database, autocommit=True) as raw, raw.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET maintenance_work_mem = '256MB'")
            cursor.execute("SET session_replication_role = replica")
            _load_rest(cursor)
        step(f"load continued in {time.perf_counter() - load_start:.0f} s")
    elif created:
        load_start = time.perf_counter()
        _load(args.database)
        step(f"loaded in {time.perf_counter() - load_start:.0f} s")
    if args.load_only:
        return 0

    from django.db import connection

    from feeds.dashboard import feed_figures_refresh
    from registry.dashboard.refresh import dashboard_refresh, duplicates_scan

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM registry_child")
        children = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM audit_auditevent")
        events = cursor.fetchone()[0]
    step(f"database holds {children:,} children and {events:,} audit events")
    first_refresh = next_refresh = scan_total = scan_slowest = 0.0
    scan_runs = 0
    if not args.pages_only:
        step("refresh (first run: everything since the beginning)")
        start = time.perf_counter()
        report = dashboard_refresh()
        first_refresh = time.perf_counter() - start
        step(f"first refresh {first_refresh:.1f} s: {report}")
        # The first duplicate scan goes on over the next runs, a bounded batch each: run them
        # back to back (as beat would, every few minutes) until it is complete.
        while not _first_duplicate_scan_complete():
            start = time.perf_counter()
            passed = duplicates_scan()
            took = time.perf_counter() - start
            scan_runs, scan_total, scan_slowest = scan_runs + 1, scan_total + took, max(scan_slowest, took)
            step(f"duplicate scan run {scan_runs}: {passed:,} child ids in {took:.1f} s")
        step(f"first duplicate scan: {scan_runs} more runs, {scan_total:.0f} s, slowest run {scan_slowest:.1f} s")

        import psycopg

        with psycopg.connect(args.database, autocommit=True) as raw, raw.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            cursor.execute("SELECT max(id) FROM audit_auditevent")
            top = cursor.fetchone()[0]
            _audit_trail(cursor, events=10_000, first_id=top + 1, end_minutes_ago=3, span_days=5 / 1440)
        start = time.perf_counter()
        report = dashboard_refresh()
        next_refresh = time.perf_counter() - start
        step(f"incremental refresh after 10,000 new events {next_refresh:.1f} s: {report}")
    start = time.perf_counter()
    feed_figures_refresh()  # the feeds' own beat task
    step(f"feed figures refresh {time.perf_counter() - start:.1f} s")

    results = _time_pages(args.repeat)
    print()
    print(f"{'page':32} {'median s':>9} {'p95 s':>9} {'slowest s':>10}")
    for name, median, p95, slowest in results:
        print(f"{name:32} {median:9.3f} {p95:9.3f} {slowest:10.3f}")
    load = os.getloadavg()
    print()
    print(
        f"children {children:,}; audit events {events:,}; first refresh {first_refresh:.1f} s; "
        f"rest of the first duplicate scan {scan_total:.0f} s in {scan_runs} runs (slowest {scan_slowest:.1f} s); "
        f"incremental refresh {next_refresh:.1f} s; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
        f"whole run {time.perf_counter() - started:.0f} s"
    )
    slowest = max(result[2] for result in results)  # the p95
    step(f"uptime: {os.popen('uptime').read().strip()}")  # noqa: S605 (a fixed command, for the record)
    return 0 if slowest < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
