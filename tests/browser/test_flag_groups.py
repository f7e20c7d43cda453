"""Issue 14 item 10: the auditors' flag list shows one line per user per day with the count
and the rules that fired, nothing for refused searches or a register manager's own finds,
and the auditor reviews the flags of the chosen days at once with one note. Each page
checked with axe and at 320 px wide."""

import datetime

import pytest
import time_machine
from playwright.sync_api import Page, expect

from audit.models import AnomalyFlag, AuditEvent, LookupOutcome
from audit.services import audit_event_record
from audit.services_anomalies import anomalies_scan
from tests.audit.factories_audit import national_auditor, practitioner_of
from tests.browser.accessibility import assert_accessible, assert_reflows_at_320px
from tests.browser.session import sign_in_as
from tests.factories import LocalAuthorityFactory
from tests.registry.factories_maintenance import register_manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MONDAY_NIGHT = datetime.datetime(2026, 11, 23, 22, 0, tzinfo=datetime.UTC)


def _search(actor, at, **fields):
    values = {
        "action": AuditEvent.Action.SEARCH,
        "actor": actor,
        "criteria": {"family_name": "Quill", "date_of_birth": "2019-04-12"},
        "reason": "assessment",
        "outcome": LookupOutcome.NO_RESULTS,
        "channel": "web",
        **fields,
    }
    with time_machine.travel(at, tick=False):
        audit_event_record(**values)


def test_an_auditor_reviews_a_users_night_of_flags_at_once(live_server, page: Page):
    westminster = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    sam = practitioner_of(westminster, full_name="Sam Nightshift")
    manager = register_manager(westminster, full_name="Maria Manager")
    for minute in (0, 10, 20):
        _search(sam, MONDAY_NIGHT + datetime.timedelta(minutes=minute))
    # Refused (the throttle; no reason given) and a manager's own find: no flags.
    _search(sam, MONDAY_NIGHT + datetime.timedelta(minutes=30), reason="", outcome=LookupOutcome.REFUSED)
    _search(manager, MONDAY_NIGHT, reason="", details={"purpose": "manager_find"})
    _search(sam, MONDAY_NIGHT + datetime.timedelta(days=1), reason="emergency")
    _search(sam, MONDAY_NIGHT + datetime.timedelta(days=1, minutes=5))
    anomalies_scan()
    assert AnomalyFlag.objects.count() == 5  # 3 out of hours on Monday; emergency + out of hours on Tuesday

    sign_in_as(page, live_server.url, national_auditor(full_name="Alex Auditor"))
    page.goto(f"{live_server.url}/audit/flags/")
    rows = page.locator("#flags tbody tr")
    expect(rows).to_have_count(2)
    monday = rows.filter(has_text="23 Nov 2026")
    expect(monday).to_contain_text("Sam Nightshift")
    expect(monday.locator("td[data-label='Flags']")).to_have_text("3")
    expect(monday).to_contain_text("Out-of-hours look-up without the emergency reason (3)")
    expect(rows.filter(has_text="24 Nov 2026")).to_contain_text("Used the emergency reason (1)")
    expect(page.locator("main")).not_to_contain_text("Maria Manager")
    assert_accessible(page)
    assert_reflows_at_320px(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Nothing chosen: said in the error summary, which leads to the first checkbox.
    page.get_by_label("Review note for the selected flags").fill("Night duty rota checked")
    page.get_by_role("button", name="Mark selected as reviewed").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select the flags to review")
    assert_accessible(page)
    expect(page.get_by_label("Review note for the selected flags")).to_have_value("Night duty rota checked")

    page.get_by_label("Select the 3 flags of Sam Nightshift on 23 November 2026").check()
    page.get_by_role("button", name="Mark selected as reviewed").click()
    expect(page.locator("main")).to_contain_text("3 flags marked as reviewed")
    expect(page.locator("#flags tbody tr")).to_have_count(1)
    reviews = AuditEvent.objects.filter(action=AuditEvent.Action.ANOMALY_FLAG_REVIEWED)
    assert reviews.count() == 3 and {event.details["reviewed_together"] for event in reviews} == {3}

    # Tuesday's two flags, reviewed from the day's own page.
    page.get_by_role("link", name="Flags of Sam Nightshift on 24 Nov 2026").click()
    expect(page.locator("#group-flags tbody tr")).to_have_count(2)
    assert_accessible(page)
    assert_reflows_at_320px(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Review note for all 2 flags to review").fill("Called the duty team: a real emergency")
    page.get_by_role("button", name="Mark all as reviewed").click()
    expect(page.locator("#no-flags")).to_contain_text("No flags to review")
    assert not AnomalyFlag.objects.filter(reviewed_at__isnull=True).exists()
