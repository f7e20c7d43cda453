"""The dashboard's writes: confirming an involvement is still current, and setting aside a
possible duplicate that is two different children. Each writes its audit event in the same
transaction (fail closed)."""

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.actor import Actor
from audit.models import AuditEvent
from audit.services import audit_event_record
from registry.models import DuplicatePair, Involvement


def involvement_confirm(*, by: Actor[User], involvement: Involvement) -> Involvement:
    """Record that the involvement is still current ("still working with this child"). The
    caller has checked that `by.user` may (registry.dashboard.selectors.involvement_confirmable)."""
    with transaction.atomic():
        involvement.confirmed_at = timezone.now()
        involvement.save(update_fields=["confirmed_at"])
        child = involvement.child
        audit_event_record(
            action=AuditEvent.Action.INVOLVEMENT_CONFIRMED,
            actor=by,
            register_ids=[child.register_id],
            child_authority_codes={child.register_id: child.responsible_local_authority.gss_code},
            local_authority_code=child.responsible_local_authority.gss_code,
            details={
                "involvement_id": involvement.pk,
                "by_practitioner": by.user is not None and involvement.practitioner_id == by.user.pk,
            },
        )
    return involvement


def duplicate_pair_dismiss(*, by: Actor[User], pair: DuplicatePair) -> DuplicatePair:
    """The manager says the two children are different: the pair leaves the list and is not
    raised again unless one of them changes."""
    with transaction.atomic():
        pair.dismissed_at = timezone.now()
        pair.dismissed_by = by.user
        pair.save(update_fields=["dismissed_at", "dismissed_by"])
        audit_event_record(
            action=AuditEvent.Action.DUPLICATE_PAIR_DISMISSED,
            actor=by,
            register_ids=[pair.child.register_id, pair.other_child.register_id],
            child_authority_codes={
                pair.child.register_id: pair.local_authority.gss_code,
                pair.other_child.register_id: pair.local_authority.gss_code,
            },
            local_authority_code=pair.local_authority.gss_code,
            details={"grade": pair.grade},
        )
    return pair
