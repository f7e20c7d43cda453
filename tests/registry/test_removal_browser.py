"""Removal pages in Chromium: a register manager removes a wrongly added child using the
keyboard, and a system administrator sets and lifts a legal hold. Each page is checked
with axe (WCAG 2.2 AA)."""

import datetime

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import Role
from registry.models import Child, LegalHold, RemovalReceipt
from tests.browser.accessibility import assert_accessible
from tests.browser.session import sign_in_as
from tests.factories import ChildFactory, LocalAuthorityFactory, ProtectionStatusFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_register_manager_sees_who_is_due_and_removes_a_wrongly_added_child(live_server, page: Page):
    westminster = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    due = ChildFactory(responsible_local_authority=westminster, date_of_birth=datetime.date(2008, 12, 1))
    ProtectionStatusFactory(child=due)
    wrong = ChildFactory(responsible_local_authority=westminster, given_names="Wrongly", family_name="Added")
    ProtectionStatusFactory(child=wrong)
    sign_in_as(page, live_server.url, manager)

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Children due to leave the register").click()
    expect(page.locator("#due")).to_contain_text(due.register_id)
    assert_accessible(page)

    page.goto(f"{live_server.url}/children/{wrong.register_id}/remove/")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select why you are removing this child")
    assert_accessible(page)

    page.get_by_label("Other", exact=True).check()
    expect(page.get_by_label("Explain why")).to_be_visible()
    page.get_by_label("Wrongly added").press("Space")
    page.get_by_role("button", name="Continue").press("Enter")
    expect(page.get_by_role("heading", name="Are you sure you want to remove this child?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Wrongly Added")
    assert_accessible(page)

    page.get_by_role("button", name="Remove this child from the register").press("Enter")
    expect(page.locator("#receipt")).to_contain_text("Wrongly added")
    assert "Added" not in page.url
    assert_accessible(page)
    assert not Child.objects.filter(pk=wrong.pk).exists()
    assert RemovalReceipt.objects.filter(register_id=wrong.register_id).exists()


def test_a_system_administrator_sets_and_lifts_a_legal_hold(live_server, page: Page):
    administrator = UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR])
    child = ChildFactory()
    ProtectionStatusFactory(child=child)
    sign_in_as(page, live_server.url, administrator)

    page.goto(f"{live_server.url}/removal/legal-holds/")
    assert_accessible(page)
    page.get_by_role("button", name="Set a legal hold").click()
    page.get_by_role("button", name="Set the legal hold").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the child's register ID")
    assert_accessible(page)

    page.get_by_label("Register ID").fill(child.register_id)
    page.get_by_label("Reference").fill("INQ-2026-07")
    page.get_by_label("Why the child's record must be kept").fill("Evidence for a public inquiry")
    page.get_by_role("button", name="Set the legal hold").click()
    expect(page.locator("#holds")).to_contain_text("INQ-2026-07")
    assert_accessible(page)

    page.get_by_role("link", name=f"Lift hold INQ-2026-07 on {child.register_id}").click()
    assert_accessible(page)
    page.get_by_label("Why is the hold being lifted?").fill("The inquiry has reported")
    page.get_by_role("button", name="Lift the legal hold").click()
    expect(page.locator("main")).to_contain_text("No legal hold is in force")
    assert not LegalHold.objects.get(child=child).is_active

    page.goto(f"{live_server.url}/removal/dry-run/")
    expect(page.get_by_role("heading", name="Removal dry run")).to_be_visible()
    assert_accessible(page)
