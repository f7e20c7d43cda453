from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import LocalAuthority, User
from accounts.roles import Role
from accounts.services import system_token_issue, user_create
from audit.actor import Actor


class Command(BaseCommand):
    help = (
        "Create the account a local authority's case-management system uses for the API "
        "(docs/cms-api.md): a system account, register manager of that one authority, with no "
        "password, and print its first token (hashed at rest, expiring) once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--local-authority", required=True, help="GSS code, e.g. E09000033")
        parser.add_argument("--email", required=True, help="A mailbox of the team that runs the system")
        parser.add_argument("--name", required=True, help="The system's name, e.g. 'Westminster Mosaic'")

    def handle(self, *args: Any, **options: Any) -> None:
        authority = LocalAuthority.objects.filter(gss_code=options["local_authority"].upper()).first()
        if authority is None:
            raise CommandError(f"No local authority with the GSS code {options['local_authority']}")
        email = options["email"].lower()
        if User.objects.filter(email=email).exists():
            raise CommandError(f"A user with the email {email} already exists")
        try:
            with transaction.atomic():
                # No password (an unusable one): the account cannot sign in to the browser.
                account = user_create(
                    email=email,
                    full_name=options["name"],
                    job_title="Case-management system",
                    roles=[Role.REGISTER_MANAGER],
                    local_authority=authority,
                    password=None,
                    is_system_account=True,
                )
                token, expires = system_token_issue(by=Actor.system(), account=account)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"Created case-management account {account.email} for {authority.name}.")
        self.stdout.write(
            f"Its token expires on {expires:%d %B %Y}. It is shown once and only its hash is kept; "
            "give it to the system's operators by a secure channel:"
        )
        self.stdout.write(token)
