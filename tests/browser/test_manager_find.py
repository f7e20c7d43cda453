"""A register manager finds one of their own children by name and date of birth in
Chromium: the name typed slightly wrong, another authority's child with the same name and
date of birth never shown, errors in a GOV.UK error summary, each page checked with axe,
and nothing typed in the URL."""

import datetime

import pytest
from playwright.sync_api import Page, expect

from audit.models import AuditEvent
from tests.browser.accessibility import assert_accessible
from tests.browser.session import sign_in_as
from tests.factories import LocalAuthorityFactory
from tests.registry.factories_maintenance import child_on_plan, register_manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BORN = datetime.date(2017, 8, 14)


def test_a_manager_finds_their_own_child_by_name_and_date_of_birth(live_server, page: Page):
    westminster = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    birmingham = LocalAuthorityFactory(gss_code="E08000025", name="Birmingham City Council")
    manager = register_manager(westminster, full_name="Maria Manager")
    own = child_on_plan(westminster, given_names="Amara", family_name="Bello", date_of_birth=BORN)
    elsewhere = child_on_plan(birmingham, given_names="Amara", family_name="Bello", date_of_birth=BORN)
    for number in range(30):  # enough that the list alone would not show her on its first page
        child_on_plan(westminster, family_name=f"Quill{number}", date_of_birth=datetime.date(2015, 1, 2))

    sign_in_as(page, live_server.url, manager)
    page.goto(f"{live_server.url}/manage/children/")
    expect(page.get_by_role("heading", name="Find one of your children")).to_be_visible()
    expect(page.get_by_text("search as a practitioner")).to_have_count(0)
    assert_accessible(page)

    # A family name without a date of birth is explained in the error summary.
    page.get_by_label("Family name", exact=True).fill("Belo")
    page.get_by_role("button", name="Find").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter a date of birth as well as a family name")
    assert_accessible(page)
    summary.get_by_role("link", name="Enter a date of birth as well as a family name, or find by NHS number").click()
    expect(page.locator("#id_date_of_birth")).to_be_focused()

    # The surname misspelt, as a busy manager might type it.
    page.get_by_label("Given name (optional)").fill("Amara")
    page.get_by_label("Day").fill("14")
    page.get_by_label("Month").fill("8")
    page.get_by_label("Year").fill("2017")
    page.get_by_role("button", name="Find").click()
    results = page.locator("#children")
    expect(results).to_contain_text("1 child found")
    expect(results).to_contain_text(own.register_id)
    expect(results).to_contain_text("Surname spelt differently")
    expect(page.locator("main")).not_to_contain_text(elsewhere.register_id)
    assert "Belo" not in page.url and "2017" not in page.url
    assert_accessible(page)

    event = AuditEvent.objects.get(details__purpose="manager_find")
    assert event.criteria["family_name"] == "Belo" and event.register_ids == [own.register_id]

    results.get_by_role("link", name=own.register_id).click()
    expect(page.locator("h1")).to_contain_text("Amara Bello")
