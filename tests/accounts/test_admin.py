"""The Django admin cannot change who may do what: those changes are audited actions in
accounts.services, and the admin's generic pages would write no audit event."""

import pytest
from django.contrib.auth.models import Group

from accounts.roles import Role
from accounts.services import role_group
from audit.models import AuditEvent
from tests.factories import UserFactory

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
    assert AuditEvent.objects.filter(subject_user_id=practitioner.pk).count() == grants_before


def test_the_admin_offers_no_page_to_change_a_role_s_permissions_or_an_authority_s_scopes(client, westminster):
    client.force_login(UserFactory(is_superuser=True, roles=[Role.SYSTEM_ADMINISTRATOR]))
    group = Group.objects.get_or_create(name=Role.REGISTER_MANAGER.value)[0]
    assert client.get(f"/django-admin/auth/group/{group.pk}/change/").status_code == 404
    page = client.get(f"/django-admin/accounts/localauthority/{westminster.pk}/change/")
    assert page.status_code == 200
    assert b"Object permissions" not in page.content
    assert client.get(f"/django-admin/accounts/localauthority/{westminster.pk}/permissions/").status_code != 200
