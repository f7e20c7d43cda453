"""Correcting a child's record: every change audited by field name only, concurrent edits
caught by the version, and each form's rules as a register manager meets them."""

import datetime
import json

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Organisation, SensitiveCategory
from accounts.roles import Role
from accounts.tasks import outbox_deliver
from audit.actor import Actor, Channel
from audit.models import AuditEvent
from registry.children import services
from registry.children.selectors import child_signpost
from registry.models import Child, ChildTransfer, Involvement, Notification, ProtectionStatus
from tests.factories import InvolvementFactory, OrganisationFactory, OtherNameFactory, UserFactory
from tests.registry.factories_maintenance import child_on_plan, register_manager

pytestmark = pytest.mark.django_db


def identity_post(child, **overrides):
    data = {
        "version": str(child.version),
        "family_name": child.family_name,
        "given_names": child.given_names,
        "date_of_birth_0": str(child.date_of_birth.day),
        "date_of_birth_1": str(child.date_of_birth.month),
        "date_of_birth_2": str(child.date_of_birth.year),
        "sex": child.sex,
        "nhs_number": child.nhs_number or "",
        "la_reference": child.la_reference,
        "address_line_1": child.address_line_1,
        "address_line_2": "",
        "town": child.town,
        "postcode": child.postcode,
    }
    data.update(overrides)
    return data


def last_event(action):
    return AuditEvent.objects.filter(action=action).order_by("-id").first()


# --- Concurrent edits --------------------------------------------------------------------


def test_the_second_of_two_managers_gets_a_conflict_and_keeps_their_input(client, westminster):
    child = child_on_plan(westminster, family_name="Smith", given_names="Jo", date_of_birth=datetime.date(2018, 5, 1))
    first, second = register_manager(westminster), register_manager(westminster)
    url = reverse("registry:manage-identity", args=[child.register_id])
    # Both open the form at version 1.
    seen_by_second = identity_post(child, family_name="Smithe", town="Leeds")
    client.force_login(first)
    assert client.post(url, identity_post(child, family_name="Smyth")).status_code == 302

    client.force_login(second)
    response = client.post(url, seen_by_second)
    page = response.content.decode()
    assert response.status_code == 409
    assert "Someone else changed this child&#x27;s record while you were working on it" in page
    assert 'value="Smithe"' in page and 'value="Leeds"' in page  # their input is kept
    assert "The record now" in page and "Jo Smyth" in page  # and they see the record as it is
    child.refresh_from_db()
    assert (child.family_name, child.town, child.version) == ("Smyth", "London", 2)
    assert 'name="version" value="2"' in page

    # Having read it, submitting again saves over it.
    assert client.post(url, {**seen_by_second, "version": "2"}).status_code == 302
    child.refresh_from_db()
    assert (child.family_name, child.town, child.version) == ("Smithe", "Leeds", 3)


def test_a_stale_version_on_a_status_form_changes_nothing(client, westminster):
    child = child_on_plan(westminster)
    status = child.statuses.get()
    client.force_login(register_manager(westminster))
    response = client.post(
        reverse("registry:manage-status-end", args=[child.register_id, status.pk]),
        {"version": "7", "end_date_0": "1", "end_date_1": "11", "end_date_2": "2026"},
    )
    assert response.status_code == 409
    status.refresh_from_db()
    assert status.end_date is None
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.STATUS_ENDED).exists()


def test_the_version_check_is_a_conditional_update_in_the_service(westminster):
    child = child_on_plan(westminster)
    manager = register_manager(westminster)
    services.child_identity_update(
        by=Actor(user=manager, channel=Channel.WEB), child=child, changes={"town": "Leeds"}, expected_version=1
    )
    stale = Child.objects.get(pk=child.pk)
    stale.version = 1
    with pytest.raises(services.ChildVersionConflict) as conflict:
        services.child_identity_update(
            by=Actor(user=manager, channel=Channel.WEB), child=stale, changes={"town": "York"}, expected_version=1
        )
    assert conflict.value.current_version == 2
    assert Child.objects.get(pk=child.pk).town == "Leeds"


# --- Audit ----------------------------------------------------------------------------------


