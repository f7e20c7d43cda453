"""Changes to users and their roles. Each writes its audit event in the same transaction."""

import datetime

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from guardian.shortcuts import assign_perm

from accounts.models import LocalAuthority, Organisation, User
from accounts.roles import ROLES_REQUIRING_SCOPE, SCOPE_PERMISSION, Role
from audit.models import AuditEvent
from audit.services import audit_event_record


def role_group(role: Role) -> Group:
    group, _ = Group.objects.get_or_create(name=role.value)
    return group


def user_grant_role(*, user: User, role: Role, local_authority: LocalAuthority | None, granted_by: User | None) -> None:
    """Give `user` the role, scoped to `local_authority` where the role acts on one
    authority's data (None means national, allowed only for unscoped roles and auditors)."""
    if role in ROLES_REQUIRING_SCOPE and local_authority is None:
        raise ValidationError(f"A {role.label.lower()} must be given a local authority")
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
    created_by: User | None = None,
) -> User:
    """Create a user with their roles. Scoped roles are scoped to the user's own authority."""
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
