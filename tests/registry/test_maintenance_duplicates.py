"""Adding a child never makes a silent duplicate: the matcher runs first, and the manager
must say whether a possible match is the same child or a different one."""

import datetime
import re

import pytest
from django.urls import reverse

from accounts.roles import Role
from accounts.services import user_grant_role
from audit.models import AuditEvent
from registry.models import Child, ProtectionStatus
from tests.factories import ChildFactory, ProtectionStatusFactory, nhs_number_for
from tests.registry.factories_maintenance import add_child_post, child_on_plan, register_manager

pytestmark = pytest.mark.django_db
ADD = "registry:manage-child-add"


def existing_kofi(authority, **kwargs):
    return child_on_plan(
        authority,
        given_names="Kofi",
        family_name="Adjei",
        date_of_birth=datetime.date(2019, 6, 14),
        sex="male",
        **kwargs,
    )


def decide(client, post, decision, page):
    checked = re.search(r'name="checked" value="([0-9a-f]+)"', page).group(1)
    return client.post(reverse(ADD), {**post, "decision": decision, "checked": checked})


def test_a_likely_match_stops_the_add_until_the_manager_decides(client, westminster):
    existing = existing_kofi(westminster)
    client.force_login(register_manager(westminster))
    response = client.post(reverse(ADD), add_child_post(westminster, given_names="Kofe"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "This child may already be on the register" in page
    assert existing.register_id in page and "Kofi Adjei" in page
    assert Child.objects.count() == 1
    # Continuing without a choice asks for one, keeping the details typed.
    again = client.post(reverse(ADD), {**add_child_post(westminster, given_names="Kofe"), "checked": "x"})
    assert "Select whether this is a child already on the register" in again.content.decode()
    assert Child.objects.count() == 1


def test_a_different_child_is_added_and_the_decision_is_audited(client, westminster):
    existing = existing_kofi(westminster)
    manager = register_manager(westminster)
    client.force_login(manager)
    post = add_child_post(westminster)
    page = client.post(reverse(ADD), post).content.decode()
    response = decide(client, post, "different", page)
    assert response.status_code == 302
    added = Child.objects.exclude(pk=existing.pk).get()
    event = AuditEvent.objects.get(action=AuditEvent.Action.CHILD_CREATED)
    assert event.actor == manager and event.register_ids == [added.register_id]
    assert event.details["duplicate_check"] == {
        "register_ids_shown": [existing.register_id],
        "decision": "different_child",
    }
    checks = AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH, details__purpose="duplicate_check")
    assert checks.count() == 2 and all(check.register_ids == [existing.register_id] for check in checks)
    assert "Adjei" not in str(event.details) and "Adjei" not in str([check.details for check in checks])


def test_the_same_child_of_the_managers_authority_gets_the_status_and_no_new_record(client, westminster):
    existing = existing_kofi(westminster)
    manager = register_manager(westminster)
    client.force_login(manager)
    post = add_child_post(westminster, kind="looked_after", legal_basis="s31")
    page = client.post(reverse(ADD), post).content.decode()
    response = decide(client, post, f"same:{existing.register_id}", page)
    assert response["Location"] == reverse("registry:manage-child", args=[existing.register_id])
    assert Child.objects.count() == 1
    status = existing.statuses.get(kind=ProtectionStatus.Kind.LOOKED_AFTER)
    assert status.legal_basis == "s31" and status.start_date == datetime.date(2026, 9, 1)
    event = AuditEvent.objects.get(action=AuditEvent.Action.STATUS_ADDED)
    assert event.details["duplicate_check"]["decision"] == "same_child"


def test_the_same_child_of_another_authority_asks_for_a_transfer_and_changes_nothing(client, westminster, birmingham):
    existing = existing_kofi(birmingham)
    manager = register_manager(westminster)
    client.force_login(manager)
    post = add_child_post(westminster)
    page = client.post(reverse(ADD), post).content.decode()
    assert "A record held by another authority may match" in page and "Birmingham City Council" in page
    assert existing.register_id not in page
    response = decide(client, post, f"held-by:{birmingham.gss_code}", page)
    body = response.content.decode()
    assert "Ask Birmingham City Council to transfer the child to you" in body
    assert birmingham.secure_email in body and existing.register_id not in body
    assert Child.objects.count() == 1 and existing.statuses.count() == 1
    decision = AuditEvent.objects.get(details__decision="same_child_other_authority")
    assert decision.actor == manager and decision.register_ids == [existing.register_id]


def test_a_shielded_match_in_another_authority_reveals_nothing_but_whom_to_contact(client, westminster, birmingham):
    shielded = existing_kofi(birmingham, is_shielded=True, shielding_reason="Refuge", postcode="B1 1AA")
    client.force_login(register_manager(westminster))
    post = add_child_post(westminster)
    page = client.post(reverse(ADD), post).content.decode()
    # Worded as for any other authority's record: not even "shielded" is given away.
    assert "A record held by another authority may match" in page and "shielded" not in page.lower()
    assert "Birmingham City Council" in page and birmingham.office_hours_phone in page
    assert shielded.register_id not in page
    assert "B1 1AA" not in page and "14 June 2019" not in page.split("possible-matches", 1)[1]
    # It cannot be chosen as "the same child" by guessing its register ID.
    response = decide(client, post, f"same:{shielded.register_id}", page)
    assert "Select a valid choice" in response.content.decode()
    assert shielded.statuses.count() == 1 and Child.objects.count() == 1


def test_a_shielded_match_in_the_managers_own_authority_is_shown_in_full(client, westminster):
    shielded = existing_kofi(westminster, is_shielded=True, shielding_reason="Refuge")
    client.force_login(register_manager(westminster))
    page = client.post(reverse(ADD), add_child_post(westminster)).content.decode()
    assert shielded.register_id in page and "may match." not in page


def test_an_nhs_number_alone_does_not_look_up_another_authoritys_child_and_is_audited(client, westminster, birmingham):
    """Issue 15, finding 6: a made-up name and a real NHS number used to show another
    authority's child by name and register ID, with nothing typed in the audit."""
    number = nhs_number_for(4242)
    existing = ChildFactory(
        responsible_local_authority=birmingham, nhs_number=number, given_names="Tobias", family_name="Mensah"
    )
    ProtectionStatusFactory(child=existing)
    manager = register_manager(westminster)
    client.force_login(manager)
    page = client.post(reverse(ADD), add_child_post(westminster, nhs_number=number)).content.decode()
    assert "A record held by another authority may match" in page and birmingham.secure_email in page
    for identifying in (existing.register_id, "Tobias", "Mensah", "NHS number matches"):
        assert identifying not in page
    check = AuditEvent.objects.get(action=AuditEvent.Action.SEARCH, details__purpose="duplicate_check")
    assert check.actor == manager and check.register_ids == [existing.register_id]
    assert check.criteria["nhs_number"] == number and check.criteria["family_name"] == "Adjei"
    assert check.details["held_elsewhere"] == {birmingham.gss_code: [existing.register_id]}


def test_an_nhs_number_match_in_the_managers_own_authority_is_shown_whatever_the_name(client, westminster):
    number = nhs_number_for(4244)
    existing = ChildFactory(responsible_local_authority=westminster, nhs_number=number, family_name="Mensah")
    ProtectionStatusFactory(child=existing)
    client.force_login(register_manager(westminster))
    page = client.post(reverse(ADD), add_child_post(westminster, nhs_number=number)).content.decode()
    assert existing.register_id in page and "NHS number matches" in page


def test_choosing_different_with_the_same_nhs_number_is_refused_plainly(client, westminster, birmingham):
    number = nhs_number_for(4343)
    existing = ChildFactory(responsible_local_authority=birmingham, nhs_number=number)
    ProtectionStatusFactory(child=existing)
    client.force_login(register_manager(westminster))
    post = add_child_post(westminster, nhs_number=number)
    page = client.post(reverse(ADD), post).content.decode()
    response = decide(client, post, "different", page)
    assert "Another child on the register already has this NHS number" in response.content.decode()
    assert Child.objects.count() == 1


def test_a_match_that_appears_after_the_warning_is_shown_before_anything_is_added(client, westminster):
    existing_kofi(westminster)
    client.force_login(register_manager(westminster))
    post = add_child_post(westminster)
    page = client.post(reverse(ADD), post).content.decode()
    newcomer = existing_kofi(westminster)  # added meanwhile by someone else
    response = decide(client, post, "different", page)
    body = response.content.decode()
    assert "The possible matches have changed" in body and newcomer.register_id in body
    assert Child.objects.count() == 2


def test_no_match_adds_the_child_at_once(client, westminster):
    manager = register_manager(westminster)
    client.force_login(manager)
    response = client.post(reverse(ADD), add_child_post(westminster))
    child = Child.objects.get()
    assert response["Location"] == reverse("registry:manage-child", args=[child.register_id])
    assert child.family_name == "Adjei" and child.date_of_birth == datetime.date(2019, 6, 14)
    assert child.statuses.get().responsible_local_authority == westminster
    event = AuditEvent.objects.get(action=AuditEvent.Action.CHILD_CREATED)
    assert event.details["duplicate_check"] == {"register_ids_shown": [], "decision": "no_matches"}


def unborn_post(authority, **overrides):
    post = add_child_post(
        authority,
        given_names="",
        family_name="Baby Adjei",
        date_of_birth_0="",
        date_of_birth_1="",
        date_of_birth_2="",
        sex="not_known",
        kind="unborn_cpp",
        expected_delivery_date_0="14",
        expected_delivery_date_1="2",
        expected_delivery_date_2="2027",
        mother_family_name="Adjei",
        mother_given_names="Ama",
        mother_date_of_birth_0="3",
        mother_date_of_birth_1="7",
        mother_date_of_birth_2="1998",
        mother_nhs_number=nhs_number_for(5151),
    )
    post.update(overrides)
    return post


def test_an_unborn_child_is_matched_on_the_mother(client, westminster, birmingham):
    client.force_login(register_manager(birmingham))
    assert client.post(reverse(ADD), unborn_post(birmingham)).status_code == 302
    unborn = Child.objects.get()
    assert unborn.date_of_birth is None
    status = unborn.statuses.get()
    assert status.mother_family_name == "Adjei" and status.expected_delivery_date == datetime.date(2027, 2, 14)

    client.force_login(register_manager(birmingham))
    page = client.post(reverse(ADD), unborn_post(birmingham, family_name="Unborn Adjei")).content.decode()
    assert unborn.register_id in page and "same mother" in page
    # Another authority learns only that a record may match, and whom to ask.
    client.force_login(register_manager(westminster))
    page = client.post(reverse(ADD), unborn_post(westminster, family_name="Unborn Adjei")).content.decode()
    assert "A record held by another authority may match" in page and unborn.register_id not in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"family_name": ""}, "Enter the child&#x27;s family name"),
        ({"date_of_birth_0": "31", "date_of_birth_1": "2"}, "Date of birth must be a real date"),
        ({"date_of_birth_1": ""}, "Date of birth must include a month"),
        ({"date_of_birth_2": "2027"}, "Date of birth must be today or in the past"),
        ({"nhs_number": "1234567890"}, "Enter a valid NHS number"),
        ({"kind": "looked_after"}, "Select the legal basis"),
        ({"kind": "unborn_cpp"}, "Enter the expected delivery date"),
        ({"kind": ""}, "Select the child&#x27;s status"),
        ({"start_date_0": ""}, "Start date must include a day"),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_in_the_summary(client, westminster, overrides, message):
    client.force_login(register_manager(westminster))
    response = client.post(reverse(ADD), add_child_post(westminster, **overrides))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count(message) >= 2, message  # the summary and the field
    assert "govuk-error-summary" in page and page.startswith("<!DOCTYPE html>")
    assert not Child.objects.exists()