def test_an_identity_correction_audits_field_names_never_values(client, westminster):
    child = child_on_plan(westminster, family_name="Smith", date_of_birth=datetime.date(2018, 5, 1))
    manager = register_manager(westminster)
    client.force_login(manager)
    client.post(
        reverse("registry:manage-identity", args=[child.register_id]),
        identity_post(child, family_name="Thorne-Haddad", postcode="n1 9gu"),
    )
    child.refresh_from_db()
    assert child.postcode == "N1 9GU" and child.family_name_normalised == "thorne haddad"
    event = last_event(AuditEvent.Action.CHILD_UPDATED)
    assert event.actor == manager and event.register_ids == [child.register_id]
    assert event.local_authority_code == westminster.gss_code and event.occurred_at is not None
    assert event.details == {"fields": ["family_name", "postcode"]}
    assert "Thorne" not in json.dumps(event.details) and "N1" not in json.dumps(event.details)


def test_when_the_audit_cannot_be_written_the_change_is_not_made(client, westminster, monkeypatch):
    child = child_on_plan(westminster, family_name="Smith", date_of_birth=datetime.date(2018, 5, 1))
    client.force_login(register_manager(westminster))

    def broken(**kwargs):
        from django.db import DatabaseError

        raise DatabaseError("audit store unavailable")

    monkeypatch.setattr(services, "audit_event_record", broken)
    response = client.post(
        reverse("registry:manage-identity", args=[child.register_id]), identity_post(child, family_name="Jones")
    )
    assert response.status_code == 503
    child.refresh_from_db()
    assert child.family_name == "Smith" and child.version == 1


# --- Shielding, names, statuses, involvements -----------------------------------------------


def test_shielding_is_set_and_cleared_with_a_reason(client, westminster):
    child = child_on_plan(westminster)
    url = reverse("registry:manage-shielding", args=[child.register_id])
    client.force_login(register_manager(westminster))
    missing = client.post(url, {"version": "1", "reason": ""})
    assert "Enter why the shielding is being changed" in missing.content.decode()
    assert client.post(url, {"version": "1", "reason": "Family moved to a refuge"}).status_code == 302
    child.refresh_from_db()
    assert child.is_shielded and child.shielding_reason == "Family moved to a refuge"
    event = last_event(AuditEvent.Action.CHILD_UPDATED)
    assert event.details == {"change": "shielding_set", "fields": ["is_shielded", "shielding_reason"]}
    assert "refuge" not in json.dumps(event.details)
    practitioner = UserFactory(roles=[Role.PRACTITIONER])
    assert child_signpost(user=practitioner, register_id=child.register_id).postcode_district == ""

    assert client.post(url, {"version": "2", "reason": "Left the refuge"}).status_code == 302
    child.refresh_from_db()
    assert not child.is_shielded
    assert last_event(AuditEvent.Action.CHILD_UPDATED).details["change"] == "shielding_cleared"


def test_aliases_and_former_names_are_recorded_searchable_and_removable(client, westminster):
    child = child_on_plan(westminster, family_name="Kouao")
    client.force_login(register_manager(westminster))
    url = reverse("registry:manage-other-name-add", args=[child.register_id])
    empty = client.post(url, {"version": "1", "kind": "alias"})
    assert "Enter a family name or given names" in empty.content.decode()
    response = client.post(
        url, {"version": "1", "kind": "former_name", "given_names": "Anna", "family_name": "Climbie"}
    )
    assert response.status_code == 302
    other = child.other_names.get()
    assert other.kind == "former_name" and other.family_name_normalised == "climbie"
    assert last_event(AuditEvent.Action.CHILD_UPDATED).details == {
        "change": "other_name_added",
        "fields": ["other_names"],
    }
    remove = reverse("registry:manage-other-name-remove", args=[child.register_id, other.pk])
    assert client.post(remove, {"version": "2"}).status_code == 302
    assert not child.other_names.exists()


def test_a_looked_after_status_needs_a_legal_basis_and_is_ended_by_date(client, westminster):
    child = child_on_plan(westminster)
    client.force_login(register_manager(westminster))
    url = reverse("registry:manage-status-add", args=[child.register_id])
    base = {"version": "1", "kind": "looked_after", "start_date_0": "2", "start_date_1": "11", "start_date_2": "2026"}
    assert "Select the legal basis" in client.post(url, base).content.decode()
    assert client.post(url, {**base, "legal_basis": "s38"}).status_code == 302
    status = child.statuses.get(kind="looked_after")
    end = reverse("registry:manage-status-end", args=[child.register_id, status.pk])
    early = client.post(end, {"version": "2", "end_date_0": "1", "end_date_1": "11", "end_date_2": "2026"})
    assert "End date must be the same as or after the start date" in early.content.decode()
    assert (
        client.post(end, {"version": "2", "end_date_0": "20", "end_date_1": "11", "end_date_2": "2026"}).status_code
        == 302
    )
    status.refresh_from_db()
    assert status.end_date == datetime.date(2026, 11, 20)
    assert last_event(AuditEvent.Action.STATUS_ENDED).details == {"status_kind": "looked_after"}
    # An ended status cannot be ended again.
    assert client.get(end).status_code == 404


