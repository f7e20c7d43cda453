"""Issue 14 items 2, 3 and 4 on a child's record page:
2. "Who to contact" comes first, above the fold at 1280 x 900, with tel: and mailto: links
   (the authority's secure email; never a practitioner's sign-in address);
3. the service is chosen from the practitioner's organisation (or must be chosen), and
   "I am no longer working with this child" asks for confirmation;
4. a child who has died is not shown as "Current" and no one is offered to start working
   with them."""

import datetime

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Organisation
from accounts.roles import Role
from registry.models import Involvement, ServiceType
from tests.browser.accessibility import assert_accessible, assert_reflows_at_320px
from tests.browser.session import sign_in_as
from tests.factories import ChildFactory, InvolvementFactory, ProtectionStatusFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def give_reason(page: Page) -> None:
    # Opened other than from a search, the record asks for a reason first (every time).
    page.get_by_label("Ongoing work with the child").check()
    page.get_by_role("button", name="Open the record").click()


def open_record(page: Page, base: str, register_id: str) -> None:
    page.goto(f"{base}/children/{register_id}/")
    give_reason(page)


def test_who_to_contact_is_first_and_above_the_fold_with_links(live_server, page: Page):
    practitioner = UserFactory(roles=[Role.PRACTITIONER])
    child = ChildFactory(
        given_names="Tomasz", family_name="Nowak", responsible_local_authority__out_of_hours_phone="020 7641 6000"
    )
    ProtectionStatusFactory(child=child)
    InvolvementFactory(
        child=child, practitioner__full_name="Lena Lead", practitioner__phone="020 7946 0001",
        practitioner__email="lena.lead@westminster.gov.uk", is_lead=True,
    )  # fmt: skip
    InvolvementFactory(child=child, practitioner__full_name="Other Worker")
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in_as(page, live_server.url, practitioner)
    open_record(page, live_server.url, child.register_id)

    contact = page.locator("#who-to-contact")
    expect(contact.get_by_role("heading", name="Who to contact")).to_be_visible()
    out_of_hours = contact.get_by_role("link", name="020 7641 6000")
    expect(out_of_hours).to_have_attribute("href", "tel:02076416000")
    authority = child.responsible_local_authority
    expect(contact.get_by_role("link", name=authority.secure_email)).to_have_attribute(
        "href", f"mailto:{authority.secure_email}"
    )
    lead = page.locator("#lead-practitioner")
    expect(lead).to_contain_text("Lena Lead")
    expect(lead.get_by_role("link", name="020 7946 0001")).to_have_attribute("href", "tel:02079460001")
    # A practitioner's sign-in address is never shown (issue 15 finding 12: it is the
    # lockout key); the phone and the authority's secure email are the ways to reach them.
    expect(lead).not_to_contain_text("lena.lead@westminster.gov.uk")
    # Above the fold: the whole summary is inside the first 900 px, before any scrolling.
    box = contact.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 900, box
    assert_accessible(page)
    assert_reflows_at_320px(page)


def test_the_service_comes_from_the_organisation_and_ending_is_confirmed(live_server, page: Page):
    visitor = UserFactory(
        full_name="Hana Visitor", organisation__kind=Organisation.Kind.HEALTH_VISITING, roles=[Role.PRACTITIONER]
    )
    other = UserFactory(full_name="Olu Other", organisation__kind=Organisation.Kind.OTHER, roles=[Role.PRACTITIONER])
    child = ChildFactory(given_names="Ruth", family_name="Mensah")
    ProtectionStatusFactory(child=child)

    # An organisation of no particular service gets no default: choosing one is required.
    sign_in_as(page, live_server.url, other)
    open_record(page, live_server.url, child.register_id)
    expect(page.get_by_label("Which service are you working with the child for?")).to_have_value("")
    page.get_by_role("button", name="I am working with this child").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Select the service")
    assert not Involvement.objects.filter(child=child).exists()
    page.context.clear_cookies()

    # A health visitor is offered health visiting, not children's social care.
    sign_in_as(page, live_server.url, visitor)
    open_record(page, live_server.url, child.register_id)
    service = page.get_by_label("Which service are you working with the child for?")
    expect(service).to_have_value(ServiceType.HEALTH_VISITING)
    assert_accessible(page)
    page.get_by_role("button", name="I am working with this child").click()
    expect(page.get_by_text("You are recorded as working with this child")).to_be_visible()
    involvement = Involvement.objects.get(child=child, practitioner=visitor)
    assert involvement.service_type == ServiceType.HEALTH_VISITING
    give_reason(page)

    # Ending asks first; "No" changes nothing.
    page.get_by_role("button", name="I am no longer working with this child").click()
    expect(page.get_by_role("heading", name="Are you sure you are no longer working with this child?")).to_be_visible()
    assert_accessible(page)
    assert_reflows_at_320px(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="No, go back to the record").click()
    give_reason(page)
    expect(page.get_by_role("heading", name="Ruth Mensah")).to_be_visible()
    involvement.refresh_from_db()
    assert involvement.end_date is None

    page.get_by_role("button", name="I am no longer working with this child").click()
    page.get_by_role("button", name="Yes, I am no longer working with this child").click()
    expect(page.get_by_text("You are no longer recorded as working with this child")).to_be_visible()
    involvement.refresh_from_db()
    assert involvement.end_date is not None


def test_a_child_who_has_died_is_not_current_and_cannot_be_joined(live_server, page: Page):
    practitioner = UserFactory(roles=[Role.PRACTITIONER])
    child = ChildFactory(given_names="Eli", family_name="Brennan", date_of_death=datetime.date(2026, 10, 3))
    ProtectionStatusFactory(child=child, end_date=None)
    sign_in_as(page, live_server.url, practitioner)
    open_record(page, live_server.url, child.register_id)

    statuses = page.locator("#statuses")
    expect(statuses).to_contain_text("Not current: child has died")
    expect(statuses).not_to_contain_text("Current ")
    expect(statuses.locator(".govuk-tag--green")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("3 October 2026")
    expect(page.get_by_role("button", name="I am working with this child")).to_have_count(0)
    expect(page.locator("#no-new-involvement")).to_contain_text("This child has died")
    assert_accessible(page)
    assert_reflows_at_320px(page)
