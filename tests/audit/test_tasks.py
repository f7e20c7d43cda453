import logging

import pytest
from django.core import mail
from django.db import connection

from accounts.roles import Role
from audit.models import AuditEvent
from audit.services import audit_event_record
from audit.tasks import audit_chain_verify
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _record(actor) -> AuditEvent:
    return audit_event_record(
        action=AuditEvent.Action.SEARCH, actor=actor, criteria={"family_name": "Smith"}, reason="assessment"
    )


def test_the_nightly_check_records_an_intact_chain_and_its_head_in_the_trail():
    _record(UserFactory())
    assert audit_chain_verify() is True
    check = AuditEvent.objects.get(action=AuditEvent.Action.AUDIT_CHAIN_VERIFIED)
    assert check.details["events_checked"] == 1 and check.details["first_broken_event_id"] is None
    assert check.previous_hash == check.details["head_hash"]
    assert mail.outbox == []


def test_a_broken_chain_is_logged_without_personal_data_and_emailed_to_system_administrators(caplog, settings):
    settings.ADMINS = [("Duty engineer", "duty@example.gov.uk")]
    UserFactory(email="sysadmin@example.gov.uk", organisation=None, local_authority=None,
                roles=[Role.SYSTEM_ADMINISTRATOR])  # fmt: skip
    event = _record(UserFactory(full_name="Tamsin Tamper"))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
        else:
            cursor.execute("DROP TRIGGER audit_auditevent_no_update")
        cursor.execute("UPDATE audit_auditevent SET criteria = '{}' WHERE id = %s", [event.pk])
    with caplog.at_level(logging.ERROR, logger="audit.tasks"):
        assert audit_chain_verify() is False
    assert f"broken at event {event.pk}" in caplog.text
    assert "Smith" not in caplog.text and "Tamsin" not in caplog.text
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {"duty@example.gov.uk", "sysadmin@example.gov.uk"}
    assert str(event.pk) in mail.outbox[0].body
    check = AuditEvent.objects.get(action=AuditEvent.Action.AUDIT_CHAIN_VERIFIED)
    assert check.outcome == "failed" and check.details["first_broken_event_id"] == event.pk
