"""Issue 14 item 12: at 320 px wide with JavaScript off, the stacked tables of the
manager's, user admin's and auditor's pages still name each value's column
(data-label written by the server, shown by CSS) and the page does not scroll sideways."""

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.roles import Role
from tests.audit.factories_audit import national_auditor, practitioner_of, search_recorded, view_recorded
from tests.browser.accessibility import assert_accessible, assert_reflows_at_320px
from tests.browser.session import sign_in_as
from tests.factories import InvolvementFactory, LocalAuthorityFactory, OtherNameFactory, UserFactory
from tests.registry.factories_maintenance import child_on_plan, register_manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each cell's ::before text and its data-label, for every cell of every stacked table.
LABELS = """() => [...document.querySelectorAll('table.app-table--stacked tbody td:not([colspan])')].map(
  cell => [getComputedStyle(cell, '::before').content, cell.getAttribute('data-label')])"""


def _assert_every_value_is_labelled(page: Page) -> None:
    labels = page.evaluate(LABELS)
    assert labels, "no stacked table cells on the page"
    for shown, label in labels:
        assert label, "a cell without data-label"
        assert shown == f'"{label}"', (shown, label)


def test_stacked_tables_label_their_values_with_javascript_off(live_server, browser: Browser, page: Page):
    westminster = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    child = child_on_plan(westminster, given_names="Oluwaseun-Babatunde", family_name="Featherstonehaugh-Adeyemi")
    OtherNameFactory(child=child, given_names="Seun", family_name="Featherstonehaugh")
    InvolvementFactory(child=child, practitioner__full_name="Priyanka Ramaswamy-Whitfield", is_lead=True)
    worker = practitioner_of(westminster, full_name="Nina Nightshift")
    search_recorded(worker, register_ids=[child.register_id], reason="ongoing_work")
    view_recorded(worker, child, reason="ongoing_work")
    user_admin = UserFactory(organisation__local_authority=westminster, roles=[Role.LA_USER_ADMIN])

    context = browser.new_context(java_script_enabled=False, viewport={"width": 320, "height": 900})
    no_js = context.new_page()
    visits = [
        (register_manager(westminster), f"/manage/children/{child.register_id}/", "#statuses"),
        (user_admin, "/users/", "#users"),
        (national_auditor(), "/audit/", "#events"),
    ]
    for user, path, table in visits:
        context.clear_cookies()
        sign_in_as(no_js, live_server.url, user)
        no_js.goto(live_server.url + path)
        expect(no_js.locator(table)).to_be_visible()
        # Without JavaScript govuk-frontend's marker class is never set on <body>.
        assert "govuk-frontend-supported" not in (no_js.locator("body").get_attribute("class") or "")
        _assert_every_value_is_labelled(no_js)
        assert_reflows_at_320px(no_js)
    context.close()

    # axe itself needs JavaScript (its checks wait on timers, which never fire with it off):
    # the same pages, at the same width, in an ordinary browser.
    for user, path, table in visits:
        page.context.clear_cookies()
        sign_in_as(page, live_server.url, user)
        page.set_viewport_size({"width": 320, "height": 900})
        page.goto(live_server.url + path)
        expect(page.locator(table)).to_be_visible()
        _assert_every_value_is_labelled(page)
        assert_reflows_at_320px(page)
        assert_accessible(page)
