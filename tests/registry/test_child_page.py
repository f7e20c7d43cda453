"""What a practitioner sees on a child's page, and what they never see."""

import datetime

import pytest

from accounts.models import SensitiveCategory
from accounts.roles import Role
from audit.actor import Actor, Channel
from audit.models import AuditEvent, LookupOutcome
from registry.children.selectors import child_signpost
from registry.models import AccessNotice, Involvement, Notification, ServiceType
from tests.factories import (
    ChildFactory,
    InvolvementFactory,
    OrganisationFactory,
    OtherNameFactory,
    ProtectionStatusFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def practitioner(westminster):
    return UserFactory(full_name="Sam Viewer", organisation__local_authority=westminster, roles=[Role.PRACTITIONER])


@pytest.fixture
def child(westminster):
    child = ChildFactory(
        responsible_local_authority=westminster, given_names="Victoria", family_name="Adjo", postcode="N17 9EX",
        address_line_1="1 Somerset Road",
    )  # fmt: skip
    ProtectionStatusFactory(child=child, start_date=datetime.date(2026, 2, 1))
    OtherNameFactory(child=child, given_names="Anna", family_name="Kouao")
    return child


def open_page(client, user, child, reason="assessment"):
    client.force_login(user)
    return client.post(f"/children/{child.register_id}/", {"reason": reason})


def test_the_page_signposts_identity_statuses_authority_and_people_lead_first(client, practitioner, child):
    InvolvementFactory(child=child, practitioner__full_name="Second Worker", start_date=datetime.date(2026, 1, 1))
    InvolvementFactory(
        child=child, practitioner__full_name="Lead Worker", is_lead=True, start_date=datetime.date(2026, 3, 1)
    )
    response = open_page(client, practitioner, child)
    page = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0") and "no-store" in response["Cache-Control"]
    assert "Victoria Adjo" in page and "Anna Kouao" in page
    assert "N17" in page and "N17 9EX" not in page and "Somerset Road" not in page
    assert "Child protection plan" in page
    assert child.responsible_local_authority.out_of_hours_phone in page
    assert page.index("Lead Worker") < page.index("Second Worker")


def test_a_shielded_child_shows_no_location_other_names_or_involvements(client, practitioner, child):
    child.is_shielded = True
    child.shielding_reason = "Child in a refuge"
    child.save()
    InvolvementFactory(child=child, practitioner__full_name="Hidden Worker")
    page = open_page(client, practitioner, child).content.decode()
    assert "Shielded record" in page
    assert "Contact Westminster City Council" in page
    for secret in ("N17", "Hidden Worker", "Kouao", "refuge", "I am working with this child"):
        assert secret not in page


def test_sensitive_services_are_seen_only_by_users_of_that_service(client, practitioner, child, westminster):
    clinic = OrganisationFactory(
        local_authority=westminster, name="Sexual Health Clinic", sensitive_service=SensitiveCategory.SEXUAL_HEALTH
    )
    Involvement.objects.create(
        child=child, contact_name="Clinic Nurse", contact_organisation=clinic, service_type=ServiceType.SEXUAL_HEALTH,
        sensitive_category=SensitiveCategory.SEXUAL_HEALTH, start_date=datetime.date(2026, 1, 1),
    )  # fmt: skip
    assert "Clinic Nurse" not in open_page(client, practitioner, child).content.decode()
    colleague = UserFactory(organisation=clinic, roles=[Role.PRACTITIONER])
    assert "Clinic Nurse" in open_page(client, colleague, child).content.decode()
    mental_health = UserFactory(
        organisation__sensitive_service=SensitiveCategory.MENTAL_HEALTH, roles=[Role.PRACTITIONER]
    )
    assert "Clinic Nurse" not in [
        i.name for i in child_signpost(user=mental_health, register_id=child.register_id).involvements
    ]


def test_a_deceased_child_is_marked(client, practitioner, child):
    child.date_of_death = datetime.date(2026, 10, 1)
    child.save()
    assert "This child has died (1 October 2026)" in open_page(client, practitioner, child).content.decode()


def test_every_view_is_audited_with_the_reason_and_an_outsider_leaves_an_access_notice(
    client, practitioner, child, birmingham
):
    open_page(client, practitioner, child, reason="ongoing_work")
    event = AuditEvent.objects.get(action=AuditEvent.Action.CHILD_VIEWED)
    assert (event.actor, event.reason, event.outcome) == (practitioner, "ongoing_work", LookupOutcome.VIEWED)
    assert event.register_ids == [child.register_id]
    assert event.local_authority_code == "E09000033"
    assert not AccessNotice.objects.exists()  # same authority

    outsider = UserFactory(organisation__local_authority=birmingham, roles=[Role.PRACTITIONER])
    open_page(client, outsider, child, reason="emergency")
    notice = AccessNotice.objects.get()
    assert (notice.local_authority, notice.accessed_by, notice.reason) == (
        child.responsible_local_authority,
        outsider,
        "emergency",
    )


def test_opening_a_record_without_a_search_asks_for_a_reason_first(client, practitioner, child):
    client.force_login(practitioner)
    page = client.get(f"/children/{child.register_id}/").content.decode()
    assert "Before you open this record" in page and "Adjo" not in page
    page = client.post(f"/children/{child.register_id}/", {"reason": "other"}).content.decode()
    assert "Enter why you are looking for this child" in page and "Adjo" not in page
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CHILD_VIEWED).exists()
    page = client.post(
        f"/children/{child.register_id}/", {"reason": "other", "reason_detail": "School nurse query"}
    ).content.decode()
    assert "Victoria Adjo" in page
    assert AuditEvent.objects.get(action=AuditEvent.Action.CHILD_VIEWED).reason_detail == "School nurse query"


