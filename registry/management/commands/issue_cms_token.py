from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.services import system_token_issue
from audit.actor import Actor


class Command(BaseCommand):
    help = (
        "Issue a new API token to a case-management system account (docs/cms-api.md) and print "
        "it once. Only its hash is kept; it expires after CMS_TOKEN_DAYS (or --days)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The system account's email")
        parser.add_argument("--days", type=int, default=None, help="Days until it expires (default CMS_TOKEN_DAYS)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] is not None and not 1 <= options["days"] <= 366:
            raise CommandError("--days must be between 1 and 366")
        account = User.objects.filter(email=options["email"].lower()).first()
        if account is None:
            raise CommandError(f"No account with the email {options['email']}")
        try:
            token, expires = system_token_issue(by=Actor.system(), account=account, days=options["days"])
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(
            f"New token for {account.email}, expiring on {expires:%d %B %Y}. It is shown once; "
            "give it to the system's operators by a secure channel, then revoke the old ones:"
        )
        self.stdout.write(token)
