from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_audit_maintenance_off(sender: Any, connection: Any, **kwargs: Any) -> None:
    # The SQLite DELETE trigger asks audit_maintenance(); the application's answer is always
    # NULL (refused). Only the test suite's flush hook answers 'flush' (docs/audit.md).
    if connection.vendor == "sqlite":
        connection.connection.create_function("audit_maintenance", 0, lambda: None)


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        connection_created.connect(_sqlite_audit_maintenance_off, dispatch_uid="audit_sqlite_maintenance")
