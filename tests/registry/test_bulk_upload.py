"""Bulk upload of the import file in the browser: stored, processed by the (eager) task with
the import's own validation and idempotency, progress and report readable by the
authority's register managers only."""

import csv
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from registry.intake.importing import COLUMNS
from registry.intake.services import bulk_upload_process
from registry.models import BulkUpload, Child
from tests.factories import ChildFactory, UserFactory, nhs_number_for
from tests.registry.import_helpers import GOOD

pytestmark = pytest.mark.django_db


def csv_bytes(rows, columns=COLUMNS):
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({**GOOD, **row})
    return output.getvalue().encode()


GOOD_FILE = [
    {"la_reference": "WCC-1"},
    {"la_reference": "WCC-2", "nhs_number": nhs_number_for(1), "given_names": "Anna", "other_names": ""},
    {"la_reference": "WCC-3", "nhs_number": "", "date_of_birth": "2016-13-01"},
    {"la_reference": "BHM-1", "nhs_number": nhs_number_for(2), "local_authority_code": "E08000025"},
    {"la_reference": "WCC-4", "nhs_number": "", "postcode": "NOT A CODE"},
]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def manager(westminster):
    return UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def upload(client, content, name="children.csv", capture=None, **extra):
    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv"), **extra}
    if capture is None:
        return client.post(reverse("registry:upload-new"), data)
    with capture(execute=True):
        return client.post(reverse("registry:upload-new"), data)


def test_an_upload_is_processed_and_its_report_downloads(
    manager_client, westminster, birmingham, django_capture_on_commit_callbacks
):
    response = upload(manager_client, csv_bytes(GOOD_FILE), capture=django_capture_on_commit_callbacks)
    assert response.status_code == 302
    bulk = BulkUpload.objects.get()
    assert response["Location"] == reverse("registry:upload", args=[bulk.pk])
    assert bulk.state == BulkUpload.State.DONE
    assert (bulk.rows_total, bulk.rows_done, bulk.rows_created, bulk.rows_rejected) == (5, 5, 2, 3)
    assert set(Child.objects.values_list("la_reference", flat=True)) == {"WCC-1", "WCC-2"}
    assert all(child.responsible_local_authority == westminster for child in Child.objects.all())
    assert not bulk.file  # the file is not kept once processed

    page = manager_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Children added" in html
    assert "Download the validation report" in html

    report = manager_client.get(reverse("registry:upload-report", args=[bulk.pk]))
    assert report.status_code == 200
    assert report["Content-Type"].startswith("text/csv")
    assert "attachment" in report["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(report.content.decode())))
    assert [(row["line"], row["field"]) for row in rows] == [
        ("4", "date_of_birth"),
        ("5", "local_authority_code"),
        ("6", "postcode"),
    ]
    assert "another local authority" in rows[1]["reason"]
    # The report names the problem, never the value from the file.
    assert "NOT A CODE" not in report.content.decode()
    assert "2016-13-01" not in report.content.decode()


def test_uploading_the_same_file_again_changes_nothing(manager_client, django_capture_on_commit_callbacks):
    content = csv_bytes(GOOD_FILE)
    upload(manager_client, content, capture=django_capture_on_commit_callbacks)
    before = list(Child.objects.order_by("pk").values())
    upload(manager_client, content, capture=django_capture_on_commit_callbacks)
    second = BulkUpload.objects.order_by("created_at").last()
    assert (second.rows_created, second.rows_updated, second.rows_unchanged) == (0, 0, 2)
    assert list(Child.objects.order_by("pk").values()) == before


def test_a_row_naming_another_authoritys_child_is_rejected(
    manager_client, birmingham, django_capture_on_commit_callbacks
):
    theirs = ChildFactory(responsible_local_authority=birmingham, nhs_number=nhs_number_for(9))
    upload(manager_client, csv_bytes([{"nhs_number": theirs.nhs_number}]), capture=django_capture_on_commit_callbacks)
    bulk = BulkUpload.objects.get()
    assert bulk.rows_rejected == 1
    assert "another local authority" in bulk.report[0]["reason"]
    theirs.refresh_from_db()
    assert theirs.version == 1


def test_the_task_is_safe_to_run_twice(manager_client, django_capture_on_commit_callbacks):
    upload(manager_client, csv_bytes(GOOD_FILE), capture=django_capture_on_commit_callbacks)
    bulk = BulkUpload.objects.get()
    events = AuditEvent.objects.count()
    assert bulk_upload_process(upload_id=bulk.pk) is None
    assert AuditEvent.objects.count() == events
    assert BulkUpload.objects.get().rows_created == 2


def test_a_run_lost_with_its_worker_is_taken_over(manager_client, settings, django_capture_on_commit_callbacks):
    import datetime

    from django.utils import timezone

    settings.BULK_UPLOAD_STALLED_AFTER_SECONDS = 600
    upload(manager_client, csv_bytes(GOOD_FILE))  # not processed: the callback is not run
    bulk = BulkUpload.objects.get()
    BulkUpload.objects.filter(pk=bulk.pk).update(
        state=BulkUpload.State.RUNNING,
        started_at=timezone.now() - datetime.timedelta(hours=2),
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=5),
        heartbeat_by="lost-worker",
    )
    assert bulk_upload_process(upload_id=bulk.pk) is None  # its worker spoke within the limit
    BulkUpload.objects.filter(pk=bulk.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(minutes=11))
    assert bulk_upload_process(upload_id=bulk.pk) is not None
    assert BulkUpload.objects.get().state == BulkUpload.State.DONE


