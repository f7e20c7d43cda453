"""Background work for the GRO feeds. Tasks take ids and are safe to run twice."""

import logging
import time
from pathlib import Path
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from audit.actor import Actor, Channel
from feeds.dashboard import feed_figures_refresh
from feeds.ingestion import feed_file_ingest_run, stalled_file_claim, stalled_files
from feeds.models import FeedFile
from feeds.services import FeedRefused, failed_copies_purge, feed_file_receive

logger = logging.getLogger(__name__)

# Names a file may have in the inbox; anything else (".part", hidden files) is still arriving.
INBOX_SUFFIXES = (".csv", ".csv.gz")


# A database restart or a dropped connection is not the file's fault: the task is retried
# after 1, 2, 4 ... at most 16 s (Celery's backoff with jitter), from the cursor.
_CONNECTION_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=_CONNECTION_ERRORS,
    retry_backoff=1,
    retry_backoff_max=16,
    max_retries=12,
)
def feed_file_ingest(self: "Task[Any, Any]", feed_file_id: str) -> str:
    """Ingest a received file from its cursor to the end. Returns the file's state."""
    try:
        feed_file = feed_file_ingest_run(
            feed_file_id=feed_file_id, delivery=self.request.id or "", retry=bool(self.request.retries)
        )
    except SoftTimeLimitExceeded:
        # The chunk in hand rolled back; the cursor says where the next task starts.
        feed_file_ingest.delay(feed_file_id)
        return "continued"
    return feed_file.state if feed_file else "unknown"


@shared_task(acks_late=True)
def feeds_inbox_scan() -> int:
    """Receive every file waiting in FEEDS_INBOX_DIR, and hand stalled files to a worker
    again. A received or repeated file leaves the inbox; a refused one moves to `refused/`
    beside a note of why. One bad file never stops the scan: whatever goes wrong with it,
    it is refused and the scan goes on to the next file and to the stalled-file sweep.
    Returns the number of files received."""
    inbox = Path(settings.FEEDS_INBOX_DIR)
    received = 0
    if inbox.is_dir():
        for path in sorted(inbox.iterdir()):
            refusal = _inbox_name_refusal(path)
            if refusal == "":
                continue
            if refusal:
                _inbox_file_refuse(path, refusal)
                continue
            received += _inbox_file_receive(path)
    feeds_stalled_sweep()
    return received


@shared_task(acks_late=True, ignore_result=True)
def feeds_stalled_sweep() -> int:
    """Beat, every FEEDS_SWEEP_EVERY_SECONDS (and after each inbox scan): hand out again
    every file whose worker has shown no sign of life for FEEDS_STALLED_AFTER_SECONDS.
    Each file is claimed first, so two sweeps send one message. Returns how many."""
    handed_out = 0
    for feed_file in stalled_files():
        if not stalled_file_claim(feed_file_id=feed_file.pk):
            continue
        logger.warning("feed file %s stalled; handing it to a worker again", feed_file.pk)
        feed_file_ingest.delay(str(feed_file.pk))
        handed_out += 1
    return handed_out


def _inbox_name_refusal(path: Path) -> str | None:
    """Why an inbox entry is refused without being read; "" to leave it alone for now (a
    file still being copied in, or a folder); None to receive it."""
    if path.is_symlink():
        # Never followed: a link could point the worker at any file on the machine.
        return "a symbolic link: inbox files must be regular files"
    if not path.is_file():
        return ""
    if path.name.startswith("."):
        age = time.time() - path.stat().st_mtime
        # Copy tools write under a hidden name and rename when done; one left this long is not arriving.
        return (
            f"a hidden name (starts with '.'), untouched for {int(age)} s"
            if age > settings.FEEDS_INBOX_HIDDEN_GRACE_SECONDS
            else ""
        )
    if not path.name.endswith(INBOX_SUFFIXES):
        return ""
    return None


def _inbox_file_refuse(path: Path, reason: object) -> None:
    refused_dir = path.parent / "refused"
    refused_dir.mkdir(exist_ok=True)
    name = path.name.lstrip(".") or "unnamed"
    path.rename(refused_dir / name)
    (refused_dir / f"{name}.reason.txt").write_text(f"{reason}\n", encoding="utf-8")
    logger.warning("inbox file refused: %s", reason)


def _inbox_file_receive(path: Path) -> int:
    try:
        size = path.stat().st_size
        if size > settings.FEEDS_MAX_FILE_BYTES:
            # Refused before a byte of it is read.
            raise FeedRefused(f"larger than FEEDS_MAX_FILE_BYTES ({size} bytes)")
        with path.open("rb") as stream:
            receipt = feed_file_receive(
                stream=stream,
                size=size,
                original_name=path.name,
                source=FeedFile.Source.INBOX,
                by=Actor.system(channel=Channel.FEED),
            )
    except FeedRefused as refused:
        _inbox_file_refuse(path, refused)
        return 0
    except Exception as error:
        logger.exception("inbox file could not be received")
        _inbox_file_refuse(path, f"could not be received ({type(error).__name__}); see the worker's log")
        return 0
    path.unlink(missing_ok=True)
    if receipt.repeated:
        logger.info("inbox file was received before (feed file %s): nothing done", receipt.feed_file.pk)
        return 0
    return 1


@shared_task(acks_late=True)
def feed_failed_copies_purge() -> int:
    """Daily (beat): delete stored copies of files failed more than
    FEEDS_FAILED_RETENTION_DAYS ago. Safe to run twice."""
    return failed_copies_purge()


@shared_task(acks_late=True)
def dashboard_feed_figures_refresh() -> None:
    """Recount the feed figures of the register dashboard (feeds.dashboard). Safe to run twice."""
    feed_figures_refresh()
