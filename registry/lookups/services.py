"""Searches and record views by practitioners: the register's main job.

Each lookup writes exactly one audit event in the same transaction as the read it records:
if the event cannot be written, the lookup fails and nothing is shown (fail closed).
"""

import datetime
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.selectors import lookup_refusal
from audit.actor import Actor
from audit.models import AuditEvent, LookupOutcome
from audit.services import audit_event_record
from registry.children.selectors import ChildSignpost, child_signpost, children_managed_by, managed_children_page
from registry.lookups.activity import interactive_search_mark
from registry.matching.selectors import (
    Grade,
    Purpose,
    SearchCriteria,
    SearchMatch,
    SearchOutcome,
    UnbornSearchCriteria,
    candidates,
    criteria_sufficient,
    unborn_criteria_sufficient,
    unborn_search,
)
from registry.models import AccessNotice, Child

logger = logging.getLogger(__name__)

# How long a search's stated reason carries over to opening one of its results.
LOOKUP_REASON_LIFETIME = datetime.timedelta(minutes=30)


class LookupRefused(Exception):
    """The user may not make this lookup, or gave too little to search on. The message is
    safe to show to the user."""


@dataclass(frozen=True)
class LookupReasonGiven:
    reason: str
    detail: str = ""


# Marks the audit event of a search for an unborn child by the mother (details.purpose).
UNBORN_SEARCH = "unborn_by_mother"


def _criteria_for_audit(criteria: SearchCriteria | UnbornSearchCriteria) -> dict[str, Any]:
    values = asdict(criteria)
    for key, value in values.items():
        if isinstance(value, datetime.date):
            values[key] = value.isoformat()
    return {key: value for key, value in values.items() if value}


def _signed_in(by: Actor[User]) -> User:
    # A look-up is always a person's: the views and the API build the context from a
    # signed-in request.
    assert by.user is not None, "a look-up needs a signed-in user"
    return by.user


def search_perform(
    *, by: Actor[User], criteria: SearchCriteria, reason: LookupReasonGiven
) -> tuple[SearchOutcome, AuditEvent]:
    """Search the register for a practitioner and audit it. Raises LookupRefused (audited)
    when the user may not search or the criteria are too thin. `by` is the actor context
    (user, request, channel), passed whole to every audit event."""
    actor = _signed_in(by)
    audit: dict[str, Any] = {
        "action": AuditEvent.Action.SEARCH,
        "actor": by,
        "reason": reason.reason,
        "reason_detail": reason.detail,
        "criteria": _criteria_for_audit(criteria),
    }
    refusal = lookup_refusal(user=actor) or criteria_sufficient(criteria)
    return _search_audited(
        by=by, audit=audit, refusal=refusal, run=lambda: candidates(criteria, purpose=Purpose.SEARCH), reason=reason
    )


def unborn_search_perform(
    *, by: Actor[User], criteria: UnbornSearchCriteria, reason: LookupReasonGiven
) -> tuple[SearchOutcome, AuditEvent]:
    """Search for an unborn child on a pre-birth plan by the mother's details, for a
    practitioner, audited exactly as search_perform (the mother's details as typed, the
    register IDs returned, the outcome; details.purpose UNBORN_SEARCH). Raises
    LookupRefused (audited) when the user may not search or the details are too thin."""
    actor = _signed_in(by)
    audit: dict[str, Any] = {
        "action": AuditEvent.Action.SEARCH,
        "actor": by,
        "reason": reason.reason,
        "reason_detail": reason.detail,
        "criteria": _criteria_for_audit(criteria),
    }
    refusal = lookup_refusal(user=actor) or unborn_criteria_sufficient(criteria)
    return _search_audited(
        by=by, audit=audit, refusal=refusal, run=lambda: unborn_search(criteria), reason=reason, purpose=UNBORN_SEARCH
    )


