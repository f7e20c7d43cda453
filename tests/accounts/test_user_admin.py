"""Local authority user admins run their own authority's users, and only those."""

import datetime
import re

import pytest
from django.core import mail
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import DeactivationReason, Invitation, User, UserSession
from accounts.roles import Role
from accounts.selectors import local_authorities_for_role
from audit.models import AuditEvent
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

# Every user admin page, as (method, path template). {id} is a user the admin manages; the
# first three are about no one user.
ADMIN_ROUTES = [
    ("get", "/users/invitations/"),
    ("get", "/users/"),
    ("get", "/users/invite/"),
    ("get", "/users/{id}/"),
    ("get", "/users/{id}/training/"),
    ("get", "/users/{id}/expiry/"),
    ("get", "/users/{id}/deactivate/"),
    ("get", "/users/{id}/recertify/"),
    ("get", "/users/{id}/reset-two-factor/"),
    ("get", "/users/{id}/unlock/"),
    ("get", "/users/{id}/reinvite/"),
    ("post", "/users/{id}/roles/grant/"),
    ("post", "/users/{id}/roles/revoke/"),
]
# The pages about one user.
USER_ROUTES = ADMIN_ROUTES[3:]
ROLES = [None, *Role]


@pytest.fixture
def staff(westminster):
    """A Westminster social worker, managed by Westminster's user admin."""
    return UserFactory(organisation__local_authority=westminster, roles=[Role.PRACTITIONER])


@pytest.fixture
def admin(westminster):
    return UserFactory(organisation__local_authority=westminster, roles=[Role.LA_USER_ADMIN])


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.value if role else "no-role")
def test_access_matrix_only_the_authoritys_user_admin_reaches_the_admin_pages(client, westminster, staff, role):
    visitor = UserFactory(organisation__local_authority=westminster, roles=[role] if role else [])
    client.force_login(visitor)
    for method, template in ADMIN_ROUTES:
        path = template.format(id=staff.pk)
        data = {"role": Role.REGISTER_MANAGER.value} if method == "post" else None
        response = getattr(client, method)(path, data)
        if role == Role.LA_USER_ADMIN:
            assert response.status_code == (302 if method == "post" else 200), path
        else:
            # Not 403: the pages do not exist for anyone else.
            assert response.status_code == 404, (role, path)


def test_a_user_admin_of_another_authority_gets_404_for_every_page_about_our_user(client, birmingham, staff):
    other_admin = UserFactory(organisation__local_authority=birmingham, roles=[Role.LA_USER_ADMIN])
    client.force_login(other_admin)
    for method, template in USER_ROUTES:
        path = template.format(id=staff.pk)
        response = getattr(client, method)(path, {"role": Role.PRACTITIONER.value} if method == "post" else None)
        assert response.status_code == 404, path
    for action in ["deactivate", "recertify", "reset-two-factor", "unlock", "reinvite"]:
        assert client.post(f"/users/{staff.pk}/{action}/").status_code == 404
    for path in [f"/users/{staff.pk}/training/", f"/users/{staff.pk}/expiry/"]:
        assert (
            client.post(
                path, {"training-date-day": "1", "training-date-month": "1", "training-date-year": "2026"}
            ).status_code
            == 404
        )
    staff.refresh_from_db()
    assert staff.is_active and not staff.has_role(Role.REGISTER_MANAGER)
    assert staff.full_name not in client.get("/users/").content.decode()


def test_the_list_shows_only_the_admins_authority_and_who_is_due_recertification(
    client, admin, westminster, birmingham
):
    due = UserFactory(
        full_name="Dana Due", organisation__local_authority=westminster, recertified_on=datetime.date(2025, 12, 1)
    )
    UserFactory(full_name="Fran Fresh", organisation__local_authority=westminster)
    UserFactory(full_name="Bob Brum", organisation__local_authority=birmingham)
    client.force_login(admin)
    page = client.get("/users/").content.decode()
    assert "Dana Due" in page and "Fran Fresh" in page and "Bob Brum" not in page
    assert "1 user must be re-certified soon" in page
    row = re.search(r"Dana Due.*?</tr>", page, re.S).group(0)
    assert "1 December 2026" in row and "Due" in row
    assert due.email in page


