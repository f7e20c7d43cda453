"""The feed operator's upload and progress pages, and a register manager's review, in
Chromium: keyboard-reachable, accessible, and nothing personal in a URL."""

import datetime

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import Role
from feeds.models import FeedMatch
from registry.models import Child
from tests.browser.accessibility import assert_accessible
from tests.browser.session import sign_in_as
from tests.factories import ChildFactory, ProtectionStatusFactory, UserFactory
from tests.feeds.factories_feeds import death_row, deaths_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_uploads_a_deaths_file_and_a_manager_reviews_what_was_uncertain(
    live_server, page: Page, tmp_path, westminster
):
    child = ChildFactory(
        responsible_local_authority=westminster, nhs_number=None, given_names="Amelia", family_name="Oneil",
        date_of_birth=datetime.date(2019, 4, 12),
    )  # fmt: skip
    ProtectionStatusFactory(child=child)
    operator = UserFactory(organisation=None, local_authority=None, roles=[Role.FEED_OPERATOR])
    path = tmp_path / "deaths-november.csv"
    path.write_bytes(deaths_file(death_row(postcode=""), death_row(entry_number=2, date_of_death="31/02/2026")))

    sign_in_as(page, live_server.url, operator)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Upload a feed file").click()
    expect(page.get_by_role("heading", name="GRO feed files")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Upload and ingest").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select a file to upload")
    assert_accessible(page)
    page.get_by_label("Upload a GRO deaths or births file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and ingest").click()
    expect(page.get_by_role("heading", name="Deaths file: deaths-november.csv")).to_be_visible()
    expect(page.locator("#feed-progress")).to_contain_text("2 of 2 rows done, 1 rejected")
    expect(page.get_by_role("table")).to_contain_text("date_of_death must be a real date")
    assert_accessible(page)
    assert "Oneil" not in page.url and "2019" not in page.url

    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    page.context.clear_cookies()
    sign_in_as(page, live_server.url, manager)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Birth and death registrations to review").click()
    assert_accessible(page)
    page.get_by_role("link", name="Death registration").click()
    expect(page.get_by_role("heading", name=f"about child {child.register_id}")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select whether this registration is about")
    assert_accessible(page)
    page.get_by_label("No, it is about someone else").check()
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_text("nothing was changed on the child's record")).to_be_visible()
    assert FeedMatch.objects.get().state == "rejected"
    assert Child.objects.get(pk=child.pk).date_of_death is None
