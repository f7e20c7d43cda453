from typing import Any

from django.http import HttpRequest

from accounts.models import User
from accounts.roles import Role
from registry.children.selectors import unread_notifications_count


def service(request: HttpRequest) -> dict[str, Any]:
    """Names every page needs, and the navigation the signed-in user's roles allow."""
    context: dict[str, Any] = {"service_name": "Child protection signposting register"}
    user = getattr(request, "user", None)
    if isinstance(user, User) and user.is_authenticated:
        context["nav_search"] = user.has_role(Role.PRACTITIONER)
        context["show_admin_link"] = user.has_role(Role.SYSTEM_ADMINISTRATOR)
        context["nav_users"] = user.has_role(Role.LA_USER_ADMIN)
        context["nav_register"] = user.has_role(Role.REGISTER_MANAGER)
        context["nav_feeds"] = user.has_role(Role.FEED_OPERATOR)
        context["nav_audit"] = user.has_role(Role.AUDITOR)
        context["nav_dashboard"] = any(
            user.has_role(role) for role in (Role.REGISTER_MANAGER, Role.AUDITOR, Role.SYSTEM_ADMINISTRATOR)
        )
        context["unread_notifications"] = unread_notifications_count(user=user)
    return context
