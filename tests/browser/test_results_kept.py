"""Issue 14 item 1: a search's results are a page of their own. After opening a record the
practitioner gets back to them with "Back to results" or the browser's Back (no "Confirm
Form Resubmission"), and "Change search" keeps what they typed and their reason."""

import datetime
import re

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import Role
from audit.models import AuditEvent
from tests.browser.accessibility import assert_accessible, assert_reflows_at_320px
from tests.browser.session import sign_in_as
from tests.factories import ChildFactory, ProtectionStatusFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_back_to_results_and_change_search_keep_the_lookup(live_server, page: Page):
    practitioner = UserFactory(roles=[Role.PRACTITIONER])
    for given in ("Amelia", "Amelie"):
        child = ChildFactory(given_names=given, family_name="Okafor", date_of_birth=datetime.date(2018, 3, 9))
        ProtectionStatusFactory(child=child)
    sign_in_as(page, live_server.url, practitioner)

    page.goto(f"{live_server.url}/search/")
    page.get_by_label("Family name").fill("Okafor")
    page.get_by_label("Day").fill("9")
    page.get_by_label("Month").fill("3")
    page.get_by_label("Year").fill("2018")
    page.get_by_label("Other").check()
    page.get_by_label("Give the reason").fill("Strategy discussion")
    page.get_by_role("button", name="Search").click()

    results = page.locator("#results")
    expect(results).to_contain_text("Amelia Okafor")
    assert page.url == f"{live_server.url}/search/results/"
    assert_accessible(page)

    results.get_by_role("link", name="Amelia Okafor").click()
    expect(page.get_by_role("heading", name="Amelia Okafor")).to_be_visible()
    page.get_by_role("link", name="Back to results").click()
    expect(page.get_by_role("heading", name="Search results")).to_be_visible()
    expect(page.locator("#results")).to_contain_text("Amelie Okafor")

    # The browser's Back from a record gives the results page again, not a resubmission.
    page.locator("#results").get_by_role("link", name="Amelie Okafor").click()
    expect(page.get_by_role("heading", name="Amelie Okafor")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="Search results")).to_be_visible()
    expect(page.locator("#results")).to_contain_text("Amelia Okafor")
    # Still one search: going back did not search again.
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH, actor=practitioner).count() == 1

    page.get_by_role("link", name="Change search").click()
    expect(page.get_by_label("Family name")).to_have_value("Okafor")
    expect(page.get_by_label("Year")).to_have_value("2018")
    expect(page.get_by_label("Other")).to_be_checked()
    expect(page.get_by_label("Give the reason")).to_have_value("Strategy discussion")
    assert not re.search("Okafor|2018|Strategy", page.url)
    assert_accessible(page)
    page.get_by_label("Given name (optional)").fill("Amelia")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results")).to_contain_text("Amelia Okafor")
    assert_reflows_at_320px(page)
