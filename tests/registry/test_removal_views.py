"""Removal on screen: the child page's date and rule, register managers' due list and
manual removal, system administrators' legal holds and dry run, and who may do what."""

import datetime

import pytest

from accounts.roles import Role
from audit.models import AuditEvent
from registry.models import Child, LegalHold, ManualRemovalReason, ProtectionStatus, RemovalReceipt, RemovalRule
from tests.factories import ChildFactory, ProtectionStatusFactory, UserFactory
from tests.registry.factories_removal import LegalHoldFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(westminster):
    return UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])


@pytest.fixture
def other_manager(birmingham):
    return UserFactory(organisation__local_authority=birmingham, roles=[Role.REGISTER_MANAGER])


@pytest.fixture
def administrator():
    return UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR])


@pytest.fixture
def practitioner():
    return UserFactory(roles=[Role.PRACTITIONER])


def child_turning_18_on(day: datetime.date, authority, **kwargs) -> Child:
    # Names that no page text contains, so "the name is not on the page" can only fail for
    # the right reason (a generated "West" is inside "Westminster").
    kwargs.setdefault("given_names", "Quilla")
    kwargs.setdefault("family_name", "Vexborough")
    child = ChildFactory(responsible_local_authority=authority, date_of_birth=day.replace(year=day.year - 18), **kwargs)
    ProtectionStatusFactory(child=child, start_date=datetime.date(2026, 1, 1))
    return child


@pytest.fixture
def child(westminster):
    child = ChildFactory(
        responsible_local_authority=westminster,
        given_names="Ottoline",
        family_name="Fairweather",
        date_of_birth=datetime.date(2015, 6, 1),
        la_reference="WCC-000123",
    )
    ProtectionStatusFactory(child=child, start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2026, 5, 31))
    return child


# --- The child page -------------------------------------------------------------------------


def test_the_child_page_says_when_and_by_which_rule_the_child_leaves(client, practitioner, child):
    client.force_login(practitioner)
    page = client.post(f"/children/{child.register_id}/", {"reason": "assessment"}).content.decode()
    assert "Leaves the register:</strong> 1 June 2027, more than 12 months after their last status ended." in page


def test_the_child_page_names_the_earliest_rule(client, practitioner, westminster):
    child = child_turning_18_on(datetime.date(2027, 2, 3), westminster)
    client.force_login(practitioner)
    page = client.post(f"/children/{child.register_id}/", {"reason": "assessment"}).content.decode()
    assert "3 February 2027, their 18th birthday." in page


def test_the_child_page_says_when_a_legal_hold_stops_removal(client, practitioner, child):
    LegalHoldFactory(child=child)
    client.force_login(practitioner)
    page = client.post(f"/children/{child.register_id}/", {"reason": "assessment"}).content.decode()
    assert "not while a legal hold is in force (otherwise 1 June 2027" in page


# --- Register managers: children due soon --------------------------------------------------


def test_a_register_manager_sees_their_authoritys_children_due_in_the_next_30_days(
    client, manager, westminster, birmingham
):
    soon = child_turning_18_on(datetime.date(2026, 12, 20), westminster, la_reference="WCC-1")
    held = child_turning_18_on(datetime.date(2026, 11, 1), westminster, la_reference="WCC-2")
    LegalHoldFactory(child=held)
    last_day = child_turning_18_on(datetime.date(2026, 12, 23), westminster)
    later = child_turning_18_on(datetime.date(2026, 12, 24), westminster)
    elsewhere = child_turning_18_on(datetime.date(2026, 12, 1), birmingham)
    client.force_login(manager)

    response = client.get("/removal/due/")

    page = response.content.decode()
    assert response.status_code == 200
    assert soon.register_id in page and "WCC-1" in page and "20 Dec 2026" in page
    assert held.register_id in page and "On legal hold" in page
    assert last_day.register_id in page, "30 days ahead is within the next 30 days"
    assert later.register_id not in page
    assert elsewhere.register_id not in page
    assert soon.family_name not in page and held.family_name not in page
    assert page.index(held.register_id) < page.index(soon.register_id)


def test_the_due_list_is_for_register_managers_only(client, practitioner):
    client.force_login(practitioner)
    assert client.get("/removal/due/").status_code == 403


