from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.services import system_tokens_revoke
from audit.actor import Actor


class Command(BaseCommand):
    help = "Revoke every API token of a case-management system account at once (docs/cms-api.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The system account's email")

    def handle(self, *args: Any, **options: Any) -> None:
        account = User.objects.filter(email=options["email"].lower(), is_system_account=True).first()
        if account is None:
            raise CommandError(f"No case-management system account with the email {options['email']}")
        revoked = system_tokens_revoke(by=Actor.system(), account=account)
        self.stdout.write(f"Revoked {revoked} token{'s' if revoked != 1 else ''} of {account.email}.")
