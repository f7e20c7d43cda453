"""A register manager reads their authority's dashboard, its charts as tables and the list
behind a figure; a system administrator reads the national view. Every page passes axe."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import Role
from feeds.dashboard import feed_figures_refresh
from tests.browser.accessibility import assert_accessible, assert_reflows_at_320px
from tests.browser.session import sign_in_as
from tests.factories import LocalAuthorityFactory, UserFactory
from tests.registry.dashboard_data import known_register, lookups, make_stale, refresh
from tests.registry.dashboard_feeds import feed_match

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def register():
    westminster = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    birmingham = LocalAuthorityFactory(gss_code="E08000025", name="Birmingham City Council")
    data = known_register(westminster, birmingham)
    lookups(data)
    make_stale(data.cpp_child.involvements.get())
    refresh()
    return data


def test_a_register_manager_reads_their_dashboard_and_acts_on_a_figure(live_server, page: Page, register):
    sign_in_as(page, live_server.url, register.manager)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.get_by_role("heading", name="Westminster City Council", level=1)).to_be_visible()
    expect(page.locator("#figure-searches-returned")).to_have_text("2")
    expect(page.get_by_role("img", name="Searches that returned your children, by week")).to_be_visible()
    assert "Birmingham" not in page.content()
    assert_accessible(page)

    chart = page.locator("#chart-searches")
    chart.get_by_text("Show the data as a table").click()
    expect(chart.get_by_role("table")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="children with no lead practitioner").click()
    expect(page.get_by_role("heading", name="Children with no current lead practitioner")).to_be_visible()
    expect(page.locator("#children")).to_contain_text(register.looked_after_child.register_id)
    assert_accessible(page)

    page.get_by_role("link", name="Back to the dashboard").click()
    page.get_by_role("link", name="involvements not confirmed for 12 months").click()
    expect(page.locator("#stale")).to_contain_text(register.cpp_child.register_id)
    assert_accessible(page)
    page.get_by_role("button", name="Still working with this child").click()
    expect(page.get_by_text("Recorded: still working with this child.")).to_be_visible()
    expect(page.get_by_text("every current involvement has been confirmed")).to_be_visible()
    assert_accessible(page)


def test_a_register_manager_follows_the_figures_that_had_no_list(live_server, page: Page, register):
    feed_match(register.cpp_child, state="applied")
    feed_figures_refresh()
    sign_in_as(page, live_server.url, register.manager)
    page.goto(f"{live_server.url}/dashboard/")
    page.get_by_role("link", name="children who joined").click()
    expect(page.get_by_role("heading", name="Children who joined the register")).to_be_visible()
    expect(page.locator("#movements")).to_contain_text(register.unborn_child.register_id)
    assert register.birmingham_child.register_id not in page.content()
    assert_accessible(page)

    page.get_by_role("link", name="Back to the dashboard").click()
    page.get_by_role("link", name="registrations applied").click()
    expect(page.get_by_role("heading", name="Birth and death registrations applied to your children")).to_be_visible()
    expect(page.locator("#feed-matches")).to_contain_text(register.cpp_child.register_id)
    assert_accessible(page)

    page.get_by_role("link", name="Back to the dashboard").click()
    page.get_by_role("link", name="children on the register").click()
    expect(page.get_by_role("heading", name="All children on the register")).to_be_visible()
    assert_accessible(page)


def test_a_system_administrator_compares_authorities_with_small_counts_withheld(live_server, page: Page, register):
    admin = UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR], full_name="Sam Sysadmin")
    sign_in_as(page, live_server.url, admin)
    page.goto(f"{live_server.url}/dashboard/")
    page.get_by_role("link", name="Every authority side by side").click()
    expect(page.get_by_role("heading", name="Every local authority side by side")).to_be_visible()
    table = page.locator("#national")
    expect(table).to_contain_text("Westminster City Council")
    expect(table).to_contain_text("fewer than 5")
    expect(page.locator("#england-total")).to_contain_text("England (all authorities)")
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these figures (CSV)").click()
    assert "[c]" in Path(download.value.path()).read_text(encoding="utf-8")
    table.get_by_role("link", name="Birmingham City Council").click()
    expect(page.get_by_role("heading", name="Birmingham City Council", level=1)).to_be_visible()
    assert_accessible(page)


def test_every_dashboard_page_reflows_at_320_px(live_server, page: Page, register):
    """WCAG 2.2 1.4.10: at 320 px wide no dashboard page scrolls sideways; the national table,
    a data table that needs both dimensions, scrolls inside its own focusable region only."""
    feed_match(register.cpp_child, state="applied")
    feed_figures_refresh()
    code = "E09000033"
    sign_in_as(page, live_server.url, register.manager)
    page.set_viewport_size({"width": 320, "height": 900})
    for path in (
        "/dashboard/",
        f"/dashboard/{code}/children/all/",
        f"/dashboard/{code}/children/no-lead/",
        f"/dashboard/{code}/joiners/",
        f"/dashboard/{code}/match-notifications/",
        f"/dashboard/{code}/removals-due/",
        f"/dashboard/{code}/stale-involvements/",
        f"/dashboard/{code}/duplicates/",
        f"/feeds/dashboard/{code}/applied/",
    ):
        page.goto(live_server.url + path)
        expect(page.locator("h1")).to_be_visible()
        assert_reflows_at_320px(page)
        assert_accessible(page)
    # Stacked, each value still says what it is.
    page.goto(f"{live_server.url}/dashboard/{code}/stale-involvements/")
    confirmed = page.locator("#stale td").nth(2)
    assert confirmed.evaluate("cell => getComputedStyle(cell, '::before').content") == '"Last confirmed"'

    page.context.clear_cookies()
    sign_in_as(page, live_server.url, UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR], full_name="Sam Sysadmin"))
    page.set_viewport_size({"width": 320, "height": 900})
    page.goto(f"{live_server.url}/dashboard/national/")
    assert_reflows_at_320px(page)
    assert_accessible(page)
