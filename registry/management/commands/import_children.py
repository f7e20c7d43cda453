from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from registry.importing import import_children_file, rejection_report


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
            result = import_children_file(path=path, actor=actor, batch_size=options["batch_size"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        report_path: Path = options["report"] or path.with_suffix(".rejected.csv")
        report_path.write_text(rejection_report(result.rejections), encoding="utf-8")
        self.stdout.write(
            f"Read {result.rows_read} rows: {result.children_created} children added, "
            f"{result.children_updated} updated, {result.children_unchanged} unchanged, "
            f"{result.statuses_written} statuses written, {result.rows_rejected} rows rejected."
        )
        self.stdout.write(f"Rejected rows (line, field, reason) are in {report_path}")
