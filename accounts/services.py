"""Changes to users and their roles. Each writes its audit event in the same transaction."""

import datetime
import logging
import smtplib
import time
from importlib import import_module
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.shortcuts import assign_perm, remove_perm
from knox.models import AuthToken

from accounts.models import (
    DeactivationReason,
    Invitation,
    LocalAuthority,
    Organisation,
    OutboundEmail,
    User,
    UserSession,
)
from accounts.roles import ROLES_REQUIRING_SCOPE, SCOPE_PERMISSION, Role
from accounts.selectors import (
    ROLES_GRANTABLE_BY_USER_ADMIN,
    local_authorities_for_role,
    recertification_due_on,
    roles_grantable,
    user_admin_may_manage,
    user_holds_role_beyond_user_admin,
    user_home_authority,
    user_may_act_on_authority,
    users_due_suspension,
)
from accounts.services_outbox import outbox_requeue_one
from accounts.sessions import LAST_SEEN_AT, SIGNED_IN_AT
from accounts.tokens import token_hash, token_new
from accounts.validators import validate_work_email
from audit.actor import Actor
from audit.models import AuditEvent
from audit.services import audit_event_record

logger = logging.getLogger(__name__)


def role_group(role: Role) -> Group:
    group, _ = Group.objects.get_or_create(name=role.value)
    return group


# What a system administrator may do in the Django admin (/django-admin/), as model
# permissions of their role's group; each admin page narrows it further (accounts/admin.py:
# access fields read-only, nothing deleted, tokens only revoked). Not the audit trail, whose
# events carry what was typed in searches: auditors read it through their own, audited pages.
SYSTEM_ADMINISTRATOR_ADMIN_PERMISSIONS = (
    "accounts.add_localauthority",
    "accounts.change_localauthority",
    "accounts.view_localauthority",
    "accounts.add_organisation",
    "accounts.change_organisation",
    "accounts.view_organisation",
    "accounts.change_user",
    "accounts.view_user",
    "knox.view_authtoken",
    "knox.delete_authtoken",
    "axes.view_accessattempt",
    "axes.view_accessfailurelog",
    "axes.view_accesslog",
)


def role_permissions_sync(**kwargs: Any) -> None:
    """Give the system administrator role's group its Django admin permissions (after
    every migrate: a post_migrate receiver, as the permissions themselves are made then).
    Idempotent; permissions not yet created are skipped until a later migrate."""
    wanted = Q()
    for name in SYSTEM_ADMINISTRATOR_ADMIN_PERMISSIONS:
        app_label, codename = name.split(".", 1)
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    # One query, however many apps' post_migrate call this.
    role_group(Role.SYSTEM_ADMINISTRATOR).permissions.add(*Permission.objects.filter(wanted))


def user_grant_role(
    *, user: User, role: Role, local_authority: LocalAuthority | None, granted_by: Actor[User] | User | None
) -> None:
    """Give `user` the role, scoped to `local_authority` where the role acts on one
    authority's data (None means national, allowed only for unscoped roles and auditors)."""
    if role in ROLES_REQUIRING_SCOPE and local_authority is None:
        raise ValidationError(f"A {role.label.lower()} must be given a local authority")
    if user.is_system_account and (role != Role.REGISTER_MANAGER or granted_by is not None):
        # A system account keeps the one role it was made with: a person's role would turn
        # its token into a credential for that person's pages and searches.
        raise ValidationError("A case-management system account cannot be given a role")
    with transaction.atomic():
        user.groups.add(role_group(role))
        permission = SCOPE_PERMISSION.get(role)
        if permission is not None:
            if local_authority is not None:
                assign_perm(f"accounts.{permission}", user, local_authority)
            else:
                user.user_permissions.add(Permission.objects.get(codename=permission))
        if role == Role.SYSTEM_ADMINISTRATOR and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.__dict__.pop("_role_names", None)
        audit_event_record(
            action=AuditEvent.Action.ROLE_GRANTED,
            actor=granted_by,
            subject_user=user,
            local_authority_code=local_authority.gss_code if local_authority else "",
            details={"role": role.value},
        )


