"""Reads about users and their scope. Every question "which authorities may this user act
on in this role?" is answered here and nowhere else."""

from typing import Any, cast

from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from accounts.models import LocalAuthority, User
from accounts.roles import SCOPE_PERMISSION, Role


def role_held_nationally(*, user: User, role: Role) -> bool:
    """A scoped role granted without an authority (a national auditor). Asked of the user's
    own permissions rather than has_perm(), which says yes to a superuser for everything."""
    permission = SCOPE_PERMISSION.get(role)
    if permission is None or not user.has_role(role):
        return False
    return user.user_permissions.filter(content_type__app_label="accounts", codename=permission).exists()


def local_authorities_for_role(*, user: User, role: Role) -> QuerySet[LocalAuthority]:
    """The authorities on which `user` may act in `role`: none if they lack the role, every
    authority if they hold it nationally, else those granted through object permissions."""
    if not user.is_authenticated or not user.has_role(role):
        return LocalAuthority.objects.none()
    permission = SCOPE_PERMISSION.get(role)
    if permission is None:
        return LocalAuthority.objects.all()
    if role_held_nationally(user=user, role=role):
        return LocalAuthority.objects.all()
    return get_objects_for_user(
        user, f"accounts.{permission}", klass=LocalAuthority, accept_global_perms=False, with_superuser=False
    )


def user_may_act_on_authority(*, user: User, role: Role, local_authority: LocalAuthority) -> bool:
    return local_authorities_for_role(user=user, role=role).filter(pk=local_authority.pk).exists()


def home_summary(*, user: User) -> dict[str, Any]:
    """What the home page shows each of the user's roles, computed within their scope."""
    from audit.selectors import audit_event_count_since
    from registry.selectors import children_on_register_count
    from signposting.health import worker_is_alive, worker_last_seen

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
        summary["system"] = {"worker_alive": worker_is_alive(), "worker_last_seen": worker_last_seen()}
    return summary


def lookup_refusal(*, user: User) -> str | None:
    """Why this user may not search the register or open a child's record, or None if they
    may: an active practitioner whose training is recorded and whose access is current."""
    if not user.is_authenticated or not user.is_active:
        return "Sign in to search the register"
    if not user.has_role(Role.PRACTITIONER):
        return "Only practitioners can search the register. Ask your local authority's user admin for access"
    if not user.is_trained:
        return "You cannot search until your training is recorded. Ask your local authority's user admin"
    if user.is_expired():
        return "Your access has expired. Ask your local authority's user admin to renew it"
    return None


def users_with_role_for_authority(*, role: Role, local_authority: LocalAuthority) -> list[User]:
    """Active users who hold `role` over `local_authority` (by object permission)."""
    from guardian.shortcuts import get_users_with_perms

    permission = SCOPE_PERMISSION[role]
    holders = cast(
        QuerySet[User],
        get_users_with_perms(local_authority, only_with_perms_in=[permission], with_group_users=False),
    )
    return list(holders.filter(is_active=True, groups__name=role.value).distinct())
