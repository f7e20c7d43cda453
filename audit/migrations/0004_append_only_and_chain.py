"""Make the audit trail append-only and tamper-evident (docs/audit.md).

PostgreSQL: a BEFORE INSERT trigger takes the chain lock, numbers the event and hashes it;
UPDATE is always refused; DELETE and TRUNCATE are refused unless the transaction set
`audit.maintenance` to 'flush' (only the test suite's flush does; the application never).
SQLite: UPDATE is always refused; DELETE unless the connection's audit_maintenance()
function answers 'flush' (registered by audit.apps to answer NULL; only the test suite's
flush overrides it). The hash is computed in Python by audit.services on SQLite.

The SQL is frozen here on purpose: audit.chain documents the same definition, and a
later change to either must keep existing chains valid.

Caution for later migrations: on SQLite, altering audit_auditevent or
audit_auditeventchild rebuilds the table and drops these triggers; such a migration must
create them again (tests/audit/test_tampering.py fails if it does not).
"""

import hashlib
import json
from decimal import Decimal

from django.db import migrations

TABLES = ("audit_auditevent", "audit_auditeventchild")

PG_FORWARD = """
CREATE FUNCTION audit_event_content(e audit_auditevent) RETURNS text LANGUAGE sql STABLE AS $$
SELECT jsonb_build_array(
    to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    e.action, e.actor_id, e.actor_roles, e.actor_organisation_id, e.actor_local_authority_code,
    host(e.ip_address), e.request_id, e.register_ids, e.subject_user_id, e.local_authority_code,
    e.details, e.reason, e.reason_detail, e.criteria, e.outcome, e.channel
)::text
$$;

DO $$
DECLARE
    r audit_auditevent%ROWTYPE;
    previous text := repeat('0', 64);
    this_hash text;
BEGIN
    FOR r IN SELECT * FROM audit_auditevent ORDER BY id LOOP
        this_hash := encode(sha256(convert_to(previous || audit_event_content(r), 'UTF8')), 'hex');
        UPDATE audit_auditevent SET previous_hash = previous, chain_hash = this_hash WHERE id = r.id;
        previous := this_hash;
    END LOOP;
END $$;

CREATE FUNCTION audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head text;
BEGIN
    -- Held until the transaction ends, so events join the chain in commit order and the
    -- id (taken again under the lock) follows the chain.
    PERFORM pg_advisory_xact_lock(8020000008);
    NEW.id := nextval(pg_get_serial_sequence('audit_auditevent', 'id'));
    SELECT chain_hash INTO head FROM audit_auditevent ORDER BY id DESC LIMIT 1;
    NEW.previous_hash := coalesce(head, repeat('0', 64));
    NEW.chain_hash := encode(sha256(convert_to(NEW.previous_hash || audit_event_content(NEW), 'UTF8')), 'hex');
    RETURN NEW;
END $$;

CREATE TRIGGER audit_event_chain BEFORE INSERT ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_chain();

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') AND current_setting('audit.maintenance', true) = 'flush' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""

PG_TABLE_FORWARD = """
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""

PG_TABLE_BACKWARD = """
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS audit_event_chain ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_chain();
DROP FUNCTION IF EXISTS audit_append_only();
DROP FUNCTION IF EXISTS audit_event_content(audit_auditevent);
"""

SQLITE_TABLE_FORWARD = [
    """CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE on {table} refused'); END""",
    """CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
    WHEN audit_maintenance() IS NOT 'flush'
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE on {table} refused'); END""",
]

SQLITE_TABLE_BACKWARD = ["DROP TRIGGER IF EXISTS {table}_no_update", "DROP TRIGGER IF EXISTS {table}_no_delete"]

CONTENT_FIELDS = (
    "occurred_at", "action", "actor_id", "actor_roles", "actor_organisation_id", "actor_local_authority_code",
    "ip_address", "request_id", "register_ids", "subject_user_id", "local_authority_code", "details", "reason",
    "reason_detail", "criteria", "outcome", "channel",
)  # fmt: skip


def _jsonb(value):
    # Frozen copy of audit.chain.jsonb_text.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, str):
        escapes = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
        return '"' + "".join(escapes.get(c, f"\\u{ord(c):04x}" if ord(c) < 0x20 else c) for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_jsonb(item) for item in value) + "]"
    keys = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
    return "{" + ", ".join(f"{_jsonb(key)}: {_jsonb(value[key])}" for key in keys) + "}"


def _sqlite_backfill(apps, schema_editor):
    import datetime

    event_model = apps.get_model("audit", "AuditEvent")
    previous = "0" * 64
    for event in event_model.objects.using(schema_editor.connection.alias).order_by("id"):
        row = []
        for name in CONTENT_FIELDS:
            value = getattr(event, name)
            if name == "occurred_at":
                value = value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            row.append(json.loads(json.dumps(value)))
        this_hash = hashlib.sha256((previous + _jsonb(row)).encode()).hexdigest()
        event_model.objects.filter(pk=event.pk).update(previous_hash=previous, chain_hash=this_hash)
        previous = this_hash


def _children_backfill(apps, schema_editor):
    event_model = apps.get_model("audit", "AuditEvent")
    link_model = apps.get_model("audit", "AuditEventChild")
    child_model = apps.get_model("registry", "Child")
    alias = schema_editor.connection.alias
    for event in event_model.objects.using(alias).exclude(register_ids=[]).iterator():
        authorities = dict(
            child_model.objects.using(alias)
            .filter(register_id__in=event.register_ids)
            .values_list("register_id", "responsible_local_authority__gss_code")
        )
        link_model.objects.using(alias).bulk_create(
            link_model(
                event=event, register_id=rid, local_authority_code=authorities.get(rid, ""),
                occurred_at=event.occurred_at,
            )
            for rid in dict.fromkeys(event.register_ids)
        )  # fmt: skip


def _run(schema_editor, sql):
    # No parameters: the PL/pgSQL bodies contain "%", which must reach the server as is.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)


def forward(apps, schema_editor):
    _children_backfill(apps, schema_editor)
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, PG_FORWARD)
        for table in TABLES:
            _run(schema_editor, PG_TABLE_FORWARD.format(table=table))
    elif vendor == "sqlite":
        _sqlite_backfill(apps, schema_editor)
        for table in TABLES:
            for statement in SQLITE_TABLE_FORWARD:
                _run(schema_editor, statement.format(table=table))


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in TABLES:
            _run(schema_editor, PG_TABLE_BACKWARD.format(table=table))
        _run(schema_editor, PG_BACKWARD)
    elif vendor == "sqlite":
        for table in TABLES:
            for statement in SQLITE_TABLE_BACKWARD:
                _run(schema_editor, statement.format(table=table))


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_chain_flags"),
        ("registry", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