def user_create(
    *,
    email: str,
    full_name: str,
    roles: list[Role],
    local_authority: LocalAuthority | None,
    organisation: Organisation | None = None,
    password: str | None = None,
    phone: str = "",
    job_title: str = "",
    training_completed_on: datetime.date | None = None,
    expires_on: datetime.date | None = None,
    created_by: Actor[User] | User | None = None,
    is_system_account: bool = False,
) -> User:
    """Create a user with their roles. Scoped roles are scoped to the user's own authority.
    A system account (a case-management system) may hold only the register manager role."""
    if (
        organisation is not None
        and local_authority is not None
        and organisation.local_authority_id != local_authority.pk
    ):
        raise ValidationError("The organisation must belong to the user's local authority")
    with transaction.atomic():
        user = User.objects.create_user(
            email,
            password,
            full_name=full_name,
            local_authority=local_authority,
            organisation=organisation,
            phone=phone,
            job_title=job_title,
            training_completed_on=training_completed_on,
            expires_on=expires_on,
            is_system_account=is_system_account,
        )
        audit_event_record(
            action=AuditEvent.Action.USER_CREATED,
            actor=created_by,
            subject_user=user,
            local_authority_code=local_authority.gss_code if local_authority else "",
        )
        for role in roles:
            scope = local_authority if role in SCOPE_PERMISSION else None
            user_grant_role(user=user, role=role, local_authority=scope, granted_by=created_by)
    return user


# --- User management by local authority user admins ---------------------------------------
# Each service checks again that the admin manages the user, whatever the view did: a view
# answers 404 before calling, and a service refuses with PermissionDenied if called wrongly.


def _admin(by: Actor[User]) -> User:
    # These changes are a signed-in person's: a user admin's, or the user's own.
    assert by.user is not None, "a signed-in user makes this change"
    return by.user


def _require_manages(*, admin: User, user: User, allow_self: bool = False) -> LocalAuthority:
    if not user_admin_may_manage(admin=admin, user=user):
        raise PermissionDenied("You do not manage this user")
    if not allow_self and admin.pk == user.pk:
        raise PermissionDenied("You cannot change your own account here: ask another user admin")
    if user_holds_role_beyond_user_admin(user=user):
        raise PermissionDenied("Only a system administrator can change this account")
    authority = user_home_authority(user=user)
    assert authority is not None  # users_managed_by only returns users in an authority
    return authority