def test_home_links_managers_and_administrators_to_removal(client, manager, administrator):
    client.force_login(manager)
    assert "/removal/due/" in client.get("/").content.decode()
    client.force_login(administrator)
    page = client.get("/").content.decode()
    assert "/removal/legal-holds/" in page and "/removal/dry-run/" in page


# --- Manual removal -------------------------------------------------------------------------


def test_manual_removal_asks_for_a_reason_then_confirmation_then_removes(client, manager, child):
    client.force_login(manager)
    url = f"/children/{child.register_id}/remove/"
    assert client.get(url).status_code == 200

    missing = client.post(url, {})
    assert "There is a problem" in missing.content.decode()
    assert 'id="id_reason-error"' in missing.content.decode()

    confirm = client.post(url, {"reason": ManualRemovalReason.DUPLICATE_MERGED})
    page = confirm.content.decode()
    assert "Are you sure you want to remove this child?" in page and "Ottoline Fairweather" in page
    assert Child.objects.filter(pk=child.pk).exists(), "choosing a reason alone removes nothing"

    done = client.post(url, {"reason": ManualRemovalReason.DUPLICATE_MERGED, "confirm": "yes"}, follow=True)
    assert done.redirect_chain[-1][0] == f"/removal/receipts/{child.register_id}/"
    assert "has been removed from the register" in done.content.decode()
    assert not Child.objects.filter(pk=child.pk).exists()
    receipt = RemovalReceipt.objects.get(register_id=child.register_id)
    assert (receipt.rule, receipt.manual_reason, receipt.removed_by) == (
        RemovalRule.MANUAL,
        ManualRemovalReason.DUPLICATE_MERGED,
        manager,
    )
    assert receipt.due_on == datetime.date(2026, 11, 23)
    event = AuditEvent.objects.get(action="child_removed")
    assert event.actor == manager and event.register_ids == [child.register_id]
    assert "Fairweather" not in done.content.decode()


def test_other_as_the_reason_needs_an_explanation(client, manager, child):
    client.force_login(manager)
    response = client.post(f"/children/{child.register_id}/remove/", {"reason": "other", "confirm": "yes"})
    assert "Explain why you are removing this child" in response.content.decode()
    assert Child.objects.filter(pk=child.pk).exists()


def test_a_manager_of_another_authority_gets_not_found_and_removes_nothing(client, other_manager, child):
    client.force_login(other_manager)
    url = f"/children/{child.register_id}/remove/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "wrongly_added", "confirm": "yes"}).status_code == 404
    assert Child.objects.filter(pk=child.pk).exists()


def test_a_practitioner_cannot_remove_a_child(client, practitioner, child):
    client.force_login(practitioner)
    assert (
        client.post(f"/children/{child.register_id}/remove/", {"reason": "wrongly_added", "confirm": "yes"}).status_code
        == 404
    )
    assert Child.objects.filter(pk=child.pk).exists()


def test_a_legal_hold_blocks_manual_removal_too(client, manager, child):
    LegalHoldFactory(child=child)
    client.force_login(manager)
    response = client.post(f"/children/{child.register_id}/remove/", {"reason": "wrongly_added", "confirm": "yes"})
    assert "under a legal hold and cannot be removed" in response.content.decode()
    assert Child.objects.filter(pk=child.pk).exists()
    assert not AuditEvent.objects.filter(action="child_removed").exists()


def test_receipts_are_seen_within_the_managers_scope_only(client, manager, other_manager, child):
    client.force_login(manager)
    client.post(f"/children/{child.register_id}/remove/", {"reason": "wrongly_added", "confirm": "yes"})
    assert child.register_id in client.get("/removal/receipts/").content.decode()
    client.force_login(other_manager)
    assert child.register_id not in client.get("/removal/receipts/").content.decode()
    assert client.get(f"/removal/receipts/{child.register_id}/").status_code == 404


# --- System administrators: legal holds and the dry run -------------------------------------