def test_an_unknown_register_id_is_404_and_audited(client, practitioner):
    client.force_login(practitioner)
    response = client.post("/children/ABCD-EFGH-JKMN/", {"reason": "assessment"})
    assert response.status_code == 404
    assert AuditEvent.objects.get(action=AuditEvent.Action.CHILD_VIEWED).outcome == LookupOutcome.NO_RESULTS


def test_untrained_users_and_other_roles_cannot_open_records(client, child, westminster):
    untrained = UserFactory(training_completed_on=None, roles=[Role.PRACTITIONER])
    assert open_page(client, untrained, child).status_code == 403
    auditor = UserFactory(roles=[Role.AUDITOR])
    assert open_page(client, auditor, child).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CHILD_VIEWED, outcome=LookupOutcome.VIEWED).exists()


def test_if_the_audit_write_fails_the_record_is_not_shown(client, practitioner, child, monkeypatch):
    from django.db import DatabaseError

    def broken(**kwargs):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr("registry.lookups.services.audit_event_record", broken)
    response = open_page(client, practitioner, child)
    assert response.status_code == 503
    assert "Adjo" not in response.content.decode()
    assert not AccessNotice.objects.exists()


def test_the_responsible_authoritys_register_manager_is_offered_the_manage_link_and_no_one_else(
    client, westminster, birmingham, child
):
    own_manager = UserFactory(
        organisation__local_authority=westminster, roles=[Role.PRACTITIONER, Role.REGISTER_MANAGER]
    )
    other_manager = UserFactory(
        organisation__local_authority=birmingham, roles=[Role.PRACTITIONER, Role.REGISTER_MANAGER]
    )
    manage_url = f"/manage/children/{child.register_id}/"
    assert manage_url in open_page(client, own_manager, child).content.decode()
    assert manage_url not in open_page(client, other_manager, child).content.decode()


def test_a_deceased_childs_open_status_is_not_current_and_no_one_can_start_working_with_them(
    client, practitioner, child
):
    from registry.children.services import InvolvementRefused, practitioner_involvement_start

    child.date_of_death = datetime.date(2026, 10, 1)
    child.save()
    page = open_page(client, practitioner, child).content.decode()
    assert "Not current: child has died" in page and ">Current<" not in page
    assert "I am working with this child" not in page
    with pytest.raises(InvolvementRefused, match="has died"):
        practitioner_involvement_start(
            by=Actor(user=practitioner, channel=Channel.WEB), child=child, service_type=ServiceType.GP
        )
    client.post(f"/children/{child.register_id}/working-with/", {"service_type": ServiceType.GP})
    assert not Involvement.objects.filter(child=child).exists()


@pytest.mark.parametrize(
    ("kind", "sensitive", "service"),
    [
        ("health_visiting", "", ServiceType.HEALTH_VISITING),
        ("school", "", ServiceType.EDUCATION),
        ("hospital_trust", SensitiveCategory.MENTAL_HEALTH, ServiceType.MENTAL_HEALTH),
        ("other", "", ""),
    ],
)
def test_the_service_offered_comes_from_the_organisation(kind, sensitive, service):
    from registry.children.selectors import service_type_for_user

    user = UserFactory(organisation__kind=kind, organisation__sensitive_service=sensitive)
    assert service_type_for_user(user=user) == service


