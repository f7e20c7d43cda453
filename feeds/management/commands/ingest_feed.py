"""Receive a GRO feed file from the shell, as an upload would, and ingest it."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from audit.actor import Actor, Channel
from feeds.ingestion import feed_file_ingest_run
from feeds.models import FeedFile
from feeds.services import FeedRefused, feed_file_receive


class Command(BaseCommand):
    help = "Receive a GRO deaths or births file (CSV, optionally gzip) and ingest it."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--actor", help="email of the feed operator to record as receiving it")
        parser.add_argument(
            "--queue",
            action="store_true",
            help="hand the ingestion to the Celery workers instead of running it in this process",
        )

    def handle(self, *args: Any, path: Path, actor: str | None, queue: bool, **options: Any) -> None:
        if not path.is_file():
            raise CommandError(f"No file at {path}")
        user = User.objects.filter(email__iexact=actor).first() if actor else None
        if actor and user is None:
            raise CommandError(f"No user with the email {actor}")
        # A file sent for a named operator is recorded as theirs, on the channel their
        # upload would record ("web"); one sent for nobody is the feed's own.
        by: Actor[User] = Actor.system(channel=Channel.WEB if user else Channel.FEED, user=user)
        try:
            with path.open("rb") as stream:
                receipt = feed_file_receive(
                    stream=stream, size=path.stat().st_size, original_name=path.name,
                    source=FeedFile.Source.COMMAND, by=by, enqueue=queue,
                )  # fmt: skip
        except FeedRefused as refused:
            raise CommandError(f"Refused: {refused}") from refused
        feed_file = receipt.feed_file
        self.stdout.write(f"{receipt.message} Feed file {feed_file.pk}, SHA-256 {feed_file.sha256}.")
        if receipt.repeated:
            return
        if queue:
            self.stdout.write("Queued for the workers; progress is on the feed files page.")
            return
        ingested = feed_file_ingest_run(feed_file_id=feed_file.pk)
        assert ingested is not None
        self.stdout.write(
            f"{ingested.get_state_display()}: {ingested.rows_done} of {ingested.rows_total} rows; "
            f"{ingested.rows_applied} applied, {ingested.rows_for_review} for review, "
            f"{ingested.rows_unmatched} unmatched, {ingested.rows_duplicate} duplicate, "
            f"{ingested.rows_out_of_scope} skipped (born too long ago), {ingested.rows_quarantined} rejected."
        )
        for row in ingested.quarantined_rows.all()[:50]:
            self.stdout.write(f"  line {row.line_number}: {row.reason}")
