import pytest
from django.core.exceptions import ValidationError

from accounts.roles import Role
from accounts.selectors import local_authorities_for_role, user_may_act_on_authority
from accounts.services import user_create, user_grant_role
from audit.models import AuditEvent
from tests.factories import LocalAuthorityFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_register_manager_acts_only_on_their_own_authority(westminster, birmingham):
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    assert list(local_authorities_for_role(user=manager, role=Role.REGISTER_MANAGER)) == [westminster]
    assert user_may_act_on_authority(user=manager, role=Role.REGISTER_MANAGER, local_authority=westminster)
    assert not user_may_act_on_authority(user=manager, role=Role.REGISTER_MANAGER, local_authority=birmingham)


def test_a_role_the_user_does_not_hold_gives_no_scope(westminster):
    practitioner = UserFactory(organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    assert not local_authorities_for_role(user=practitioner, role=Role.REGISTER_MANAGER).exists()
    assert not local_authorities_for_role(user=practitioner, role=Role.AUDITOR).exists()


def test_a_national_auditor_covers_every_authority_and_a_local_one_only_theirs(westminster, birmingham):
    national = UserFactory(organisation=None, local_authority=None, roles=[Role.AUDITOR])
    local = UserFactory(organisation__local_authority=birmingham, roles=[Role.AUDITOR])
    assert set(local_authorities_for_role(user=national, role=Role.AUDITOR)) == {westminster, birmingham}
    assert list(local_authorities_for_role(user=local, role=Role.AUDITOR)) == [birmingham]


def test_a_deactivated_user_has_no_scope(westminster):
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    manager.is_active = False
    manager.save()
    assert not local_authorities_for_role(user=manager, role=Role.REGISTER_MANAGER).exists()


def test_scoped_roles_must_name_an_authority():
    user = UserFactory(organisation=None, local_authority=None)
    with pytest.raises(ValidationError, match="must be given a local authority"):
        user_grant_role(user=user, role=Role.REGISTER_MANAGER, local_authority=None, granted_by=None)


def test_creating_a_user_audits_the_creation_and_each_role():
    authority = LocalAuthorityFactory()
    admin = UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR])
    user = user_create(
        email="New.Person@Example.gov.uk",
        full_name="New Person",
        roles=[Role.PRACTITIONER, Role.REGISTER_MANAGER],
        local_authority=authority,
        created_by=admin,
    )
    assert user.email == "new.person@example.gov.uk"
    assert set(user.roles) == {Role.PRACTITIONER, Role.REGISTER_MANAGER}
    actions = list(AuditEvent.objects.filter(subject_user_id=user.pk).values_list("action", "actor", "details"))
    assert (AuditEvent.Action.USER_CREATED, admin.pk, {}) in actions
    assert (AuditEvent.Action.ROLE_GRANTED, admin.pk, {"role": "register_manager"}) in actions


def test_the_system_administrator_role_opens_the_django_admin_and_nothing_else_does(client, westminster):
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    manager.is_staff = True  # even a staff flag set by hand is not enough
    manager.save()
    client.force_login(manager)
    assert client.get("/django-admin/").status_code == 302
    admin = UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR])
    client.force_login(admin)
    assert client.get("/django-admin/").status_code == 200