def test_an_administrator_sets_a_legal_hold_by_register_id(client, administrator, child):
    client.force_login(administrator)
    assert client.get("/removal/legal-holds/new/").status_code == 200
    response = client.post(
        "/removal/legal-holds/new/",
        {"register_id": child.register_id.lower(), "reference": "INQ-42", "reason": "Public inquiry into the council"},
        follow=True,
    )
    assert "Legal hold set on child" in response.content.decode()
    hold = LegalHold.objects.get(child=child)
    assert hold.is_active and hold.set_by == administrator and hold.reference == "INQ-42"
    event = AuditEvent.objects.get(action="legal_hold_set")
    assert event.register_ids == [child.register_id] and event.actor == administrator
    assert event.details["reference"] == "INQ-42"
    assert "INQ-42" in client.get("/removal/legal-holds/").content.decode()


def test_a_legal_hold_form_shows_errors_next_to_the_fields(client, administrator):
    client.force_login(administrator)
    page = client.post("/removal/legal-holds/new/", {"register_id": "not-an-id", "reference": ""}).content.decode()
    assert "There is a problem" in page
    assert "Enter a register ID in the format 7KQ2-MXW9-4DHT" in page
    assert "Enter the reference" in page and "Enter why the record must be kept" in page
    page = client.post(
        "/removal/legal-holds/new/", {"register_id": "AAAA-BBBB-CCCC", "reference": "X", "reason": "Y"}
    ).content.decode()
    assert "No child on the register has this register ID" in page
    assert not LegalHold.objects.exists()


def test_an_administrator_lifts_a_legal_hold_with_a_reason(client, administrator, child):
    hold = LegalHoldFactory(child=child)
    client.force_login(administrator)
    url = f"/removal/legal-holds/{hold.pk}/lift/"
    assert "Enter why the hold is being lifted" in client.post(url, {"lift_reason": ""}).content.decode()
    response = client.post(url, {"lift_reason": "The inquiry has reported"}, follow=True)
    assert "lifted" in response.content.decode()
    hold.refresh_from_db()
    assert not hold.is_active and hold.lifted_by == administrator and hold.lift_reason == "The inquiry has reported"
    assert AuditEvent.objects.get(action="legal_hold_lifted").register_ids == [child.register_id]
    assert client.get(url).status_code == 404, "a lifted hold cannot be lifted again"


def test_legal_holds_are_for_system_administrators_only(client, manager, child):
    hold = LegalHoldFactory(child=child)
    client.force_login(manager)
    assert client.get("/removal/legal-holds/").status_code == 403
    assert (
        client.post(
            "/removal/legal-holds/new/", {"register_id": child.register_id, "reference": "X", "reason": "Y"}
        ).status_code
        == 403
    )
    assert client.post(f"/removal/legal-holds/{hold.pk}/lift/", {"lift_reason": "No"}).status_code == 404
    assert LegalHold.objects.filter(child=child).count() == 1 and LegalHold.objects.get().is_active


def test_the_dry_run_page_lists_who_would_go_and_why_and_is_audited(client, administrator, westminster):
    due = child_turning_18_on(datetime.date(2026, 11, 20), westminster)
    held = child_turning_18_on(datetime.date(2026, 11, 20), westminster)
    LegalHoldFactory(child=held)
    client.force_login(administrator)

    page = client.get("/removal/dry-run/").content.decode()

    assert due.register_id in page and "Their 18th birthday" in page
    assert held.register_id not in page
    assert due.family_name not in page
    assert Child.objects.filter(pk=due.pk).exists()
    event = AuditEvent.objects.get(action="removal_dry_run")
    assert event.actor == administrator and event.register_ids == [due.register_id]


def test_the_dry_run_page_is_for_system_administrators_only(client, manager):
    client.force_login(manager)
    assert client.get("/removal/dry-run/").status_code == 403
    assert not AuditEvent.objects.filter(action="removal_dry_run").exists()


def test_an_unborn_child_shows_the_unborn_rule(client, practitioner, westminster):
    child = ChildFactory(responsible_local_authority=westminster, date_of_birth=None, nhs_number=None)
    ProtectionStatusFactory(
        child=child,
        kind=ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN,
        start_date=datetime.date(2026, 6, 1),
        expected_delivery_date=datetime.date(2027, 1, 15),
    )
    client.force_login(practitioner)
    page = client.post(f"/children/{child.register_id}/", {"reason": "assessment"}).content.decode()
    assert "15 January 2028, 12 months after the expected delivery date, as no birth has been matched." in page
