"""Sessions end after 15 idle minutes or 12 hours, whichever is first; the clock is
controlled with time_machine."""

import datetime

import pytest
import time_machine
from django.conf import settings

from accounts.models import UserSession
from audit.models import AuditEvent
from tests.accounts.two_factor import PASSWORD, authenticator_for, sign_in_through_the_pages
from tests.conftest import TEST_TODAY
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def at(**delta):
    return time_machine.travel(TEST_TODAY + datetime.timedelta(**delta), tick=False)


@pytest.fixture
def signed_in(client):
    user = UserFactory()
    with at(seconds=0):
        client.force_login(user)
    return user


def test_fifteen_idle_minutes_sign_the_user_out_with_a_message(client, signed_in):
    with at(minutes=14, seconds=59):
        assert client.get("/").status_code == 200
    # Activity restarts the clock: 29 minutes after signing in, 14 after the last request.
    with at(minutes=29):
        assert client.get("/").status_code == 200
    with at(minutes=44, seconds=1):
        response = client.get("/search/")
        assert response.status_code == 302 and response["Location"] == "/sign-in/?next=/search/"
        page = client.get(response["Location"]).content.decode()
    assert "signed out because you were inactive for 15 minutes" in page
    event = AuditEvent.objects.get(action="session_expired")
    assert event.actor == signed_in and event.details == {"reason": "idle"}


def test_twelve_hours_after_sign_in_the_session_ends_however_active(client, signed_in):
    for minutes in range(10, 12 * 60, 10):
        with at(minutes=minutes):
            assert client.get("/").status_code == 200, minutes
    with at(hours=12, seconds=1):
        assert client.get("/").status_code == 302
    assert AuditEvent.objects.get(action="session_expired").details == {"reason": "absolute"}


def test_the_page_carries_the_timeout_warning_for_its_script(client, signed_in):
    page = client.get("/").content.decode()
    assert 'data-module="app-session-timeout"' in page
    assert f'data-idle-seconds="{settings.ACCOUNTS_SESSION_IDLE_SECONDS}"' in page
    assert "Stay signed in" in page and "/assets/accounts/session-timeout.js" in page


def test_stay_signed_in_counts_as_activity(client, signed_in):
    with at(minutes=14):
        assert client.post("/session/keep-alive/", headers={"Accept": "application/json"}).status_code == 204
    with at(minutes=28):
        assert client.get("/").status_code == 200


def test_an_expired_session_api_call_is_told_to_sign_in_again(client, signed_in):
    with at(minutes=16):
        response = client.post("/api/v1/search/", {}, content_type="application/json")
    assert response.status_code == 401


def test_changing_the_password_ends_every_session_including_this_one(client):
    user = UserFactory()
    device = authenticator_for(user)
    other = client.__class__()
    other.force_login(user)
    sign_in_through_the_pages(client, user, device)
    page = client.post(
        "/account/password/",
        {"old_password": "wrong", "new_password1": "short", "new_password2": "short"},
    ).content.decode()
    assert "Your current password is not correct" in page and "This password is too short" in page
    response = client.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-fresh-long-passphrase",
            "new_password2": "a-fresh-long-passphrase",
        },
    )
    assert response["Location"] == "/sign-in/"
    assert client.get("/").status_code == 302 and other.get("/").status_code == 302
    assert not UserSession.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert user.check_password("a-fresh-long-passphrase")
    assert AuditEvent.objects.get(action="password_changed").details["sessions_ended"] == 2
