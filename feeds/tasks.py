"""Background work for the GRO feeds. Tasks take ids and are safe to run twice."""

import logging
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from feeds.ingestion import feed_file_ingest_run, stalled_files
from feeds.models import FeedFile
from feeds.services import FeedRefused, feed_file_receive

logger = logging.getLogger(__name__)

# Names a file may have in the inbox; anything else (".part", hidden files) is still arriving.
INBOX_SUFFIXES = (".csv", ".csv.gz")


@shared_task(acks_late=True, reject_on_worker_lost=True)
def feed_file_ingest(feed_file_id: str) -> str:
    """Ingest a received file from its cursor to the end. Returns the file's state."""
    try:
        feed_file = feed_file_ingest_run(feed_file_id=feed_file_id)
    except SoftTimeLimitExceeded:
        # The chunk in hand rolled back; the cursor says where the next task starts.
        feed_file_ingest.delay(feed_file_id)
        return "continued"
    return feed_file.state if feed_file else "unknown"


@shared_task(acks_late=True)
def feeds_inbox_scan() -> int:
    """Receive every file waiting in FEEDS_INBOX_DIR, and hand stalled files to a worker
    again. A received or repeated file leaves the inbox; a refused one moves to `refused/`
    beside a note of why. Returns the number of files received."""
    inbox = Path(settings.FEEDS_INBOX_DIR)
    received = 0
    if inbox.is_dir():
        for path in sorted(inbox.iterdir()):
            if path.name.startswith(".") or not path.is_file() or not path.name.endswith(INBOX_SUFFIXES):
                continue
            received += _inbox_file_receive(path)
    for feed_file in stalled_files():
        logger.warning("feed file %s stalled; handing it to a worker again", feed_file.pk)
        feed_file_ingest.delay(str(feed_file.pk))
    return received


def _inbox_file_receive(path: Path) -> int:
    try:
        size = path.stat().st_size
        if size > settings.FEEDS_MAX_FILE_BYTES:
            # Refused before a byte of it is read.
            raise FeedRefused(f"larger than FEEDS_MAX_FILE_BYTES ({size} bytes)")
        with path.open("rb") as stream:
            receipt = feed_file_receive(
                stream=stream, size=size, original_name=path.name, source=FeedFile.Source.INBOX, actor=None
            )
    except FeedRefused as refused:
        refused_dir = path.parent / "refused"
        refused_dir.mkdir(exist_ok=True)
        path.rename(refused_dir / path.name)
        (refused_dir / f"{path.name}.reason.txt").write_text(f"{refused}\n", encoding="utf-8")
        logger.warning("inbox file refused: %s", refused)
        return 0
    path.unlink(missing_ok=True)
    if receipt.repeated:
        logger.info("inbox file was received before (feed file %s): nothing done", receipt.feed_file.pk)
        return 0
    return 1