def _record(
    *,
    event: AuditEvent.Action,
    actor: Actor[User] | User | None,
    subject: User,
    request: HttpRequest | None = None,
    authority: LocalAuthority | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    audit_event_record(
        action=event,
        actor=actor,
        subject_user=subject,
        request=request,
        local_authority_code=authority.gss_code if authority else "",
        details=details,
    )


def invitation_issue(*, by: Actor[User], user: User, replaces: Invitation | None = None) -> Invitation:
    """Send `user` a new one-time link to set their password, valid for
    ACCOUNTS_INVITATION_HOURS. Earlier links stop working. The email leaves after commit.
    `replaces` names the pending invitation a resend replaces, for the audit event."""
    invited_by = _admin(by)
    request = by.request
    authority = _require_manages(admin=invited_by, user=user)
    if not user.is_active:
        raise ValidationError("Re-certify or reactivate this user before inviting them")
    token = token_new()
    now = timezone.now()
    with transaction.atomic():
        # Two admins sending at once queue here, so only the last link works.
        User.objects.select_for_update().filter(pk=user.pk).first()
        Invitation.objects.filter(user=user, accepted_at__isnull=True, withdrawn_at__isnull=True).update(
            withdrawn_at=now
        )
        invitation = Invitation.objects.create(
            user=user,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + datetime.timedelta(hours=settings.ACCOUNTS_INVITATION_HOURS),
            created_by=invited_by,
        )
        _record(
            event=AuditEvent.Action.USER_INVITED,
            actor=by,
            subject=user,
            authority=authority,
            details={"replaces_invitation": replaces.pk} if replaces is not None else None,
        )
        link = _absolute_url(request, reverse("accounts:invitation_accept", kwargs={"token": token}))
        # The token exists only here and in the email: it is not put on the task queue.
        transaction.on_commit(lambda: _invitation_email_send(user=user, link=link, invited_by=invited_by))
    return invitation


def invitation_resend(*, by: Actor[User], invitation: Invitation) -> Invitation:
    """Send a new link in place of a pending invitation (expired or not): the old link stops
    working at once, and the new one is valid for ACCOUNTS_INVITATION_HOURS from now.
    Audited as `user_invited`, naming the invitation it replaces."""
    if invitation.accepted_at is not None or invitation.withdrawn_at is not None:
        raise ValidationError("This invitation has already been used or replaced")
    return invitation_issue(by=by, user=invitation.user, replaces=invitation)


def _absolute_url(request: HttpRequest | None, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


def _invitation_email_send(*, user: User, link: str, invited_by: User) -> None:
    hours = settings.ACCOUNTS_INVITATION_HOURS
    try:
        _invitation_email_deliver(user=user, link=link, invited_by=invited_by, hours=hours)
    except (OSError, smtplib.SMTPException):
        # The account and its audit event stand; the admin sends the link again from the
        # user's page. Logged by id only.
        logger.exception("Invitation email for user %s could not be sent", user.pk)


def _invitation_email_deliver(*, user: User, link: str, invited_by: User, hours: int) -> None:
    send_mail(
        subject="Your account for the child protection signposting register",
        message=(
            f"{invited_by.full_name} has given you an account on the child protection signposting register.\n\n"
            f"Set your password and your two-factor authenticator here within {hours} hours:\n\n{link}\n\n"
            "The link works once. If it has expired, ask your local authority's user admin for a new one.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def user_invite(
    *,
    by: Actor[User],
    email: str,
    full_name: str,
    organisation: Organisation,
    roles: list[Role],
    job_title: str = "",
    phone: str = "",
    training_completed_on: datetime.date | None = None,
) -> User:
    """Create a user in one of the admin's authorities, with no password, and send them an
    invitation. Roles are limited to those a user admin may grant; the email address must
    be a work address (ACCOUNTS_WORK_EMAIL_DOMAINS). Training already completed is recorded
    and audited as if recorded from the user's page."""
    invited_by = _admin(by)
    authority = organisation.local_authority
    if not user_may_act_on_authority(user=invited_by, role=Role.LA_USER_ADMIN, local_authority=authority):
        raise PermissionDenied("You do not manage users for this organisation's authority")
    refused = [role for role in roles if role not in ROLES_GRANTABLE_BY_USER_ADMIN]
    if refused:
        raise PermissionDenied(f"A user admin cannot grant {refused[0].label.lower()}")
    try:
        validate_work_email(email)
    except ValidationError as error:
        raise ValidationError({"email": error.messages}) from None
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "A user with this email address already exists"})
    if training_completed_on is not None and training_completed_on > timezone.localdate():
        raise ValidationError({"training_completed_on": TRAINING_IN_FUTURE})
    with transaction.atomic():
        user = user_create(
            email=email,
            full_name=full_name,
            roles=roles,
            local_authority=authority,
            organisation=organisation,
            phone=phone,
            job_title=job_title,
            training_completed_on=training_completed_on,
            created_by=by,
        )
        if training_completed_on is not None:
            _training_recorded(actor=by, user=user, completed_on=training_completed_on, authority=authority)
        invitation_issue(by=by, user=user)
    return user


TRAINING_IN_FUTURE = "The date training was completed must be today or in the past"


def _training_recorded(
    *,
    actor: Actor[User] | User,
    user: User,
    completed_on: datetime.date,
    authority: LocalAuthority,
    request: HttpRequest | None = None,
) -> None:
    _record(
        event=AuditEvent.Action.TRAINING_RECORDED,
        actor=actor,
        subject=user,
        request=request,
        authority=authority,
        details={"completed_on": completed_on.isoformat()},
    )


def invitation_accept(*, by: Actor[User], invitation: Invitation, password: str) -> User:
    """Use the invitation once: set the user's password. Refused if the link has expired,
    been used, or been replaced. Claimed with a conditional update so that two submissions
    of the same link cannot both succeed. `by` is the request's context (nobody is signed
    in yet: the event's actor is the invited user)."""
    user = invitation.user
    password_validation.validate_password(password, user)
    now = timezone.now()
    with transaction.atomic():
        claimed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, withdrawn_at__isnull=True, expires_at__gt=now
        ).update(accepted_at=now)
        if claimed != 1:
            raise ValidationError("This link has expired or has already been used")
        user.refresh_from_db()
        if not user.is_active:
            raise ValidationError("This account has been deactivated")
        # A link sent to someone who had a password is a reset: their old sessions end.
        _password_set(
            user=user,
            password=password,
            event=AuditEvent.Action.INVITATION_ACCEPTED,
            by=Actor(user=user, channel=by.channel, request=by.request),
        )
    return user


