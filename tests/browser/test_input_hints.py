"""Issue 14, item 5, in Chromium: a date of birth typed month first and an NHS number with a
wrong last digit are each told what is wrong, next to the field and in the error summary,
and the page passes axe."""

import datetime

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import Role
from registry.identity import DATE_MONTH_FIRST, DATE_WHOLE_IN_ONE_BOX, NHS_NUMBER_CHECK_DIGIT
from tests.browser.accessibility import assert_accessible
from tests.browser.session import sign_in_as
from tests.factories import ChildFactory, ProtectionStatusFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_month_first_date_and_a_wrong_check_digit_are_explained(live_server, page: Page):
    visitor = UserFactory(full_name="Helen Visitor", roles=[Role.PRACTITIONER])
    child = ChildFactory(given_names="Amara", family_name="Quillon", date_of_birth=datetime.date(2024, 6, 21))
    ProtectionStatusFactory(child=child)
    sign_in_as(page, live_server.url, visitor)
    page.goto(f"{live_server.url}/search/")
    summary = page.locator(".govuk-error-summary")

    # 21 June 2024 typed the American way: 6 in the day box, 21 in the month box.
    page.get_by_label("NHS number").fill("943 476 5918")
    page.get_by_label("Family name").fill("Quillon")
    date_of_birth = page.get_by_role("group", name="Date of birth")
    date_of_birth.get_by_label("Day").fill("6")
    date_of_birth.get_by_label("Month").fill("21")
    date_of_birth.get_by_label("Year").fill("2024")
    page.get_by_label("New concern or referral").check()
    page.get_by_role("button", name="Search").click()

    expect(summary).to_be_focused()
    expect(summary).to_contain_text(NHS_NUMBER_CHECK_DIGIT)
    expect(summary).to_contain_text(DATE_MONTH_FIRST)
    expect(summary).not_to_contain_text("10 digits")
    expect(page.locator("#id_nhs_number-error")).to_have_text(f"Error: {NHS_NUMBER_CHECK_DIGIT}")
    expect(page.locator("#id_dob-error")).to_have_text(f"Error: {DATE_MONTH_FIRST}")
    # Each field says what is wrong with it to a screen reader too.
    expect(page.get_by_label("NHS number")).to_have_accessible_description(
        f"For example, 943 476 5919 Error: {NHS_NUMBER_CHECK_DIGIT}"
    )
    # Only the month box is outlined; what was typed is kept to be corrected.
    expect(date_of_birth.get_by_label("Month")).to_have_class(
        "govuk-input govuk-date-input__input govuk-input--width-2 govuk-input--error"
    )
    expect(date_of_birth.get_by_label("Day")).to_have_value("6")
    assert_accessible(page)

    # The summary's link takes the keyboard to the field.
    summary.get_by_role("link", name=NHS_NUMBER_CHECK_DIGIT).click()
    expect(page.get_by_label("NHS number")).to_be_focused()

    # A whole date typed in the day box gets its own hint.
    page.get_by_label("NHS number").fill("")
    date_of_birth.get_by_label("Day").fill("6/21/2024")
    date_of_birth.get_by_label("Month").fill("")
    date_of_birth.get_by_label("Year").fill("")
    page.get_by_label("New concern or referral").check()
    page.get_by_role("button", name="Search").click()
    expect(summary).to_contain_text(DATE_WHOLE_IN_ONE_BOX)
    expect(page.locator("#id_dob-error")).to_have_text(f"Error: {DATE_WHOLE_IN_ONE_BOX}")
    assert_accessible(page)

    # Typed the right way round, the child is found.
    date_of_birth.get_by_label("Day").fill("21")
    date_of_birth.get_by_label("Month").fill("6")
    date_of_birth.get_by_label("Year").fill("2024")
    page.get_by_label("New concern or referral").check()
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results")).to_contain_text("Amara Quillon")
    assert "Quillon" not in page.url and "2024" not in page.url