def test_the_record_offers_the_organisations_service_and_no_default_otherwise(client, child):
    visitor = UserFactory(organisation__kind="health_visiting", roles=[Role.PRACTITIONER])
    page = open_page(client, visitor, child).content.decode()
    assert '<option value="health_visiting" selected>' in page
    other = UserFactory(organisation__kind="other", roles=[Role.PRACTITIONER])
    page = open_page(client, other, child).content.decode()
    select = page.split('id="id_service_type"')[1].split("</select>")[0]
    assert select.count(" selected>") == 1 and '<option value="" selected>Select a service' in select
    # Without a service nothing is recorded.
    client.post(f"/children/{child.register_id}/working-with/", {"service_type": ""})
    assert not Involvement.objects.filter(child=child, practitioner=other).exists()


def test_ending_ones_own_involvement_is_confirmed_first(client, practitioner, child):
    InvolvementFactory(child=child, practitioner=practitioner)
    client.force_login(practitioner)
    page = client.get(f"/children/{child.register_id}/working-with/end/").content.decode()
    assert "Are you sure you are no longer working with this child?" in page
    assert "Victoria" not in page  # the confirmation reads nothing personal
    assert Involvement.objects.get(child=child, practitioner=practitioner).end_date is None
    client.post(f"/children/{child.register_id}/working-with/end/")
    assert Involvement.objects.get(child=child, practitioner=practitioner).end_date is not None


def test_who_to_contact_links_phone_numbers_and_email(client, practitioner, child):
    authority = child.responsible_local_authority
    page = open_page(client, practitioner, child).content.decode()
    contact = page.split('id="who-to-contact"')[1].split("</section>")[0]
    assert f'href="tel:{authority.out_of_hours_phone.replace(" ", "")}"' in contact
    assert f'href="mailto:{authority.secure_email}"' in contact
    assert page.index('id="who-to-contact"') < page.index("Why this child is on the register")


def test_a_practitioners_sign_in_address_is_never_shown_but_their_phone_and_organisation_are(
    client, practitioner, child
):
    # The sign-in email is the account's name (and so its lockout key): not for other users.
    InvolvementFactory(
        child=child, practitioner__full_name="Wren Worker", practitioner__phone="020 7946 0123",
        practitioner__email="wren.worker@example.nhs.uk",
    )  # fmt: skip
    page = open_page(client, practitioner, child).content.decode()
    assert "Wren Worker" in page and "020 7946 0123" in page
    assert "Social Care Team" in page  # the organisation (its name is HTML-escaped)
    assert "wren.worker@example.nhs.uk" not in page


def test_a_sensitive_service_is_hidden_even_when_the_practitioners_organisation_is_unflagged(
    client, practitioner, child, westminster, django_capture_on_commit_callbacks
):
    # Issue 15, finding 8: sensitivity comes from the service, not only the organisation's flag.
    worker = UserFactory(organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    InvolvementFactory(child=child, practitioner=worker)
    nurse = UserFactory(full_name="Quillon Nurse", organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    assert nurse.organisation.sensitive_service == SensitiveCategory.NONE
    client.force_login(nurse)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/children/{child.register_id}/working-with/", {"service_type": ServiceType.SEXUAL_HEALTH})
    recorded = Involvement.objects.get(child=child, practitioner=nurse)
    assert recorded.sensitive_category == SensitiveCategory.SEXUAL_HEALTH

    page = open_page(client, practitioner, child).content.decode()
    assert "Quillon Nurse" not in page
    assert "Quillon Nurse" not in [
        i.name for i in child_signpost(user=practitioner, register_id=child.register_id).involvements
    ]
    # Nor is anyone outside the service told of it.
    assert not Notification.objects.filter(recipient=worker).exists()
    # The nurse still sees their own involvement.
    assert "Quillon Nurse" in open_page(client, nurse, child).content.decode()


def test_an_involvement_stored_before_the_rule_is_read_as_sensitive_by_its_service(client, practitioner, child):
    InvolvementFactory(
        child=child, practitioner__full_name="Quillon Older", service_type=ServiceType.MENTAL_HEALTH,
        sensitive_category=SensitiveCategory.NONE,
    )  # fmt: skip
    assert "Quillon Older" not in open_page(client, practitioner, child).content.decode()