def test_an_unborn_plan_is_refused_for_a_child_already_born(client, westminster):
    child = child_on_plan(westminster)
    client.force_login(register_manager(westminster))
    response = client.post(
        reverse("registry:manage-status-add", args=[child.register_id]),
        {
            "version": "1",
            "kind": "unborn_cpp",
            "start_date_0": "2",
            "start_date_1": "11",
            "start_date_2": "2026",
            "expected_delivery_date_0": "1",
            "expected_delivery_date_1": "3",
            "expected_delivery_date_2": "2027",
            "mother_family_name": "Adjei",
            "mother_date_of_birth_0": "1",
            "mother_date_of_birth_1": "1",
            "mother_date_of_birth_2": "1995",
        },
    )
    assert "An unborn child protection plan is only for a child not yet born" in response.content.decode()
    assert child.statuses.count() == 1


def test_involvements_of_practitioners_and_external_contacts(client, westminster):
    child = child_on_plan(westminster)
    clinic = OrganisationFactory(
        kind=Organisation.Kind.HOSPITAL_TRUST, sensitive_service=SensitiveCategory.SEXUAL_HEALTH
    )
    nurse = UserFactory(email="nurse@example.nhs.uk", organisation=clinic, roles=[Role.PRACTITIONER])
    client.force_login(register_manager(westminster))
    url = reverse("registry:manage-involvement-add", args=[child.register_id])
    start = {"start_date_0": "1", "start_date_1": "10", "start_date_2": "2026"}

    unknown = client.post(
        url,
        {"version": "1", "who": "practitioner", "practitioner_email": "nobody@x.gov.uk", "service_type": "gp", **start},
    )
    assert "No practitioner on the register has this email address" in unknown.content.decode()
    by_email = {"who": "practitioner", "practitioner_email": "NURSE@example.nhs.uk", "service_type": "sexual_health"}
    response = client.post(url, {"version": "1", **by_email, **start})
    assert response.status_code == 302
    recorded = Involvement.objects.get(child=child, practitioner=nurse)
    assert recorded.sensitive_category == SensitiveCategory.SEXUAL_HEALTH
    # Like everyone outside that service, the authority sees only that one is hidden.
    record = client.get(reverse("registry:manage-child", args=[child.register_id])).content.decode()
    assert nurse.full_name not in record and "1 involvement of sensitive services" in record
    hidden_end = reverse("registry:manage-involvement-end", args=[child.register_id, recorded.pk])
    assert client.get(hidden_end).status_code == 404

    contact = {
        "version": "2", "who": "contact", "contact_name": "Dr Rao", "contact_organisation_name": "Marylebone GP",
        "contact_phone": "020 7000 1234", "service_type": "gp", "is_lead": "on", **start,
    }  # fmt: skip
    assert client.post(url, contact).status_code == 302
    lead = Involvement.objects.get(child=child, contact_name="Dr Rao")
    assert lead.is_lead and lead.practitioner is None
    second_lead = client.post(url, {**contact, "version": "3", "contact_name": "Dr Patel"})
    assert "The child already has a lead practitioner" in second_lead.content.decode()

    end = reverse("registry:manage-involvement-end", args=[child.register_id, lead.pk])
    assert (
        client.post(end, {"version": "3", "end_date_0": "2", "end_date_1": "11", "end_date_2": "2026"}).status_code
        == 302
    )
    lead.refresh_from_db()
    assert lead.end_date == datetime.date(2026, 11, 2)
    assert last_event(AuditEvent.Action.INVOLVEMENT_ENDED).details == {"involvement_id": lead.pk}


# --- Transfers -------------------------------------------------------------------------------


