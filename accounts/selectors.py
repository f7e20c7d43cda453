"""Reads about users and their scope. Every question "which authorities may this user act
on in this role?" is answered here and nowhere else."""

import datetime
from collections.abc import Iterable

from axes.models import AccessAttempt
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.models import UserObjectPermission
from guardian.shortcuts import get_objects_for_user

from accounts.models import Invitation, LocalAuthority, OutboundEmail, User
from accounts.roles import SCOPE_PERMISSION, Role
from accounts.tokens import token_hash


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
    """Active users who hold `role` over `local_authority` (by object permission): the one-
    authority case of `users_with_role_for_authorities`, so that the two cannot disagree."""
    return users_with_role_for_authorities(role=role, local_authority_ids=[local_authority.pk]).get(
        local_authority.pk, []
    )


def users_with_role_for_authorities(*, role: Role, local_authority_ids: Iterable[int]) -> dict[int, list[User]]:
    """`users_with_role_for_authority` for many authorities in one query: authority id ->
    its active holders of `role` (an authority with none is left out). For work that tells
    many authorities at once (a feed chunk's deaths), whose cost must not grow with them."""
    ids = {str(pk) for pk in local_authority_ids}
    if not ids:
        return {}
    authority_type = ContentType.objects.get_for_model(LocalAuthority)
    grants = (
        UserObjectPermission.objects.filter(
            content_type=authority_type,
            object_pk__in=ids,
            permission__content_type=authority_type,
            permission__codename=SCOPE_PERMISSION[role],
            user__is_active=True,
            user__groups__name=role.value,
        )
        .select_related("user")
        .order_by("user_id")
    )
    holders: dict[int, dict[int, User]] = {}
    for grant in grants:
        holders.setdefault(int(grant.object_pk), {}).setdefault(grant.user_id, grant.user)
    return {authority: list(users.values()) for authority, users in holders.items()}


# --- User management by local authority user admins ---------------------------------------

# The roles a local authority user admin may grant and revoke, always scoped to the user's
# own authority. Auditors, feed operators and system administrators are national or
# cross-authority roles: only a system administrator grants them.
ROLES_GRANTABLE_BY_USER_ADMIN: tuple[Role, ...] = (
    Role.PRACTITIONER,
    Role.REGISTER_MANAGER,
    Role.LA_USER_ADMIN,
)


def user_home_authority(*, user: User) -> LocalAuthority | None:
    """The authority a user belongs to: their own, else their organisation's."""
    if user.local_authority_id is not None:
        return user.local_authority
    if user.organisation_id is not None and user.organisation is not None:
        return user.organisation.local_authority
    return None


def users_managed_by(*, admin: User) -> QuerySet[User]:
    """The users a local authority user admin manages: everyone whose authority, or whose
    organisation's authority, is one the admin holds the user admin role for."""
    authorities = local_authorities_for_role(user=admin, role=Role.LA_USER_ADMIN)
    return (
        User.objects.filter(Q(local_authority__in=authorities) | Q(organisation__local_authority__in=authorities))
        # Case-management system accounts are not people: no user admin lists, changes,
        # invites or grants roles to them (issue 15, finding 2).
        .exclude(is_system_account=True)
        .select_related("organisation", "local_authority")
        .prefetch_related("groups")
        .distinct()
        .order_by("full_name", "pk")
    )


def user_managed_by(*, admin: User, user_id: int) -> User | None:
    """The user if `admin` manages them, else None (the view answers 404)."""
    return users_managed_by(admin=admin).filter(pk=user_id).first()


def user_admin_may_manage(*, admin: User, user: User) -> bool:
    return users_managed_by(admin=admin).filter(pk=user.pk).exists()


def user_holds_role_beyond_user_admin(*, user: User) -> bool:
    """Whether the user holds a role no user admin may grant (auditor, feed operator,
    system administrator) or is a superuser. Such an account may name an authority (an
    auditor overseeing it, an administrator working there), but only a system
    administrator changes it: a user admin must not deactivate the auditor who oversees
    them, nor reset the second factor of, or grant roles to, an administrator."""
    return user.is_superuser or any(role not in ROLES_GRANTABLE_BY_USER_ADMIN for role in user.roles)


