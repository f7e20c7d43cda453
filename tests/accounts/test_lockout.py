"""Ten wrong passwords lock an account until a user admin unlocks it (django-axes)."""

import pytest

from accounts.roles import Role
from audit.models import AuditEvent
from tests.accounts.two_factor import PASSWORD, authenticator_for, sign_in_through_the_pages
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def wrong_password(client, email):
    return client.post("/sign-in/", {"username": email, "password": "not-the-password"})


def test_ten_failures_lock_the_account_even_against_the_right_password(client, westminster):
    user = UserFactory(email="sw@example.gov.uk", organisation__local_authority=westminster)
    authenticator_for(user)
    for attempt in range(9):
        assert wrong_password(client, "sw@example.gov.uk").status_code == 200, attempt
    # The tenth failure locks; the address's case does not open a second count.
    response = wrong_password(client, "SW@Example.gov.uk")
    assert response.status_code == 429
    assert "Your account is locked" in response.content.decode()
    response = client.post("/sign-in/", {"username": "sw@example.gov.uk", "password": PASSWORD})
    assert response.status_code == 429
    assert client.get("/").status_code == 302


def test_nine_failures_then_success_resets_the_count(client):
    user = UserFactory()
    device = authenticator_for(user)
    for _ in range(9):
        wrong_password(client, user.email)
    assert sign_in_through_the_pages(client, user, device)["Location"] == "/"
    client.post("/sign-out/")
    for _ in range(9):
        assert wrong_password(client, user.email).status_code == 200


def test_another_account_is_not_locked_by_someone_elses_failures(client):
    locked, other = UserFactory(), UserFactory()
    for _ in range(10):
        wrong_password(client, locked.email)
    assert client.post("/sign-in/", {"username": other.email, "password": PASSWORD}).status_code == 302


def test_the_user_admin_sees_the_lock_and_unlocks_it(client, westminster):
    user = UserFactory(organisation__local_authority=westminster)
    device = authenticator_for(user)
    anonymous = client.__class__()
    for _ in range(10):
        wrong_password(anonymous, user.email)
    admin = UserFactory(organisation__local_authority=westminster, roles=[Role.LA_USER_ADMIN])
    client.force_login(admin)
    assert "Locked out" in client.get(f"/users/{user.pk}/").content.decode()
    assert "Unlock account" in client.get(f"/users/{user.pk}/unlock/").content.decode()
    client.post(f"/users/{user.pk}/unlock/")
    assert "Locked out" not in client.get(f"/users/{user.pk}/").content.decode()
    assert sign_in_through_the_pages(anonymous, user, device)["Location"] == "/"
    assert AuditEvent.objects.filter(action="user_unlocked", actor=admin, subject_user_id=user.pk).exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED, subject_user_id=user.pk).count() == 10


ATTACKER = "203.0.113.9"
OFFICE = "198.51.100.7"


def test_failures_from_another_address_cannot_lock_someone_out(client):
    user = UserFactory()
    authenticator_for(user)
    for _ in range(10):
        client.post("/sign-in/", {"username": user.email, "password": "guess"}, REMOTE_ADDR=ATTACKER)
    # The attacker's own address is locked for this account...
    refused = client.post("/sign-in/", {"username": user.email, "password": PASSWORD}, REMOTE_ADDR=ATTACKER)
    assert refused.status_code == 429
    # ...the user, signing in from their office, is not.
    ok = client.__class__().post("/sign-in/", {"username": user.email, "password": PASSWORD}, REMOTE_ADDR=OFFICE)
    assert ok.status_code == 302


def test_a_lock_ends_by_itself_after_the_cool_off(client, settings):
    import datetime

    import time_machine

    user = UserFactory()
    authenticator_for(user)
    for _ in range(10):
        wrong_password(client, user.email)
    assert client.post("/sign-in/", {"username": user.email, "password": PASSWORD}).status_code == 429
    later = datetime.datetime.now(tz=datetime.UTC) + settings.AXES_COOLOFF_TIME + datetime.timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        assert client.post("/sign-in/", {"username": user.email, "password": PASSWORD}).status_code == 302


def test_one_address_failing_against_many_accounts_is_refused_for_the_cool_off(client, settings):
    settings.ACCOUNTS_SIGN_IN_ADDRESS_FAILURE_LIMIT = 5
    user = UserFactory()
    authenticator_for(user)
    for n in range(5):
        client.post("/sign-in/", {"username": f"person{n}@example.gov.uk", "password": "x"}, REMOTE_ADDR=ATTACKER)
    refused = client.post("/sign-in/", {"username": user.email, "password": PASSWORD}, REMOTE_ADDR=ATTACKER)
    assert refused.status_code == 429
    assert "Too many attempts to sign in" in refused.content.decode()
    ok = client.__class__().post("/sign-in/", {"username": user.email, "password": PASSWORD}, REMOTE_ADDR=OFFICE)
    assert ok.status_code == 302
