import datetime
import getpass
import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import LocalAuthority, Organisation, User
from accounts.roles import Role
from accounts.services import user_create
from accounts.validators import validate_work_email


class Command(BaseCommand):
    help = "Create a user with one or more roles (to bootstrap the first administrators)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--full-name", required=True)
        parser.add_argument("--role", action="append", required=True, choices=[role.value for role in Role])
        parser.add_argument("--local-authority", help="GSS code, e.g. E09000033")
        parser.add_argument("--organisation", help="Organisation name within the local authority")
        parser.add_argument("--trained-on", help="Date training was completed (YYYY-MM-DD)")
        parser.add_argument(
            "--password-from-env",
            metavar="VARIABLE",
            help="Read the password from this environment variable instead of prompting",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].lower()
        try:
            validate_work_email(email)
        except ValidationError as error:
            raise CommandError(error.messages[0]) from None
        if User.objects.filter(email=email).exists():
            raise CommandError(f"A user with the email {email} already exists")
        authority = None
        if options["local_authority"]:
            authority = LocalAuthority.objects.filter(gss_code=options["local_authority"].upper()).first()
            if authority is None:
                raise CommandError(f"No local authority with the GSS code {options['local_authority']}")
        organisation = None
        if options["organisation"]:
            organisation = Organisation.objects.filter(name=options["organisation"], local_authority=authority).first()
            if organisation is None:
                raise CommandError(f"No organisation called {options['organisation']} in that local authority")
        if options["password_from_env"]:
            password = os.environ.get(options["password_from_env"], "")
        else:
            password = getpass.getpass("Password: ")
        try:
            validate_password(password)
            trained_on = datetime.date.fromisoformat(options["trained_on"]) if options["trained_on"] else None
            user = user_create(
                email=email,
                full_name=options["full_name"],
                roles=[Role(role) for role in options["role"]],
                local_authority=authority,
                organisation=organisation,
                password=password,
                training_completed_on=trained_on,
            )
        except (ValidationError, ValueError) as error:
            messages = error.messages if isinstance(error, ValidationError) else [str(error)]
            raise CommandError("; ".join(messages)) from None
        self.stdout.write(f"Created {user.email} with roles: {', '.join(role.label for role in user.roles)}")
