"""Writers on several connections at once still build one unbroken chain (PostgreSQL's
advisory lock and the id taken under it)."""

import threading

import pytest
from django.db import connection, connections, transaction

from audit.chain import chain_verify
from audit.models import AuditEvent
from audit.services import audit_event_record
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises writers itself; the in-memory test database cannot be shared by threads",
    ),
]


def test_concurrent_writers_keep_the_chain_whole():
    actor = UserFactory()
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                with transaction.atomic():
                    audit_event_record(action=AuditEvent.Action.SEARCH, actor=actor, criteria={"n": n, "i": i})
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = chain_verify(workers=2)
    assert report.intact and report.events_checked == 40
