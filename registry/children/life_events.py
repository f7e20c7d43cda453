"""Births and deaths registered with the General Register Office, applied to the register.

The GRO feeds (feeds/) decide which child a registration concerns; these services make
the change, each with its audit event in the same transaction. They never create a child
and never touch an address, so a shielded child's location is never changed by a feed.
Notifications name only the register ID; their emails go out on commit.
"""

import datetime
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.selectors import users_with_role_for_authority
from audit.models import AuditEvent
from audit.services import audit_event_record
from registry.children.services import name_keys_apply
from registry.models import Child, Involvement, Notification, ProtectionStatus, Sex

# Not yet choices of AuditEvent.Action (the audit app owns that list): stored as these values.
ACTION_DEATH_RECORDED = AuditEvent.Action.CHILD_DEATH_RECORDED
ACTION_DEATH_REVERSED = AuditEvent.Action.CHILD_DEATH_REVERSED
ACTION_BIRTH_CONFIRMED = AuditEvent.Action.CHILD_BIRTH_CONFIRMED
FEED_CHANNEL = "feed"

_SUBJECTS: dict[str, str] = {
    Notification.Kind.DEATH_REGISTERED: "Child protection signposting register: a death has been registered",
    Notification.Kind.DEATH_CANCELLED: "Child protection signposting register: a death registration was cancelled",
    Notification.Kind.FEED_REVIEW: "Child protection signposting register: a registration needs review",
}


def _locked(child: Child) -> Child:
    return Child.objects.select_for_update().select_related("responsible_local_authority").get(pk=child.pk)


def child_death_record(
    *, child: Child, date_of_death: datetime.date, actor: User | None, source: dict[str, Any], notify: bool = True
) -> Child:
    """Mark the child deceased on `date_of_death` (the removal clock runs from it), tell the
    practitioners involved and the authority's register managers. `source` says which
    registration (no personal data); it is written to the audit event."""
    with transaction.atomic():
        child = _locked(child)
        if child.date_of_birth and date_of_death < child.date_of_birth:
            raise ValidationError("The date of death is before the child's date of birth")
        previous = child.date_of_death
        Child.objects.filter(pk=child.pk).update(date_of_death=date_of_death, version=F("version") + 1)
        child.date_of_death = date_of_death
        audit_event_record(
            action=ACTION_DEATH_RECORDED,
            actor=actor,
            register_ids=[child.register_id],
            local_authority_code=child.responsible_local_authority.gss_code,
            details={**source, "had_date_of_death": previous is not None},
            channel=FEED_CHANNEL,
        )
        if previous is None and notify:
            _notify(
                child=child,
                kind=Notification.Kind.DEATH_REGISTERED,
                message=f"A death has been registered for child {child.register_id}. "
                "The register now shows the date of death.",
            )
    return child


def child_death_reverse(
    *, child: Child, restore_to: datetime.date | None, actor: User | None, source: dict[str, Any], notify: bool = True
) -> Child:
    """Undo a recorded death (its registration was cancelled or corrected): the date of
    death becomes `restore_to`, normally none; another registration of the same death may
    still stand, and then its date stays. Tells those told of the death only what changed
    for them: nothing if the register still shows the same date."""
    with transaction.atomic():
        child = _locked(child)
        before = child.date_of_death
        Child.objects.filter(pk=child.pk).update(date_of_death=restore_to, version=F("version") + 1)
        child.date_of_death = restore_to
        audit_event_record(
            action=ACTION_DEATH_REVERSED,
            actor=actor,
            register_ids=[child.register_id],
            local_authority_code=child.responsible_local_authority.gss_code,
            details={**source, "still_has_date_of_death": restore_to is not None},
            channel=FEED_CHANNEL,
        )
        if not notify:
            pass  # a correction: the caller tells them the net change once it is known
        elif restore_to is None:
            _notify(
                child=child,
                kind=Notification.Kind.DEATH_CANCELLED,
                message=f"The death registration for child {child.register_id} has been cancelled. "
                "The register no longer shows a date of death.",
            )
        elif restore_to != before:
            _notify(
                child=child,
                kind=Notification.Kind.DEATH_CANCELLED,
                message=f"A death registration for child {child.register_id} has been cancelled. Another "
                "registration of the death stands: the register shows the date of death it gives.",
            )
    return child


