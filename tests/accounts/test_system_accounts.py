"""Case-management system accounts are a kind of their own (issue 15, finding 2): user
admins never manage them, they never hold a person's role, and their tokens are hashed,
expiring, revocable and accepted on the case-management API only."""

import datetime
import importlib
import io
import uuid

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from knox.models import AuthToken
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import Role
from accounts.services import invitation_issue, user_grant_role
from audit.actor import Actor
from audit.models import AuditEvent
from tests.accounts.test_user_admin import USER_ROUTES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RECORD = {
    "family_name": "Adjo",
    "date_of_birth": "2016-11-02",
    "statuses": [{"kind": "cpp", "start_date": "2026-06-01"}],
}


def create_account(authority, email="mosaic@westminster.example.gov.uk"):
    out = io.StringIO()
    call_command("create_cms_account", local_authority=authority.gss_code, email=email, name="Mosaic", stdout=out)
    return User.objects.get(email=email), out.getvalue().strip().splitlines()[-1]


def token_client(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def cms_put(client, reference="WCC-1"):
    return client.put(
        f"/api/v1/cms/children/{reference}/", RECORD, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )


def test_user_admins_never_see_change_invite_or_grant_roles_to_a_system_account(client, westminster):
    account, _token = create_account(westminster)
    admin = UserFactory(organisation__local_authority=westminster, roles=[Role.LA_USER_ADMIN])
    client.force_login(admin)
    assert "mosaic@westminster" not in client.get("/users/").content.decode()
    for method, template in USER_ROUTES:
        path = template.format(id=account.pk)
        response = getattr(client, method)(path, {"role": Role.PRACTITIONER.value} if method == "post" else None)
        assert response.status_code == 404, path
    assert client.post(f"/users/{account.pk}/reinvite/").status_code == 404
    with pytest.raises(PermissionDenied):
        invitation_issue(by=Actor.system(user=admin), user=account)
    account.refresh_from_db()
    assert account.roles == [Role.REGISTER_MANAGER] and not account.has_usable_password()


@pytest.mark.parametrize("role", [Role.PRACTITIONER, Role.LA_USER_ADMIN, Role.AUDITOR, Role.SYSTEM_ADMINISTRATOR])
def test_a_system_account_is_never_given_a_persons_role(westminster, role):
    account, _token = create_account(westminster)
    with pytest.raises(ValidationError, match="cannot be given a role"):
        user_grant_role(user=account, role=role, local_authority=westminster, granted_by=None)
    # Nor a second authority by a person.
    admin = UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR])
    with pytest.raises(ValidationError):
        user_grant_role(user=account, role=Role.REGISTER_MANAGER, local_authority=westminster, granted_by=admin)
    assert not account.has_role(role)


def test_the_token_is_stored_only_as_a_hash_and_works_only_on_the_case_management_api(westminster):
    account, token = create_account(westminster)
    stored = AuthToken.objects.get(user=account)
    assert token not in (stored.digest, stored.token_key) and len(token) > 40
    client = token_client(token)
    assert cms_put(client).status_code == 201
    # The same token is no search credential, and opens no page or schema.
    search = client.post("/api/v1/search/", {"nhs_number": "9434765919", "reason": "assessment"}, format="json")
    assert search.status_code in (401, 403)
    assert client.get("/api/v1/schema/").status_code in (401, 403)
    assert client.get("/manage/children/").status_code in (302, 403)


def test_a_persons_token_is_refused_everywhere(westminster):
    practitioner = UserFactory(organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    _instance, token = AuthToken.objects.create(user=practitioner)
    client = token_client(token)
    assert cms_put(client).status_code == 401
    search = client.post("/api/v1/search/", {"nhs_number": "9434765919", "reason": "assessment"}, format="json")
    assert search.status_code in (401, 403)


def token_events(account, action):
    return list(AuditEvent.objects.filter(action=action, subject_user_id=account.pk).order_by("id"))


def test_tokens_expire_and_can_be_revoked_and_reissued_and_each_issue_and_revocation_is_audited(westminster, settings):
    account, token = create_account(westminster)
    client = token_client(token)
    with time_machine.travel(
        datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=settings.CMS_TOKEN_DAYS + 1)
    ):
        assert cms_put(client, "WCC-2").status_code == 401

    out = io.StringIO()
    call_command("issue_cms_token", email=account.email, stdout=out)
    fresh = out.getvalue().strip().splitlines()[-1]
    assert cms_put(token_client(fresh), "WCC-3").status_code == 201
    call_command("revoke_cms_tokens", email=account.email, stdout=io.StringIO())
    assert cms_put(token_client(fresh), "WCC-4").status_code == 401
    assert not AuthToken.objects.filter(user=account).exists()

    first, second = token_events(account, AuditEvent.Action.API_TOKEN_ISSUED)
    assert first.details["token_key"] == token[: len(first.details["token_key"])]
    assert second.details["token_key"] == fresh[: len(second.details["token_key"])]
    assert first.local_authority_code == westminster.gss_code and first.details["expires_at"]
    # The trail names a token by the key knox keeps in clear, never the token itself.
    assert token not in str(first.details) and fresh not in str(second.details)
    [revoked] = token_events(account, AuditEvent.Action.API_TOKEN_REVOKED)
    # The expired first token was already cleared by knox when it was refused.
    assert revoked.details["token_keys"] == [second.details["token_key"]]


def test_a_token_revoked_in_the_django_admin_is_audited_and_none_can_be_added_there(client, westminster):
    account, token = create_account(westminster)
    administrator = UserFactory(is_superuser=True, roles=[Role.SYSTEM_ADMINISTRATOR])
    client.force_login(administrator)
    assert client.get("/django-admin/knox/authtoken/add/").status_code == 403
    stored = AuthToken.objects.get(user=account)
    response = client.post(
        "/django-admin/knox/authtoken/",
        {"action": "delete_selected", "_selected_action": [stored.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert cms_put(token_client(token)).status_code == 401
    [revoked] = token_events(account, AuditEvent.Action.API_TOKEN_REVOKED)
    assert revoked.actor == administrator and revoked.details["token_keys"] == [stored.token_key]


def test_a_system_account_cannot_sign_in_to_the_browser_even_with_a_password(client, westminster):
    account, _token = create_account(westminster)
    account.set_password("a-long-enough-passphrase")
    account.save()
    response = client.post("/sign-in/", {"username": account.email, "password": "a-long-enough-passphrase"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_the_migration_marks_system_accounts_strips_person_roles_and_revokes_plain_tokens(westminster):
    migration = importlib.import_module("accounts.migrations.0006_system_accounts")
    system = UserFactory(organisation__local_authority=westminster, password=None, roles=[Role.REGISTER_MANAGER])
    system.set_unusable_password()
    system.save()
    user_grant_role(user=system, role=Role.PRACTITIONER, local_authority=westminster, granted_by=None)
    person = UserFactory(organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    Token.objects.create(user=system)
    Token.objects.create(user=person)

    migration.mark_system_accounts_and_revoke_plain_tokens(apps, None)

    system, person = User.objects.get(pk=system.pk), User.objects.get(pk=person.pk)
    assert system.is_system_account and system.roles == [Role.REGISTER_MANAGER]
    assert not person.is_system_account and person.roles == [Role.PRACTITIONER]
    assert not Token.objects.exists()


def test_a_session_a_system_account_somehow_holds_is_not_signed_in(client, westminster):
    account, _token = create_account(westminster)
    client.force_login(account, backend="accounts.backends.PeopleOnlyBackend")
    response = client.get("/manage/children/")
    assert response.status_code == 302 and "/sign-in/" in response.url
