import datetime
from pathlib import Path

import pytest
from django.core import mail

from accounts.roles import Role
from audit.actor import Actor, Channel
from audit.models import AuditEvent
from feeds import ingestion
from feeds.ingestion import _chunk_commit, _Context, feed_file_ingest_run
from feeds.models import FeedFile, FeedMatch, QuarantinedRow, Registration
from feeds.services import FeedRefused
from registry.models import Child, Notification
from tests.factories import ChildFactory, InvolvementFactory, ProtectionStatusFactory, UserFactory, nhs_number_for
from tests.feeds.factories_feeds import death_row, deaths_file, gzipped, ingest, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def child(westminster):
    child = ChildFactory(
        responsible_local_authority=westminster, nhs_number=nhs_number_for(1), date_of_birth=datetime.date(2019, 4, 12),
        family_name="Vexborough",  # no email text contains it, so "not in the email" is a real check
    )  # fmt: skip
    ProtectionStatusFactory(child=child)
    return child


def mixed_file(child: Child) -> bytes:
    return deaths_file(
        death_row(entry_number=1, nhs_number=child.nhs_number),  # applied
        death_row(entry_number=2, date_of_birth="1940-01-01"),  # out of scope
        death_row(entry_number=3, nhs_number="9434765918"),  # quarantined: check digit
        death_row(entry_number=4, forenames="Someone", surname="Else"),  # unmatched
        b"Westminster,\xff\xfe,5\n",  # quarantined: bytes
        death_row(entry_number=6, date_of_death="2031-01-01"),  # quarantined: future
    )


def test_a_file_is_ingested_with_every_line_accounted_for(child, westminster, django_capture_on_commit_callbacks):
    practitioner = UserFactory(roles=[Role.PRACTITIONER])
    InvolvementFactory(child=child, practitioner=practitioner)
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    with django_capture_on_commit_callbacks(execute=True):
        feed_file = ingest(mixed_file(child))
    assert feed_file.state == FeedFile.State.DONE
    assert (feed_file.rows_total, feed_file.rows_done) == (6, 6)
    assert (feed_file.rows_applied, feed_file.rows_unmatched, feed_file.rows_out_of_scope) == (1, 1, 1)
    assert feed_file.rows_quarantined == 3
    assert list(QuarantinedRow.objects.values_list("line_number", "reason")) == [
        (4, "nhs_number: Enter a valid NHS number: the last digit does not match — check it for typing errors"),
        (6, "contains bytes that are not UTF-8 text"),
        (7, "date_of_death is in the future"),
    ]
    child.refresh_from_db()
    assert child.date_of_death == datetime.date(2026, 11, 1)
    told = set(Notification.objects.filter(kind=Notification.Kind.DEATH_REGISTERED).values_list("recipient", flat=True))
    assert told == {practitioner.pk, manager.pk}
    assert sorted(message.to[0] for message in mail.outbox) == sorted([practitioner.email, manager.email])
    assert all(child.family_name not in message.body for message in mail.outbox)
    recorded = AuditEvent.objects.get(action="child_death_recorded")
    assert recorded.register_ids == [child.register_id] and recorded.channel == "feed"
    assert AuditEvent.objects.filter(action="feed_records_matched", register_ids=[child.register_id]).exists()
    assert AuditEvent.objects.filter(action="feed_file_ingested").count() == 1
    assert Registration.objects.count() == 2  # out-of-scope and quarantined rows leave nothing behind


