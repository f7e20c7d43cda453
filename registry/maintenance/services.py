"""Writes register maintenance makes outside registry.children.services: the audit of the
duplicate check a manager runs before adding a child, and of their decision about it."""

import datetime

from django.db import transaction

from accounts.models import User
from audit.actor import Actor
from audit.models import AuditEvent, LookupOutcome
from audit.services import audit_event_record
from registry.children.selectors import child_authority_codes
from registry.maintenance.duplicates import DuplicateCheck, PossibleDuplicate, ProposedChild, possible_duplicates


def _typed(proposed: ProposedChild) -> dict[str, str]:
    return {
        name: value.isoformat() if isinstance(value, datetime.date) else str(value)
        for name, value in proposed.__dict__.items()
        if value
    }


def duplicate_check_perform(*, by: Actor[User], proposed: ProposedChild) -> DuplicateCheck:
    """Run the check and audit it as a search with the purpose "duplicate_check": the
    values typed (as for any search, so that a look-up by NHS number is visible to
    auditors) and the register IDs that came back. `by` is the manager's actor context."""
    assert by.user is not None, "only a signed-in manager checks for duplicates"
    with transaction.atomic():
        check = possible_duplicates(user=by.user, proposed=proposed)
        typed = _typed(proposed)
        audit_event_record(
            action=AuditEvent.Action.SEARCH,
            actor=by,
            criteria=typed,
            register_ids=check.register_ids,
            child_authority_codes=child_authority_codes(register_ids=check.register_ids),
            details={
                "purpose": "duplicate_check",
                "criteria_fields": sorted(typed),
                "held_elsewhere": check.held_elsewhere,
            },
            outcome=LookupOutcome.TOO_MANY
            if check.too_many
            else (LookupOutcome.RESULTS if check.register_ids else LookupOutcome.NO_RESULTS),
        )
    return check


def duplicate_decision_record(*, by: Actor[User], check: DuplicateCheck, held_by: PossibleDuplicate) -> None:
    """The manager says the child is one another authority already holds: nothing is
    written but this decision, so that the authority can be asked for a transfer."""
    held = check.held_elsewhere.get(held_by.local_authority.gss_code, [])
    with transaction.atomic():
        audit_event_record(
            action=AuditEvent.Action.SEARCH,
            actor=by,
            register_ids=held,
            child_authority_codes=child_authority_codes(register_ids=held),
            local_authority_code=held_by.local_authority.gss_code,
            details={
                "purpose": "duplicate_check",
                "decision": "same_child_other_authority",
                "register_ids_shown": check.register_ids,
            },
            outcome=LookupOutcome.RESULTS,
        )
