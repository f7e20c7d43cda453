"""Who may sign in to the browser."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class PeopleOnlyBackend(ModelBackend):
    """Django's password backend, refusing case-management system accounts: they are not
    people and use an API token on the case-management API only. Also ends any session one
    might hold, as get_user asks the same question (issue 15, finding 2)."""

    def user_can_authenticate(self, user: Any) -> bool:
        return super().user_can_authenticate(user) and not getattr(user, "is_system_account", False)

    def get_user(self, user_id: Any) -> Any:
        """ModelBackend's, with the user's local authority read in the same query: every
        audited request names it (audit.services.audit_event_record), a query per search
        otherwise."""
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("local_authority").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
