"""Files that cannot hurt the pipeline (issue 16, item 2): a bad inbox file never stops the
scan; a truncated or damaged file is failed with its reason, not retried for ever; a file
that keeps killing workers is failed after FEEDS_MAX_DELIVERIES; symlinks and stale hidden
names are refused; an operator can stop a file; failed files' copies are purged."""

import datetime
import gzip
import os
import time
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from feeds import tasks
from feeds.ingestion import feed_file_ingest_run
from feeds.models import FeedFile
from feeds.tasks import feed_failed_copies_purge, feeds_inbox_scan
from tests.factories import UserFactory
from tests.feeds.factories_feeds import death_row, deaths_file, gzipped, receive

pytestmark = pytest.mark.django_db


def _rows(count: int) -> bytes:
    return deaths_file(*(death_row(entry_number=n) for n in range(1, count + 1)))


def _header_then_garbage() -> bytes:
    # A gzip member header followed by bytes that are no deflate stream: zlib.error on read.
    return gzip.compress(b"")[:10] + b"\xff" * 64


def test_a_gzip_whose_stream_fails_is_refused_and_the_scan_goes_on(settings, django_capture_on_commit_callbacks):
    inbox = Path(settings.FEEDS_INBOX_DIR)
    (inbox / "a-bad.csv.gz").write_bytes(_header_then_garbage())
    (inbox / "b-good.csv").write_bytes(_rows(2))
    with django_capture_on_commit_callbacks(execute=True):
        assert feeds_inbox_scan() == 1
    assert (inbox / "refused" / "a-bad.csv.gz").exists()
    assert "cannot be read" in (inbox / "refused" / "a-bad.csv.gz.reason.txt").read_text()
    assert FeedFile.objects.get().original_name == "b-good.csv"


def test_an_unexpected_error_with_one_inbox_file_refuses_that_file_only(settings, monkeypatch):
    inbox = Path(settings.FEEDS_INBOX_DIR)
    (inbox / "a.csv").write_bytes(_rows(1))
    (inbox / "b.csv").write_bytes(_rows(2))
    real = tasks.feed_file_receive

    def flaky(**kwargs):
        if kwargs["original_name"] == "a.csv":
            raise MemoryError
        return real(**kwargs)

    monkeypatch.setattr(tasks, "feed_file_receive", flaky)
    assert feeds_inbox_scan() == 1
    assert "MemoryError" in (inbox / "refused" / "a.csv.reason.txt").read_text()


