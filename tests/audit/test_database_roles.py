"""The trail the application's own login cannot rewrite (issue 15, item 3; docs/audit.md,
"Database roles"): the roles' grants, the owner-only maintenance switch, and the anchored
chain head that reveals removed newest events."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from accounts.roles import Role
from audit.chain import _python_rows, verify_rows
from audit.models import AuditChainAnchor, AuditEvent
from audit.roles import APPEND_ONLY_TABLES, app_role_grant
from audit.services import audit_event_record
from audit.tasks import audit_chain_verify
from tests.audit.maintenance import SET_MAINTENANCE_POSTGRESQL
from tests.factories import ChildFactory, UserFactory

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="database roles are PostgreSQL's; SQLite has no roles"
)


def _event(n: int = 0) -> AuditEvent:
    return audit_event_record(
        action=AuditEvent.Action.SEARCH,
        actor=UserFactory(roles=[Role.PRACTITIONER]),
        register_ids=[ChildFactory().register_id],
        reason="assessment",
        criteria={"family_name": "Oneil", "n": n},
        outcome="results",
        channel="web",
    )


@pytest.fixture
def app_role() -> str:
    """A role made like signposting_app, inside the test's transaction (rolled back with it)."""
    name = f"sp_test_app_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} NOLOGIN NOINHERIT")
    app_role_grant(app_role=name)
    return name


@contextmanager
def acting_as(role: str) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {role}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def _refused(sql: str, params: list[object] | None = None) -> str:
    with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params or [])
    return str(refused.value)


@postgresql_only
def test_the_app_role_cannot_change_or_remove_audit_rows_even_with_the_flush_switch(app_role):
    event = _event()
    with acting_as(app_role):
        with connection.cursor() as cursor:
            cursor.execute(SET_MAINTENANCE_POSTGRESQL)
        for table in APPEND_ONLY_TABLES:
            assert "permission denied" in _refused(f"DELETE FROM {table}")  # noqa: S608
            assert "permission denied" in _refused(f"UPDATE {table} SET id = id")  # noqa: S608
            assert "permission denied" in _refused(f"TRUNCATE {table} CASCADE")
            assert "must be owner" in _refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
        # ...while it still does its job: appending to the chain.
        appended = _event(1)
    assert appended.previous_hash != event.previous_hash
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@postgresql_only
def test_the_flush_switch_is_honoured_for_the_tables_owner_only(app_role):
    # Even a role wrongly granted DELETE cannot use the switch: the trigger asks for the owner.
    event = _event()
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT DELETE ON audit_auditevent, audit_auditeventchild TO {app_role}")
    with acting_as(app_role):
        with connection.cursor() as cursor:
            cursor.execute(SET_MAINTENANCE_POSTGRESQL)
        assert "append-only" in _refused("DELETE FROM audit_auditeventchild WHERE event_id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@postgresql_only
def test_every_table_with_append_only_triggers_is_in_the_grant_list():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE '%%_append_only'"
        )
        protected = {row[0] for row in cursor.fetchall()}
    assert protected == set(APPEND_ONLY_TABLES)


def test_every_append_only_table_refuses_update_and_delete_on_either_database():
    _event()
    audit_chain_verify()
    assert AuditChainAnchor.objects.exists()
    for table in APPEND_ONLY_TABLES:
        _refused(f"UPDATE {table} SET id = id")  # noqa: S608
        _refused(f"DELETE FROM {table}")  # noqa: S608
    assert AuditChainAnchor.objects.exists()


@contextmanager
def _as_owner_with_the_switch() -> Iterator[None]:
    """What someone holding the owner's login could do (the test database's own role is
    the owner): set the maintenance switch and delete."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(SET_MAINTENANCE_POSTGRESQL)
            yield
            return
        raw = connection.connection
        raw.create_function("audit_maintenance", 0, lambda: "flush")
        try:
            yield
        finally:
            raw.create_function("audit_maintenance", 0, lambda: None)


def _remove_events_from(first_id: int) -> None:
    with _as_owner_with_the_switch(), connection.cursor() as cursor:
        for table in ("audit_auditeventchild", "audit_auditeventauthority"):
            cursor.execute(f"DELETE FROM {table} WHERE event_id >= %s", [first_id])  # noqa: S608
        cursor.execute("DELETE FROM audit_auditevent WHERE id >= %s", [first_id])


def test_removing_the_newest_events_is_found_against_the_anchored_head():
    events = [_event(n) for n in range(4)]
    assert audit_chain_verify() is True
    anchor = AuditChainAnchor.objects.get()
    assert (anchor.head_event_id, anchor.head_hash) == (events[-1].pk, events[-1].chain_hash)

    _remove_events_from(events[2].pk)
    # What is left still links from the first event to the last one...
    assert verify_rows(_python_rows(using="default")).intact
    # ...but the anchored head is gone.
    with pytest.raises(CommandError, match=f"BROKEN at event {events[-1].pk}: the head anchored on .* is missing"):
        call_command("verify_audit")


def test_removing_the_newest_events_and_writing_new_ones_is_found_too():
    events = [_event(n) for n in range(3)]
    assert audit_chain_verify() is True
    _remove_events_from(events[1].pk)
    _event(10)
    _event(11)  # as many events as before, a valid chain, but not the anchored one
    with pytest.raises(CommandError, match="is missing or changed"):
        call_command("verify_audit")


def test_an_untouched_trail_stays_intact_across_nights():
    _event()
    assert audit_chain_verify() is True
    _event(1)
    assert audit_chain_verify() is True
    assert AuditChainAnchor.objects.count() == 2
    call_command("verify_audit")
