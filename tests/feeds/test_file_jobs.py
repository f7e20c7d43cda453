"""A GRO feed file is a file job (registry.models.FileJob), claimed, taken over and failed
by the same operations as a bulk upload (tests/registry/test_file_jobs.py): of two workers
one wins, a worker gone silent is taken over from the cursor, a failure keeps its reason."""

import datetime

import pytest
from django.utils import timezone

from audit.actor import Actor, Channel
from feeds import ingestion
from feeds.ingestion import feed_file_ingest_run
from feeds.models import FeedFile
from feeds.services import feed_file_fail
from registry.file_jobs.services import file_job_claim
from tests.feeds.factories_feeds import death_row, deaths_file, receive

pytestmark = pytest.mark.django_db

STALE_AFTER = 20


@pytest.fixture(autouse=True)
def _stale_after(settings):
    settings.FEEDS_STALLED_AFTER_SECONDS = STALE_AFTER
    settings.FEEDS_CHUNK_SIZE = 1


@pytest.fixture
def feed_file():
    rows = [death_row(entry_number=n) for n in range(1, 4)]
    return receive(deaths_file(*rows)).feed_file


def _claim(feed_file, worker):
    return file_job_claim(FeedFile.objects.filter(pk=feed_file.pk), worker=worker, stale_after=STALE_AFTER)


def test_of_two_workers_claiming_a_feed_file_one_wins(feed_file):
    assert _claim(feed_file, "delivery-a") == 1
    assert _claim(feed_file, "delivery-b") == 0
    feed_file.refresh_from_db()
    assert (feed_file.state, feed_file.heartbeat_by, feed_file.deliveries) == ("running", "delivery-a", 1)
    # The loser, run as a whole ingestion, leaves the file to the holder and counts nothing.
    left = feed_file_ingest_run(feed_file_id=feed_file.pk, delivery="delivery-b")
    assert (left.state, left.lines_committed, left.deliveries, left.heartbeat_by) == ("running", 0, 1, "delivery-a")


def test_a_feed_file_whose_worker_went_silent_is_taken_over_from_its_cursor(feed_file, monkeypatch):
    def killed_after_first_chunk(feed_file_id, chunks):
        raise SystemExit("worker killed")  # neither finishes nor lets go: its heartbeat stays

    monkeypatch.setattr(ingestion, "after_chunk", killed_after_first_chunk)
    with pytest.raises(SystemExit):
        feed_file_ingest_run(feed_file_id=feed_file.pk, delivery="the-lost-worker")
    monkeypatch.undo()
    FeedFile.objects.filter(pk=feed_file.pk).update(heartbeat_by="the-lost-worker", heartbeat_at=timezone.now())
    lost = FeedFile.objects.get(pk=feed_file.pk)
    assert (lost.state, lost.lines_committed, lost.heartbeat_by) == ("running", 1, "the-lost-worker")

    assert feed_file_ingest_run(feed_file_id=feed_file.pk, delivery="the-next").lines_committed == 1  # fresh: left
    FeedFile.objects.filter(pk=feed_file.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=STALE_AFTER + 1)
    )
    done = feed_file_ingest_run(feed_file_id=feed_file.pk, delivery="the-next")
    assert (done.state, done.lines_committed, done.rows_unmatched, done.deliveries) == ("done", 3, 3, 2)
    assert (done.heartbeat_at, done.heartbeat_by) == (None, "")


def test_a_feed_file_fails_with_its_reason_once(feed_file):
    _claim(feed_file, "delivery-a")
    failed = feed_file_fail(
        feed_file_id=feed_file.pk, reason="The file cannot be read " + "x" * 400, by=Actor.system(channel=Channel.FEED)
    )
    assert failed.state == FeedFile.State.FAILED
    assert failed.failure.startswith("The file cannot be read") and len(failed.failure) == 300
    assert (failed.heartbeat_at, failed.heartbeat_by) == (None, "")
    assert (
        feed_file_fail(feed_file_id=feed_file.pk, reason="again", by=Actor.system(channel=Channel.FEED)).failure
        == failed.failure
    )
    assert _claim(feed_file, "delivery-b") == 0  # a failed file is never claimed again
