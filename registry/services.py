"""Every write to the register. Each service keeps the matching keys in step, refuses
records outside the register's scope, and writes its audit event in the same transaction."""

import datetime
from dataclasses import asdict
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import LocalAuthority, User
from audit.models import AuditEvent
from audit.services import audit_event_record
from registry.eligibility import child_eligibility
from registry.identifiers import nhs_number_is_valid, nhs_number_normalise, postcode_normalise
from registry.matching import name_keys
from registry.models import Child, Involvement, OtherName, ProtectionStatus


class OutOfScope(ValidationError):
    """The record would fall outside the register's scope (registry.eligibility)."""


def name_keys_apply(record: Child | OtherName) -> None:
    """Set the stored matching keys from the record's current names."""
    for field, value in asdict(name_keys(given_names=record.given_names, family_name=record.family_name)).items():
        setattr(record, field, value)


def _clean_identity(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(fields)
    if cleaned.get("nhs_number"):
        number = nhs_number_normalise(cleaned["nhs_number"])
        if not nhs_number_is_valid(number):
            raise ValidationError({"nhs_number": "Enter a valid 10-digit NHS number"})
        cleaned["nhs_number"] = number
    elif "nhs_number" in cleaned:
        cleaned["nhs_number"] = None
    if cleaned.get("postcode"):
        cleaned["postcode"] = postcode_normalise(cleaned["postcode"])
    return cleaned


def child_create(
    *,
    actor: User | None,
    responsible_local_authority: LocalAuthority,
    family_name: str,
    status: ProtectionStatus,
    given_names: str = "",
    other_names: list[tuple[str, str, str]] | None = None,
    request: HttpRequest | None = None,
    today: datetime.date | None = None,
    **identity: Any,
) -> Child:
    """Add a child with their first status. `status` is an unsaved ProtectionStatus; the
    child must be in scope with it. `other_names` holds (kind, given names, family name)."""
    today = today or timezone.localdate()
    identity = _clean_identity(identity)
    eligibility = child_eligibility(date_of_birth=identity.get("date_of_birth"), statuses=[status], today=today)
    if not eligibility.in_scope:
        raise OutOfScope(f"This child cannot be added to the register: {eligibility.reason.lower()}")
    child = Child(
        responsible_local_authority=responsible_local_authority,
        family_name=family_name,
        given_names=given_names,
        **identity,
    )
    name_keys_apply(child)
    child.full_clean()
    with transaction.atomic():
        child.save()
        for kind, other_given, other_family in other_names or []:
            other = OtherName(child=child, kind=kind, given_names=other_given, family_name=other_family)
            name_keys_apply(other)
            other.save()
        status.child = child
        status.responsible_local_authority = responsible_local_authority
        status.full_clean()
        status.save()
        audit_event_record(
            action=AuditEvent.Action.CHILD_CREATED,
            actor=actor,
            request=request,
            register_ids=[child.register_id],
            local_authority_code=responsible_local_authority.gss_code,
            details={"status_kind": status.kind},
        )
    return child


def child_identity_update(
    *, actor: User | None, child: Child, changes: dict[str, Any], request: HttpRequest | None = None
) -> Child:
    """Correct identity fields. Only the names of the changed fields are audited, never
    their values. Matching keys are recomputed when a name changes."""
    allowed = {
        "nhs_number", "given_names", "family_name", "date_of_birth", "sex", "address_line_1",
        "address_line_2", "town", "postcode", "date_of_death", "la_reference",
    }  # fmt: skip
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}")
    changes = _clean_identity(changes)
    changed = [field for field, value in changes.items() if getattr(child, field) != value]
    if not changed:
        return child
    for field in changed:
        setattr(child, field, changes[field])
    name_keys_apply(child)
    child.full_clean()
    with transaction.atomic():
        child.version = F("version") + 1
        child.save()
        child.refresh_from_db(fields=["version"])
        audit_event_record(
            action=AuditEvent.Action.CHILD_UPDATED,
            actor=actor,
            request=request,
            register_ids=[child.register_id],
            local_authority_code=child.responsible_local_authority.gss_code,
            details={"fields": sorted(changed)},
        )
    return child


