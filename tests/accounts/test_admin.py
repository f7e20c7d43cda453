"""The Django admin cannot change who may do what: those changes are audited actions in
accounts.services, and the admin's generic pages would write no audit event."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group

from accounts.roles import Role
from accounts.services import role_group
from audit.models import AuditEvent
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _change_form_data(user, **changes):
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "job_title": user.job_title,
        "phone": user.phone,
        "organisation": user.organisation_id or "",
        "local_authority": user.local_authority_id or "",
    }
    data.update(changes)
    return data


def test_an_admin_role_or_activity_change_is_refused_and_nothing_goes_unaudited(client, westminster):
    # A superuser: the admin pages need model permissions, which a superuser has all of.
    system_admin = UserFactory(is_superuser=True, roles=[Role.SYSTEM_ADMINISTRATOR])
    practitioner = UserFactory(organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    client.force_login(system_admin)
    grants_before = AuditEvent.objects.filter(subject_user_id=practitioner.pk).count()

    response = client.post(
        f"/django-admin/accounts/user/{practitioner.pk}/change/",
        _change_form_data(
            practitioner,
            job_title="Team manager",
            groups=[role_group(Role.SYSTEM_ADMINISTRATOR).pk, role_group(Role.AUDITOR).pk],
            is_active="",
            is_staff="on",
            training_completed_on="2020-01-01",
        ),
    )

    assert response.status_code == 302
    practitioner.refresh_from_db()
    assert practitioner.job_title == "Team manager"  # the person's own details may be corrected
    assert set(practitioner.groups.values_list("name", flat=True)) == {Role.PRACTITIONER.value}
    assert practitioner.is_active
    assert not practitioner.is_staff
    assert str(practitioner.training_completed_on) != "2020-01-01"
    # Only the correction is recorded: which field, never its value.
    events = AuditEvent.objects.filter(subject_user_id=practitioner.pk).order_by("pk")
    assert events.count() == grants_before + 1
    corrected = events.last()
    assert corrected.action == AuditEvent.Action.USER_DETAILS_CORRECTED
    assert (corrected.actor_id, corrected.details, corrected.channel) == (
        system_admin.pk,
        {"fields": ["job_title"]},
        "web",
    )


def test_an_admin_cannot_move_a_user_to_another_authority_or_organisation(client, westminster, birmingham):
    system_admin = UserFactory(is_superuser=True, roles=[Role.SYSTEM_ADMINISTRATOR])
    practitioner = UserFactory(organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    other = OrganisationFactory(local_authority=birmingham)
    client.force_login(system_admin)
    client.post(
        f"/django-admin/accounts/user/{practitioner.pk}/change/",
        _change_form_data(practitioner, local_authority=birmingham.pk, organisation=other.pk),
    )
    practitioner.refresh_from_db()
    assert practitioner.organisation_id != other.pk
    assert practitioner.local_authority_id != birmingham.pk


def test_the_admin_cannot_add_delete_or_set_the_password_of_a_user(client, westminster):
    system_admin = UserFactory(is_superuser=True, roles=[Role.SYSTEM_ADMINISTRATOR])
    practitioner = UserFactory(organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    client.force_login(system_admin)
    assert client.get("/django-admin/accounts/user/add/").status_code == 403
    assert client.post(f"/django-admin/accounts/user/{practitioner.pk}/delete/", {"post": "yes"}).status_code == 403
    response = client.post(
        f"/django-admin/accounts/user/{practitioner.pk}/password/",
        {"password1": "An0ther-long-passphrase", "password2": "An0ther-long-passphrase"},
    )
    assert response.status_code == 403
    practitioner.refresh_from_db()
    assert not practitioner.check_password("An0ther-long-passphrase")
    assert type(practitioner).objects.filter(pk=practitioner.pk).exists()


def test_an_authority_s_code_and_an_organisation_s_sensitive_service_are_fixed_in_the_admin(client, westminster):
    client.force_login(UserFactory(is_superuser=True, roles=[Role.SYSTEM_ADMINISTRATOR]))
    organisation = OrganisationFactory(local_authority=westminster, sensitive_service="")
    page = client.get(f"/django-admin/accounts/localauthority/{westminster.pk}/change/").content.decode()
    assert 'name="gss_code"' not in page
    page = client.get(f"/django-admin/accounts/organisation/{organisation.pk}/change/").content.decode()
    assert 'name="sensitive_service"' not in page and 'name="local_authority"' not in page


def test_the_admin_offers_no_page_to_change_a_role_s_permissions_or_an_authority_s_scopes(client, westminster):
    client.force_login(UserFactory(is_superuser=True, roles=[Role.SYSTEM_ADMINISTRATOR]))
    group = Group.objects.get_or_create(name=Role.REGISTER_MANAGER.value)[0]
    assert client.get(f"/django-admin/auth/group/{group.pk}/change/").status_code == 404
    page = client.get(f"/django-admin/accounts/localauthority/{westminster.pk}/change/")
    assert page.status_code == 200
    assert b"Object permissions" not in page.content
    assert client.get(f"/django-admin/accounts/localauthority/{westminster.pk}/permissions/").status_code != 200


def test_the_admin_offers_no_authenticators_or_tokens_and_shows_sign_in_attempts_read_only(client, westminster):
    # Deleting an authenticator would be an unaudited two-factor reset, deleting a lockout
    # record an unaudited unlock, a token made here an unaudited credential.
    client.force_login(UserFactory(is_superuser=True, roles=[Role.SYSTEM_ADMINISTRATOR]))
    assert client.get("/django-admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/django-admin/otp_static/staticdevice/").status_code == 404
    assert client.get("/django-admin/authtoken/tokenproxy/").status_code == 404
    attempt = AccessAttempt.objects.create(username="someone@westminster.gov.uk", failures_since_start=5)
    assert client.get("/django-admin/axes/accessattempt/").status_code == 200
    assert client.post(f"/django-admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_a_system_administrator_without_superuser_status_can_use_the_admin_but_not_read_the_trail(client):
    # The demo's admin@demo.test is such a user: before, every admin page said "You don't
    # have permission to view or edit anything".
    system_admin = UserFactory(is_staff=True, is_superuser=False, roles=[Role.SYSTEM_ADMINISTRATOR])
    client.force_login(system_admin)
    index = client.get("/django-admin/")
    assert index.status_code == 200
    page = index.content.decode()
    assert "/django-admin/accounts/user/" in page and "/django-admin/accounts/localauthority/" in page
    assert client.get("/django-admin/accounts/user/").status_code == 200
    # The trail's events carry what was typed in searches: read only through auditors' pages.
    assert "/django-admin/audit/auditevent/" not in page
    assert client.get("/django-admin/audit/auditevent/").status_code == 403