def _search_audited(
    *, by: Actor[User], audit: dict[str, Any], refusal: str | None, run: Callable[[], SearchOutcome],
    reason: LookupReasonGiven, purpose: str = "",
) -> tuple[SearchOutcome, AuditEvent]:  # fmt: skip
    """Run a search inside the transaction that audits it (fail closed); a refused search
    and a failed one are audited too."""
    # Background work (a feed's ingestion) gives way while practitioners are searching.
    interactive_search_mark()
    purpose_details = {"purpose": purpose} if purpose else {}
    if refusal:
        with transaction.atomic():
            audit_event_record(**audit, outcome=LookupOutcome.REFUSED, details={"refusal": refusal, **purpose_details})
        raise LookupRefused(refusal)
    try:
        with transaction.atomic():
            outcome = run()
            if outcome.too_many:
                result = LookupOutcome.TOO_MANY
            else:
                result = LookupOutcome.RESULTS if outcome.matches else LookupOutcome.NO_RESULTS
            event = audit_event_record(
                **audit,
                outcome=result,
                register_ids=[match.child.register_id for match in outcome.matches],
                child_authority_codes={
                    match.child.register_id: match.child.responsible_local_authority.gss_code
                    for match in outcome.matches
                },
                details={**_search_details(outcome), **purpose_details},
            )
            _withheld_matches_notify(actor=_signed_in(by), outcome=outcome, reason=reason)
    except Exception as error:
        # Record that a search was attempted even though it failed, in its own transaction;
        # if even that fails the error propagates and the user sees the failure page.
        logger.exception("search failed (request %s)", getattr(by.request, "request_id", "-"))
        with transaction.atomic():
            audit_event_record(
                **audit, outcome=LookupOutcome.FAILED, details={"error": type(error).__name__, **purpose_details}
            )
        raise
    return outcome, event


def _search_details(outcome: SearchOutcome) -> dict[str, Any]:
    details: dict[str, Any] = {"grades": [match.grade for match in outcome.matches]}
    if outcome.withheld:
        # Auditors see which results the practitioner was shown only as "a shielded record may match".
        details["withheld"] = [match.child.register_id for match in outcome.withheld]
    return details


def _withheld_matches_notify(*, actor: User, outcome: SearchOutcome, reason: LookupReasonGiven) -> None:
    # The practitioner is told to contact the authority of a shielded child they found under
    # another name: the authority learns of the look-up in its digest, as for a record view.
    for match in outcome.withheld:
        if actor.local_authority_id != match.child.responsible_local_authority_id:
            AccessNotice.objects.create(
                local_authority_id=match.child.responsible_local_authority_id,
                child=match.child,
                accessed_by=actor,
                reason=reason.reason,
            )


def search_invalid_record(
    *, by: Actor[User], submitted: dict[str, str], reason: LookupReasonGiven, errors: list[str]
) -> AuditEvent:
    """Audit a search refused because a field was not valid: it is still a search."""
    with transaction.atomic():
        return audit_event_record(
            action=AuditEvent.Action.SEARCH,
            actor=by,
            reason=reason.reason,
            reason_detail=reason.detail,
            criteria=submitted,
            outcome=LookupOutcome.REFUSED,
            details={"refusal": "; ".join(errors)[:500]},
        )


def search_throttled_record(
    *, by: Actor[User], submitted: dict[str, str], reason: LookupReasonGiven, retry_after: int
) -> AuditEvent:
    """Audit a search refused because the user went over the search rate limit: it is
    still a search (what was asked, why), refused, with how long they were told to wait."""
    with transaction.atomic():
        return audit_event_record(
            action=AuditEvent.Action.SEARCH,
            actor=by,
            reason=reason.reason,
            reason_detail=reason.detail,
            criteria=submitted,
            outcome=LookupOutcome.REFUSED,
            details={"refusal": "throttled: too many searches", "retry_after_seconds": retry_after},
        )


@dataclass(frozen=True)
class KeptSearch:
    """A search shown again on the results page: the audited event and what it returned."""

    event: AuditEvent
    criteria: SearchCriteria
    outcome: SearchOutcome
    # Set instead of criteria for a search for an unborn child by the mother.
    mother: UnbornSearchCriteria | None = None


def search_results_keep(*, event: AuditEvent, outcome: SearchOutcome) -> dict[str, Any]:
    """What the session keeps so that the results page can be shown again by GET: the audit
    event's id and each match's plain-English reasons. Nothing personal: the names and
    dates are read again from the register, the criteria from the user's own audit event."""
    return {
        "event": event.pk,
        "reasons": {match.child.register_id: match.reasons for match in outcome.matches},
        # Which matches came through another name: a shielded one of those stays withheld.
        "other_name": [match.child.register_id for match in outcome.matches if match.matched_other_name],
    }


def _recent_search(*, actor: User, event_id: object) -> AuditEvent | None:
    if not isinstance(event_id, int):
        return None
    return AuditEvent.objects.filter(
        pk=event_id,
        actor=actor,
        action=AuditEvent.Action.SEARCH,
        occurred_at__gte=timezone.now() - LOOKUP_REASON_LIFETIME,
    ).first()


