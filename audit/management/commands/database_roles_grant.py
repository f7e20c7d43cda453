"""`manage.py database_roles_grant`: after migrate, as the owner role, give the application
role its grants, with SELECT and INSERT only on the audit trail's append-only tables."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from audit.roles import app_role_grant


class Command(BaseCommand):
    help = "Grant the application database role its privileges (append-only on the audit trail)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--app-role", default="signposting_app", help="the application's role (default: %(default)s)"
        )
        parser.add_argument("--database", default="default", help="database alias (default: default)")

    def handle(self, *args: Any, **options: Any) -> None:
        if connections[options["database"]].vendor != "postgresql":
            self.stdout.write("Not PostgreSQL: there are no database roles to grant.")
            return
        app_role_grant(app_role=options["app_role"], using=options["database"])
        self.stdout.write(f"Granted {options['app_role']}: read and append only on the audit trail.")
