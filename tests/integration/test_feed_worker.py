"""A real Celery worker ingesting a deaths file is killed (SIGKILL) part-way through; the
beat sweep hands the file to a second worker, which finishes it. Afterwards every line is
accounted for exactly once: nothing lost, nothing applied twice."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from feeds.models import FeedFile, FeedMatch, Registration
from registry.models import Child, Notification
from signposting.celery import app
from tests.factories import ChildFactory, UserFactory, nhs_number_for
from tests.feeds.factories_feeds import death_row, deaths_file, receive

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]
ROOT = Path(__file__).resolve().parents[2]
CHILDREN = 40
UNMATCHED = 4000
QUARANTINED = 25
OUT_OF_SCOPE = 300


@pytest.fixture(autouse=True)
def _needs_a_shared_database():
    if connection.vendor == "sqlite":
        pytest.skip("the SQLite test database is in memory, so a worker process cannot share it: run on PostgreSQL")


def start_worker(name: str, log: Path, **extra_env: str) -> subprocess.Popen[bytes]:
    # The worker must use the test database, not the one DATABASE_URL names.
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "signposting.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "False",
        "DATABASE_URL": url,
        "FEEDS_CHUNK_SIZE": "100",
        **extra_env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "signposting", "worker", "--pool=solo", "--loglevel=WARNING",
         f"--hostname={name}-{os.getpid()}@%h", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def wait_for(condition, *, worker: subprocess.Popen[bytes], log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        assert worker.poll() is None, log.read_text(errors="replace")
        time.sleep(0.05)
    raise AssertionError(f"timed out; worker log:\n{log.read_text(errors='replace')}")


def test_a_worker_killed_mid_file_is_finished_by_another_with_exact_counts(tmp_path, settings, westminster):
    today = timezone.localdate()
    died = today - datetime.timedelta(days=20)
    registered = today - datetime.timedelta(days=10)
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    children = [
        ChildFactory(responsible_local_authority=westminster, nhs_number=nhs_number_for(n), date_of_birth="2015-06-01")
        for n in range(1, CHILDREN + 1)
    ]
    common = {"date_of_death": died, "registration_date": registered, "date_of_birth": "2015-06-01"}
    rows = [f"{death_row(entry_number=n, surname=f'Nobody{n}', **common)}" for n in range(1, UNMATCHED + 1)]
    rows += [death_row(entry_number=10000 + n, date_of_birth="1950-01-01") for n in range(OUT_OF_SCOPE)]
    rows += [death_row(entry_number=20000 + n, **{**common, "date_of_death": "bad"}) for n in range(QUARANTINED)]
    # The children's deaths spread through the file, so some land after the kill.
    for index, child in enumerate(children):
        rows.insert(index * 100, death_row(entry_number=30000 + index, nhs_number=child.nhs_number, **common))
    feed_file = receive(deaths_file(*rows), enqueue=False).feed_file
    total = len(rows)

    first_log, second_log = tmp_path / "worker-1.log", tmp_path / "worker-2.log"
    first = start_worker("feeds-first", first_log)
    try:
        app.send_task("feeds.tasks.feed_file_ingest", args=[str(feed_file.pk)])
        wait_for(lambda: FeedFile.objects.get(pk=feed_file.pk).lines_committed >= 500, worker=first, log=first_log)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    halfway = FeedFile.objects.get(pk=feed_file.pk)
    assert halfway.state == "running" and 500 <= halfway.lines_committed < total, "killed too late to test resuming"

    time.sleep(1.1)  # older than the stall threshold below
    second = start_worker("feeds-second", second_log, FEEDS_STALLED_AFTER_SECONDS="1")
    try:
        app.send_task("feeds.tasks.feeds_inbox_scan")  # beat's sweep finds the stalled file
        wait_for(lambda: FeedFile.objects.get(pk=feed_file.pk).state == "done", worker=second, log=second_log)
    finally:
        second.terminate()
        second.wait(timeout=20)

    done = FeedFile.objects.get(pk=feed_file.pk)
    assert (done.rows_total, done.rows_done) == (total, total)
    assert done.rows_applied == CHILDREN
    assert done.rows_unmatched == UNMATCHED
    assert done.rows_out_of_scope == OUT_OF_SCOPE
    assert done.rows_quarantined == QUARANTINED == done.quarantined_rows.count()
    assert (done.rows_duplicate, done.rows_for_review) == (0, 0)
    assert Registration.objects.count() == CHILDREN + UNMATCHED
    assert Child.objects.filter(date_of_death=died).count() == CHILDREN
    assert FeedMatch.objects.filter(state="applied").count() == CHILDREN
    assert AuditEvent.objects.filter(action="child_death_recorded").count() == CHILDREN
    assert Notification.objects.filter(recipient=manager, kind="death_registered").count() == CHILDREN
