"""The PostgreSQL grants that keep the application's own login from rewriting the audit
trail (docs/audit.md, "Database roles"). The owner role runs migrations and owns every
table; the application role (web, worker, beat) owns nothing and may only read and append
to the append-only tables. `manage.py database_roles_grant` applies these as the owner
after every migrate (compose's migrate service); the tests apply the same statements to
roles they create."""

from django.db import connections

# Every table whose triggers make it append-only (migrations 0004, 0005, 0008). The
# application role gets SELECT and INSERT on these, nothing else.
APPEND_ONLY_TABLES = (
    "audit_auditevent",
    "audit_auditeventchild",
    "audit_auditeventauthority",
    "audit_auditchainanchor",
)


def app_role_grant_statements(*, app_role: str, using: str = "default") -> list[str]:
    """The statements, run as the owner, that give `app_role` what the service needs:
    read and write on ordinary tables, sequences for ids, and only SELECT and INSERT on
    the append-only tables. Default privileges give tables that later migrations create
    the same ordinary grants (this is run again after each migrate to take them off the
    append-only tables)."""
    quote = connections[using].ops.quote_name
    role = quote(app_role)
    append_only = ", ".join(quote(table) for table in APPEND_ONLY_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"REVOKE ALL ON {append_only} FROM PUBLIC, {role}",
        f"GRANT SELECT, INSERT ON {append_only} TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]


def app_role_grant(*, app_role: str, using: str = "default") -> None:
    """Apply app_role_grant_statements on PostgreSQL (SQLite has no roles: nothing to do)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for statement in app_role_grant_statements(app_role=app_role, using=using):
            cursor.execute(statement)
