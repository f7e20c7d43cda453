"""The file-job operations (registry.file_jobs) on a bulk upload: one worker
wins a claim, a worker gone silent is taken over, a job fails with its reason, the sweep
finds only jobs with no sign of life. tests/feeds/test_file_jobs.py does the same for a
GRO feed file."""

import datetime

import pytest
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from registry.file_jobs.services import file_job_claim, file_job_fail, file_job_finish, file_job_heartbeat
from registry.intake import services as intake_services
from registry.intake.selectors import bulk_uploads_stalled
from registry.intake.services import bulk_upload_process
from registry.intake.tasks import bulk_uploads_stalled_sweep
from registry.models import BulkUpload
from tests.factories import UserFactory
from tests.registry.test_bulk_upload import GOOD_FILE, csv_bytes, upload

pytestmark = pytest.mark.django_db

STALE_AFTER = 600


@pytest.fixture(autouse=True)
def _stale_after(settings):
    settings.BULK_UPLOAD_STALLED_AFTER_SECONDS = STALE_AFTER


@pytest.fixture
def manager_client(client, westminster):
    client.force_login(UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER]))
    return client


@pytest.fixture
def bulk(westminster):
    return BulkUpload.objects.create(
        local_authority=westminster, uploaded_by=UserFactory(), original_name="children.csv", sha256="0" * 64
    )


def _ago(seconds):
    return timezone.now() - datetime.timedelta(seconds=seconds)


def _claim(bulk, worker):
    return file_job_claim(BulkUpload.objects.filter(pk=bulk.pk), worker=worker, stale_after=STALE_AFTER)


def test_of_two_workers_claiming_a_waiting_upload_one_wins(bulk):
    assert _claim(bulk, "worker-a") == 1
    assert _claim(bulk, "worker-b") == 0
    bulk.refresh_from_db()
    assert (bulk.state, bulk.heartbeat_by, bulk.deliveries) == (BulkUpload.State.RUNNING, "worker-a", 1)
    assert bulk.started_at is not None


def test_a_worker_silent_past_the_limit_is_taken_over_and_the_first_start_kept(bulk):
    _claim(bulk, "worker-a")
    first_start = BulkUpload.objects.get().started_at
    BulkUpload.objects.filter(pk=bulk.pk).update(heartbeat_at=_ago(STALE_AFTER - 30))
    assert _claim(bulk, "worker-b") == 0
    BulkUpload.objects.filter(pk=bulk.pk).update(heartbeat_at=_ago(STALE_AFTER + 30))
    assert _claim(bulk, "worker-b") == 1
    bulk.refresh_from_db()
    assert (bulk.heartbeat_by, bulk.deliveries, bulk.started_at) == ("worker-b", 2, first_start)
    # The worker taken over no longer holds it: its heartbeat says so, and it stops.
    assert file_job_heartbeat(BulkUpload.objects.filter(pk=bulk.pk), worker="worker-a", rows_done=10) == 0
    assert file_job_heartbeat(BulkUpload.objects.filter(pk=bulk.pk), worker="worker-b", rows_done=10) == 1


def test_a_finished_or_failed_upload_is_never_claimed(bulk):
    _claim(bulk, "worker-a")
    assert file_job_finish(BulkUpload.objects.filter(pk=bulk.pk), worker="worker-a") == 1
    BulkUpload.objects.filter(pk=bulk.pk).update(heartbeat_at=_ago(STALE_AFTER * 10))
    assert _claim(bulk, "worker-b") == 0
    assert BulkUpload.objects.get().state == BulkUpload.State.DONE


def test_a_job_fails_with_its_reason_once(bulk):
    _claim(bulk, "worker-a")
    assert file_job_fail(BulkUpload.objects.filter(pk=bulk.pk), reason="The file is not UTF-8 " + "x" * 400) == 1
    bulk.refresh_from_db()
    assert bulk.state == BulkUpload.State.FAILED
    assert bulk.failure.startswith("The file is not UTF-8") and len(bulk.failure) == 300
    assert (bulk.heartbeat_at, bulk.heartbeat_by) == (None, "")
    assert bulk.finished_at is not None
    assert file_job_fail(BulkUpload.objects.filter(pk=bulk.pk), reason="again") == 0
    assert BulkUpload.objects.get().failure.startswith("The file is not UTF-8")
    assert file_job_finish(BulkUpload.objects.filter(pk=bulk.pk)) == 0


