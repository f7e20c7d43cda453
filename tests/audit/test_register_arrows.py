"""The audit trail names children by register ID and the authority the caller gives: it does
not look the register up (audit imports no part of it). What it needs from the register
comes through audit.register_reader, which the registry app supplies at start-up."""

import datetime

import pytest
from django.urls import reverse

from audit import register_reader as reader_module
from audit.actor import Actor
from audit.models import AuditEvent, AuditEventChild
from audit.register_reader import RegisterReaderMissing, register_reader
from audit.selectors import AuditQuery, audit_events_find, auditor_scope
from audit.services import audit_event_record
from audit.services_anomalies import anomalies_scan
from registry.children.services import status_end
from registry.models import Child
from tests.audit.factories_audit import authority_auditor, national_auditor, practitioner_of, view_recorded
from tests.factories import ChildFactory, ProtectionStatusFactory
from tests.registry.import_helpers import run_import, write_csv

pytestmark = pytest.mark.django_db


def _indexed(event: AuditEvent) -> dict[str, str]:
    return dict(AuditEventChild.objects.filter(event=event).values_list("register_id", "local_authority_code"))


def test_the_trail_indexes_children_under_the_authorities_the_caller_names(westminster):
    # A register ID no child has: the trail takes the caller's word and reads nothing else.
    event = audit_event_record(
        action=AuditEvent.Action.SEARCH,
        actor=practitioner_of(westminster),
        register_ids=["7K2M-9QXD-4TRB", "AAAA-BBBB-CCCC"],
        child_authority_codes={"7K2M-9QXD-4TRB": "E08000025"},
    )
    assert _indexed(event) == {"7K2M-9QXD-4TRB": "E08000025", "AAAA-BBBB-CCCC": ""}


def test_ending_an_old_status_after_a_transfer_is_seen_by_the_authority_now_responsible(westminster, birmingham):
    # The status still names Westminster, which held it; the child is now Birmingham's.
    child = ChildFactory(responsible_local_authority=birmingham)
    status = ProtectionStatusFactory(child=child, responsible_local_authority=westminster)
    status_end(by=Actor.system(), status=status, end_date=datetime.date(2026, 6, 1))
    event = AuditEvent.objects.get(action=AuditEvent.Action.STATUS_ENDED)
    assert _indexed(event) == {child.register_id: birmingham.gss_code}
    scope = auditor_scope(user=authority_auditor(birmingham))
    assert scope is not None
    assert event in audit_events_find(scope=scope, query=AuditQuery())


def test_an_imported_batch_names_each_child_with_its_own_authority(westminster, birmingham, tmp_path):
    path = write_csv(
        tmp_path / "children.csv",
        [{}, {"local_authority_code": "E08000025", "la_reference": "BCC-1", "nhs_number": "9434765870"}],
    )
    run_import(path)
    event = AuditEvent.objects.get(action=AuditEvent.Action.CHILDREN_IMPORTED)
    by_authority = dict(Child.objects.values_list("register_id", "responsible_local_authority__gss_code"))
    assert _indexed(event) == by_authority
    assert set(by_authority.values()) == {westminster.gss_code, birmingham.gss_code}


def test_a_scoped_auditor_opens_the_history_of_a_child_their_authority_holds_now(client, westminster, birmingham):
    child = ChildFactory(responsible_local_authority=westminster)
    view_recorded(practitioner_of(birmingham), child)
    auditor = authority_auditor(westminster)
    client.force_login(auditor)
    assert client.get(reverse("audit:child", args=[child.register_id])).status_code == 200
    viewed = AuditEvent.objects.filter(action=AuditEvent.Action.AUDIT_CHILD_HISTORY_VIEWED).get()
    assert _indexed(viewed) == {child.register_id: westminster.gss_code}


def test_a_register_id_that_is_not_shaped_like_one_is_refused(client):
    client.force_login(national_auditor())
    assert client.get("/audit/children/not-an-id/").status_code == 404
    response = client.get(reverse("audit:events"), {"register_id": "abc"})
    assert "Enter a register ID as it is shown on the record" in response.content.decode()


def test_without_the_registers_reader_the_anomaly_scan_fails_rather_than_flagging_nothing(westminster, monkeypatch):
    child = ChildFactory(responsible_local_authority=westminster)
    view_recorded(practitioner_of(westminster), child)
    monkeypatch.setattr(reader_module, "_reader", None)
    with pytest.raises(RegisterReaderMissing):
        anomalies_scan()


def test_the_registry_app_supplies_the_reader_with_the_registers_own_rules(westminster):
    child = ChildFactory(family_name="O'Neill", postcode="SW1A 1AA", responsible_local_authority=westminster)
    reader = register_reader()
    assert reader.name_normalise("O\u2019Neill") == "oneill"
    assert reader.postcode_normalise("sw1a1aa") == "SW1A 1AA" and reader.postcode_normalise("nowhere") == ""
    assert reader.child_family_name_and_postcode(register_id=child.register_id) == ("O'Neill", "SW1A 1AA")
    assert reader.child_authority_codes(register_ids=[child.register_id]) == {child.register_id: "E09000033"}