def user_admin_may_change(*, admin: User, user: User) -> bool:
    """Whether `admin` may change `user`'s account (roles, access, two-factor, sign-in)."""
    return (
        admin.pk != user.pk
        and not user_holds_role_beyond_user_admin(user=user)
        and user_admin_may_manage(admin=admin, user=user)
    )


def roles_grantable(*, admin: User, user: User) -> list[Role]:
    """Roles `admin` may grant to or revoke from `user`: none to themselves, none to an
    account holding a role beyond a user admin's."""
    if not user_admin_may_change(admin=admin, user=user):
        return []
    return list(ROLES_GRANTABLE_BY_USER_ADMIN)


def recertification_due_on(*, user: User) -> datetime.date:
    """The date by which a user admin must re-certify the user: ACCOUNTS_RECERTIFICATION_MONTHS
    after the last re-certification, or after joining."""
    since = user.recertified_on or timezone.localdate(user.date_joined)
    return since + relativedelta(months=settings.ACCOUNTS_RECERTIFICATION_MONTHS)


# Re-certification is asked for this long before it falls due.
RECERTIFICATION_NOTICE_DAYS = 30


def recertification_is_due(*, user: User, today: datetime.date | None = None) -> bool:
    """Due within the notice period (or overdue)."""
    day = today or timezone.localdate()
    return recertification_due_on(user=user) <= day + datetime.timedelta(days=RECERTIFICATION_NOTICE_DAYS)


def users_due_suspension(*, today: datetime.date) -> QuerySet[User]:
    """Active users with a local authority whose re-certification date has passed."""
    cutoff = today - relativedelta(months=settings.ACCOUNTS_RECERTIFICATION_MONTHS)
    in_an_authority = Q(local_authority__isnull=False) | Q(organisation__local_authority__isnull=False)
    lapsed = Q(recertified_on__lt=cutoff) | Q(recertified_on__isnull=True, date_joined__date__lt=cutoff)
    return User.objects.filter(in_an_authority, lapsed, is_active=True).order_by("pk")


def user_is_locked_out(*, user: User) -> bool:
    """Whether django-axes refuses this account's sign-in from some address, until the
    cool-off ends or someone unlocks it."""
    recent = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = AccessAttempt.objects.filter(username=user.email, attempt_time__gte=recent).values_list(
        "failures_since_start", flat=True
    )
    return any(count >= settings.AXES_FAILURE_LIMIT for count in failures)


def user_has_two_factor(*, user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def invitation_by_token(*, token: str) -> Invitation | None:
    """The invitation a link's token names, usable or not; None for an unknown token."""
    return Invitation.objects.select_related("user").filter(token_hash=token_hash(token)).first()


def invitations_pending(*, admin: User) -> QuerySet[Invitation]:
    """Links the admin's users have not used yet (invitations and set-password links),
    expired ones included so that they can be sent again, soonest to expire first. A newer
    link withdraws the older one, so each user has at most one."""
    return (
        Invitation.objects.filter(
            user__in=users_managed_by(admin=admin).values("pk"),
            user__is_active=True,
            accepted_at__isnull=True,
            withdrawn_at__isnull=True,
        )
        .select_related("user", "user__organisation", "created_by")
        .order_by("expires_at", "pk")
    )


def invitation_pending_for(*, admin: User, invitation_id: int) -> Invitation | None:
    """One of the admin's pending invitations, or None (the view answers 404)."""
    return invitations_pending(admin=admin).filter(pk=invitation_id).first()


def outbound_emails_given_up(*, user: User) -> QuerySet[OutboundEmail]:
    """Emails the outbox gave up on after OUTBOX_MAX_ATTEMPTS, newest first, for a system
    administrator (who operates the service); nobody else. Without their bodies, which can
    name practitioners and register IDs: only what finding the fault needs."""
    if not user.has_role(Role.SYSTEM_ADMINISTRATOR):
        return OutboundEmail.objects.none()
    return (
        OutboundEmail.objects.filter(sent_at__isnull=True, given_up_at__isnull=False)
        .only("to", "subject", "attempts", "last_error", "created_at", "given_up_at")
        .order_by("-given_up_at", "-id")
    )
