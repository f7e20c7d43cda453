"""Who may sign in to the browser."""

from typing import Any

from django.contrib.auth.backends import ModelBackend


class PeopleOnlyBackend(ModelBackend):
    """Django's password backend, refusing case-management system accounts: they are not
    people and use an API token on the case-management API only. Also ends any session one
    might hold, as get_user asks the same question (issue 15, finding 2)."""

    def user_can_authenticate(self, user: Any) -> bool:
        return super().user_can_authenticate(user) and not getattr(user, "is_system_account", False)
