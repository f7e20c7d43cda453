from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.demo import demo_code


class Command(BaseCommand):
    help = "Print the two-factor code a demo account's authenticator shows now (demo accounts only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        code = demo_code(email=options["email"])
        if code is None:
            raise CommandError("Not a demo account with the demo authenticator: run seed_demo first")
        self.stdout.write(code)
