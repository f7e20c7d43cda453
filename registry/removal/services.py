"""Every write about removal: the daily run, manual removal and legal holds.

A removal deletes the child and, through ForeignKey CASCADE, everything that names them,
then writes a RemovalReceipt and an audit event, all in one transaction per child: either
the child is gone and the receipt and audit event say so, or nothing changed. Audit events
name the child by register ID only and are never deleted.
"""

import datetime
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from accounts.models import LocalAuthority, User
from accounts.roles import Role
from accounts.selectors import user_may_act_on_authority, users_with_role_for_authority
from audit.actor import Actor
from audit.models import AuditEvent
from audit.services import audit_event_record
from registry.children.services_notifications import Notice, notification_send
from registry.models import Child, LegalHold, ManualRemovalReason, Notification, RemovalReceipt, RemovalRule
from registry.removal.rules import (
    DueChild,
    children_due,
    children_with_removal_facts,
    removal_schedule,
    rule_explanation,
)

logger = logging.getLogger(__name__)


class RemovalRefused(ValidationError):
    """The child cannot be removed now (under a legal hold, or already removed)."""


# A child removed because a rule made them due is removed by the register itself.
_RULES: Actor[User] = Actor.system()


def _person(by: Actor[User]) -> User:
    # A manual removal and a legal hold are always a signed-in person's decision.
    assert by.user is not None, "this is decided by a signed-in user"
    return by.user


def _child_delete(
    *,
    child: Child,
    rule: RemovalRule,
    due_on: datetime.date,
    by: Actor[User],
    run_id: uuid.UUID | None,
    manual_reason: str = "",
    explanation: str = "",
) -> RemovalReceipt:
    """Delete the child and everything naming them; write the receipt and the audit event.
    The caller holds the transaction and has checked the child may go."""
    register_id = child.register_id
    authority = child.responsible_local_authority
    _total, counts = child.delete()
    deleted_counts = {label: count for label, count in sorted(counts.items()) if count}
    receipt = RemovalReceipt.objects.create(
        register_id=register_id,
        responsible_local_authority=authority,
        rule=rule,
        manual_reason=manual_reason,
        due_on=due_on,
        removed_at=timezone.now(),
        removed_by=by.user,
        deleted_counts=deleted_counts,
        run_id=run_id,
    )
    details: dict[str, Any] = {
        "rule": str(rule),
        "due_on": due_on.isoformat(),
        "deleted_counts": deleted_counts,
        "receipt_id": receipt.pk,
    }
    if run_id is not None:
        details["run_id"] = str(run_id)
    if manual_reason:
        details["manual_reason"] = manual_reason
    if explanation:
        details["explanation"] = explanation
    audit_event_record(
        action=AuditEvent.Action.CHILD_REMOVED,
        actor=by,
        register_ids=[register_id],
        local_authority_code=authority.gss_code,
        details=details,
    )
    return receipt


def _locked_child(child_pk: int) -> Child | None:
    """The child, locked against a concurrent hold or removal until the transaction ends,
    with statuses and holds read after the lock is granted."""
    locked = Child.objects.select_for_update(of=("self",)).filter(pk=child_pk)
    return children_with_removal_facts(locked.select_related("responsible_local_authority")).first()


def child_remove_when_due(*, child_pk: int, today: datetime.date, run_id: uuid.UUID | None) -> RemovalReceipt | None:
    """Remove the child if a rule makes them due on or before `today` and no legal hold
    stands. Returns None, changing nothing, if the child is already gone, not due or held:
    so running it twice is safe."""
    with transaction.atomic():
        child = _locked_child(child_pk)
        if child is None:
            return None
        schedule = removal_schedule(child=child)
        if schedule.due is None or not schedule.is_due(today=today):
            return None
        return _child_delete(child=child, rule=schedule.due.rule, due_on=schedule.due.due_on, by=_RULES, run_id=run_id)


