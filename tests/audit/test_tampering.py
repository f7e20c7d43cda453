import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from accounts.roles import Role
from audit.chain import _python_rows, chain_verify, verify_rows
from audit.models import GENESIS_HASH, AuditEvent, AuditEventAuthority, AuditEventChild
from audit.services import audit_event_record
from tests.factories import ChildFactory, UserFactory

pytestmark = pytest.mark.django_db


def _events(count: int = 3) -> list[AuditEvent]:
    practitioner = UserFactory(roles=[Role.PRACTITIONER])
    child = ChildFactory()
    return [
        audit_event_record(
            action=AuditEvent.Action.SEARCH,
            actor=practitioner,
            register_ids=[child.register_id],
            reason="assessment",
            criteria={"family_name": f'O\'Néill "{n}"\n', "date_of_birth": "2019-04-12", "n": n, "x": 1.5},
            details={"grades": ["exact"], "nested": {"bb": True, "a": None}},
            outcome="results",
            channel="web",
        )
        for n in range(count)
    ]


def _raw_update(sql: str, params: list[object]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_each_event_links_to_the_one_before_and_the_chain_checks_out():
    first, second, third = _events()
    assert first.previous_hash == GENESIS_HASH or AuditEvent.objects.filter(pk__lt=first.pk).exists()
    assert second.previous_hash == first.chain_hash
    assert third.previous_hash == second.chain_hash
    report = chain_verify()
    assert report.intact
    assert report.head_hash == third.chain_hash
    call_command("verify_audit")


def test_the_python_check_agrees_with_the_database_on_every_hash():
    # On PostgreSQL the trigger hashes in SQL; the Python definition must give the same bytes.
    _events()
    assert verify_rows(_python_rows(using="default")).intact


def test_a_raw_sql_update_of_an_event_is_refused():
    event = _events(1)[0]
    with pytest.raises(DatabaseError):
        _raw_update("UPDATE audit_auditevent SET reason = 'other' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).reason == "assessment"


def test_a_raw_sql_delete_of_an_event_or_its_indexes_is_refused():
    event = _events(1)[0]
    for table in ("audit_auditevent", "audit_auditeventchild", "audit_auditeventauthority"):
        column = "id" if table == "audit_auditevent" else "event_id"
        with pytest.raises(DatabaseError):
            _raw_update(f"DELETE FROM {table} WHERE {column} = %s", [event.pk])  # noqa: S608
        with pytest.raises(DatabaseError):
            _raw_update(f"UPDATE {table} SET {column} = {column} WHERE {column} = %s", [event.pk])  # noqa: S608
    assert AuditEventChild.objects.filter(event=event).exists()
    assert AuditEventAuthority.objects.filter(event=event).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_truncate_is_refused_on_postgresql():
    _events(1)
    with pytest.raises(DatabaseError):
        _raw_update("TRUNCATE audit_auditevent CASCADE", [])
    assert AuditEvent.objects.exists()


def _disable_update_trigger() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test's own deferred foreign-key checks must run before the table is altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
        else:
            cursor.execute("DROP TRIGGER audit_auditevent_no_update")


def test_a_change_forced_past_the_trigger_is_found_and_named():
    _, second, _ = _events()
    _disable_update_trigger()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'emergency' WHERE id = %s", [second.pk])
    report = chain_verify()
    assert report.first_broken_event_id == second.pk
    assert "content" in report.problem
    with pytest.raises(CommandError, match=f"BROKEN at event {second.pk}"):
        call_command("verify_audit")


def test_a_rewritten_hash_breaks_the_link_to_the_next_event():
    _, second, _ = _events()
    _disable_update_trigger()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET chain_hash = %s WHERE id = %s", ["f" * 64, second.pk])
    report = chain_verify()
    # The forged hash no longer matches its content: second is named first.
    assert report.first_broken_event_id == second.pk


def test_a_deleted_event_is_found_at_the_next_one():
    _, second, third = _events()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
            cursor.execute("ALTER TABLE audit_auditeventchild DISABLE TRIGGER audit_auditeventchild_append_only")
            cursor.execute(
                "ALTER TABLE audit_auditeventauthority DISABLE TRIGGER audit_auditeventauthority_append_only"
            )
        else:
            cursor.execute("DROP TRIGGER audit_auditevent_no_delete")
            cursor.execute("DROP TRIGGER audit_auditeventchild_no_delete")
            cursor.execute("DROP TRIGGER audit_auditeventauthority_no_delete")
        cursor.execute("DELETE FROM audit_auditeventchild WHERE event_id = %s", [second.pk])
        cursor.execute("DELETE FROM audit_auditeventauthority WHERE event_id = %s", [second.pk])
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [second.pk])
    report = chain_verify()
    assert report.first_broken_event_id == third.pk
    assert "link" in report.problem
