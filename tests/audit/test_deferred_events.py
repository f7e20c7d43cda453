"""A long transaction that defers its audit events (a feed file's chunk) does not hold the
chain's lock while it works, so a search's own event is not kept waiting (issue 16)."""

import threading

import pytest
from django.db import connection, connections, transaction

from audit import services
from audit.chain import chain_verify
from audit.models import AuditEvent
from audit.services import audit_event_record, audit_events_deferred
from registry.models import Child
from tests.factories import ChildFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _search_event_from_another_connection(*, lock_timeout: str) -> BaseException | None:
    """What a practitioner's search does: write one event in its own short transaction,
    giving up after lock_timeout if the chain is locked."""
    outcome: list[BaseException | None] = [None]

    def write() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = '{lock_timeout}'")
                audit_event_record(action=AuditEvent.Action.SEARCH, actor=None, criteria={"family_name": "x"})
        except BaseException as error:
            outcome[0] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(timeout=30)
    return outcome[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the chain lock under test is PostgreSQL's")
def test_a_search_is_not_kept_waiting_by_a_long_transaction_that_defers_its_events():
    with transaction.atomic(), audit_events_deferred():
        audit_event_record(action=AuditEvent.Action.CHILD_DEATH_RECORDED, actor=None, register_ids=[])
        # The chunk is still working: a search arrives and must be able to write its event.
        assert _search_event_from_another_connection(lock_timeout="2s") is None
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == [AuditEvent.Action.SEARCH, AuditEvent.Action.CHILD_DEATH_RECORDED]
    assert chain_verify().intact


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the chain lock under test is PostgreSQL's")
def test_without_deferral_an_early_event_holds_the_chain_until_commit():
    # The behaviour the deferral exists to avoid, shown so that this test file can fail.
    with transaction.atomic():
        audit_event_record(action=AuditEvent.Action.CHILD_DEATH_RECORDED, actor=None, register_ids=[])
        error = _search_event_from_another_connection(lock_timeout="300ms")
    assert error is not None and "lock timeout" in str(error)


def test_deferred_events_are_written_before_the_transaction_commits():
    with transaction.atomic(), audit_events_deferred():
        audit_event_record(action=AuditEvent.Action.CHILD_DEATH_RECORDED, actor=None)
        assert not AuditEvent.objects.exists()
    assert AuditEvent.objects.count() == 1
    assert chain_verify().intact


def _chunk(*, fails: bool = False) -> None:
    with transaction.atomic(), audit_events_deferred():
        ChildFactory()  # the chunk's own change
        audit_event_record(action=AuditEvent.Action.CHILD_DEATH_RECORDED, actor=None)
        if fails:
            raise RuntimeError("chunk failed")


def test_a_block_that_fails_writes_none_of_its_events_and_changes_nothing():
    with pytest.raises(RuntimeError, match="chunk failed"):
        _chunk(fails=True)
    assert not Child.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_audit_write_that_fails_at_the_end_rolls_the_whole_block_back(monkeypatch):
    def broken(pending):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "_events_write", broken)
    with pytest.raises(RuntimeError, match="audit store down"):
        _chunk()
    assert not Child.objects.exists()
    assert not AuditEvent.objects.exists()