def test_a_child_outside_the_registers_scope_is_refused_with_the_reason(client, westminster):
    client.force_login(register_manager(westminster))
    response = client.post(reverse(ADD), add_child_post(westminster, date_of_birth_2="2007"))
    assert "This child cannot be added to the register: the child is 18 or over" in response.content.decode()
    assert not Child.objects.exists()


def test_a_manager_of_two_authorities_chooses_which_is_responsible(client, westminster, birmingham):
    manager = register_manager(westminster)
    user_grant_role(user=manager, role=Role.REGISTER_MANAGER, local_authority=birmingham, granted_by=None)
    client.force_login(manager)
    page = client.get(reverse(ADD)).content.decode()
    assert "Local authority responsible" in page and "Birmingham City Council" in page
    assert client.post(reverse(ADD), add_child_post(birmingham)).status_code == 302
    assert Child.objects.get().responsible_local_authority == birmingham


def test_adding_a_child_shows_the_answers_before_saving(client, westminster):
    client.force_login(register_manager(westminster))
    answers = {key: value for key, value in add_child_post(westminster, nhs_number="").items() if key != "confirmed"}
    page = client.post(reverse(ADD), answers).content.decode()
    assert "Check the child's details before adding them" in page
    assert "Kofi" in page and "14 June 2019" in page and "Child protection plan" in page and "1 September 2026" in page
    assert Child.objects.count() == 0
    # "Change" goes back to the form with everything kept.
    edit = client.post(reverse(ADD), {**answers, "edit": "1"}).content.decode()
    assert 'value="Adjei"' in edit and Child.objects.count() == 0
    response = client.post(reverse(ADD), {**answers, "confirmed": "1"})
    assert response.status_code == 302 and Child.objects.count() == 1