def test_inviting_a_user_emails_a_one_time_link_and_stores_only_its_hash(
    client, admin, westminster, django_capture_on_commit_callbacks
):
    team = OrganisationFactory(local_authority=westminster, name="Westminster Early Help")
    client.force_login(admin)
    page = client.get("/users/invite/").content.decode()
    # Only the roles a user admin may grant are offered.
    assert "Practitioner" in page and "Register manager" in page
    assert "Auditor" not in page and "System administrator" not in page and "Feed operator" not in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/users/invite/",
            {
                "full_name": "Nina New",
                "email": "Nina.New@Westminster.gov.uk",
                "organisation": team.pk,
                "roles": [Role.PRACTITIONER.value],
            },
        )
    user = User.objects.get(email="nina.new@westminster.gov.uk")
    assert response["Location"] == f"/users/{user.pk}/"
    assert not user.has_usable_password() and user.has_role(Role.PRACTITIONER)
    assert user.local_authority == westminster and user.organisation == team
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nina.new@westminster.gov.uk"]
    token = re.search(r"/invitation/([\w-]+)/", mail.outbox[0].body).group(1)
    invitation = Invitation.objects.get(user=user)
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64
    assert invitation.expires_at - invitation.created_at == datetime.timedelta(hours=72)
    event = AuditEvent.objects.get(action="user_invited")
    assert event.actor == admin and event.subject_user_id == user.pk and event.local_authority_code == "E09000033"


def test_an_invitation_refuses_roles_a_user_admin_may_not_grant_and_organisations_elsewhere(
    client, admin, westminster, birmingham
):
    client.force_login(admin)
    ours = OrganisationFactory(local_authority=westminster)
    theirs = OrganisationFactory(local_authority=birmingham)
    base = {"full_name": "Ann Other", "email": "ann@example.gov.uk"}
    page = client.post("/users/invite/", {**base, "organisation": ours.pk, "roles": ["auditor"]}).content.decode()
    assert "Select a valid choice" in page or "is not one of the available choices" in page
    page = client.post("/users/invite/", {**base, "organisation": theirs.pk}).content.decode()
    assert "Select a valid choice" in page
    page = client.post("/users/invite/", {"organisation": ours.pk}).content.decode()
    assert "Enter a full name" in page and "Enter a work email address" in page
    assert not User.objects.filter(email="ann@example.gov.uk").exists()


def test_an_email_already_in_use_is_shown_next_to_the_field(client, admin, westminster, staff):
    client.force_login(admin)
    organisation = OrganisationFactory(local_authority=westminster)
    page = client.post(
        "/users/invite/", {"full_name": "Copy", "email": staff.email.upper(), "organisation": organisation.pk}
    ).content.decode()
    assert "A user with this email address already exists" in page and 'href="#id_email"' in page


def test_a_user_admin_grants_and_revokes_roles_within_their_authority(client, admin, staff, westminster):
    client.force_login(admin)
    page = client.get(f"/users/{staff.pk}/").content.decode()
    assert "Give a role" in page
    client.post(f"/users/{staff.pk}/roles/grant/", {"role": Role.REGISTER_MANAGER.value})
    staff = User.objects.get(pk=staff.pk)
    assert list(local_authorities_for_role(user=staff, role=Role.REGISTER_MANAGER)) == [westminster]
    client.post(f"/users/{staff.pk}/roles/revoke/", {"role": Role.REGISTER_MANAGER.value})
    staff = User.objects.get(pk=staff.pk)
    assert not staff.has_role(Role.REGISTER_MANAGER)
    assert not local_authorities_for_role(user=staff, role=Role.REGISTER_MANAGER).exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ROLE_GRANTED, actor=admin).exists()
    assert AuditEvent.objects.filter(action="role_revoked", actor=admin, details__role="register_manager").exists()
    # The admin's actor context reaches the grant recorded by user_grant_role: the page's
    # channel and the admin's address, as for the revocation (before: no channel, no address).
    granted = AuditEvent.objects.get(action=AuditEvent.Action.ROLE_GRANTED, actor=admin)
    assert (granted.channel, granted.ip_address) == ("web", "127.0.0.1")


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SYSTEM_ADMINISTRATOR, Role.FEED_OPERATOR])
def test_a_user_admin_cannot_grant_national_roles(client, admin, staff, role):
    client.force_login(admin)
    assert client.post(f"/users/{staff.pk}/roles/grant/", {"role": role.value}).status_code == 403
    assert not User.objects.get(pk=staff.pk).has_role(role)


