from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and local authorities"

    def ready(self) -> None:
        # Inside ready(): these import models, which are loaded only now.
        from accounts import signals  # noqa: F401  (connects the audit receivers)
        from accounts.services import role_permissions_sync

        # After the permissions are made (post_migrate), give the roles' groups theirs.
        post_migrate.connect(role_permissions_sync, dispatch_uid="accounts.role_permissions_sync")
