"""Writes from local authorities' case-management systems (the API in registry.intake.api).

A case-management system account is a system account (not a person) that holds the
register-manager role over exactly one local authority and calls with a hashed, expiring
token (django-rest-knox) that is accepted on this API only. It names
children by its authority's own reference (`la_reference`), so every lookup here is made
within that authority: another authority's children are never found, read or written.

New children, statuses and involvements go through registry.children.services. Changing a known
status's or contact's details has no service there yet, so it is written here, with its
audit event in the same transaction (field names and register IDs only, never values).
"""

import datetime
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import LocalAuthority, User
from accounts.roles import Role
from accounts.selectors import local_authorities_for_role
from audit.models import AuditEvent, LookupOutcome
from audit.services import audit_event_record
from registry.children.services import child_create, child_identity_update, involvement_add, name_keys_apply, status_add
from registry.children.status_rules import status_overlap_check
from registry.identity import involvement_sensitivity
from registry.models import Child, IdempotencyRecord, Involvement, OtherName, ProtectionStatus

# Identity fields a case-management system may set. Everything else on Child (the
# authority, register ID, version, shielding, date of death, timestamps, matching keys) is
# out of its reach.
IDENTITY_FIELDS = (
    "nhs_number", "given_names", "family_name", "date_of_birth", "sex",
    "address_line_1", "address_line_2", "town", "postcode",
)  # fmt: skip
STATUS_UPDATE_FIELDS = ("end_date", "legal_basis", "expected_delivery_date")
INVOLVEMENT_UPDATE_FIELDS = (
    "contact_organisation_name", "contact_role", "contact_phone", "contact_email", "is_lead", "end_date",
)  # fmt: skip