def test_progress_is_recorded_as_batches_are_written(manager_client, settings, django_capture_on_commit_callbacks):
    settings.BULK_UPLOAD_BATCH_SIZE = 1
    seen = []
    from registry.intake import services as uploads

    original = uploads._UploadImporter._write_batch

    def spy(self, batch):
        original(self, batch)
        seen.append(BulkUpload.objects.get().rows_done)

    uploads._UploadImporter._write_batch = spy
    try:
        upload(manager_client, csv_bytes(GOOD_FILE), capture=django_capture_on_commit_callbacks)
    finally:
        uploads._UploadImporter._write_batch = original
    assert seen == sorted(seen)
    assert len(set(seen)) == 2  # two valid rows, two batches, two steps of progress
    status = manager_client.get(reverse("registry:upload-status", args=[BulkUpload.objects.get().pk])).json()
    assert status["finished"] is True
    assert status["percent"] == 100
    assert status["rows_done"] == 5


def test_the_status_endpoint_reports_a_waiting_upload(manager_client):
    upload(manager_client, csv_bytes(GOOD_FILE))
    bulk = BulkUpload.objects.get()
    status = manager_client.get(reverse("registry:upload-status", args=[bulk.pk])).json()
    assert status["state"] == "waiting"
    assert status["finished"] is False
    page = manager_client.get(reverse("registry:upload", args=[bulk.pk])).content.decode()
    assert 'id="upload-progress"' in page
    assert "Refresh this page" in page  # the fallback without JavaScript
    assert "upload_progress.js" in page


def test_the_upload_and_the_processing_are_audited(manager_client, manager, django_capture_on_commit_callbacks):
    upload(manager_client, csv_bytes(GOOD_FILE), capture=django_capture_on_commit_callbacks)
    bulk = BulkUpload.objects.get()
    events = AuditEvent.objects.filter(action=AuditEvent.Action.CHILDREN_IMPORTED, actor=manager)
    stages = [event.details.get("stage") for event in events if event.details.get("bulk_upload") == str(bulk.pk)]
    assert sorted(stages) == ["done", "uploaded"]
    written = events.filter(details__source__startswith=f"bulk upload {bulk.pk}")
    assert written.exists()
    registered = set(Child.objects.values_list("register_id", flat=True))
    assert {rid for event in written for rid in event.register_ids} == registered


def test_another_authoritys_upload_is_404_on_every_route(
    manager_client, birmingham, django_capture_on_commit_callbacks
):
    theirs = UserFactory(organisation__local_authority=birmingham, roles=[Role.REGISTER_MANAGER])
    bulk = BulkUpload.objects.create(local_authority=birmingham, uploaded_by=theirs, sha256="0" * 64)
    for name in ("registry:upload", "registry:upload-status", "registry:upload-report"):
        assert manager_client.get(reverse(name, args=[bulk.pk])).status_code == 404
    assert manager_client.get(reverse("registry:upload", args=[uuid.uuid4()])).status_code == 404
    assert str(bulk.pk) not in manager_client.get(reverse("registry:uploads")).content.decode()


