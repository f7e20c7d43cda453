import datetime
import os
import shutil
from typing import Any

import pytest
import time_machine

from tests.audit.maintenance import audit_trail_flushable
from tests.factories import LocalAuthorityFactory

# The live server runs in a thread while Playwright's sync API holds an event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="session", autouse=True)
def _audit_trail_flushable():
    """The audit trail refuses DELETE and TRUNCATE; let pytest-django's flush through."""
    with audit_trail_flushable():
        yield


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Drive Debian's Chromium: Playwright's own browser download cannot be used here."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed: apt-get install chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


# Tests are written against this date (statuses, ages and retention are relative to it);
# the clock keeps ticking from there so that timeouts and ordering behave normally.
TEST_TODAY = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _fixed_today(request):
    if request.node.get_closest_marker("integration"):
        # A worker in another process keeps real time; so must the test that talks to it.
        yield
        return
    with time_machine.travel(TEST_TODAY, tick=True):
        yield


@pytest.fixture(autouse=True)
def _force_login_passes_two_factor(monkeypatch):
    """`client.force_login(user)` means a fully signed-in user: password and second factor.
    Give the user a confirmed authenticator (unless they have one) and mark the session
    verified by it, as django-otp's own login does. Tests about two-factor itself sign in
    through the real pages instead."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name="Test authenticator", confirmed=True
        )
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(autouse=True)
def _empty_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def westminster():
    return LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")


@pytest.fixture
def birmingham():
    return LocalAuthorityFactory(gss_code="E08000025", name="Birmingham City Council")