def child_remove_manually(
    *, by: Actor[User], child: Child, reason: ManualRemovalReason, explanation: str = ""
) -> RemovalReceipt:
    """Remove a child now, by a register manager of the child's responsible authority, for
    a stated reason. Refused while a legal hold stands."""
    actor = _person(by)
    if not user_may_act_on_authority(
        user=actor, role=Role.REGISTER_MANAGER, local_authority=child.responsible_local_authority
    ):
        raise PermissionDenied("Only a register manager of the responsible local authority can remove this child")
    if reason == ManualRemovalReason.OTHER and not explanation.strip():
        raise ValidationError({"explanation": "Explain why the child is being removed"})
    with transaction.atomic():
        locked = _locked_child(child.pk)
        if locked is None:
            raise RemovalRefused("This child has already been removed from the register")
        if removal_schedule(child=locked).on_hold:
            raise RemovalRefused(
                "This child is under a legal hold and cannot be removed until a system administrator lifts it"
            )
        return _child_delete(
            child=locked,
            rule=RemovalRule.MANUAL,
            due_on=timezone.localdate(),
            by=by,
            run_id=None,
            manual_reason=reason,
            explanation=explanation.strip(),
        )


@dataclass
class RemovalRunResult:
    run_id: uuid.UUID
    dry_run: bool
    today: datetime.date
    # Dry run: who would be removed. Real run: who was removed.
    children: list[DueChild] = field(default_factory=list)
    receipts: list[RemovalReceipt] = field(default_factory=list)
    # Register IDs whose removal failed (logged with the error's type, never its content).
    failed: list[str] = field(default_factory=list)

    def counts_by_rule(self) -> dict[str, int]:
        return dict(sorted(Counter(str(child.rule) for child in self.children).items()))


def removal_run(*, by: Actor[User], dry_run: bool, today: datetime.date | None = None) -> RemovalRunResult:
    """Remove every child due on or before `today` and not under a legal hold, one
    transaction per child, or with `dry_run` only list them. Either way the run is audited
    once, with its counts. Running it again finds nothing more to do."""
    result = RemovalRunResult(run_id=uuid.uuid4(), dry_run=dry_run, today=today or timezone.localdate())
    for due in children_due(on=result.today):
        if dry_run:
            result.children.append(due)
            continue
        try:
            receipt = child_remove_when_due(child_pk=due.child_pk, today=result.today, run_id=result.run_id)
        except (DatabaseError, ProtectedError, RestrictedError) as error:
            # Logged by register ID and error type only: a database message can quote row values.
            logger.error("removal of child %s failed: %s", due.register_id, type(error).__name__)
            result.failed.append(due.register_id)
            continue
        if receipt is not None:
            result.children.append(due)
            result.receipts.append(receipt)
    with transaction.atomic():
        audit_event_record(
            action=AuditEvent.Action.REMOVAL_DRY_RUN if dry_run else AuditEvent.Action.REMOVAL_RUN,
            actor=by,
            register_ids=[child.register_id for child in result.children],
            child_authority_codes={child.register_id: child.local_authority_code for child in result.children},
            details={
                "run_id": str(result.run_id),
                "today": result.today.isoformat(),
                "counts_by_rule": result.counts_by_rule(),
                "failed": result.failed,
            },
        )
    logger.info(
        "removal %s %s: %s children %s, %s failed",
        "dry run" if dry_run else "run",
        result.run_id,
        len(result.children),
        "due" if dry_run else "removed",
        len(result.failed),
    )
    return result


def legal_hold_set(*, by: Actor[User], child: Child, reason: str, reference: str) -> LegalHold:
    """Stop every removal rule for the child until the hold is lifted. System administrators only."""
    actor = _person(by)
    if not user_may_act_on_authority(
        user=actor, role=Role.SYSTEM_ADMINISTRATOR, local_authority=child.responsible_local_authority
    ):
        raise PermissionDenied("Only a system administrator can set a legal hold")
    with transaction.atomic():
        locked = _locked_child(child.pk)
        if locked is None:
            raise RemovalRefused("This child has already been removed from the register")
        hold = LegalHold(
            child=locked, reason=reason.strip(), reference=reference.strip(), set_by=actor, set_at=timezone.now()
        )
        hold.full_clean()
        hold.save()
        audit_event_record(
            action=AuditEvent.Action.LEGAL_HOLD_SET,
            actor=by,
            register_ids=[locked.register_id],
            local_authority_code=locked.responsible_local_authority.gss_code,
            details={"legal_hold_id": hold.pk, "reference": hold.reference, "reason": hold.reason},
        )
    return hold


