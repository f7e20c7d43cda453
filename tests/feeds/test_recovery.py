"""Seconds, not minutes, to recover (issue 16, item 5): a worker holding a file beats; the
sweep hands out again, once, a file whose worker has stopped beating; a fresh heartbeat
keeps a second delivery off the file; a database error is retried without counting against
the file. The real faults (SIGKILL, Redis and PostgreSQL restarts) are in
tests/integration/test_feed_faults.py."""

import datetime

import pytest
from django.db import OperationalError
from django.utils import timezone

from feeds import ingestion, tasks
from feeds.ingestion import feed_file_ingest_run, stalled_files
from feeds.models import FeedFile
from feeds.tasks import feed_file_ingest, feeds_stalled_sweep
from tests.feeds.factories_feeds import death_row, deaths_file, receive

pytestmark = pytest.mark.django_db


def _running_file(*, heartbeat_seconds_ago: float | None, progress_seconds_ago: float = 600) -> FeedFile:
    # Distinct content each time: the same bytes twice would be one file (same SHA-256).
    first = FeedFile.objects.count() * 2 + 1
    feed_file = receive(deaths_file(death_row(entry_number=first), death_row(entry_number=first + 1))).feed_file
    now = timezone.now()
    FeedFile.objects.filter(pk=feed_file.pk).update(
        state=FeedFile.State.RUNNING,
        received_at=now - datetime.timedelta(hours=1),
        progress_at=now - datetime.timedelta(seconds=progress_seconds_ago),
        heartbeat_at=None if heartbeat_seconds_ago is None else now - datetime.timedelta(seconds=heartbeat_seconds_ago),
        heartbeat_by="" if heartbeat_seconds_ago is None else "the-first-worker",
        deliveries=1,
    )
    return FeedFile.objects.get(pk=feed_file.pk)


@pytest.fixture
def handed_out(monkeypatch):
    sent: list[str] = []
    monkeypatch.setattr(tasks.feed_file_ingest, "delay", sent.append)
    return sent


def test_a_file_whose_worker_stopped_beating_is_handed_out_once_however_many_sweeps_run(settings, handed_out):
    settings.FEEDS_STALLED_AFTER_SECONDS = 30
    dead = _running_file(heartbeat_seconds_ago=31)
    alive = _running_file(heartbeat_seconds_ago=2)  # a slow chunk: no progress for 10 minutes, but beating
    assert [feed_file.pk for feed_file in stalled_files()] == [dead.pk]
    assert feeds_stalled_sweep() == 1
    assert feeds_stalled_sweep() == 0  # claimed: the next hand-out waits another 30 s
    assert handed_out == [str(dead.pk)]
    assert alive.pk not in [feed_file.pk for feed_file in stalled_files()]
    # Still no sign of life 30 s after the hand-out (its message was lost too): handed out again.
    later = timezone.now() + datetime.timedelta(seconds=31)
    assert dead.pk in [feed_file.pk for feed_file in stalled_files(now=later)]


def test_the_sweep_hands_out_a_waiting_file_whose_message_was_lost(settings, handed_out):
    settings.FEEDS_STALLED_AFTER_SECONDS = 30
    waiting = receive(deaths_file(death_row())).feed_file
    assert feeds_stalled_sweep() == 0  # just received: its message is probably on its way
    FeedFile.objects.filter(pk=waiting.pk).update(received_at=timezone.now() - datetime.timedelta(seconds=31))
    assert feeds_stalled_sweep() == 1 and handed_out == [str(waiting.pk)]


def test_a_second_delivery_leaves_a_file_whose_worker_is_beating():
    feed_file = _running_file(heartbeat_seconds_ago=2)
    left = feed_file_ingest_run(feed_file_id=feed_file.pk, delivery="another-message")
    assert (left.state, left.lines_committed, left.deliveries) == ("running", 0, 1)
    # The same delivery retried (its own heartbeat) carries on.
    feed_file_ingest_run(feed_file_id=feed_file.pk, delivery="the-first-worker", retry=True)
    done = FeedFile.objects.get(pk=feed_file.pk)
    assert (done.state, done.rows_done, done.deliveries) == ("done", 2, 1)
    assert (done.heartbeat_at, done.heartbeat_by) == (None, "")  # cleared when the worker stops


def test_a_database_error_is_retried_at_once_and_does_not_count_against_the_file(monkeypatch):
    feed_file = receive(deaths_file(death_row(), death_row(entry_number=2))).feed_file
    real = ingestion._ingest_from_cursor
    calls: list[int] = []

    def postgres_restarting(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        return real(**kwargs)

    monkeypatch.setattr(ingestion, "_ingest_from_cursor", postgres_restarting)
    # Eager: the retry runs in place (its Retry is what the eager caller then sees).
    feed_file_ingest.apply(args=[str(feed_file.pk)], throw=False)
    done = FeedFile.objects.get(pk=feed_file.pk)
    assert len(calls) == 2
    assert (done.rows_done, done.rows_unmatched, done.deliveries) == (2, 2, 1)
