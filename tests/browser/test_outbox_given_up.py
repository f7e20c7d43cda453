"""A system administrator finds the emails the outbox gave up on from the home page and sends
one again; the page is checked with axe and at 320 px wide."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import OutboundEmail
from accounts.roles import Role
from audit.models import AuditEvent
from tests.browser.accessibility import assert_accessible, assert_reflows_at_320px
from tests.browser.session import sign_in_as
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_system_administrator_sends_a_given_up_email_again(live_server, page: Page):
    admin = UserFactory(is_staff=True, organisation=None, local_authority=None, roles=[Role.SYSTEM_ADMINISTRATOR])
    now = timezone.now()
    email = OutboundEmail.objects.create(
        to="health.visitor@westminster.nhs.uk",
        subject="Child protection signposting register: a death has been registered",
        body="Child R-ABC123",
        next_attempt_at=now,
        attempts=12,
        last_error="SMTPServerDisconnected",
        given_up_at=now - datetime.timedelta(minutes=5),
    )
    sign_in_as(page, live_server.url, admin)
    page.goto(live_server.url)
    expect(page.get_by_text("1 email could not be sent after every attempt.")).to_be_visible()
    page.get_by_role("link", name="Emails not sent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Emails not sent")
    row = page.locator("#given-up-emails tbody tr", has_text="health.visitor@westminster.nhs.uk")
    expect(row).to_contain_text("SMTPServerDisconnected")
    expect(row).to_contain_text("12")
    assert_accessible(page)
    assert_reflows_at_320px(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    row.get_by_role("button", name="Send again").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is back in the queue")
    expect(page.locator("#no-given-up-emails")).to_be_visible()
    assert_accessible(page)
    email.refresh_from_db()
    assert email.given_up_at is None
    assert AuditEvent.objects.filter(action="outbound_email_requeued", actor=admin).count() == 1