def legal_hold_lift(*, by: Actor[User], hold: LegalHold, lift_reason: str) -> LegalHold:
    """Lift a hold. The child's removal rules apply again from the next run: a child whose
    date has passed is removed then."""
    actor = _person(by)
    authority = hold.child.responsible_local_authority
    if not user_may_act_on_authority(user=actor, role=Role.SYSTEM_ADMINISTRATOR, local_authority=authority):
        raise PermissionDenied("Only a system administrator can lift a legal hold")
    if not lift_reason.strip():
        raise ValidationError({"lift_reason": "Enter why the hold is being lifted"})
    with transaction.atomic():
        lifted = LegalHold.objects.filter(pk=hold.pk, lifted_at__isnull=True).update(
            lifted_at=timezone.now(), lifted_by=actor, lift_reason=lift_reason.strip()
        )
        if not lifted:
            raise RemovalRefused("This legal hold has already been lifted")
        hold.refresh_from_db()
        audit_event_record(
            action=AuditEvent.Action.LEGAL_HOLD_LIFTED,
            actor=by,
            register_ids=[hold.child.register_id],
            local_authority_code=authority.gss_code,
            details={"legal_hold_id": hold.pk, "reference": hold.reference, "lift_reason": hold.lift_reason},
        )
    return hold


def removal_due_notify(*, today: datetime.date | None = None) -> int:
    """Tell the responsible authority's register managers, in the app, once per child, when
    a child comes within REMOVAL_DUE_SOON_DAYS of removal, so that a child who should stay
    can have their statuses corrected in time. Returns how many notifications were made;
    running it again the same day makes none."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=settings.REMOVAL_DUE_SOON_DAYS)
    managers: dict[str, list[User]] = {}
    made = 0
    pending: list[DueChild] = []
    for due in children_due(on=horizon):
        pending.append(due)
        if len(pending) >= settings.REMOVAL_BATCH_SIZE:
            made += _removal_due_notify_chunk(pending, managers)
            pending = []
    if pending:
        made += _removal_due_notify_chunk(pending, managers)
    return made


def _removal_due_notify_chunk(children: list[DueChild], managers: dict[str, list[User]]) -> int:
    told = set(
        Notification.objects.filter(
            kind=Notification.Kind.REMOVAL_DUE, child_id__in=[due.child_pk for due in children]
        ).values_list("child_id", "recipient_id")
    )
    notices: list[Notice] = []
    for due in children:
        if due.local_authority_code not in managers:
            authority = LocalAuthority.objects.get(gss_code=due.local_authority_code)
            managers[due.local_authority_code] = users_with_role_for_authority(
                role=Role.REGISTER_MANAGER, local_authority=authority
            )
        reference = f" (your reference {due.la_reference})" if due.la_reference else ""
        message = (
            f"Child {due.register_id}{reference} is due to leave the register on {due.due_on.day} {due.due_on:%B %Y}, "
            f"{rule_explanation(due.rule)}. If they should stay, check their statuses are up to date."
        )
        notices.extend(
            Notice(recipient_id=manager.pk, child_id=due.child_pk, message=message)
            for manager in managers[due.local_authority_code]
            if (due.child_pk, manager.pk) not in told
        )
    with transaction.atomic():
        # A child removed since it was listed would fail the ForeignKey: keep only those still here.
        present = set(Child.objects.filter(pk__in={item.child_id for item in notices}).values_list("pk", flat=True))
        # Shown in the app only: the managers' due list is where they act on it.
        made = notification_send(
            kind=Notification.Kind.REMOVAL_DUE,
            notices=[item for item in notices if item.child_id in present],
            email=False,
        )
    return len(made)
