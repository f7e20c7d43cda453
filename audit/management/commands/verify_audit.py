"""`manage.py verify_audit`: check the audit trail's hash chain and name the first broken link."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.chain import chain_verify


class Command(BaseCommand):
    help = "Check the audit trail's hash chain; exit 1 and name the first broken event if it is broken."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="database alias (default: default)")
        parser.add_argument(
            "--workers", type=int, default=2, help="PostgreSQL: chunks checked side by side (default: 2)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        report = chain_verify(using=options["database"], workers=options["workers"])
        seconds = time.monotonic() - started
        if not report.intact:
            raise CommandError(
                f"Audit trail chain BROKEN at event {report.first_broken_event_id}: {report.problem} "
                f"({report.events_checked} events read)"
            )
        rate = report.events_checked / seconds if seconds else 0
        self.stdout.write(
            f"Audit trail intact: {report.events_checked} events, head {report.head_hash} "
            f"({seconds:.1f} s, {rate:,.0f} events/s)"
        )