def status_add(
    *, actor: User | None, child: Child, status: ProtectionStatus, request: HttpRequest | None = None
) -> ProtectionStatus:
    """Add a protection status to a child already on the register."""
    status.child = child
    status.responsible_local_authority = child.responsible_local_authority
    status.full_clean()
    with transaction.atomic():
        status.save()
        audit_event_record(
            action=AuditEvent.Action.STATUS_ADDED,
            actor=actor,
            request=request,
            register_ids=[child.register_id],
            local_authority_code=child.responsible_local_authority.gss_code,
            details={"status_kind": status.kind},
        )
    return status


def status_end(
    *, actor: User | None, status: ProtectionStatus, end_date: datetime.date, request: HttpRequest | None = None
) -> ProtectionStatus:
    if end_date < status.start_date:
        raise ValidationError({"end_date": "The end date must be the same as or after the start date"})
    with transaction.atomic():
        status.end_date = end_date
        status.save(update_fields=["end_date", "updated_at"])
        audit_event_record(
            action=AuditEvent.Action.STATUS_ENDED,
            actor=actor,
            request=request,
            register_ids=[status.child.register_id],
            local_authority_code=status.responsible_local_authority.gss_code,
            details={"status_kind": status.kind},
        )
    return status


def involvement_add(
    *, actor: User | None, child: Child, involvement: Involvement, request: HttpRequest | None = None
) -> Involvement:
    """Record that a practitioner (or an external contact) is working with the child."""
    involvement.child = child
    involvement.full_clean()
    with transaction.atomic():
        involvement.save()
        audit_event_record(
            action=AuditEvent.Action.INVOLVEMENT_ADDED,
            actor=actor,
            request=request,
            register_ids=[child.register_id],
            local_authority_code=child.responsible_local_authority.gss_code,
            details={"service_type": involvement.service_type, "involvement_id": involvement.pk},
        )
    return involvement


def involvement_end(
    *, actor: User | None, involvement: Involvement, end_date: datetime.date, request: HttpRequest | None = None
) -> Involvement:
    if end_date < involvement.start_date:
        raise ValidationError({"end_date": "The end date must be the same as or after the start date"})
    with transaction.atomic():
        involvement.end_date = end_date
        involvement.save(update_fields=["end_date"])
        audit_event_record(
            action=AuditEvent.Action.INVOLVEMENT_ENDED,
            actor=actor,
            request=request,
            register_ids=[involvement.child.register_id],
            local_authority_code=involvement.child.responsible_local_authority.gss_code,
            details={"involvement_id": involvement.pk},
        )
    return involvement


class InvolvementRefused(ValidationError):
    """A practitioner cannot record (or end) their involvement here; the message says why."""


def practitioner_involvement_start(
    *, actor: User, child: Child, service_type: str, request: HttpRequest | None = None
) -> Involvement:
    """Record that `actor` is working with the child. When they join others already
    involved, everyone involved and the responsible authority are told (on commit)."""
    from registry.notifications import involvement_match_notify

    if child.is_shielded:
        raise InvolvementRefused("This record is shielded. Contact the responsible local authority to be recorded")
    organisation = actor.organisation
    involvement = Involvement(
        practitioner=actor,
        service_type=service_type,
        # A practitioner of a sensitive service is recorded as one, so that only users of
        # that service see this involvement.
        sensitive_category=organisation.sensitive_service if organisation else "",
        start_date=timezone.localdate(),
    )
    with transaction.atomic():
        # Lock the child so that two practitioners joining at once both see each other.
        Child.objects.select_for_update().filter(pk=child.pk).first()
        if Involvement.objects.filter(child=child, practitioner=actor, end_date__isnull=True).exists():
            raise InvolvementRefused("You are already recorded as working with this child")
        involvement_add(actor=actor, child=child, involvement=involvement, request=request)
        others = list(
            Involvement.objects.filter(child=child, end_date__isnull=True)
            .exclude(pk=involvement.pk)
            .select_related("practitioner")
        )
        if others:
            involvement_match_notify(child=child, new_involvement=involvement, others=others)
    return involvement


def practitioner_involvement_end(*, actor: User, child: Child, request: HttpRequest | None = None) -> Involvement:
    """End `actor`'s own current involvement with the child, today."""
    involvement = Involvement.objects.filter(child=child, practitioner=actor, end_date__isnull=True).first()
    if involvement is None:
        raise InvolvementRefused("You are not recorded as working with this child")
    return involvement_end(actor=actor, involvement=involvement, end_date=timezone.localdate(), request=request)
