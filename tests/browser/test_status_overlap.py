"""Issue 14 item 6 in Chromium: a manager who answers "Yes" (same child) on the duplicate
warning, for a child already on a current child protection plan, is told in the error
summary that the child already has one, and no second current plan is added. Each page
checked with axe and at 320 px wide."""

import datetime

import pytest
from playwright.sync_api import Page, expect

from registry.models import Child, ProtectionStatus
from tests.browser.accessibility import assert_accessible, assert_reflows_at_320px
from tests.browser.session import sign_in_as
from tests.factories import LocalAuthorityFactory
from tests.registry.factories_maintenance import child_on_plan, register_manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_same_child_on_the_duplicate_warning_adds_no_second_current_plan(live_server, page: Page):
    westminster = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    existing = child_on_plan(
        westminster, given_names="Kofi", family_name="Adjei", date_of_birth=datetime.date(2019, 6, 14), sex="male"
    )
    assert existing.statuses.get().kind == "cpp" and existing.statuses.get().end_date is None

    sign_in_as(page, live_server.url, register_manager(westminster))
    page.goto(f"{live_server.url}/manage/children/add/")
    page.get_by_label("Given names", exact=True).fill("Kofi")
    page.get_by_label("Family name", exact=True).fill("Adjei")
    birth = page.get_by_role("group", name="Date of birth")
    birth.get_by_label("Day").fill("14")
    birth.get_by_label("Month").fill("6")
    birth.get_by_label("Year").fill("2019")
    page.get_by_label("Male", exact=True).check()
    page.get_by_label("Child protection plan", exact=True).check()
    start = page.get_by_role("group", name="Start date")
    start.get_by_label("Day").fill("1")
    start.get_by_label("Month").fill("9")
    start.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="This child may already be on the register")).to_be_visible()
    page.get_by_label(f"Yes: Kofi Adjei, {existing.register_id}").check()
    page.get_by_role("button", name="Continue").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("This child already has a current child protection plan from 1 March 2026")
    assert_accessible(page)
    assert_reflows_at_320px(page)
    assert Child.objects.count() == 1
    assert ProtectionStatus.objects.filter(child=existing, end_date__isnull=True).count() == 1