def _criteria_from_audit(criteria: dict[str, Any]) -> SearchCriteria:
    born = criteria.get("date_of_birth")
    return SearchCriteria(
        nhs_number=str(criteria.get("nhs_number", "")),
        family_name=str(criteria.get("family_name", "")),
        given_names=str(criteria.get("given_names", "")),
        date_of_birth=datetime.date.fromisoformat(born) if isinstance(born, str) else None,
        sex=str(criteria.get("sex", "")),
        postcode=str(criteria.get("postcode", "")),
        widen_date_of_birth=criteria.get("widen_date_of_birth") is True,
    )


def _date_or_none(value: object) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if isinstance(value, str) else None


def _unborn_criteria_from_audit(criteria: dict[str, Any]) -> UnbornSearchCriteria:
    return UnbornSearchCriteria(
        mother_nhs_number=str(criteria.get("mother_nhs_number", "")),
        mother_family_name=str(criteria.get("mother_family_name", "")),
        mother_given_names=str(criteria.get("mother_given_names", "")),
        mother_date_of_birth=_date_or_none(criteria.get("mother_date_of_birth")),
        expected_delivery_date=_date_or_none(criteria.get("expected_delivery_date")),
        postcode=str(criteria.get("postcode", "")),
    )


def is_unborn_search(event: AuditEvent) -> bool:
    return bool(event.details.get("purpose") == UNBORN_SEARCH)


def search_kept(*, actor: User, kept: object) -> KeptSearch | None:
    """The actor's own search that the session kept, as it was answered, for the results
    page; None if there is none or it is older than LOOKUP_REASON_LIFETIME. It is the same
    lookup as the audited search (the same user, the same children, the same reason), so
    showing it again writes no new event; only children the event recorded are shown, and
    one removed since is left out."""
    if not isinstance(kept, dict):
        return None
    event = _recent_search(actor=actor, event_id=kept.get("event"))
    if event is None:
        return None
    reasons: dict[str, list[str]] = kept.get("reasons") or {}
    other_name = set(kept.get("other_name") or [])
    grades = list(event.details.get("grades", []))
    children = {child.register_id: child for child in Child.objects.filter(register_id__in=event.register_ids)}
    matches = [
        SearchMatch(
            child=children[register_id],
            grade=Grade(grade),
            score=0.0,
            reasons=reasons.get(register_id, []),
            matched_other_name=register_id in other_name,
        )
        for register_id, grade in zip(event.register_ids, grades, strict=False)
        if register_id in children
    ]
    outcome = SearchOutcome(matches=matches, too_many=event.outcome == LookupOutcome.TOO_MANY)
    if is_unborn_search(event):
        return KeptSearch(
            event=event, criteria=SearchCriteria(), outcome=outcome, mother=_unborn_criteria_from_audit(event.criteria)
        )
    return KeptSearch(event=event, criteria=_criteria_from_audit(event.criteria), outcome=outcome)


def search_form_values(*, actor: User, kept: object) -> dict[str, Any]:
    """The kept search's criteria and reason as the search form's initial values, for
    "Change search"; empty if there is no kept search."""
    if not isinstance(kept, dict):
        return {}
    event = _recent_search(actor=actor, event_id=kept.get("event"))
    if event is None or is_unborn_search(event):
        return {}
    criteria = _criteria_from_audit(event.criteria)
    values: dict[str, Any] = {
        "nhs_number": criteria.nhs_number,
        "family_name": criteria.family_name,
        "given_names": criteria.given_names,
        "sex": criteria.sex,
        "postcode": criteria.postcode,
        "widen_date_of_birth": criteria.widen_date_of_birth,
        "reason": event.reason,
        "reason_detail": event.reason_detail,
    }
    if criteria.date_of_birth:
        # The form's GOV.UK date field shows a date in its day, month and year boxes.
        values["dob"] = criteria.date_of_birth
    return values


