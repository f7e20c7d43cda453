import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from feeds.models import FeedFile
from feeds.tasks import feeds_inbox_scan
from registry.identity import NHS_NUMBER_SHAPE
from tests.feeds.factories_feeds import death_row, deaths_file, gzipped

pytestmark = pytest.mark.django_db


def test_files_in_the_inbox_are_received_and_ingested(settings, django_capture_on_commit_callbacks):
    inbox = Path(settings.FEEDS_INBOX_DIR)
    (inbox / "deaths-1.csv").write_bytes(deaths_file(death_row(), death_row(entry_number=2)))
    (inbox / "deaths-2.csv.gz").write_bytes(gzipped(deaths_file(death_row(entry_number=3))))
    (inbox / "deaths-3.csv.part").write_bytes(b"still arriving")
    with django_capture_on_commit_callbacks(execute=True):
        assert feeds_inbox_scan() == 2
    assert sorted(path.name for path in inbox.iterdir()) == ["deaths-3.csv.part"]
    files = FeedFile.objects.order_by("original_name")
    assert [(f.original_name, f.source, f.state, f.rows_done) for f in files] == [
        ("deaths-1.csv", "inbox", "done", 2),
        ("deaths-2.csv.gz", "inbox", "done", 1),
    ]


def test_a_repeated_file_leaves_the_inbox_and_a_refused_one_is_set_aside_with_its_reason(settings):
    inbox = Path(settings.FEEDS_INBOX_DIR)
    content = deaths_file(death_row())
    (inbox / "a.csv").write_bytes(content)
    assert feeds_inbox_scan() == 1
    (inbox / "a-again.csv").write_bytes(content)
    (inbox / "not-gro.csv").write_bytes(b"hello,world\n")
    assert feeds_inbox_scan() == 0
    assert FeedFile.objects.count() == 1
    assert sorted(path.name for path in inbox.iterdir()) == ["refused"]
    reason = (inbox / "refused" / "not-gro.csv.reason.txt").read_text()
    assert "not that of a GRO deaths or births file" in reason


def test_an_inbox_file_over_the_limit_is_refused_unread(settings):
    settings.FEEDS_MAX_FILE_BYTES = 10
    inbox = Path(settings.FEEDS_INBOX_DIR)
    (inbox / "big.csv").write_bytes(deaths_file(death_row()))
    assert feeds_inbox_scan() == 0
    assert (inbox / "refused" / "big.csv").exists() and not FeedFile.objects.exists()


def test_a_stalled_file_is_handed_to_a_worker_again(settings, django_capture_on_commit_callbacks):
    inbox = Path(settings.FEEDS_INBOX_DIR)
    (inbox / "a.csv").write_bytes(deaths_file(death_row(), death_row(entry_number=2)))
    feeds_inbox_scan()  # received; its task is lost (on-commit callbacks not run)
    feed_file = FeedFile.objects.get()
    assert feed_file.state == "waiting"
    FeedFile.objects.filter(pk=feed_file.pk).update(received_at=timezone.now() - datetime.timedelta(hours=1))
    feeds_inbox_scan()
    assert FeedFile.objects.get().state == "done"


def test_the_command_ingests_a_file_and_says_what_happened(tmp_path):
    path = tmp_path / "deaths.csv"
    path.write_bytes(deaths_file(death_row(), death_row(entry_number=2, nhs_number="123")))
    out = StringIO()
    call_command("ingest_feed", str(path), stdout=out)
    text = out.getvalue()
    assert "Finished: 2 of 2 rows" in text and "1 rejected" in text
    assert f"line 3: nhs_number: {NHS_NUMBER_SHAPE}" in text
    out = StringIO()
    call_command("ingest_feed", str(path), stdout=out)
    assert "already received" in out.getvalue() and "Nothing was done" in out.getvalue()
    assert FeedFile.objects.get().source == "command"


def test_the_command_refuses_what_it_cannot_take(tmp_path, settings):
    with pytest.raises(CommandError, match="No file"):
        call_command("ingest_feed", str(tmp_path / "missing.csv"))
    path = tmp_path / "deaths.csv"
    path.write_bytes(deaths_file(death_row()))
    settings.FEEDS_MAX_FILE_BYTES = 5
    with pytest.raises(CommandError, match="Refused: The file is larger than the limit"):
        call_command("ingest_feed", str(path))
