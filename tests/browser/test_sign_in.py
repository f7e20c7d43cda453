"""Signing in through the real page in Chromium, as a person would."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import Role
from audit.models import AuditEvent
from tests.accounts.two_factor import authenticator_for, current_code
from tests.browser.accessibility import assert_accessible
from tests.browser.session import sign_in_as
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_practitioner_signs_in_with_the_keyboard_and_reaches_their_home_page(live_server, page: Page):
    user = UserFactory(email="health.visitor@example.gov.uk", full_name="Amara Okafor", roles=[Role.PRACTITIONER])
    device = authenticator_for(user)
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page)

    # The skip link is the first thing the keyboard reaches.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()

    page.get_by_label("Email address").fill("health.visitor@example.gov.uk")
    page.get_by_label("Password").fill("correct-horse-battery-staple")
    page.get_by_label("Password").press("Enter")

    # The second factor: the code the user's authenticator app shows now.
    expect(page.get_by_role("heading", name="Enter your security code")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Security code").fill(current_code(device))
    page.get_by_label("Security code").press("Enter")

    expect(page.get_by_role("heading", name="Amara Okafor")).to_be_visible()
    expect(page.get_by_text("Your training is recorded")).to_be_visible()
    assert_accessible(page)
    # govuk-frontend's JavaScript ran under the Content-Security-Policy.
    expect(page.locator("body")).to_have_class(re.compile("govuk-frontend-supported"))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_SUCCEEDED, actor=user).exists()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_wrong_password_shows_the_error_summary_with_a_link_to_the_field(live_server, page: Page):
    UserFactory(email="sw@example.gov.uk")
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email address").fill("sw@example.gov.uk")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter a correct email address and password")
    # govuk-frontend moves focus to the summary so screen-reader users hear it first.
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile("^Error:"))
    assert_accessible(page)


def test_the_idle_warning_offers_to_stay_signed_in(live_server, page: Page, settings):
    # A short idle period so that the warning comes within the test; the page reads it.
    settings.ACCOUNTS_SESSION_IDLE_SECONDS = 60
    settings.ACCOUNTS_SESSION_WARNING_SECONDS = 58
    user = UserFactory(full_name="Amara Okafor")
    sign_in_as(page, live_server.url, user)
    page.goto(f"{live_server.url}/")
    dialog = page.get_by_role("dialog", name="You are about to be signed out")
    expect(dialog).to_be_visible(timeout=10_000)
    expect(dialog.get_by_role("button", name="Stay signed in")).to_be_focused()
    assert_accessible(page)
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="Amara Okafor")).to_be_visible()
