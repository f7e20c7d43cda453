"""Issue 14 item 8: adding a child has a check-your-answers step before anything is saved,
and a transfer (which the manager cannot undo) asks for confirmation."""

import pytest
from playwright.sync_api import Page, expect

from registry.models import Child, ChildTransfer
from tests.browser.accessibility import assert_accessible, assert_reflows_at_320px
from tests.browser.session import sign_in_as
from tests.factories import LocalAuthorityFactory
from tests.registry.factories_maintenance import child_on_plan, register_manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_check_your_answers_before_a_child_is_added(live_server, page: Page):
    westminster = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    sign_in_as(page, live_server.url, register_manager(westminster))
    page.goto(f"{live_server.url}/manage/children/add/")
    page.get_by_label("Given names", exact=True).fill("Zainab")
    page.get_by_label("Family name", exact=True).fill("Quraishi")
    birth = page.get_by_role("group", name="Date of birth")
    birth.get_by_label("Day").fill("3")
    birth.get_by_label("Month").fill("5")
    birth.get_by_label("Year").fill("2020")
    page.get_by_label("Female", exact=True).check()
    page.get_by_label("Child protection plan", exact=True).check()
    start = page.get_by_role("group", name="Start date")
    start.get_by_label("Day").fill("1")
    start.get_by_label("Month").fill("9")
    start.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Check the child's details before adding them")).to_be_visible()
    answers = page.locator("#answers")
    for text in ("Zainab", "Quraishi", "3 May 2020", "Female", "Child protection plan", "1 September 2026"):
        expect(answers).to_contain_text(text)
    assert Child.objects.count() == 0
    assert_accessible(page)
    assert_reflows_at_320px(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Changing goes back to the form with the answers kept.
    page.get_by_role("button", name="Change the child's details").click()
    expect(page.get_by_label("Family name", exact=True)).to_have_value("Quraishi")
    page.get_by_label("Given names", exact=True).fill("Zaynab")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#answers")).to_contain_text("Zaynab")
    page.get_by_role("button", name="Add the child to the register").click()

    expect(page.get_by_text("Child added to the register with register ID")).to_be_visible()
    assert Child.objects.get().given_names == "Zaynab"


def test_a_transfer_is_confirmed_first(live_server, page: Page):
    westminster = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    LocalAuthorityFactory(gss_code="E08000025", name="Birmingham City Council")
    child = child_on_plan(westminster, given_names="Ivo", family_name="Petrov")
    sign_in_as(page, live_server.url, register_manager(westminster))
    page.goto(f"{live_server.url}/manage/children/{child.register_id}/transfer/")
    page.get_by_label("Which local authority is now responsible?").select_option(label="Birmingham City Council")
    moved = page.get_by_role("group", name="Date of the move")
    moved.get_by_label("Day").fill("20")
    moved.get_by_label("Month").fill("11")
    moved.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Transfer responsibility").click()

    expect(
        page.get_by_role("heading", name="Are you sure you want to transfer Ivo Petrov to Birmingham City Council?")
    ).to_be_visible()
    expect(page.locator("main")).to_contain_text("You cannot undo a transfer")
    assert not ChildTransfer.objects.exists()
    assert_accessible(page)
    assert_reflows_at_320px(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("link", name="No, keep the child").click()
    expect(page.get_by_role("heading", name="Ivo Petrov")).to_be_visible()
    assert not ChildTransfer.objects.exists()

    page.goto(f"{live_server.url}/manage/children/{child.register_id}/transfer/")
    page.get_by_label("Which local authority is now responsible?").select_option(label="Birmingham City Council")
    moved = page.get_by_role("group", name="Date of the move")
    moved.get_by_label("Day").fill("20")
    moved.get_by_label("Month").fill("11")
    moved.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Transfer responsibility").click()
    page.get_by_role("button", name="Yes, transfer responsibility").click()
    expect(page.get_by_text(f"Child {child.register_id} has been transferred")).to_be_visible()
    assert ChildTransfer.objects.get().to_local_authority.name == "Birmingham City Council"
