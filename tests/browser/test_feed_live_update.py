"""Issue 14 item 11: the feed file page's live update also brings the rejected rows and takes
away "Check progress again" when the file is done (script from a static file: the CSP
forbids inline script)."""

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import Role
from feeds.models import FeedFile, QuarantinedRow
from tests.browser.accessibility import assert_accessible, assert_reflows_at_320px
from tests.browser.session import sign_in_as
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_file_page_updates_everything_when_the_file_finishes(live_server, page: Page):
    operator = UserFactory(organisation=None, local_authority=None, roles=[Role.FEED_OPERATOR])
    feed_file = FeedFile.objects.create(
        event_type="death", sha256="a" * 64, original_name="deaths-december.csv", size_bytes=100,
        source=FeedFile.Source.COMMAND, state=FeedFile.State.RUNNING, rows_total=3,
    )  # fmt: skip
    sign_in_as(page, live_server.url, operator)
    page.goto(f"{live_server.url}/feeds/files/{feed_file.pk}/")
    expect(page.locator("#feed-rejected")).to_contain_text("No rows have been rejected so far")
    expect(page.get_by_role("link", name="Check progress again")).to_be_visible()
    assert_accessible(page)

    # The worker finishes with one row rejected, while the page stays open.
    QuarantinedRow.objects.create(feed_file=feed_file, line_number=3, reason="date_of_death is not a real date")
    FeedFile.objects.filter(pk=feed_file.pk).update(
        state=FeedFile.State.DONE, lines_committed=3, rows_applied=2, rows_quarantined=1
    )
    expect(page.locator("#feed-progress")).to_contain_text("Finished", timeout=20_000)
    rejected = page.locator("#feed-rejected")
    expect(rejected).to_contain_text("date_of_death is not a real date", timeout=10_000)
    expect(rejected).not_to_contain_text("No rows have been rejected")
    expect(page.get_by_role("link", name="Check progress again")).to_have_count(0)
    assert_accessible(page)
    assert_reflows_at_320px(page)