def test_the_stored_copy_is_deleted_once_ingested(child, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ingest(mixed_file(child))
    assert list(Path(settings.FEEDS_STORE_DIR).iterdir()) == []


def test_the_same_file_again_is_a_no_op_with_a_clear_message(child, django_capture_on_commit_callbacks):
    content = mixed_file(child)
    with django_capture_on_commit_callbacks(execute=True):
        first = ingest(content)
        again = receive(content)
    assert again.repeated and again.feed_file.pk == first.pk
    assert "already received" in again.message and "Nothing was done" in again.message
    assert FeedFile.objects.count() == 1
    assert AuditEvent.objects.filter(action="child_death_recorded").count() == 1


def test_the_same_rows_in_another_file_are_duplicates_and_change_nothing(child, westminster):
    UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    ingest(mixed_file(child))
    notified = Notification.objects.count()
    second = ingest(mixed_file(child) + death_row(entry_number=7, surname="Newrow").encode(), name="deaths-2.csv")
    assert second.rows_duplicate == 2  # entries 1 and 4
    assert (second.rows_applied, second.rows_unmatched) == (0, 1)
    assert Notification.objects.count() == notified
    assert AuditEvent.objects.filter(action="child_death_recorded").count() == 1
    assert Registration.objects.count() == 3


def test_a_gzip_file_is_read_the_same(child):
    feed_file = ingest(gzipped(mixed_file(child)), name="deaths.csv.gz")
    assert feed_file.is_gzip and feed_file.rows_applied == 1 and feed_file.rows_quarantined == 3


def test_a_file_over_the_size_limit_is_refused_before_anything_is_stored(settings, child):
    settings.FEEDS_MAX_FILE_BYTES = 100
    with pytest.raises(FeedRefused, match="larger than the limit"):
        receive(mixed_file(child))
    assert not FeedFile.objects.exists()
    store = Path(settings.FEEDS_STORE_DIR)
    assert not store.exists() or not any(store.iterdir())


def test_a_file_that_is_not_a_gro_file_is_refused(settings):
    with pytest.raises(FeedRefused, match="not that of a GRO deaths or births file"):
        receive(b"name,dob\nAmelia,2019-04-12\n")
    assert not FeedFile.objects.exists()


class WorkerKilled(Exception):
    pass


def test_a_worker_dying_mid_file_loses_nothing_and_applies_nothing_twice(settings, monkeypatch, westminster):
    settings.FEEDS_CHUNK_SIZE = 3
    children = [
        ChildFactory(responsible_local_authority=westminster, nhs_number=nhs_number_for(n), date_of_birth="2019-04-12")
        for n in range(1, 11)
    ]
    rows = [death_row(entry_number=n, nhs_number=child.nhs_number) for n, child in enumerate(children, start=1)]
    rows += [death_row(entry_number=100, nhs_number="1"), death_row(entry_number=101, date_of_birth="1950-01-01")]
    receipt = receive(deaths_file(*rows))

    def die_after_two_chunks(feed_file_id, chunks):
        if chunks == 2:
            raise WorkerKilled

    monkeypatch.setattr(ingestion, "after_chunk", die_after_two_chunks)
    with pytest.raises(WorkerKilled):
        feed_file_ingest_run(feed_file_id=receipt.feed_file.pk)
    halfway = FeedFile.objects.get(pk=receipt.feed_file.pk)
    assert (halfway.state, halfway.lines_committed, halfway.rows_applied) == ("running", 6, 6)
    assert Child.objects.filter(date_of_death__isnull=False).count() == 6

    monkeypatch.setattr(ingestion, "after_chunk", lambda feed_file_id, chunks: None)
    done = feed_file_ingest_run(feed_file_id=receipt.feed_file.pk)
    assert done is not None and done.state == "done"
    assert (done.rows_done, done.rows_applied, done.rows_quarantined, done.rows_out_of_scope) == (12, 10, 1, 1)
    assert done.rows_duplicate == 0
    assert Child.objects.filter(date_of_death__isnull=False).count() == 10
    assert AuditEvent.objects.filter(action="child_death_recorded").count() == 10
    assert FeedMatch.objects.count() == 10 and Registration.objects.count() == 10
    # And once done, running it again does nothing.
    assert feed_file_ingest_run(feed_file_id=receipt.feed_file.pk).rows_applied == 10


def test_a_second_worker_with_a_stale_cursor_commits_nothing(child):
    receipt = receive(mixed_file(child))
    FeedFile.objects.filter(pk=receipt.feed_file.pk).update(state="running", rows_total=6, lines_committed=3)
    context = _Context(
        event_type="death",
        today=datetime.date(2026, 11, 23),
        born_after=datetime.date(2007, 11, 23),
        by=Actor.system(channel=Channel.FEED),
    )
    chunk = [(2, death_row(entry_number=1, nhs_number=child.nhs_number).encode())]
    assert _chunk_commit(feed_file_id=receipt.feed_file.pk, cursor=0, chunk=chunk, context=context) is False
    child.refresh_from_db()
    assert child.date_of_death is None
    assert FeedFile.objects.get(pk=receipt.feed_file.pk).lines_committed == 3


def test_the_upload_task_runs_on_commit(child, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        receipt = receive(mixed_file(child), enqueue=True)
    assert FeedFile.objects.get(pk=receipt.feed_file.pk).state == "done"


def test_a_gzip_bomb_is_failed_with_the_reason_and_never_read_in_full(settings):
    settings.FEEDS_MAX_DECOMPRESSED_BYTES = 1024 * 1024
    # 64 MB of short, well-formed lines in about 200 KB of gzip.
    line = (",".join(["x"] * 10) + "\n").encode()
    bomb = gzipped(deaths_file(*([line] * (64 * 1024 * 1024 // len(line)))))
    assert len(bomb) < 400 * 1024
    feed_file = ingest(bomb, name="deaths.csv.gz")
    assert feed_file.state == FeedFile.State.FAILED
    assert "larger than 1 MB once decompressed" in feed_file.failure
    event = AuditEvent.objects.filter(action=AuditEvent.Action.FEED_FILE_FAILED).latest("id")
    assert "FEEDS_MAX_DECOMPRESSED_BYTES" in event.details["reason"]


def test_a_very_long_line_fails_the_file_without_holding_the_line(settings):
    import tracemalloc

    # One 100 MB line with no line break, about 100 KB of gzip.
    bomb = gzipped(deaths_file(b"x" * (100 * 1024 * 1024)))
    receipt = receive(bomb, name="deaths.csv.gz")
    tracemalloc.start()
    try:
        feed_file = feed_file_ingest_run(feed_file_id=receipt.feed_file.pk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert feed_file.state == FeedFile.State.FAILED
    assert "Line 2 is longer than 65,536 bytes" in feed_file.failure
    assert peak < 16 * 1024 * 1024  # the worker held a bounded piece, not the 100 MB line