def test_a_user_admin_cannot_revoke_a_role_only_a_system_administrator_grants(client, admin, westminster):
    auditor = UserFactory(organisation__local_authority=westminster, roles=[Role.AUDITOR])
    client.force_login(admin)
    assert client.post(f"/users/{auditor.pk}/roles/revoke/", {"role": "auditor"}).status_code == 403
    assert User.objects.get(pk=auditor.pk).has_role(Role.AUDITOR)
    assert "Only a system administrator can change: Auditor" in client.get(f"/users/{auditor.pk}/").content.decode()


def test_a_user_admin_cannot_elevate_or_change_themselves(client, admin):
    client.force_login(admin)
    for role in [Role.REGISTER_MANAGER, Role.PRACTITIONER, Role.SYSTEM_ADMINISTRATOR]:
        assert client.post(f"/users/{admin.pk}/roles/grant/", {"role": role.value}).status_code == 403
    assert client.post(f"/users/{admin.pk}/roles/revoke/", {"role": "la_user_admin"}).status_code == 403
    for action in ["deactivate", "recertify", "reset-two-factor", "unlock"]:
        assert client.post(f"/users/{admin.pk}/{action}/").status_code == 403
    admin = User.objects.get(pk=admin.pk)
    assert admin.roles == [Role.LA_USER_ADMIN] and admin.is_active
    page = client.get(f"/users/{admin.pk}/").content.decode()
    assert "This is your own account" in page and "Give a role" not in page
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.ROLE_GRANTED, actor=admin).exists()


def test_recording_training_and_expiry(client, admin):
    trainee = UserFactory(organisation=admin.organisation, training_completed_on=None, roles=[Role.PRACTITIONER])
    client.force_login(admin)
    page = client.post(
        f"/users/{trainee.pk}/training/",
        {"training-date-day": "30", "training-date-month": "2", "training-date-year": "2026"},
    ).content.decode()
    assert "must be a real date" in page and "govuk-error-summary" in page
    page = client.post(
        f"/users/{trainee.pk}/training/",
        {"training-date-day": "1", "training-date-month": "1", "training-date-year": "2027"},
    ).content.decode()
    assert "must be today or in the past" in page
    response = client.post(
        f"/users/{trainee.pk}/training/",
        {"training-date-day": "20", "training-date-month": "11", "training-date-year": "2026"},
    )
    assert response.status_code == 302
    response = client.post(
        f"/users/{trainee.pk}/expiry/", {"expiry-date-day": "31", "expiry-date-month": "3", "expiry-date-year": "2027"}
    )
    assert response.status_code == 302
    trainee.refresh_from_db()
    assert trainee.training_completed_on == datetime.date(2026, 11, 20)
    assert trainee.expires_on == datetime.date(2027, 3, 31)
    assert AuditEvent.objects.filter(action="training_recorded", subject_user_id=trainee.pk).exists()
    assert AuditEvent.objects.filter(action="expiry_set", details__expires_on="2027-03-31").exists()
    client.post(
        f"/users/{trainee.pk}/expiry/", {"expiry-date-day": "", "expiry-date-month": "", "expiry-date-year": ""}
    )
    trainee.refresh_from_db()
    assert trainee.expires_on is None