def test_the_stale_query_finds_running_uploads_with_no_sign_of_life(bulk, westminster):
    silent = bulk
    _claim(silent, "worker-a")
    long_ago = _ago(STALE_AFTER + 5)
    BulkUpload.objects.filter(pk=silent.pk).update(
        heartbeat_at=long_ago, progress_at=long_ago, started_at=long_ago, created_at=long_ago
    )
    busy = BulkUpload.objects.create(local_authority=westminster, uploaded_by=UserFactory(), sha256="1" * 64)
    _claim(busy, "worker-b")
    # Progress is a sign of life too, even when the last heartbeat is old.
    BulkUpload.objects.filter(pk=busy.pk).update(
        heartbeat_at=long_ago, started_at=long_ago, created_at=long_ago, progress_at=_ago(10)
    )
    BulkUpload.objects.create(local_authority=westminster, uploaded_by=UserFactory(), sha256="2" * 64)  # waiting
    assert [upload.pk for upload in bulk_uploads_stalled()] == [silent.pk]


def test_the_sweep_hands_a_stalled_upload_to_a_worker_which_finishes_it(
    manager_client, westminster, django_capture_on_commit_callbacks
):
    upload(manager_client, csv_bytes(GOOD_FILE))  # not processed: the callback is not run
    bulk = BulkUpload.objects.get()
    _claim(bulk, "lost-worker")
    BulkUpload.objects.filter(pk=bulk.pk).update(
        heartbeat_at=_ago(STALE_AFTER + 5), started_at=_ago(STALE_AFTER + 5), created_at=_ago(STALE_AFTER + 5)
    )
    assert bulk_uploads_stalled_sweep() == 1  # the eager task runs it here
    bulk.refresh_from_db()
    assert (bulk.state, bulk.rows_created, bulk.deliveries) == (BulkUpload.State.DONE, 2, 2)
    assert bulk_uploads_stalled_sweep() == 0


def test_a_worker_taken_over_mid_import_stops_and_records_no_outcome(
    manager_client, settings, django_capture_on_commit_callbacks
):
    settings.BULK_UPLOAD_BATCH_SIZE = 1
    upload(manager_client, csv_bytes(GOOD_FILE))
    bulk = BulkUpload.objects.get()
    original = intake_services.ChildImporter._write_batch

    def taken_over_after_first_batch(self, batch):
        original(self, batch)
        BulkUpload.objects.filter(pk=bulk.pk).update(heartbeat_by="the-new-holder")

    imported = AuditEvent.objects.filter(action=AuditEvent.Action.CHILDREN_IMPORTED)
    assert [event.details["stage"] for event in imported] == ["uploaded"]
    intake_services.ChildImporter._write_batch = taken_over_after_first_batch
    try:
        assert bulk_upload_process(upload_id=bulk.pk, worker="the-old-holder") is None
    finally:
        intake_services.ChildImporter._write_batch = original
    bulk.refresh_from_db()
    assert (bulk.state, bulk.heartbeat_by, bulk.rows_done) == (BulkUpload.State.RUNNING, "the-new-holder", 0)
    assert [event.details["stage"] for event in imported] == ["uploaded"]  # the outcome is the new holder's


def test_an_upload_started_too_many_times_is_failed_with_the_reason(bulk, settings):
    settings.BULK_UPLOAD_MAX_DELIVERIES = 2
    BulkUpload.objects.filter(pk=bulk.pk).update(deliveries=2)
    assert bulk_upload_process(upload_id=bulk.pk, worker="worker-a") is not None
    bulk.refresh_from_db()
    assert bulk.state == BulkUpload.State.FAILED
    assert bulk.failure == "Started 2 times without finishing: upload it again"