def unborn_search_form_values(*, actor: User, kept: object) -> dict[str, Any]:
    """The kept search for an unborn child as the unborn search form's initial values, for
    "Change search"; empty if the kept search is not one."""
    if not isinstance(kept, dict):
        return {}
    event = _recent_search(actor=actor, event_id=kept.get("event"))
    if event is None or not is_unborn_search(event):
        return {}
    criteria = _unborn_criteria_from_audit(event.criteria)
    return {
        "mother_nhs_number": criteria.mother_nhs_number,
        "mother_family_name": criteria.mother_family_name,
        "mother_given_names": criteria.mother_given_names,
        "mother_dob": criteria.mother_date_of_birth,
        "expected_delivery": criteria.expected_delivery_date,
        "postcode": criteria.postcode,
        "reason": event.reason,
        "reason_detail": event.reason_detail,
    }


def search_event_for_view(*, actor: User, event_id: int | None, register_id: str) -> AuditEvent | None:
    """The actor's own recent search that returned this child, whose reason carries over
    to opening the child's record; None if there is no such search."""
    event = _recent_search(actor=actor, event_id=event_id)
    # One candidate row: checking its list in Python works the same on SQLite and PostgreSQL.
    return event if event is not None and register_id in event.register_ids else None


def child_view(
    *, by: Actor[User], register_id: str, reason: LookupReasonGiven, search_event: AuditEvent | None = None
) -> ChildSignpost | None:
    """Open a child's signposting record for a practitioner and audit it. None if there is
    no such child (also audited). Someone outside the responsible authority triggers an
    access notice for that authority's daily digest."""
    actor = _signed_in(by)
    refusal = lookup_refusal(user=actor)
    audit: dict[str, Any] = {
        "action": AuditEvent.Action.CHILD_VIEWED,
        "actor": by,
        "reason": reason.reason,
        "reason_detail": reason.detail,
        "criteria": {"register_id": register_id},
        "details": {"search_event": search_event.pk} if search_event else {},
    }
    with transaction.atomic():
        if refusal:
            audit_event_record(**audit, outcome=LookupOutcome.REFUSED)
            raise LookupRefused(refusal)
        signpost = child_signpost(user=actor, register_id=register_id)
        if signpost is None:
            audit_event_record(**audit, outcome=LookupOutcome.NO_RESULTS)
            return None
        audit_event_record(
            **audit,
            outcome=LookupOutcome.VIEWED,
            register_ids=[register_id],
            local_authority_code=signpost.local_authority.gss_code,
        )
        if actor.local_authority_id != signpost.local_authority.pk:
            AccessNotice.objects.create(
                local_authority=signpost.local_authority,
                child_id=signpost.child_pk,
                accessed_by=actor,
                reason=reason.reason,
            )
    return signpost


# --- A register manager finding their own authority's children --------------------------

MANAGER_FIND = "manager_find"


@dataclass(frozen=True)
class ManagerFind:
    """What a manager typed into the Find: a register ID or their own reference, or
    criteria for the matcher (an NHS number, or a family name and date of birth)."""

    reference: str = ""
    criteria: SearchCriteria | None = None


@dataclass(frozen=True)
class ManagerFound:
    children: list[Child]
    matches: list[SearchMatch]  # the same children with grade and reasons, for a matcher find
    too_many: bool


def manager_find_perform(*, by: Actor[User], find: ManagerFind) -> ManagerFound:
    """Find the actor's own authority's children (never another authority's: the reference
    is looked up in managed_children_page, the matcher runs with purpose MANAGER_FIND) and
    audit it in the same transaction, as a search with the purpose "manager_find": what was
    typed, the register IDs found and the outcome. No audit, no answer (fail closed)."""
    actor = _signed_in(by)
    with transaction.atomic():
        if find.criteria is None:
            children = list(managed_children_page(user=actor, query=find.reference))
            found = ManagerFound(children=children, matches=[], too_many=False)
            typed: dict[str, Any] = {"register_id_or_reference": find.reference}
        else:
            outcome = candidates(find.criteria, purpose=Purpose.MANAGER_FIND, within=children_managed_by(user=actor))
            found = ManagerFound(
                children=[match.child for match in outcome.matches],
                matches=outcome.matches,
                too_many=outcome.too_many,
            )
            typed = _criteria_for_audit(find.criteria)
        if found.too_many:
            result = LookupOutcome.TOO_MANY
        else:
            result = LookupOutcome.RESULTS if found.children else LookupOutcome.NO_RESULTS
        audit_event_record(
            action=AuditEvent.Action.SEARCH,
            actor=by,
            criteria=typed,
            outcome=result,
            register_ids=[child.register_id for child in found.children],
            details={"purpose": MANAGER_FIND},
        )
    return found
