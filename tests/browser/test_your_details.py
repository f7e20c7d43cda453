"""Issue 12 item 4: a user records their own home postcode on "Your details", reached from
the home page, with the GOV.UK error summary for a postcode that is not one; axe clean."""

import pytest
from playwright.sync_api import Page, expect

from tests.audit.factories_audit import practitioner_of
from tests.browser.accessibility import assert_accessible
from tests.browser.session import sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_user_records_their_home_postcode_from_the_home_page(live_server, page: Page, westminster):
    worker = practitioner_of(westminster)
    sign_in_as(page, live_server.url, worker)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Your details").click()
    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Your home postcode").fill("not a postcode")
    page.get_by_role("button", name="Save your details").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter a full UK postcode, like SW1A 1AA")
    assert_accessible(page)
    summary.get_by_role("link").click()
    expect(page.get_by_label("Your home postcode")).to_be_focused()

    page.get_by_label("Your home postcode").fill("sw1a1aa")
    page.get_by_role("button", name="Save your details").click()
    expect(page.locator(".govuk-notification-banner, .govuk-panel").first).to_contain_text(
        "Your details have been saved"
    )
    expect(page.get_by_label("Your home postcode")).to_have_value("SW1A 1AA")
    assert "SW1A" not in page.url
    worker.refresh_from_db()
    assert worker.home_postcode == "SW1A 1AA"