def user_role_grant(*, by: Actor[User], user: User, role: Role) -> None:
    """A user admin gives `user` a role, scoped to the user's authority."""
    admin = _admin(by)
    authority = _require_manages(admin=admin, user=user)
    if role not in roles_grantable(admin=admin, user=user):
        raise PermissionDenied(f"A user admin cannot grant {role.label.lower()}")
    with transaction.atomic():
        user_grant_role(user=user, role=role, local_authority=authority, granted_by=by)


def user_role_revoke(*, by: Actor[User], user: User, role: Role) -> None:
    """A user admin takes a role away. A scoped role is removed for the user's authority;
    the role itself goes when no authority is left."""
    admin = _admin(by)
    authority = _require_manages(admin=admin, user=user)
    if role not in roles_grantable(admin=admin, user=user):
        raise PermissionDenied(f"A user admin cannot revoke {role.label.lower()}")
    with transaction.atomic():
        permission = SCOPE_PERMISSION.get(role)
        keep_group = False
        if permission is not None:
            remove_perm(f"accounts.{permission}", user, authority)
            user.__dict__.pop("_role_names", None)
            keep_group = local_authorities_for_role(user=user, role=role).exists()
        if not keep_group:
            user.groups.remove(role_group(role))
        user.__dict__.pop("_role_names", None)
        _record(
            event=AuditEvent.Action.ROLE_REVOKED,
            actor=by,
            subject=user,
            authority=authority,
            details={"role": role.value},
        )


def user_training_record(*, by: Actor[User], user: User, completed_on: datetime.date) -> None:
    admin = _admin(by)
    authority = _require_manages(admin=admin, user=user)
    if completed_on > timezone.localdate():
        raise ValidationError({"completed_on": TRAINING_IN_FUTURE})
    with transaction.atomic():
        user.training_completed_on = completed_on
        user.save(update_fields=["training_completed_on"])
        _training_recorded(actor=by, user=user, completed_on=completed_on, authority=authority)


def user_expiry_set(*, by: Actor[User], user: User, expires_on: datetime.date | None) -> None:
    """Set (or clear, with None) the last day the user may use the register."""
    admin = _admin(by)
    authority = _require_manages(admin=admin, user=user)
    with transaction.atomic():
        user.expires_on = expires_on
        user.save(update_fields=["expires_on"])
        _record(
            event=AuditEvent.Action.EXPIRY_SET,
            actor=by,
            subject=user,
            authority=authority,
            details={"expires_on": expires_on.isoformat() if expires_on else None},
        )


def _deactivate(*, user: User, reason: DeactivationReason) -> int:
    now = timezone.now()
    user.is_active = False
    user.deactivated_at = now
    user.deactivation_reason = reason
    user.save(update_fields=["is_active", "deactivated_at", "deactivation_reason"])
    Invitation.objects.filter(user=user, accepted_at__isnull=True, withdrawn_at__isnull=True).update(withdrawn_at=now)
    return sessions_end_for_user(user=user)


