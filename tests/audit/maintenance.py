"""The test suite's flush hook: the only code that sets the audit trail's maintenance switch.

pytest-django empties the database after each transactional test (browser and integration
tests) with TRUNCATE (PostgreSQL) or DELETE (SQLite), which the append-only triggers refuse.
For the duration of that flush only, this sets the switch the triggers let through
(docs/audit.md): `audit.maintenance = 'flush'` for the flush's own transaction on
PostgreSQL, the connection's audit_maintenance() function on SQLite."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db.backends.base.operations import BaseDatabaseOperations

SET_MAINTENANCE_POSTGRESQL = "SELECT set_config('audit.maintenance', 'flush', true)"


def _flush_with_maintenance(original: Callable[[Any, list[str]], None]) -> Callable[[Any, list[str]], None]:
    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: list[str]) -> None:
        vendor = self.connection.vendor
        if vendor == "postgresql":
            return original(self, [SET_MAINTENANCE_POSTGRESQL, *sql_list])
        if vendor == "sqlite":
            self.connection.ensure_connection()
            raw = self.connection.connection
            raw.create_function("audit_maintenance", 0, lambda: "flush")
            try:
                return original(self, sql_list)
            finally:
                raw.create_function("audit_maintenance", 0, lambda: None)
        return original(self, sql_list)

    return execute_sql_flush


@contextmanager
def audit_trail_flushable() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        original = BaseDatabaseOperations.execute_sql_flush
        patch.setattr(BaseDatabaseOperations, "execute_sql_flush", _flush_with_maintenance(original))
        yield
