"""Issue 14 item 9: a user admin cannot invite a personal webmail address (the message next to
the field names the addresses allowed), records training at invitation with the GOV.UK date
input, and resends an invitation from the pending invitations list, which stops the old link
working. Each page checked with axe and at 320 px wide."""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Invitation, User
from accounts.roles import Role
from audit.models import AuditEvent
from tests.browser.accessibility import assert_accessible, assert_reflows_at_320px
from tests.browser.session import sign_in_as
from tests.factories import LocalAuthorityFactory, OrganisationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _links() -> list[str]:
    return [re.search(r"(/invitation/[\w-]+/)", message.body).group(1) for message in mail.outbox]


def test_a_user_admin_invites_a_work_address_with_training_and_resends_the_invitation(live_server, page: Page):
    westminster = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    OrganisationFactory(local_authority=westminster, name="Westminster Children's Services")
    admin = UserFactory(organisation__local_authority=westminster, roles=[Role.LA_USER_ADMIN])
    trained_on = timezone.localdate() - datetime.timedelta(days=20)

    sign_in_as(page, live_server.url, admin)
    page.goto(f"{live_server.url}/users/invite/")
    page.get_by_label("Full name").fill("Nadia Newcomer")
    page.get_by_label("Work email address").fill("nadia.newcomer@gmail.com")
    page.get_by_label("Organisation").select_option(label="Westminster Children's Services")
    page.get_by_label("Practitioner").check()
    training = page.get_by_role("group", name="When did they complete their safeguarding training? (optional)")
    training.get_by_label("Day").fill(str(trained_on.day))
    training.get_by_label("Month").fill(str(trained_on.month))
    training.get_by_label("Year").fill(str(trained_on.year))
    page.get_by_role("button", name="Send invitation").click()

    message = "Enter a work email address ending in nhs.net, nhs.uk, gov.uk, police.uk, sch.uk or cjsm.net"
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text(message)
    expect(page.locator("#id_email-error")).to_contain_text(message)
    assert not User.objects.filter(email="nadia.newcomer@gmail.com").exists()
    assert_accessible(page)
    assert_reflows_at_320px(page)
    summary.get_by_role("link", name=re.compile("Enter a work email address")).click()
    expect(page.get_by_label("Work email address")).to_be_focused()
    page.set_viewport_size({"width": 1280, "height": 900})

    # The values typed are kept; only the address changes.
    page.get_by_label("Work email address").fill("nadia.newcomer@westminster.gov.uk")
    expect(training.get_by_label("Day")).to_have_value(str(trained_on.day))
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator("#account")).to_contain_text(f"Completed {trained_on:%-d %B %Y}")
    nadia = User.objects.get(email="nadia.newcomer@westminster.gov.uk")
    assert nadia.training_completed_on == trained_on
    assert AuditEvent.objects.filter(action="training_recorded", subject_user_id=nadia.pk, actor=admin).exists()

    page.goto(f"{live_server.url}/users/")
    page.get_by_role("link", name="Pending invitations").click()
    row = page.locator("#invitations tbody tr", has_text="Nadia Newcomer")
    first = Invitation.objects.get(user=nadia)
    expect(row).to_contain_text(timezone.localtime(first.expires_at).strftime("%-d %B %Y"))
    assert_accessible(page)
    assert_reflows_at_320px(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    old_link = _links()[0]
    row.get_by_role("button", name="Resend invitation to Nadia Newcomer").click()
    expect(page.locator("main")).to_contain_text("A new link has been sent to nadia.newcomer@westminster.gov.uk")
    assert_accessible(page)
    assert len(_links()) == 2
    event = AuditEvent.objects.filter(action="user_invited", subject_user_id=nadia.pk).latest("id")
    assert event.actor == admin and event.details == {"replaces_invitation": first.pk}

    page.goto(live_server.url + old_link)
    expect(page.locator("main")).to_contain_text("expired")
    page.goto(live_server.url + _links()[1])
    expect(page.get_by_label("Create a password")).to_be_visible()
