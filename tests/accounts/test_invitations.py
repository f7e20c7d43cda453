"""An invitation link: works once, for 72 hours, then the user sets up two-factor."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Invitation
from accounts.roles import Role
from accounts.services import invitation_issue
from audit.actor import Actor
from audit.models import AuditEvent
from tests.conftest import TEST_TODAY
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture
def invite(westminster, django_capture_on_commit_callbacks):
    """An invited Westminster user and the link's token, as the email carries it."""
    from django.core import mail

    admin = UserFactory(organisation__local_authority=westminster, roles=[Role.LA_USER_ADMIN])
    user = UserFactory(organisation__local_authority=westminster, password=None, roles=[Role.PRACTITIONER])
    user.set_unusable_password()
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        invitation_issue(by=Actor.system(user=admin), user=user)
    token = mail.outbox[-1].body.split("/invitation/")[1].split("/")[0]
    return user, token


def accept(client, token, password=NEW_PASSWORD, confirm=None):
    return client.post(f"/invitation/{token}/", {"new_password1": password, "new_password2": confirm or password})


def test_the_link_sets_a_password_then_asks_for_two_factor_set_up(client, invite):
    user, token = invite
    page = client.get(f"/invitation/{token}/").content.decode()
    assert "Create your password" in page and user.email in page
    response = accept(client, token)
    assert response["Location"] == "/sign-in/set-up-two-factor/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # Signed in with the password only: the register stays closed until two-factor is set up.
    assert client.get("/")["Location"].startswith("/sign-in/set-up-two-factor/")
    assert AuditEvent.objects.filter(action="invitation_accepted", actor=user).exists()


def test_the_link_works_only_once(client, invite):
    _, token = invite
    accept(client, token)
    other = client.__class__()
    assert other.get(f"/invitation/{token}/").status_code == 410
    response = accept(other, token, password="another-long-passphrase")
    assert response.status_code == 410
    assert "expired or has already been used" in response.content.decode()


def test_the_link_expires_after_72_hours(client, invite):
    user, token = invite
    with time_machine.travel(TEST_TODAY + datetime.timedelta(hours=71, minutes=59), tick=False):
        assert client.get(f"/invitation/{token}/").status_code == 200
    with time_machine.travel(TEST_TODAY + datetime.timedelta(hours=72, seconds=1), tick=False):
        assert client.get(f"/invitation/{token}/").status_code == 410
        assert accept(client, token).status_code == 410
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_an_unknown_link_is_not_found(client, invite):
    assert client.get("/invitation/not-a-real-token/").status_code == 404


def test_weak_and_mismatched_passwords_are_refused_next_to_the_field(client, invite):
    user, token = invite
    page = accept(client, token, password="password123").content.decode()
    assert "This password is too short" in page and 'href="#id_new_password1"' in page
    page = accept(client, token, password="password1234").content.decode()
    assert "This password is too common" in page
    page = accept(client, token, confirm="something-else-entirely").content.decode()
    assert "The passwords do not match" in page
    assert Invitation.objects.get(user=user).accepted_at is None


def test_deactivating_the_user_withdraws_the_link(client, invite, westminster):
    user, token = invite
    admin = UserFactory(organisation__local_authority=westminster, roles=[Role.LA_USER_ADMIN])
    client.force_login(admin)
    client.post(f"/users/{user.pk}/deactivate/")
    assert client.__class__().get(f"/invitation/{token}/").status_code == 410
    assert Invitation.objects.get(user=user).withdrawn_at <= timezone.now()


def test_a_link_for_a_forgotten_password_ends_the_old_sessions(client, westminster, django_capture_on_commit_callbacks):
    from django.core import mail

    admin = UserFactory(organisation__local_authority=westminster, roles=[Role.LA_USER_ADMIN])
    forgetful = UserFactory(organisation__local_authority=westminster)
    old_session = client.__class__()
    old_session.force_login(forgetful)
    client.force_login(admin)
    assert "Send a link to set a new password" in client.get(f"/users/{forgetful.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/users/{forgetful.pk}/reinvite/")
    token = mail.outbox[-1].body.split("/invitation/")[1].split("/")[0]
    assert accept(client.__class__(), token)["Location"] == "/sign-in/set-up-two-factor/"
    forgetful.refresh_from_db()
    assert forgetful.check_password(NEW_PASSWORD)
    assert old_session.get("/").status_code == 302