def test_a_manager_cannot_upload_for_another_authority(manager_client, birmingham):
    response = upload(manager_client, csv_bytes(GOOD_FILE), local_authority=birmingham.pk)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not BulkUpload.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The selected file is empty"),
        (b"name,date\nx,y\n", "Missing: "),
        (b"\xff\xfe\x00bad", "UTF-8"),
    ],
)
def test_a_file_that_is_not_the_import_format_is_refused_next_to_the_field(manager_client, content, message):
    response = upload(manager_client, content)
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert message in html
    assert 'class="govuk-error-message"' in html
    assert not BulkUpload.objects.exists()


def test_a_file_over_the_size_limit_is_refused(manager_client, settings):
    settings.BULK_UPLOAD_MAX_BYTES = 100
    response = upload(manager_client, csv_bytes(GOOD_FILE))
    assert "smaller than" in response.content.decode()
    assert not BulkUpload.objects.exists()


def test_only_register_managers_reach_the_upload_pages(client, westminster):
    practitioner = UserFactory(organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    client.force_login(practitioner)
    assert client.get(reverse("registry:uploads")).status_code == 403
    assert client.get(reverse("registry:upload-new")).status_code == 403


def test_the_list_shows_the_authoritys_uploads(manager_client, django_capture_on_commit_callbacks):
    upload(manager_client, csv_bytes(GOOD_FILE), capture=django_capture_on_commit_callbacks)
    page = manager_client.get(reverse("registry:uploads"))
    assert page.status_code == 200
    assert reverse("registry:upload", args=[BulkUpload.objects.get().pk]) in page.content.decode()


def test_an_upload_that_cannot_be_audited_is_not_kept(manager_client, monkeypatch, settings):
    from django.db import DatabaseError

    from registry.intake import services as uploads

    upload(manager_client, csv_bytes(GOOD_FILE))  # one file stored, waiting to be processed

    def broken(**kwargs):
        raise DatabaseError("audit store down")

    monkeypatch.setattr(uploads, "audit_event_record", broken)
    response = upload(manager_client, csv_bytes(GOOD_FILE[:1]))
    assert response.status_code == 503
    assert BulkUpload.objects.count() == 1
    assert len(list((settings.MEDIA_ROOT / "uploads").iterdir())) == 1


def test_the_report_never_copies_a_value_even_one_with_apostrophes(
    manager_client, westminster, django_capture_on_commit_callbacks
):
    rows = [
        {"la_reference": "WCC-1", "nhs_number": "", "postcode": "O'Brienova's flat"},
        {"la_reference": "WCC-2", "nhs_number": "", "sex": "Mc'Quistle'n"},
        {"la_reference": "WCC-3", "nhs_number": "", "date_of_birth": "d'Arbanville"},
    ]
    upload(manager_client, csv_bytes(rows), capture=django_capture_on_commit_callbacks)
    bulk = BulkUpload.objects.get()
    assert bulk.rows_rejected == 3
    report = manager_client.get(reverse("registry:upload-report", args=[bulk.pk])).content.decode()
    for fragment in ("Brienova", "flat", "Quistle", "Arbanville"):
        assert fragment not in report
    assert "Enter a full UK postcode" in report


def test_a_nul_byte_in_one_row_rejects_that_row_not_the_upload(
    manager_client, westminster, django_capture_on_commit_callbacks
):
    content = csv_bytes(
        [
            {"la_reference": "WCC-1", "nhs_number": ""},
            {"la_reference": "WCC-2", "nhs_number": "", "given_names": "Vict\x00ria"},
            {"la_reference": "WCC-3", "nhs_number": ""},
        ]
    )
    upload(manager_client, content, capture=django_capture_on_commit_callbacks)
    bulk = BulkUpload.objects.get()
    assert bulk.state == BulkUpload.State.DONE
    assert (bulk.rows_created, bulk.rows_rejected) == (2, 1)
    assert bulk.report == [{"line": 3, "field": "(row)", "reason": "contains a NUL byte, which is not text"}]
    assert set(Child.objects.values_list("la_reference", flat=True)) == {"WCC-1", "WCC-3"}
