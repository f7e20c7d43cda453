"""An auditor reviews who looked at a child's record and why, flags a look-up for review,
and nothing personal goes into a URL on the way."""

import datetime

import pytest
from playwright.sync_api import Page, expect

from audit.models import AnomalyFlag, AuditEvent
from audit.services_anomalies import anomalies_scan
from tests.audit.factories_audit import national_auditor, practitioner_of, search_recorded, view_recorded
from tests.browser.accessibility import assert_accessible
from tests.browser.session import sign_in_as
from tests.factories import ChildFactory, LocalAuthorityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LATE_EVENING = datetime.datetime(2026, 11, 20, 22, 15, tzinfo=datetime.UTC)


def test_an_auditor_reviews_a_childs_access_history_and_a_flag(live_server, page: Page):
    westminster = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    child = ChildFactory(given_names="Maya", family_name="Okonkwo", responsible_local_authority=westminster)
    worker = practitioner_of(westminster, full_name="Nina Nightshift")
    search_recorded(worker, criteria={"family_name": "Okonkwo", "date_of_birth": "2019-04-12"},
                    register_ids=[child.register_id], reason="ongoing_work", at=LATE_EVENING)  # fmt: skip
    view_recorded(worker, child, reason="ongoing_work", at=LATE_EVENING)
    anomalies_scan()
    auditor = national_auditor(full_name="Ada Auditor")

    sign_in_as(page, live_server.url, auditor)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Open the audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    assert_accessible(page)

    # Find the child by name: the search is POSTed, so the name never reaches a URL.
    page.get_by_role("link", name="Find a child").click()
    page.get_by_label("Family name").fill("Okonkwo")
    dates = page.get_by_role("group", name="Date of birth")
    dates.get_by_label("Day").fill(str(child.date_of_birth.day))
    dates.get_by_label("Month").fill(str(child.date_of_birth.month))
    dates.get_by_label("Year").fill(str(child.date_of_birth.year))
    page.get_by_label("Why are you looking for this child?").fill("Complaint C-2026-114")
    page.get_by_role("button", name="Search").click()
    assert_accessible(page)
    page.get_by_role("link", name="Maya Okonkwo, born").click()

    expect(page.get_by_role("heading", name=f"Child {child.register_id}")).to_be_visible()
    history = page.locator("#events")
    expect(history).to_contain_text("Nina Nightshift")
    expect(history).to_contain_text("Viewed a child's record")
    expect(history).to_contain_text("Ongoing work with the child")
    assert "Okonkwo" not in page.url
    assert_accessible(page)

    # From the history to the user's activity, then the out-of-hours flag, reviewed by keyboard.
    history.get_by_role("link", name="Nina Nightshift").first.click()
    expect(page.get_by_role("heading", name="Nina Nightshift")).to_be_visible()
    assert_accessible(page)
    page.locator("#user-flags").get_by_role(
        "link", name="Out-of-hours look-up without the emergency reason"
    ).first.click()
    expect(page.locator("#explanation")).to_contain_text("outside office hours")
    assert_accessible(page)
    page.get_by_label("Review note").fill("Night duty rota confirms she was on call.")
    page.get_by_label("Review note").press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Anomaly flags")).to_be_visible()
    assert_accessible(page)

    assert AnomalyFlag.objects.filter(reviewed_by=auditor).count() == 1
    auditor_actions = set(AuditEvent.objects.filter(actor=auditor).values_list("action", flat=True))
    assert {
        AuditEvent.Action.AUDIT_CHILD_FOUND,
        AuditEvent.Action.AUDIT_CHILD_HISTORY_VIEWED,
        AuditEvent.Action.AUDIT_USER_ACTIVITY_VIEWED,
        AuditEvent.Action.ANOMALY_FLAG_REVIEWED,
    } <= auditor_actions
