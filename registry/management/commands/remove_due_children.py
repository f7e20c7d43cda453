from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.actor import Actor
from registry.removal.services import removal_run


class Command(BaseCommand):
    help = (
        "Remove every child due for removal and not under a legal hold (docs/removal.md), "
        "or with --dry-run list them. Prints register IDs, authorities, rules and dates only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List who would be removed and why; change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        result = removal_run(by=Actor.system(), dry_run=dry_run)
        for child in result.children:
            self.stdout.write(
                f"{child.register_id}  {child.local_authority_code}  {child.rule}  due {child.due_on.isoformat()}"
            )
        verb = "would be removed" if dry_run else "removed"
        self.stdout.write(
            f"{len(result.children)} children {verb} on {result.today.isoformat()} (run {result.run_id})."
        )
        for rule, count in result.counts_by_rule().items():
            self.stdout.write(f"  {rule}: {count}")
        if result.failed:
            # A non-zero exit lets cron or an operator notice; the others were still removed.
            raise CommandError(f"{len(result.failed)} removals failed: {', '.join(result.failed)}")
