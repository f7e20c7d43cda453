"""A new user's whole way in, in Chromium: the user admin invites them, they follow the
emailed link, choose a password, set up an authenticator, and later sign in with a code.
The code is computed from the device's key, as the phone app would."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from accounts.models import User
from accounts.roles import Role
from audit.models import AuditEvent
from tests.accounts.two_factor import current_code
from tests.browser.accessibility import assert_accessible
from tests.browser.session import sign_in_as
from tests.factories import OrganisationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-and-unusual-passphrase"


def test_invite_then_set_up_two_factor_then_sign_in_with_a_code(live_server, page: Page, westminster):
    OrganisationFactory(local_authority=westminster, name="Westminster Early Help")
    admin = UserFactory(full_name="Ursula Admin", organisation__local_authority=westminster, roles=[Role.LA_USER_ADMIN])

    # The user admin invites a new practitioner.
    sign_in_as(page, live_server.url, admin)
    page.goto(f"{live_server.url}/users/")
    page.get_by_role("button", name="Invite a user").click()
    expect(page.get_by_role("heading", name="Invite a user")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Full name").fill("Nadia Newcomer")
    page.get_by_label("Work email address").fill("nadia.newcomer@westminster.gov.uk")
    page.get_by_label("Organisation").select_option(label="Westminster Early Help")
    page.get_by_label("Practitioner").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("heading", name="Nadia Newcomer")).to_be_visible()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Invitation sent")
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()

    # The emailed link: choose a password.
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/invitation/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Create your password")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_label("Confirm your password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()

    # Set up the authenticator: a QR code, and the key for typing in.
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    assert_accessible(page)
    user = User.objects.get(email="nadia.newcomer@westminster.gov.uk")
    device = TOTPDevice.objects.get(user=user)
    page.get_by_text("I cannot scan the QR code").click()
    shown_key = page.locator("#setup-key").inner_text().replace(" ", "")
    assert shown_key and device.config_url.find(f"secret={shown_key}") > 0
    page.get_by_label("Security code from your app").fill(current_code(device))
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Two-factor authentication is set up")).to_be_visible()
    expect(page.locator("#backup-codes li")).to_have_count(10)
    assert_accessible(page)
    page.get_by_role("button", name="I have kept my backup codes, continue").click()
    expect(page.get_by_role("heading", name="Nadia Newcomer")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # Later: sign in with the password and the code the app shows then.
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5), tick=True):
        page.goto(f"{live_server.url}/")
        page.get_by_label("Email address").fill("nadia.newcomer@westminster.gov.uk")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Enter your security code")).to_be_visible()
        page.get_by_label("Security code").fill("000000" if current_code(device) != "000000" else "111111")
        page.get_by_role("button", name="Continue").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("The security code is not correct")
        assert_accessible(page)
        # django-otp makes the next try wait a second after a wrong code (doubling each time).
        page.wait_for_timeout(1500)
        page.get_by_label("Security code").fill(current_code(device))
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name="Nadia Newcomer")).to_be_visible()
        expect(page.get_by_text("You cannot search until your training is recorded")).to_be_visible()

    actions = set(AuditEvent.objects.filter(subject_user_id=user.pk).values_list("action", flat=True))
    assert {"user_invited", "invitation_accepted", "two_factor_enrolled", "two_factor_verified"} <= actions


def test_a_user_admin_records_training_and_deactivates_with_the_keyboard(live_server, page: Page, westminster):
    admin = UserFactory(organisation__local_authority=westminster, roles=[Role.LA_USER_ADMIN])
    staff = UserFactory(full_name="Sam Social", organisation__local_authority=westminster, training_completed_on=None)
    sign_in_as(page, live_server.url, admin)
    page.goto(f"{live_server.url}/")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Sam Social").click()
    page.get_by_role("link", name="Record training").click()
    expect(page.get_by_role("group", name=re.compile("complete their training"))).to_be_visible()
    page.get_by_label("Day").fill("31")
    page.get_by_label("Month").fill("2")
    page.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Save").press("Enter")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("must be a real date")
    expect(summary).to_be_focused()
    assert_accessible(page)
    page.get_by_label("Day").fill("28")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#account")).to_contain_text("Completed 28 February 2026")

    page.get_by_role("link", name="Deactivate account").click()
    expect(page.get_by_role("heading", name="Deactivate this account")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Deactivate account").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("signed out everywhere")
    expect(page.locator("#account")).to_contain_text("Deactivated")
    assert_accessible(page)
    staff.refresh_from_db()
    assert not staff.is_active
