"""A register manager adds a child in Chromium and meets the duplicate warning: the
possible match is shown, a shielded one of another authority only as "a shielded record
may match", and the manager records that this is a different child. Each page is checked
with axe, and nothing personal goes into a URL."""

import datetime
import re

import pytest
from playwright.sync_api import Page, expect

from audit.models import AuditEvent
from registry.models import Child
from tests.browser.accessibility import assert_accessible
from tests.browser.session import sign_in_as
from tests.factories import LocalAuthorityFactory
from tests.registry.factories_maintenance import child_on_plan, register_manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_adds_a_child_through_the_duplicate_warning(live_server, page: Page):
    westminster = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    birmingham = LocalAuthorityFactory(gss_code="E08000025", name="Birmingham City Council")
    manager = register_manager(westminster, full_name="Maria Manager")
    existing = child_on_plan(
        westminster, given_names="Kofi", family_name="Adjei", date_of_birth=datetime.date(2019, 6, 14), sex="male"
    )
    shielded = child_on_plan(
        birmingham,
        given_names="Kofi",
        family_name="Adjei",
        date_of_birth=datetime.date(2019, 6, 14),
        sex="male",
        is_shielded=True,
        shielding_reason="Refuge",
    )

    sign_in_as(page, live_server.url, manager)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Your authority's children").click()
    expect(page.get_by_role("heading", name="Your authority's children")).to_be_visible()
    expect(page.locator("#children")).to_contain_text(existing.register_id)
    assert_accessible(page)

    page.get_by_role("button", name="Add a child").click()
    expect(page.get_by_role("heading", name="Add a child")).to_be_visible()
    assert_accessible(page)

    # A missing status is reported in the error summary and next to the question.
    page.get_by_label("Family name", exact=True).fill("Adjei")
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select the child's status")
    expect(summary).to_contain_text("Enter the start date")
    assert_accessible(page)
    summary.get_by_role("link", name="Select the child's status").click()
    expect(page.locator("#id_kind")).to_be_focused()

    page.get_by_label("Given names", exact=True).fill("Kofi")
    birth = page.get_by_role("group", name="Date of birth")
    birth.get_by_label("Day").fill("14")
    birth.get_by_label("Month").fill("6")
    birth.get_by_label("Year").fill("2019")
    page.get_by_label("Male", exact=True).check()
    page.get_by_label("Looked after").check()
    # The legal basis is revealed under "Looked after".
    page.get_by_label("Care order (Children Act 1989 s31)").check()
    start = page.get_by_role("group", name="Start date")
    start.get_by_label("Day").fill("1")
    start.get_by_label("Month").fill("9")
    start.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Continue").press("Enter")

    expect(page.get_by_role("heading", name="This child may already be on the register")).to_be_visible()
    matches = page.locator("#possible-matches")
    expect(matches).to_contain_text(existing.register_id)
    expect(matches).to_contain_text("A record held by another authority may match")
    expect(matches).to_contain_text("Birmingham City Council")
    expect(matches).not_to_contain_text(shielded.register_id)
    assert "Adjei" not in page.url and "2019" not in page.url
    assert_accessible(page)

    # Continuing without a decision is not allowed.
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select whether this is a child already on the register"
    )
    assert_accessible(page)

    page.get_by_label("No, this is a different child").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check the child's details before adding them")).to_be_visible()
    page.get_by_role("button", name="Add the child to the register").click()

    expect(page.get_by_text("Child added to the register with register ID")).to_be_visible()
    added = Child.objects.exclude(pk__in=[existing.pk, shielded.pk]).get()
    assert re.search(rf"/manage/children/{added.register_id}/$", page.url)
    expect(page.get_by_role("heading", name="Kofi Adjei")).to_be_visible()
    expect(page.locator("#statuses")).to_contain_text("Care order")
    assert_accessible(page)

    created = AuditEvent.objects.get(action=AuditEvent.Action.CHILD_CREATED)
    assert created.actor == manager and created.register_ids == [added.register_id]
    assert created.details["duplicate_check"]["decision"] == "different_child"
    assert set(created.details["duplicate_check"]["register_ids_shown"]) == {existing.register_id, shielded.register_id}


def test_every_maintenance_form_is_accessible_with_and_without_errors(live_server, page: Page):
    westminster = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    LocalAuthorityFactory(gss_code="E08000025", name="Birmingham City Council")
    manager = register_manager(westminster)
    child = child_on_plan(westminster, given_names="Amara", family_name="Bello")
    status = child.statuses.get()
    sign_in_as(page, live_server.url, manager)
    base = f"{live_server.url}/manage/children/{child.register_id}/"
    page.goto(base)
    expect(page.get_by_role("heading", name="Amara Bello")).to_be_visible()
    assert_accessible(page)
    forms = {
        "identity/": "Save",
        "shielding/": "Shield this record",
        "other-names/add/": "Add name",
        "statuses/add/": "Add status",
        f"statuses/{status.pk}/end/": "End status",
        "involvements/add/": "Add",
        "transfer/": "Transfer responsibility",
    }
    for path, button in forms.items():
        page.goto(base + path)
        assert_accessible(page)
        if path == "identity/":
            page.get_by_label("Family name", exact=True).fill("")
        page.get_by_role("button", name=button, exact=True).click()
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        assert_accessible(page)