def user_deactivate(*, by: Actor[User], user: User) -> None:
    """Stop the user signing in and end every session they have, at once."""
    admin = _admin(by)
    authority = _require_manages(admin=admin, user=user)
    with transaction.atomic():
        ended = _deactivate(user=user, reason=DeactivationReason.BY_ADMIN)
        _record(
            event=AuditEvent.Action.USER_DEACTIVATED,
            actor=by,
            subject=user,
            authority=authority,
            details={"sessions_ended": ended},
        )


def user_recertify(*, by: Actor[User], user: User) -> None:
    """Confirm that the user still needs access. A user suspended for want of
    re-certification is active again; one deactivated by an admin stays deactivated."""
    admin = _admin(by)
    authority = _require_manages(admin=admin, user=user)
    with transaction.atomic():
        user.recertified_on = timezone.localdate()
        fields = ["recertified_on"]
        if not user.is_active and user.deactivation_reason == DeactivationReason.NOT_RECERTIFIED:
            user.is_active = True
            user.deactivated_at = None
            user.deactivation_reason = DeactivationReason.NONE
            fields += ["is_active", "deactivated_at", "deactivation_reason"]
        user.save(update_fields=fields)
        _record(
            event=AuditEvent.Action.USER_RECERTIFIED,
            actor=by,
            subject=user,
            authority=authority,
            details={"reactivated": "is_active" in fields},
        )


def users_suspend_unrecertified(*, by: Actor[User], today: datetime.date) -> int:
    """Suspend every active user whose re-certification has lapsed, one transaction each.
    Running it again suspends nobody twice: suspended users are no longer active. `by` is
    the scheduled task's `Actor.system()`: the register suspends, no person does."""
    suspended = 0
    for user_id in list(users_due_suspension(today=today).values_list("pk", flat=True)):
        with transaction.atomic():
            # Re-read under the transaction: an admin may have re-certified meanwhile.
            user = users_due_suspension(today=today).select_for_update(of=("self",)).filter(pk=user_id).first()
            if user is None:
                continue
            ended = _deactivate(user=user, reason=DeactivationReason.NOT_RECERTIFIED)
            _record(
                event=AuditEvent.Action.USER_SUSPENDED,
                actor=by,
                subject=user,
                authority=user_home_authority(user=user),
                details={
                    "recertification_due_on": recertification_due_on(user=user).isoformat(),
                    "sessions_ended": ended,
                },
            )
            suspended += 1
    return suspended


def user_two_factor_reset(*, by: Actor[User], user: User) -> None:
    """Remove the user's authenticator and backup codes and end their sessions: at their
    next sign-in, after their password, they set up a new authenticator."""
    admin = _admin(by)
    authority = _require_manages(admin=admin, user=user)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        ended = sessions_end_for_user(user=user)
        _record(
            event=AuditEvent.Action.TWO_FACTOR_RESET,
            actor=by,
            subject=user,
            authority=authority,
            details={"sessions_ended": ended},
        )


def user_unlock(*, by: Actor[User], user: User) -> None:
    """Clear the failed sign-in attempts that locked the account."""
    admin = _admin(by)
    authority = _require_manages(admin=admin, user=user)
    with transaction.atomic():
        cleared, _ = AccessAttempt.objects.filter(username=user.email).delete()
        _record(
            event=AuditEvent.Action.USER_UNLOCKED,
            actor=by,
            subject=user,
            authority=authority,
            details={"attempt_records_cleared": cleared},
        )


# --- The user's own sign-in ----------------------------------------------------------------


def two_factor_enrol(*, by: Actor[User], device: Any, token: str) -> list[str] | None:
    """Confirm the signed-in user's (`by.user`) authenticator with a code from it and give
    them a fresh set of single-use backup codes. Returns the backup codes (shown once), or
    None if the code was wrong."""
    user = _admin(by)
    if device.user_id != user.pk or device.confirmed or not device.verify_token(token):
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        StaticDevice.objects.filter(user=user).delete()
        backup = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
        StaticToken.objects.bulk_create([StaticToken(device=backup, token=code) for code in codes])
        _record(event=AuditEvent.Action.TWO_FACTOR_ENROLLED, actor=by, subject=user)
    return codes


