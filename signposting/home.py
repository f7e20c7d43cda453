"""The home page's summary: a little from every app, so it is built here, in the project
layer, which may read them all. An app never imports the project layer's pages, so the
lower apps (accounts, audit) stay free of the register they serve."""

from typing import Any

from accounts.models import User
from accounts.roles import Role
from accounts.selectors import local_authorities_for_role, outbound_emails_given_up, role_held_nationally
from audit.selectors import audit_event_count_since
from registry.children.selectors import children_on_register_count
from signposting.health import worker_is_alive, worker_last_seen


def home_summary(*, user: User) -> dict[str, Any]:
    """What the home page shows each of the user's roles, computed within their scope."""
    summary: dict[str, Any] = {"roles": user.roles}
    if user.has_role(Role.PRACTITIONER):
        summary["practitioner"] = {"trained": user.is_trained, "expired": user.is_expired()}
    if user.has_role(Role.REGISTER_MANAGER):
        authorities = local_authorities_for_role(user=user, role=Role.REGISTER_MANAGER)
        summary["register_manager"] = [
            {"authority": authority, "children": children_on_register_count(local_authority=authority)}
            for authority in authorities
        ]
    if user.has_role(Role.LA_USER_ADMIN):
        authorities = local_authorities_for_role(user=user, role=Role.LA_USER_ADMIN)
        summary["user_admin"] = [
            {"authority": authority, "active_users": authority.users.filter(is_active=True).count()}
            for authority in authorities
        ]
    if user.has_role(Role.AUDITOR):
        authorities = local_authorities_for_role(user=user, role=Role.AUDITOR)
        national = role_held_nationally(user=user, role=Role.AUDITOR)
        summary["auditor"] = {
            "national": national,
            "authorities": [] if national else list(authorities),
            "events_last_day": audit_event_count_since(hours=24),
        }
    if user.has_role(Role.SYSTEM_ADMINISTRATOR):
        summary["system"] = {
            "worker_alive": worker_is_alive(),
            "worker_last_seen": worker_last_seen(),
            "emails_given_up": outbound_emails_given_up(user=user).count(),
        }
    return summary
