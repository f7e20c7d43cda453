"""A midwife finds an unborn child on a pre-birth plan by the mother's details (issue 13):
from the search page to the search by the mother, an error corrected, the results and the
record, with axe on every page, keyboard submission and the pages reflowing at 320 px."""

import datetime
import re

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import Role
from audit.models import AuditEvent
from registry.models import ProtectionStatus
from tests.browser.accessibility import assert_accessible, assert_reflows_at_320px
from tests.browser.session import sign_in_as
from tests.factories import ChildFactory, ProtectionStatusFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_midwife_finds_an_unborn_child_by_the_mothers_name_and_date_of_birth(live_server, page: Page):
    midwife = UserFactory(email="midwife@example.gov.uk", full_name="Mina Midwife", roles=[Role.PRACTITIONER])
    baby = ChildFactory(nhs_number=None, given_names="", family_name="Okafor", date_of_birth=None, postcode="E8 1DY")
    ProtectionStatusFactory(
        child=baby,
        kind=ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN,
        start_date=datetime.date(2026, 10, 1),
        expected_delivery_date=datetime.date(2027, 2, 3),
        mother_given_names="Chiamaka",
        mother_family_name="Okafor",
        mother_date_of_birth=datetime.date(1997, 8, 14),
    )
    sign_in_as(page, live_server.url, midwife)

    page.goto(f"{live_server.url}/search/")
    page.get_by_role("link", name="Search by the mother's details").click()
    expect(page.get_by_role("heading", name="Search for an unborn baby by the mother's details")).to_be_visible()
    assert_accessible(page)

    # Too little: her family name alone is refused in the error summary.
    page.get_by_label("Mother's family name").fill("Okafor")
    page.get_by_label("Ongoing work with the child").check()
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("mother's date of birth")
    assert_accessible(page)

    born = page.get_by_role("group", name="Mother's date of birth")
    born.get_by_label("Day").fill("14")
    born.get_by_label("Month").fill("8")
    born.get_by_label("Year").fill("1997")
    page.get_by_label("Mother's given name (optional)").fill("Chiamaka")
    page.get_by_label("Ongoing work with the child").check()
    page.get_by_role("button", name="Search").press("Enter")

    results = page.locator("#results")
    expect(results).to_contain_text(baby.register_id)
    expect(results).to_contain_text("Unborn")
    expect(results).to_contain_text("Mother's surname matches")
    assert "Okafor" not in page.url and "1997" not in page.url
    assert_accessible(page)
    page.set_viewport_size({"width": 320, "height": 900})
    assert_reflows_at_320px(page)

    results.get_by_role("link").first.click()
    assert re.search(rf"/children/{baby.register_id}/\?lookup=\d+$", page.url)
    assert_accessible(page)

    page.goto(f"{live_server.url}/search/unborn/")
    assert_reflows_at_320px(page)

    searches = AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH, actor=midwife).order_by("id")
    assert [event.outcome for event in searches] == ["refused", "results"]
    assert searches.last().criteria["mother_family_name"] == "Okafor"
    assert searches.last().reason == "ongoing_work"