BACKUP_CODE_COUNT = 10


def two_factor_attempt_record(*, by: Actor[User], succeeded: bool, method: str) -> None:
    """Audit the signed-in user's (`by.user`) two-factor code, accepted or refused."""
    user = _admin(by)
    event = AuditEvent.Action.TWO_FACTOR_VERIFIED if succeeded else AuditEvent.Action.TWO_FACTOR_FAILED
    with transaction.atomic():
        _record(event=event, actor=by, subject=user, details={"method": method})


def user_password_change(*, by: Actor[User], password: str) -> int:
    """Set the acting user's new password and end every one of their sessions, this one
    included: they sign in again with the new password. Returns how many were ended."""
    user = _admin(by)
    password_validation.validate_password(password, user)
    with transaction.atomic():
        return _password_set(user=user, password=password, event=AuditEvent.Action.PASSWORD_CHANGED, by=by)


def _password_set(
    *,
    user: User,
    password: str,
    event: AuditEvent.Action,
    by: Actor[User] | None = None,
    request: HttpRequest | None = None,
) -> int:
    """Store the new password, end every session of the user's and audit it; inside the
    caller's transaction. Returns how many sessions were ended."""
    user.set_password(password)
    user.save(update_fields=["password"])
    ended = sessions_end_for_user(user=user)
    _record(event=event, actor=by or user, subject=user, request=request, details={"sessions_ended": ended})
    return ended


def session_expired_record(*, by: Actor[User], reason: str) -> None:
    """Audit the end of the signed-in user's (`by.user`) session, idle or too long."""
    user = _admin(by)
    with transaction.atomic():
        _record(event=AuditEvent.Action.SESSION_EXPIRED, actor=by, subject=user, details={"reason": reason})


# --- Case-management system accounts' API tokens (issue 15, finding 2) ----------------------
# django-rest-knox keeps only a SHA-512 digest of each token and its expiry; revoking
# deletes the row. Tokens are issued by command (create_cms_account, issue_cms_token) and
# revoked by command (revoke_cms_tokens) or in the Django admin; each is audited here, in
# the same transaction, naming the token by its key (the first characters knox keeps in
# clear to find the row), never the token itself.


def system_token_issue(*, by: Actor[User], account: User, days: int | None = None) -> tuple[str, datetime.datetime]:
    """A new token for an active system account, and when it expires (after `days`, else
    CMS_TOKEN_DAYS). The token exists only in the return value: show it once. Earlier
    tokens keep working until they expire or are revoked, so a system can switch without a
    gap. On the server's command line `by` is the system's context (no user)."""
    if not account.is_system_account or not account.is_active:
        raise ValidationError("Tokens are issued only to active case-management system accounts")
    with transaction.atomic():
        instance, token = AuthToken.objects.create(
            user=account, expiry=datetime.timedelta(days=days or settings.CMS_TOKEN_DAYS)
        )
        assert instance.expiry is not None  # always given an expiry above
        _record(
            event=AuditEvent.Action.API_TOKEN_ISSUED,
            actor=by,
            subject=account,
            authority=account.local_authority,
            details={"token_key": instance.token_key, "expires_at": instance.expiry.isoformat()},
        )
    return token, instance.expiry


def system_tokens_revoke(*, by: Actor[User], account: User, token_keys: list[str] | None = None) -> int:
    """Revoke the account's tokens with these keys, or all of them; audited as one event
    naming the keys revoked (none revoked, nothing audited). Returns how many."""
    with transaction.atomic():
        tokens = AuthToken.objects.select_for_update().filter(user=account)
        if token_keys is not None:
            tokens = tokens.filter(token_key__in=token_keys)
        revoked = sorted(tokens.values_list("token_key", flat=True))
        if not revoked:
            return 0
        AuthToken.objects.filter(user=account, token_key__in=revoked).delete()
        _record(
            event=AuditEvent.Action.API_TOKEN_REVOKED,
            actor=by,
            subject=account,
            authority=account.local_authority,
            details={"token_keys": revoked},
        )
    return len(revoked)


