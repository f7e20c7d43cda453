"""Issue 14 item 12: at 320 px wide (WCAG 2.2 1.4.10 Reflow) the tables of the manager's and
the auditor's pages stack instead of making the page scroll sideways, and each value is
labelled with its column. (Results and the record page are checked in their own tests.)"""

import pytest
from playwright.sync_api import Page, expect

from tests.audit.factories_audit import national_auditor, practitioner_of, search_recorded, view_recorded
from tests.browser.accessibility import assert_accessible, assert_reflows_at_320px
from tests.browser.session import sign_in_as
from tests.factories import InvolvementFactory, LocalAuthorityFactory, OtherNameFactory
from tests.registry.factories_maintenance import child_on_plan, register_manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manage_and_audit_tables_reflow_at_320_px(live_server, page: Page):
    westminster = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    child = child_on_plan(westminster, given_names="Oluwaseun-Babatunde", family_name="Featherstonehaugh-Adeyemi")
    OtherNameFactory(child=child, given_names="Seun", family_name="Featherstonehaugh")
    InvolvementFactory(child=child, practitioner__full_name="Priyanka Ramaswamy-Whitfield", is_lead=True)
    worker = practitioner_of(westminster, full_name="Nina Nightshift")
    search_recorded(worker, criteria={"family_name": "Featherstonehaugh-Adeyemi", "date_of_birth": "2019-04-12"},
                    register_ids=[child.register_id], reason="ongoing_work")  # fmt: skip
    view_recorded(worker, child, reason="ongoing_work")

    page.set_viewport_size({"width": 320, "height": 900})
    sign_in_as(page, live_server.url, register_manager(westminster))
    for path in ("/manage/children/", f"/manage/children/{child.register_id}/"):
        page.goto(live_server.url + path)
        assert_reflows_at_320px(page)
        assert_accessible(page)
    # Each stacked value says what it is.
    started = page.locator("#statuses td").nth(2)
    assert started.evaluate("cell => getComputedStyle(cell, '::before').content") == '"Started"'
    expect(page.locator("#statuses thead")).to_be_attached()

    page.context.clear_cookies()
    sign_in_as(page, live_server.url, national_auditor())
    page.goto(f"{live_server.url}/audit/")
    expect(page.locator("#events")).to_contain_text("Nina Nightshift")
    assert_reflows_at_320px(page)
    assert_accessible(page)
