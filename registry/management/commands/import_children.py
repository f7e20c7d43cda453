from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from accounts.models import User
from audit.actor import Actor, Channel
from registry.intake.importing import rejection_report
from registry.intake.services import import_children_file


def planner_statistics_refresh() -> None:
    """After a bulk load, PostgreSQL's statistics still describe the tables as they were
    and its planner picks whole-table scans for search (seen at a million children):
    refresh them now rather than waiting for autovacuum."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE registry_child, registry_othername, registry_protectionstatus")


class Command(BaseCommand):
    help = "Import children from a CSV file in the import format (docs/import-format.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--report", type=Path, help="Where to write rejected rows (default FILE.rejected.csv)")
        parser.add_argument("--actor", help="Email of the user the import is recorded against in the audit trail")
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        actor = None
        if options["actor"]:
            actor = User.objects.filter(email=options["actor"].lower()).first()
            if actor is None:
                raise CommandError(f"No user with the email {options['actor']}")
        try:
            # The register's own work (channel "system"), recorded against the named user if any.
            result = import_children_file(
                path=path, by=Actor.system(channel=Channel.SYSTEM, user=actor), batch_size=options["batch_size"]
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        if result.children_created or result.statuses_written:
            planner_statistics_refresh()
        report_path: Path = options["report"] or path.with_suffix(".rejected.csv")
        report_path.write_text(rejection_report(result.rejections), encoding="utf-8")
        self.stdout.write(
            f"Read {result.rows_read} rows: {result.children_created} children added, "
            f"{result.children_updated} updated, {result.children_unchanged} unchanged, "
            f"{result.statuses_written} statuses written, {result.rows_rejected} rows rejected."
        )
        self.stdout.write(f"Rejected rows (line, field, reason) are in {report_path}")
