"""A register manager uploads a file in Chromium, watches the progress display refresh by
itself when the worker finishes, and downloads the validation report."""

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import Role
from registry.intake import tasks
from registry.intake.services import bulk_upload_process
from registry.models import BulkUpload, Child
from tests.browser.accessibility import assert_accessible
from tests.browser.session import sign_in_as
from tests.factories import LocalAuthorityFactory, UserFactory
from tests.registry.test_bulk_upload import GOOD_FILE, csv_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_uploads_a_file_and_sees_the_progress_then_the_report(live_server, page: Page, monkeypatch, tmp_path):
    westminster = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    LocalAuthorityFactory(gss_code="E08000025", name="Birmingham City Council")
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    # The worker is "busy": nothing runs until the test says so, so the progress page shows.
    monkeypatch.setattr(tasks.bulk_upload_process_task, "delay_on_commit", lambda *args: None)
    path = tmp_path / "children.csv"
    path.write_bytes(csv_bytes(GOOD_FILE))

    sign_in_as(page, live_server.url, manager)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Bulk uploads").click()
    page.get_by_role("button", name="Upload a file").click()
    assert_accessible(page)
    page.get_by_role("button", name="Upload and start").click()
    expect(page.get_by_role("link", name="Select a CSV file")).to_be_visible()  # the error summary
    assert_accessible(page)

    page.get_by_label("Upload a file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and start").click()
    expect(page.get_by_role("heading", name="Progress")).to_be_visible()
    expect(page.get_by_text("Waiting to start").first).to_be_visible()
    assert_accessible(page)

    bulk_upload_process(upload_id=BulkUpload.objects.get().pk)
    # The page's script sees the upload finish and shows the result without a click.
    expect(page.get_by_role("heading", name="Result")).to_be_visible(timeout=10_000)
    assert_accessible(page)
    expect(page.locator("#upload-result")).to_contain_text("Children added")
    assert Child.objects.count() == 2

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the validation report").click()
    report = list(csv.DictReader(io.StringIO(download_info.value.path().read_text(encoding="utf-8"))))
    assert [row["field"] for row in report] == ["date_of_birth", "local_authority_code", "postcode"]
