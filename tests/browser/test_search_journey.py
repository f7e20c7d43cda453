"""The whole search journey in Chromium: search, read the results, open the record,
record involvement. Checks keyboard use and that nothing personal goes into a URL."""

import datetime
import re

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import Role
from audit.models import AuditEvent
from registry.models import Involvement
from tests.browser.accessibility import assert_accessible
from tests.factories import ChildFactory, InvolvementFactory, ProtectionStatusFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, email: str) -> None:
    from accounts.models import User
    from tests.accounts.two_factor import authenticator_for, current_code

    device = authenticator_for(User.objects.get(email=email))
    page.goto(f"{base}/sign-in/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Security code").fill(current_code(device))
    page.get_by_role("button", name="Continue").click()


def test_a_health_visitor_finds_a_child_by_a_misspelt_name_and_records_involvement(live_server, page: Page):
    visitor = UserFactory(email="hv@example.gov.uk", full_name="Helen Visitor", roles=[Role.PRACTITIONER])
    child = ChildFactory(given_names="Siobhán", family_name="O'Neill", date_of_birth=datetime.date(2019, 4, 12))
    ProtectionStatusFactory(child=child)
    InvolvementFactory(child=child, practitioner__full_name="Sam Social", is_lead=True)

    sign_in(page, live_server.url, "hv@example.gov.uk")
    page.get_by_role("link", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name="Search for a child")).to_be_visible()
    assert_accessible(page)

    # Too little: a family name alone is refused with a message in the error summary.
    page.get_by_label("Family name").fill("Oneil")
    page.get_by_label("New concern or referral").check()
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("date of birth")
    assert_accessible(page)

    page.get_by_label("Family name").fill("Oneil")
    page.get_by_label("Given name (optional)").fill("Siobhan")
    page.get_by_label("Day").fill("12")
    page.get_by_label("Month").fill("4")
    page.get_by_label("Year").fill("2019")
    page.get_by_label("New concern or referral").check()
    page.get_by_role("button", name="Search").press("Enter")

    results = page.locator("#results")
    expect(results).to_contain_text("Siobhán O'Neill")
    assert "Oneil" not in page.url and "2019" not in page.url
    assert_accessible(page)

    results.get_by_role("link", name="Siobhán O'Neill").click()
    expect(page.get_by_role("heading", name="Siobhán O'Neill")).to_be_visible()
    assert re.search(rf"/children/{child.register_id}/\?lookup=\d+$", page.url)
    expect(page.locator("#involvements")).to_contain_text("Sam Social")
    expect(page.locator("#local-authority")).to_contain_text(child.responsible_local_authority.out_of_hours_phone)
    assert_accessible(page)

    page.get_by_label("Which service are you working with the child for?").select_option("health_visiting")
    page.get_by_role("button", name="I am working with this child").click()
    expect(page.get_by_text("You are recorded as working with this child")).to_be_visible()
    expect(page.locator("#involvements")).to_contain_text("Helen Visitor")
    assert Involvement.objects.filter(child=child, practitioner=visitor, end_date__isnull=True).exists()

    searches = AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH, actor=visitor).order_by("id")
    assert [event.outcome for event in searches] == ["refused", "results"]
    assert searches.last().reason == "new_concern"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CHILD_VIEWED, actor=visitor).count() == 2
