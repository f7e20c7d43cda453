from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from accounts.demo import DEMO_TOTP_KEY_BASE32
from registry.children.demo import DEMO_LOGINS, DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Load deterministic synthetic demo data. Running it again adds nothing twice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--children", type=int, default=200)

    def handle(self, *args: Any, **options: Any) -> None:
        counts = seed_demo(children=options["children"], today=timezone.localdate())
        self.stdout.write(
            f"Demo data: {counts['authorities']} local authorities, {counts['children_created']} children added "
            f"({counts['children_total']} on the register)."
        )
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}):")
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.email:<28} {login.role.label} ({login.description})")
        self.stdout.write(
            "Security code for the second step: .venv/bin/python manage.py demo_code EMAIL "
            f"(or add the key {DEMO_TOTP_KEY_BASE32} to an authenticator app)."
        )
