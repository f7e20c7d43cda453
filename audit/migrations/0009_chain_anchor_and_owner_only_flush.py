"""The chain's anchored heads (audit_auditchainanchor, append-only like the events), and the
maintenance switch honoured for the tables' owner only (docs/audit.md, "Database roles").

PostgreSQL: audit_append_only() lets DELETE and TRUNCATE through with
`audit.maintenance = 'flush'` only when the current role is (a member of) the table's
owner. Any role can set a custom setting, so the switch alone would be open to the
application's role if it were ever granted DELETE; the owner can disable the triggers
anyway, so requiring it gives nothing away. The application role owns nothing.
"""

from django.db import migrations, models
import django.utils.timezone

TABLE = "audit_auditchainanchor"

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE')
        AND current_setting('audit.maintenance', true) = 'flush'
        AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""

PG_FUNCTION_BACKWARD = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') AND current_setting('audit.maintenance', true) = 'flush' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""

PG_TRIGGERS = f"""
CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""
PG_TRIGGERS_BACKWARD = (
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}; DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE};"
)
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE on {TABLE} refused'); END""",
    f"""CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
    WHEN audit_maintenance() IS NOT 'flush'
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE on {TABLE} refused'); END""",
]
SQLITE_TRIGGERS_BACKWARD = [f"DROP TRIGGER IF EXISTS {TABLE}_no_update", f"DROP TRIGGER IF EXISTS {TABLE}_no_delete"]


def _run(schema_editor, statements):
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [PG_FUNCTION, PG_TRIGGERS])
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_TRIGGERS)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [PG_TRIGGERS_BACKWARD, PG_FUNCTION_BACKWARD])
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_TRIGGERS_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0008_pipeline_failures"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainAnchor",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("event_count", models.BigIntegerField()),
                ("head_event_id", models.BigIntegerField()),
                ("head_hash", models.CharField(max_length=64)),
            ],
        ),
        migrations.RunPython(forward, backward),
    ]