class CmsRefused(Exception):
    """The record cannot be written by this account; the message says why, without
    revealing anything about another authority's children. `held_by` is the other
    authority's child whose NHS number the record gave: for the audit only."""

    def __init__(self, message: str, *, status: int = 409, held_by: Child | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.held_by = held_by


class _TrialOnly(Exception):
    """Ends a trial write whose only purpose was to find the record's other faults."""


NHS_NUMBER_HELD_ELSEWHERE = (
    "This NHS number is recorded for a child another local authority is responsible for. "
    "Moving a child between authorities is a transfer: contact that authority."
)


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was already used by this account for a different request."""


@dataclass(frozen=True)
class RecordOutcome:
    outcome: str  # created, updated or unchanged
    register_id: str
    version: int


def cms_account_authority(*, user: User) -> LocalAuthority | None:
    """The one authority a case-management account writes for, or None if the user is not
    a system account (accounts.models.User.is_system_account) holding the register manager
    role of exactly one authority (a national or multi-authority user cannot
    say which authority its references belong to)."""
    if not user.is_system_account:
        return None
    authorities = list(local_authorities_for_role(user=user, role=Role.REGISTER_MANAGER)[:2])
    return authorities[0] if len(authorities) == 1 else None


def cms_child_for_reference(*, local_authority: LocalAuthority, la_reference: str) -> Child | None:
    """The authority's own child with this reference; never another authority's."""
    if not la_reference:
        return None
    return Child.objects.filter(responsible_local_authority=local_authority, la_reference=la_reference).first()


def _nhs_number_holder(*, child: Child | None, nhs_number: str) -> Child | None:
    holders = Child.objects.select_related("responsible_local_authority").filter(nhs_number=nhs_number)
    if child is not None:
        holders = holders.exclude(pk=child.pk)
    return holders.first()


def _refuse_nhs_number_held_by_own(*, child: Child | None, holder: Child) -> Child:
    """Refuse an NHS number recorded for another of the authority's own children; return
    the holder if it has no reference yet (added in the browser): the record takes it over."""
    if child is None and not holder.la_reference:
        return holder
    raise CmsRefused("This NHS number is already recorded for another of your authority's children.")


def cms_refusal_record(*, actor: User, refused: CmsRefused, request: HttpRequest | None = None) -> None:
    """Audit a record refused because another authority's child has its NHS number: the
    refusal says the number is on the register, so it is a look-up like a search. Written
    by the caller after the refused write's savepoint is undone."""
    holder = refused.held_by
    if holder is None:
        return
    audit_event_record(
        action=AuditEvent.Action.SEARCH,
        actor=actor,
        request=request,
        criteria={"nhs_number": holder.nhs_number},
        register_ids=[holder.register_id],
        local_authority_code=holder.responsible_local_authority.gss_code,
        outcome=LookupOutcome.REFUSED,
        details={"purpose": "cms_record", "refusal": "nhs_number_held_elsewhere"},
        channel="api",
    )


def _audit_child_change(
    *, actor: User, child: Child, details: dict[str, Any], request: HttpRequest | None, action: AuditEvent.Action
) -> None:
    audit_event_record(
        action=action,
        actor=actor,
        request=request,
        register_ids=[child.register_id],
        local_authority_code=child.responsible_local_authority.gss_code,
        details=details,
        channel="api",
    )


def other_names_add(
    *, actor: User, child: Child, other_names: list[tuple[str, str, str]], request: HttpRequest | None = None
) -> bool:
    """Add the (kind, given names, family name) entries the child does not have yet; names
    are never removed this way. True if any was added."""
    known = set(child.other_names.values_list("kind", "given_names", "family_name"))
    added = []
    with transaction.atomic():
        for kind, given, family in other_names:
            if (kind, given, family) in known:
                continue
            other = OtherName(child=child, kind=kind, given_names=given, family_name=family)
            name_keys_apply(other)
            other.full_clean()
            other.save()
            known.add((kind, given, family))
            added.append(kind)
        if added:
            _audit_child_change(
                actor=actor, child=child, request=request, action=AuditEvent.Action.CHILD_UPDATED,
                details={"fields": ["other_names"], "other_names_added": len(added)},
            )  # fmt: skip
    return bool(added)


def status_upsert(*, actor: User, child: Child, status: dict[str, Any], request: HttpRequest | None = None) -> bool:
    """Add the status, or bring the one with the same kind and start date up to date (end
    date, legal basis, expected delivery date). True if anything was written."""
    with transaction.atomic():
        known = (
            ProtectionStatus.objects.select_for_update()
            .filter(child=child, kind=status["kind"], start_date=status["start_date"])
            .first()
        )
        if known is None:
            status_add(actor=actor, child=child, status=ProtectionStatus(**status), request=request)
            return True
        changed = [name for name in STATUS_UPDATE_FIELDS if name in status and getattr(known, name) != status[name]]
        if not changed:
            return False
        ended = "end_date" in changed and known.end_date is None
        for name in changed:
            setattr(known, name, status[name])
        if "end_date" in changed:
            status_overlap_check(status=known)
        known.full_clean()
        known.save(update_fields=[*changed, "updated_at"])
        _audit_child_change(
            actor=actor, child=child, request=request,
            action=AuditEvent.Action.STATUS_ENDED if ended else AuditEvent.Action.CHILD_UPDATED,
            details={"status_kind": known.kind, "status_fields": sorted(changed)},
        )  # fmt: skip
    return True


def _lead_taken(*, child: Child, involvement: Involvement | None) -> bool:
    others = Involvement.objects.filter(child=child, is_lead=True, end_date__isnull=True)
    if involvement is not None and involvement.pk:
        others = others.exclude(pk=involvement.pk)
    return others.exists()


def involvement_upsert(
    *, actor: User, child: Child, involvement: dict[str, Any], request: HttpRequest | None = None
) -> bool:
    """Record an external contact working with the child, or update the one with the same
    service, contact name and start date. True if anything was written."""
    with transaction.atomic():
        known = (
            Involvement.objects.select_for_update()
            .filter(
                child=child,
                practitioner__isnull=True,
                service_type=involvement["service_type"],
                contact_name=involvement["contact_name"],
                start_date=involvement["start_date"],
            )
            .first()
        )
        current_lead = involvement.get("is_lead") and involvement.get("end_date") is None
        if current_lead and _lead_taken(child=child, involvement=known):
            raise ValidationError(
                {"is_lead": "Another current involvement is the lead: end it, or send it with is_lead false, first"}
            )
        if known is None:
            service = involvement["service_type"]
            record = Involvement(
                **involvement,
                sensitive_category=involvement_sensitivity(service_type=service),
            )
            involvement_add(actor=actor, child=child, involvement=record, request=request)
            return True
        changed = [
            name
            for name in INVOLVEMENT_UPDATE_FIELDS
            if name in involvement and getattr(known, name) != involvement[name]
        ]
        if not changed:
            return False
        ended = "end_date" in changed and known.end_date is None
        for name in changed:
            setattr(known, name, involvement[name])
        known.full_clean()
        known.save(update_fields=changed)
        _audit_child_change(
            actor=actor, child=child, request=request,
            action=AuditEvent.Action.INVOLVEMENT_ENDED if ended else AuditEvent.Action.CHILD_UPDATED,
            details={"involvement_id": known.pk, "involvement_fields": sorted(changed)},
        )  # fmt: skip
    return True


def cms_child_upsert(
    *,
    actor: User,
    local_authority: LocalAuthority,
    la_reference: str,
    record: dict[str, Any],
    request: HttpRequest | None = None,
    today: datetime.date | None = None,
) -> RecordOutcome:
    """Add or update the authority's child with this reference, then its other names,
    statuses and involvements, in one transaction. `record` holds validated values
    (registry.intake.api); an identity field left out is unchanged. A new child needs at
    least one status that puts it in the register's scope."""
    statuses: list[dict[str, Any]] = list(record.get("statuses", []))
    involvements: list[dict[str, Any]] = list(record.get("involvements", []))
    other_names = [(name["kind"], name["given_names"], name["family_name"]) for name in record.get("other_names", [])]
    identity = {name: record[name] for name in IDENTITY_FIELDS if name in record}
    with transaction.atomic():
        child = (
            Child.objects.select_for_update()
            .filter(responsible_local_authority=local_authority, la_reference=la_reference)
            .first()
        )
        nhs_number = identity.get("nhs_number")
        holder = _nhs_number_holder(child=child, nhs_number=nhs_number) if nhs_number else None
        if holder is not None and holder.responsible_local_authority_id != local_authority.pk:
            # Answer as if the number were free until the record is otherwise acceptable:
            # a record refused for any other fault gets the same answer whoever holds the
            # number, so a half-made record cannot probe the register (issue 15, finding 7).
            try:
                with transaction.atomic():
                    without_number = {name: value for name, value in identity.items() if name != "nhs_number"}
                    _upsert(
                        actor=actor, local_authority=local_authority, la_reference=la_reference, child=child,
                        identity=without_number, other_names=other_names, statuses=statuses,
                        involvements=involvements, request=request, today=today,
                    )  # fmt: skip
                    raise _TrialOnly
            except _TrialOnly:
                pass
            raise CmsRefused(NHS_NUMBER_HELD_ELSEWHERE, held_by=holder)
        if holder is not None:
            child = _refuse_nhs_number_held_by_own(child=child, holder=holder)
            identity["la_reference"] = la_reference
        return _upsert(
            actor=actor, local_authority=local_authority, la_reference=la_reference, child=child, identity=identity,
            other_names=other_names, statuses=statuses, involvements=involvements, request=request, today=today,
        )  # fmt: skip


def _upsert(
    *,
    actor: User,
    local_authority: LocalAuthority,
    la_reference: str,
    child: Child | None,
    identity: dict[str, Any],
    other_names: list[tuple[str, str, str]],
    statuses: list[dict[str, Any]],
    involvements: list[dict[str, Any]],
    request: HttpRequest | None,
    today: datetime.date | None,
) -> RecordOutcome:
    if child is None:
        if not statuses:
            raise ValidationError({"statuses": "A child new to the register needs at least one status"})
        if not identity.get("family_name"):
            raise ValidationError({"family_name": "A child new to the register needs a family name"})
        first, *statuses = statuses
        child = child_create(
            actor=actor,
            responsible_local_authority=local_authority,
            status=ProtectionStatus(**first),
            other_names=other_names,
            request=request,
            today=today,
            la_reference=la_reference,
            **identity,
        )
        other_names = []
        outcome = "created"
    else:
        version = child.version
        child_identity_update(actor=actor, child=child, changes=identity, request=request)
        outcome = "updated" if child.version != version else "unchanged"
    changed = other_names_add(actor=actor, child=child, other_names=other_names, request=request)
    for status in statuses:
        changed = status_upsert(actor=actor, child=child, status=status, request=request) or changed
    # Ended and non-lead involvements first, so that a new lead can take over in one record.
    for involvement in sorted(involvements, key=lambda item: bool(item.get("is_lead") and not item.get("end_date"))):
        changed = involvement_upsert(actor=actor, child=child, involvement=involvement, request=request) or changed
    if changed and outcome == "unchanged":
        outcome = "updated"
    return RecordOutcome(outcome=outcome, register_id=child.register_id, version=child.version)


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    """SHA-256 of the method, path and JSON body (keys sorted, so the order of keys in the
    body does not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class _KeyTakenMeanwhile(Exception):
    pass


def _storable(body: Any) -> Any:
    """The answer made storable and sendable: it may echo what the caller sent (an invalid
    choice, a reference), and neither NUL (refused by PostgreSQL's JSON) nor a lone
    surrogate (not UTF-8) can be stored or sent. Both become U+FFFD."""
    if isinstance(body, str):
        return _UNSTORABLE.sub("\ufffd", body)
    if isinstance(body, dict):
        return {_storable(key): _storable(value) for key, value in body.items()}
    if isinstance(body, list | tuple):
        return [_storable(value) for value in body]
    return body


def idempotent_call(
    *, account: User, key: str, fingerprint: str, perform: Callable[[], tuple[int, Any]]
) -> tuple[int, Any, bool]:
    """Run `perform` (which writes and returns the status and body of its answer) once per
    Idempotency-Key: the answer is stored in the same transaction as the writes, and the
    same key with the same request gets it back (third value True) without writing again.
    Raises IdempotencyKeyReused for the same key with a different request. Keys are kept
    for CMS_IDEMPOTENCY_KEY_HOURS."""
    for _attempt in range(2):
        try:
            with transaction.atomic():
                stored = IdempotencyRecord.objects.filter(account=account, key=key).first()
                cutoff = timezone.now() - datetime.timedelta(hours=settings.CMS_IDEMPOTENCY_KEY_HOURS)
                if stored is not None and stored.created_at >= cutoff:
                    if stored.request_fingerprint != fingerprint:
                        raise IdempotencyKeyReused
                    return stored.response_status, stored.response_body, True
                if stored is not None:
                    stored.delete()  # expired: the key may be used afresh
                status, answer = perform()
                body = _storable(answer)
                try:
                    with transaction.atomic():
                        IdempotencyRecord.objects.create(
                            account=account,
                            key=key,
                            request_fingerprint=fingerprint,
                            response_status=status,
                            response_body=body,
                        )
                except IntegrityError:
                    # The same key committed by a concurrent request: undo this one's
                    # writes and answer with what that one stored.
                    raise _KeyTakenMeanwhile from None
                return status, body, False
        except _KeyTakenMeanwhile:
            continue
    raise CmsRefused("A request with this Idempotency-Key is still being processed: try again shortly.")


def idempotency_records_purge(*, older_than_hours: int | None = None) -> int:
    """Delete stored API answers whose keys have expired. Returns how many."""
    hours = settings.CMS_IDEMPOTENCY_KEY_HOURS if older_than_hours is None else older_than_hours
    cutoff = timezone.now() - datetime.timedelta(hours=hours)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