def child_death_correction_notify(*, child: Child, before: datetime.date | None) -> None:
    """Tell those told of a death the net effect of a correction of its registration, once:
    nothing if the date of death the register shows did not change."""
    child.refresh_from_db(fields=["date_of_death"])
    if child.date_of_death == before:
        return
    if child.date_of_death is None:
        message = (
            f"The death registration for child {child.register_id} has been corrected and no longer applies "
            "to this child. The register no longer shows a date of death."
        )
        kind = Notification.Kind.DEATH_CANCELLED
    elif before is None:
        message = (
            f"A death has been registered for child {child.register_id}. The register now shows the date of death."
        )
        kind = Notification.Kind.DEATH_REGISTERED
    else:
        message = (
            f"The death registration for child {child.register_id} has been corrected. "
            "The register shows the corrected date of death."
        )
        kind = Notification.Kind.DEATH_REGISTERED
    _notify(child=child, kind=kind, message=message)


def child_birth_confirm(
    *,
    child: Child,
    unborn_status: ProtectionStatus,
    date_of_birth: datetime.date,
    given_names: str,
    family_name: str,
    sex: str,
    nhs_number: str,
    actor: User,
    source: dict[str, Any],
    request: HttpRequest | None = None,
) -> Child:
    """A register manager confirmed that a registered birth is the baby of an unborn child
    protection plan: the record takes the baby's date of birth, names, sex and NHS number;
    the unborn plan ends on the date of birth and a child protection plan starts that day.
    The address is left as it is."""
    with transaction.atomic():
        child = _locked(child)
        status = ProtectionStatus.objects.select_for_update().get(pk=unborn_status.pk)
        if status.child_id != child.pk or status.kind != ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN:
            raise ValidationError("This plan is not the unborn child protection plan of this record")
        if status.end_date is not None:
            raise ValidationError("The unborn child protection plan has already ended")
        if child.date_of_birth is not None:
            raise ValidationError("This record already has a date of birth")
        if date_of_birth < status.start_date:
            raise ValidationError("The baby was born before the unborn plan started: update the record by hand")
        if nhs_number and Child.objects.filter(nhs_number=nhs_number).exclude(pk=child.pk).exists():
            raise ValidationError("Another record on the register already has this NHS number")
        child.date_of_birth = date_of_birth
        child.given_names = given_names
        child.family_name = family_name
        child.sex = sex if sex in Sex.values else Sex.NOT_KNOWN
        child.nhs_number = nhs_number or child.nhs_number
        name_keys_apply(child)
        child.version = F("version") + 1
        child.save()
        child.refresh_from_db(fields=["version"])
        status.end_date = date_of_birth
        status.save(update_fields=["end_date", "updated_at"])
        ProtectionStatus.objects.create(
            child=child,
            kind=ProtectionStatus.Kind.CHILD_PROTECTION_PLAN,
            start_date=date_of_birth,
            responsible_local_authority=status.responsible_local_authority,
        )
        audit_event_record(
            action=ACTION_BIRTH_CONFIRMED,
            actor=actor,
            request=request,
            register_ids=[child.register_id],
            local_authority_code=child.responsible_local_authority.gss_code,
            details=source,
            channel="web",
        )
    return child


def register_managers_notify_review(*, child: Child, message: str) -> None:
    """Tell the responsible authority's register managers that a registration waits for them."""
    managers = users_with_role_for_authority(
        role=Role.REGISTER_MANAGER, local_authority=child.responsible_local_authority
    )
    _notification_rows(child=child, kind=Notification.Kind.FEED_REVIEW, recipients=managers, message=message)


def _notify(*, child: Child, kind: str, message: str) -> None:
    practitioners = [
        involvement.practitioner
        for involvement in Involvement.objects.filter(
            child=child, end_date__isnull=True, practitioner__isnull=False, practitioner__is_active=True
        ).select_related("practitioner")
        if involvement.practitioner is not None
    ]
    managers = users_with_role_for_authority(
        role=Role.REGISTER_MANAGER, local_authority=child.responsible_local_authority
    )
    _notification_rows(child=child, kind=kind, recipients=[*practitioners, *managers], message=message)


def _notification_rows(*, child: Child, kind: str, recipients: list[User], message: str) -> None:
    unique = {user.pk: user for user in recipients}
    notifications = Notification.objects.bulk_create(
        Notification(recipient_id=user_id, child=child, kind=kind, message=message) for user_id in unique
    )
    if notifications:
        ids = [notification.pk for notification in notifications]
        life_event_emails_send.delay_on_commit(ids)  # type: ignore[attr-defined]


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def life_event_emails_send(notification_ids: list[int]) -> int:
    """Email each life-event notification not yet emailed, once: each row is claimed with a
    conditional update before its email is sent. Returns how many were sent."""
    sent = 0
    for notification in Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True).select_related(
        "recipient"
    ):
        with transaction.atomic():
            claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
                emailed_at=timezone.now()
            )
            if not claimed:
                continue
            send_mail(
                subject=_SUBJECTS.get(notification.kind, "Child protection signposting register"),
                message=f"{notification.message}\n\nSign in to the register to see the record.",
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[notification.recipient.email],
            )
            sent += 1
    return sent