def _truncated_gzip() -> bytes:
    whole = gzipped(_rows(200))
    return whole[: len(whole) // 2]


def _bad_crc_gzip() -> bytes:
    whole = bytearray(gzipped(_rows(20)))
    whole[-8] ^= 0xFF  # the CRC-32 in the trailer
    return bytes(whole)


@pytest.mark.parametrize("content", [_truncated_gzip(), _bad_crc_gzip()], ids=["truncated", "bad-crc"])
def test_a_damaged_gzip_is_failed_with_its_reason_and_not_retried(content):
    receipt = receive(content, name="deaths.csv.gz")
    feed_file = feed_file_ingest_run(feed_file_id=receipt.feed_file.pk)
    assert feed_file.state == FeedFile.State.FAILED
    assert "cannot be read" in feed_file.failure
    assert AuditEvent.objects.filter(action=AuditEvent.Action.FEED_FILE_FAILED).count() == 1
    again = feed_file_ingest_run(feed_file_id=feed_file.pk)
    assert again.state == FeedFile.State.FAILED and again.deliveries == feed_file.deliveries
    assert AuditEvent.objects.filter(action=AuditEvent.Action.FEED_FILE_FAILED).count() == 1


def test_a_broker_or_network_error_while_a_file_ingests_does_not_fail_the_file(settings, monkeypatch):
    # A chunk committed, then something that is not the file failed with an OSError (the
    # broker refusing a connection, as when Redis restarts): the file is not damaged and
    # must be resumed, not failed as unreadable.
    settings.FEEDS_CHUNK_SIZE = 2

    def broker_down(feed_file_id, chunks_committed):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("feeds.ingestion.after_chunk", broker_down)
    receipt = receive(_rows(5))
    with pytest.raises(ConnectionRefusedError):
        feed_file_ingest_run(feed_file_id=receipt.feed_file.pk)
    feed_file = FeedFile.objects.get(pk=receipt.feed_file.pk)
    assert feed_file.state != FeedFile.State.FAILED and feed_file.lines_committed == 2
    monkeypatch.setattr("feeds.ingestion.after_chunk", lambda *args: None)
    resumed = feed_file_ingest_run(feed_file_id=feed_file.pk)
    assert resumed.state == FeedFile.State.DONE and resumed.lines_committed == 5


def test_a_file_delivered_too_often_without_finishing_is_failed(settings):
    settings.FEEDS_MAX_DELIVERIES = 3
    receipt = receive(_rows(2))
    # Three workers took it and died before finishing.
    FeedFile.objects.filter(pk=receipt.feed_file.pk).update(deliveries=3)
    feed_file = feed_file_ingest_run(feed_file_id=receipt.feed_file.pk)
    assert feed_file.state == FeedFile.State.FAILED
    assert "Started 3 times without finishing" in feed_file.failure
    assert feed_file.lines_committed == 0


def test_a_file_is_counted_each_time_a_worker_starts_it():
    receipt = receive(_rows(2))
    feed_file = feed_file_ingest_run(feed_file_id=receipt.feed_file.pk)
    assert feed_file.state == FeedFile.State.DONE and feed_file.deliveries == 1


def test_a_symlink_in_the_inbox_is_refused_and_not_followed(settings, tmp_path):
    inbox = Path(settings.FEEDS_INBOX_DIR)
    target = tmp_path / "secret.csv"
    target.write_bytes(_rows(1))
    (inbox / "link.csv").symlink_to(target)
    assert feeds_inbox_scan() == 0
    assert not FeedFile.objects.exists()
    assert "symbolic link" in (inbox / "refused" / "link.csv.reason.txt").read_text()
    assert target.exists()


def test_a_stale_hidden_file_is_refused_but_a_fresh_one_is_left_to_finish_arriving(settings):
    inbox = Path(settings.FEEDS_INBOX_DIR)
    (inbox / ".fresh.csv").write_bytes(_rows(1))
    stale = inbox / ".stale.csv"
    stale.write_bytes(_rows(1))
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    assert feeds_inbox_scan() == 0
    assert (inbox / ".fresh.csv").exists()
    assert "hidden name" in (inbox / "refused" / "stale.csv.reason.txt").read_text()


@pytest.fixture
def operator():
    return UserFactory(organisation=None, local_authority=None, roles=[Role.FEED_OPERATOR])


def test_an_operator_stops_a_file_after_confirming_and_it_is_audited(client, operator):
    receipt = receive(_rows(3))
    client.force_login(operator)
    url = f"/feeds/files/{receipt.feed_file.pk}/stop/"
    page = client.get(url)
    assert page.status_code == 200 and "This cannot be undone" in page.content.decode()
    assert FeedFile.objects.get().state == FeedFile.State.WAITING  # asking changes nothing
    response = client.post(url)
    assert response.status_code == 302
    feed_file = FeedFile.objects.get()
    assert feed_file.state == FeedFile.State.FAILED and feed_file.failure == "Stopped by a feed operator"
    event = AuditEvent.objects.get(action=AuditEvent.Action.FEED_FILE_STOPPED)
    assert event.actor == operator
    # A worker that picks it up afterwards ingests nothing.
    assert feed_file_ingest_run(feed_file_id=feed_file.pk).lines_committed == 0


def test_only_feed_operators_can_stop_a_file(client, westminster):
    receipt = receive(_rows(1))
    client.force_login(UserFactory(roles=[Role.PRACTITIONER], local_authority=westminster))
    assert client.post(f"/feeds/files/{receipt.feed_file.pk}/stop/").status_code == 403
    assert FeedFile.objects.get().state == FeedFile.State.WAITING


def test_the_stored_copy_of_a_failed_file_is_deleted_after_the_retention_period(settings):
    receipt = receive(_truncated_gzip(), name="deaths.csv.gz")
    feed_file = feed_file_ingest_run(feed_file_id=receipt.feed_file.pk)
    stored = Path(feed_file.stored_path)
    assert stored.exists()
    assert feed_failed_copies_purge() == 0  # kept while someone may investigate
    FeedFile.objects.filter(pk=feed_file.pk).update(
        finished_at=timezone.now() - datetime.timedelta(days=settings.FEEDS_FAILED_RETENTION_DAYS + 1)
    )
    assert feed_failed_copies_purge() == 1
    assert not stored.exists()
    assert feed_failed_copies_purge() == 0