def test_a_transfer_passes_responsibility_keeps_history_and_tells_both_authorities(
    client, westminster, birmingham, django_capture_on_commit_callbacks
):
    child = child_on_plan(westminster, la_reference="WCC-1", given_names="Quilla")
    InvolvementFactory(child=child)
    OtherNameFactory(child=child)
    sender, receiver = register_manager(westminster), register_manager(birmingham)
    client.force_login(sender)
    url = reverse("registry:manage-transfer", args=[child.register_id])
    same = client.post(url, {"version": "1", "to_local_authority": str(westminster.pk)})
    assert "Select the local authority now responsible" in same.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {"version": "1", "to_local_authority": str(birmingham.pk), "transferred_on_0": "20",
             "transferred_on_1": "11", "transferred_on_2": "2026", "confirmed": "1"},
        )  # fmt: skip
    assert response["Location"] == reverse("registry:manage-children")

    child.refresh_from_db()
    assert child.responsible_local_authority == birmingham and child.la_reference == ""
    assert child.statuses.get().responsible_local_authority == westminster  # history kept
    assert child.involvements.count() == 1 and child.other_names.count() == 1
    transfer = ChildTransfer.objects.get(child=child)
    assert (transfer.from_local_authority, transfer.to_local_authority, transfer.transferred_by) == (
        westminster,
        birmingham,
        sender,
    )
    assert transfer.transferred_on == datetime.date(2026, 11, 20)

    kinds = dict(Notification.objects.filter(child=child).values_list("recipient_id", "kind"))
    assert kinds == {sender.pk: "transferred_out", receiver.pk: "transferred_in"}
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted([sender.email, receiver.email, westminster.secure_email, birmingham.secure_email])
    assert all(child.given_names not in message.body for message in mail.outbox)

    event = last_event(AuditEvent.Action.CHILD_UPDATED)
    assert event.details["change"] == "transferred" and event.register_ids == [child.register_id]
    assert (event.details["from_local_authority"], event.details["to_local_authority"]) == ("E09000033", "E08000025")

    # The sending manager can no longer change the child; the receiving one can.
    assert client.get(reverse("registry:manage-child", args=[child.register_id])).status_code == 404
    client.force_login(receiver)
    page = client.get(reverse("registry:manage-child", args=[child.register_id])).content.decode()
    assert "from Westminster City Council to Birmingham City Council" in page


def test_transfer_emails_are_sent_once_however_often_delivery_runs(
    westminster, birmingham, django_capture_on_commit_callbacks
):
    child = child_on_plan(westminster)
    manager = register_manager(westminster)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.child_transfer(
            by=Actor(user=manager, channel=Channel.WEB),
            child=child,
            to_local_authority=birmingham,
            transferred_on=datetime.date(2026, 11, 20),
        )
    mailboxes = [
        email.to[0] for email in mail.outbox if email.to[0] in (westminster.secure_email, birmingham.secure_email)
    ]
    assert sorted(mailboxes) == sorted([westminster.secure_email, birmingham.secure_email])
    sent = len(mail.outbox)
    assert outbox_deliver() == 0
    assert len(mail.outbox) == sent


def test_a_status_added_after_a_transfer_is_held_by_the_new_authority(westminster, birmingham):
    child = child_on_plan(westminster)
    services.child_transfer(
        by=Actor(user=register_manager(westminster), channel=Channel.WEB),
        child=child,
        to_local_authority=birmingham,
        transferred_on=datetime.date(2026, 11, 20),
    )
    # The old authority's plan ends at the move (no two current plans: issue 14 item 6).
    child.statuses.update(end_date=datetime.date(2026, 11, 20))
    status = services.status_add(
        by=Actor(user=register_manager(birmingham), channel=Channel.WEB),
        child=child,
        status=ProtectionStatus(kind="cpp", start_date=datetime.date(2026, 11, 21)),
        expected_version=child.version,
    )
    assert status.responsible_local_authority == birmingham
    held = set(child.statuses.values_list("responsible_local_authority__gss_code", flat=True))
    assert held == {"E09000033", "E08000025"}


def test_a_transfer_is_confirmed_before_anything_changes(client, westminster, birmingham):
    child = child_on_plan(westminster, given_names="Quilla")
    client.force_login(register_manager(westminster))
    url = reverse("registry:manage-transfer", args=[child.register_id])
    answers = {"version": "1", "to_local_authority": str(birmingham.pk), "transferred_on_0": "20",
               "transferred_on_1": "11", "transferred_on_2": "2026"}  # fmt: skip
    page = client.post(url, answers).content.decode()
    assert "Are you sure you want to transfer Quilla" in page and "to Birmingham City Council?" in page
    assert "You cannot undo a transfer" in page and 'name="confirmed"' in page
    child.refresh_from_db()
    assert child.responsible_local_authority == westminster and not ChildTransfer.objects.exists()
    response = client.post(url, {**answers, "confirmed": "1"})
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.responsible_local_authority == birmingham