def test_deactivating_ends_every_session_of_that_user_at_once(client, admin, staff):
    phone, desk = client.__class__(), client.__class__()
    phone.force_login(staff)
    desk.force_login(staff)
    assert phone.get("/").status_code == 200
    assert UserSession.objects.filter(user=staff).count() == 2
    client.force_login(admin)
    assert "Deactivate account" in client.get(f"/users/{staff.pk}/deactivate/").content.decode()
    client.post(f"/users/{staff.pk}/deactivate/")
    assert phone.get("/").status_code == 302 and desk.get("/").status_code == 302
    staff.refresh_from_db()
    assert not staff.is_active and staff.deactivation_reason == DeactivationReason.BY_ADMIN
    assert not UserSession.objects.filter(user=staff).exists()
    event = AuditEvent.objects.get(action="user_deactivated")
    assert event.actor == admin and event.details["sessions_ended"] == 2
    # And they cannot sign in again.
    response = client.__class__().post(
        "/sign-in/", {"username": staff.email, "password": "correct-horse-battery-staple"}
    )
    assert response.status_code == 200


def test_resetting_two_factor_removes_the_devices_and_signs_the_user_out(client, admin, staff):
    other = client.__class__()
    other.force_login(staff)
    StaticDevice.objects.create(user=staff, name="Backup codes")
    client.force_login(admin)
    client.post(f"/users/{staff.pk}/reset-two-factor/")
    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert not StaticDevice.objects.filter(user=staff).exists()
    assert other.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="two_factor_reset", actor=admin, subject_user_id=staff.pk).exists()


def test_a_new_invitation_replaces_the_old_link(client, admin, westminster, django_capture_on_commit_callbacks):
    organisation = OrganisationFactory(local_authority=westminster)
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/users/invite/", {"full_name": "Ivy", "email": "ivy@example.gov.uk", "organisation": organisation.pk}
        )
    invited = User.objects.get(email="ivy@example.gov.uk")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/users/{invited.pk}/reinvite/")
    first, second = (re.search(r"/invitation/([\w-]+)/", m.body).group(1) for m in mail.outbox)
    assert client.__class__().get(f"/invitation/{first}/").status_code == 410
    assert client.__class__().get(f"/invitation/{second}/").status_code == 200


def test_an_unmanaged_national_user_is_out_of_every_user_admins_scope(client, admin):
    national = UserFactory(organisation=None, local_authority=None, roles=[Role.AUDITOR])
    client.force_login(admin)
    assert client.get(f"/users/{national.pk}/").status_code == 404


def test_a_user_admin_cannot_deactivate_or_reset_the_auditor_overseeing_their_authority(client, admin, westminster):
    from tests.audit.factories_audit import authority_auditor

    auditor = authority_auditor(westminster)
    client.force_login(admin)
    for action in ["deactivate", "reset-two-factor", "recertify", "unlock", "reinvite"]:
        assert client.get(f"/users/{auditor.pk}/{action}/").status_code == 403, action
        assert client.post(f"/users/{auditor.pk}/{action}/").status_code == 403, action
    assert client.post(f"/users/{auditor.pk}/roles/grant/", {"role": "practitioner"}).status_code == 403
    auditor = User.objects.get(pk=auditor.pk)
    assert auditor.is_active and not auditor.has_role(Role.PRACTITIONER)
    page = client.get(f"/users/{auditor.pk}/").content.decode()
    assert "only a system administrator can change" in page
    assert f"/users/{auditor.pk}/deactivate/" not in page


def test_a_user_admin_cannot_reset_two_factor_on_or_grant_roles_to_a_system_administrator_naming_their_authority(
    client, admin, westminster
):
    administrator = UserFactory(organisation__local_authority=westminster, roles=[Role.SYSTEM_ADMINISTRATOR])
    TOTPDevice.objects.create(user=administrator, name="Phone", confirmed=True)
    client.force_login(admin)
    assert client.post(f"/users/{administrator.pk}/reset-two-factor/").status_code == 403
    assert client.post(f"/users/{administrator.pk}/roles/grant/", {"role": "la_user_admin"}).status_code == 403
    assert client.post(f"/users/{administrator.pk}/reinvite/").status_code == 403
    assert TOTPDevice.objects.filter(user=administrator).exists()
    assert not User.objects.get(pk=administrator.pk).has_role(Role.LA_USER_ADMIN)
    assert not AuditEvent.objects.filter(subject_user_id=administrator.pk, actor=admin).exists()