# --- Sessions: which sessions belong to whom, so that all of a user's can be ended ------------


def session_start(*, session: SessionBase, user: User) -> None:
    """Stamp a newly signed-in session and remember that it belongs to `user`."""
    now = time.time()
    session[SIGNED_IN_AT] = now
    session[LAST_SEEN_AT] = now
    if session.session_key is None:
        session.save()
    UserSession.objects.get_or_create(session_key=session.session_key, defaults={"user": user})


def session_key_rotated(*, session: SessionBase, user: User, previous_key: str | None) -> None:
    """Follow a session to its new key after cycle_key()."""
    if previous_key:
        UserSession.objects.filter(session_key=previous_key).delete()
    if session.session_key is None:
        session.save()
    UserSession.objects.get_or_create(session_key=session.session_key, defaults={"user": user})


def sessions_end_for_user(*, user: User) -> int:
    """Delete every session of `user` from the session store, wherever they are signed in.
    Returns how many were ended."""
    engine = import_module(settings.SESSION_ENGINE)
    store = engine.SessionStore()
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store.delete(key)
    UserSession.objects.filter(user=user).delete()
    return len(keys)


def session_forget(*, session_key: str) -> None:
    """The session has ended (signed out): it no longer belongs to anyone."""
    UserSession.objects.filter(session_key=session_key).delete()


def two_factor_device_pending(*, user: User) -> TOTPDevice:
    """The authenticator being set up: the user's unconfirmed one, or a new one. It signs
    nobody in until two_factor_enrol confirms it with a code."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=False
    )


def user_home_postcode_set(*, by: Actor[User], home_postcode: str) -> None:
    """Record (or, with "", remove) the user's own home postcode, which the anomaly rule
    compares with their look-ups. The audit says whether one is held, never the postcode."""
    user = _admin(by)
    with transaction.atomic():
        user.home_postcode = home_postcode
        user.save(update_fields=["home_postcode"])
        _record(
            event=AuditEvent.Action.HOME_POSTCODE_SET,
            actor=by,
            subject=user,
            authority=user.local_authority,
            details={"home_postcode_held": bool(home_postcode)},
        )


# The person's own details a system administrator may correct in the Django admin. Their
# access (roles, activity, authority, organisation, dates) is changed only by the services
# above; the admin shows it read-only (accounts/admin.py).
USER_DETAIL_FIELDS = ("email", "full_name", "job_title", "phone")


def user_details_correct(*, by: Actor[User], user: User, fields: list[str]) -> None:
    """Save a correction of `user`'s own details (already set on it by the admin's form) and
    audit it in the same transaction: which fields changed, never their values."""
    changed = sorted(set(fields) & set(USER_DETAIL_FIELDS))
    if not changed:
        return
    with transaction.atomic():
        user.save(update_fields=changed)
        _record(
            event=AuditEvent.Action.USER_DETAILS_CORRECTED,
            actor=by,
            subject=user,
            authority=user.local_authority,
            details={"fields": changed},
        )


def outbound_email_requeue(*, by: Actor[User], email: OutboundEmail) -> bool:
    """A system administrator sends a given-up email again (the mail server or the address
    has been mended): it goes back in the outbox's queue with its attempts counted afresh,
    and the next delivery sends it. Audited in the same transaction, naming the email by
    its number and the recipient user where there is one, never its body. Returns False,
    recording nothing, if it is no longer given up (sent, or already put back)."""
    if by.user is None or not by.user.has_role(Role.SYSTEM_ADMINISTRATOR):
        raise PermissionDenied("Only a system administrator can send a given-up email again")
    with transaction.atomic():
        if not outbox_requeue_one(email_id=email.pk):
            return False
        audit_event_record(
            action=AuditEvent.Action.OUTBOUND_EMAIL_REQUEUED,
            actor=by,
            subject_user=User.objects.filter(email__iexact=email.to).first(),
            details={
                "outbound_email": email.pk,
                "attempts": email.attempts,
                "last_error": email.last_error,
                "given_up_at": email.given_up_at.isoformat() if email.given_up_at else "",
            },
        )
    return True
