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


def test_a_broken_chain_is_logged_without_personal_data_and_emailed_to_system_administrators(
    caplog, settings, django_capture_on_commit_callbacks
):
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
    with caplog.at_level(logging.ERROR, logger="audit.tasks"), django_capture_on_commit_callbacks(execute=True):
        assert audit_chain_verify() is False
    assert f"broken at event {event.pk}" in caplog.text
    assert "Smith" not in caplog.text and "Tamsin" not in caplog.text
    # One email per administrator (through the outbox), so one bad address holds up no other.
    assert sorted(address for email in mail.outbox for address in email.to) == [
        "duty@example.gov.uk",
        "sysadmin@example.gov.uk",
    ]
    assert all(str(event.pk) in email.body for email in mail.outbox)
    check = AuditEvent.objects.get(action=AuditEvent.Action.AUDIT_CHAIN_VERIFIED)
    assert check.outcome == "failed" and check.details["first_broken_event_id"] == event.pk
