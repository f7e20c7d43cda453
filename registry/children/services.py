"""Every write to the register. Each service keeps the matching keys in step, refuses
records outside the register's scope, and writes its audit event in the same transaction."""

import datetime
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, DateField, F, OuterRef, Subquery, Value, When
from django.utils import timezone

from accounts.models import LocalAuthority, User
from audit.actor import Actor, Channel
from audit.models import AuditEvent
from audit.services import audit_event_record
from registry.children.eligibility import child_eligibility
from registry.children.services_notifications import (
    child_transfer_notify,
    involvement_match_notify,
    life_event_notify,
    life_events_notify,
)
from registry.children.status_rules import status_overlap_check
from registry.identity import (
    IdentityValueError,
    involvement_sensitivity,
    nhs_number_clean,
    postcode_clean,
)
from registry.matching.keys import name_keys
from registry.models import Child, ChildTransfer, Involvement, Notification, OtherName, ProtectionStatus, Sex


class OutOfScope(ValidationError):
    """The record would fall outside the register's scope (registry.children.eligibility)."""


class ChildVersionConflict(Exception):
    """Someone else changed the child's record after the form was opened: nothing was saved."""

    def __init__(self, *, register_id: str, current_version: int) -> None:
        super().__init__(f"Child {register_id} has changed since the form was opened")
        self.register_id = register_id
        self.current_version = current_version


NAME_KEY_FIELDS = [
    "given_names_normalised", "family_name_normalised", "given_name_phonetic", "family_name_phonetic",
    "family_name_first_phonetic", "family_name_last_phonetic", "name_initials",
]  # fmt: skip


def _child_version_claim(*, child: Child, expected_version: int | None) -> None:
    """Inside the caller's transaction, move the child's version on by one, but only from
    the version the user saw (UPDATE ... WHERE version = expected). The row stays locked
    until the transaction ends, so a second editor waits and then finds the new version."""
    if expected_version is None:
        return
    claimed = Child.objects.filter(pk=child.pk, version=expected_version).update(
        version=expected_version + 1, updated_at=timezone.now()
    )
    if not claimed:
        current = Child.objects.filter(pk=child.pk).values_list("version", flat=True).first()
        raise ChildVersionConflict(register_id=child.register_id, current_version=current or 0)
    child.version = expected_version + 1


def name_keys_apply(record: Child | OtherName) -> None:
    """Set the stored matching keys from the record's current names."""
    for field, value in asdict(name_keys(given_names=record.given_names, family_name=record.family_name)).items():
        setattr(record, field, value)


def other_name_build(*, child: Child, kind: str, given_names: str, family_name: str) -> OtherName:
    """An unsaved other name of the child, with its matching keys and the child's date of
    birth (OtherName.child_date_of_birth, which search looks it up by)."""
    other = OtherName(
        child=child,
        kind=kind,
        given_names=given_names,
        family_name=family_name,
        child_date_of_birth=child.date_of_birth,
    )
    name_keys_apply(other)
    return other


def other_names_date_of_birth_follow(*, child_ids: Iterable[int]) -> None:
    """After the children's dates of birth changed: their other names take the new date
    (OtherName.child_date_of_birth), in one UPDATE, inside the caller's transaction.
    Without it, search would no longer find a child by another name on its new date."""
    OtherName.objects.filter(child_id__in=list(child_ids)).update(
        child_date_of_birth=Subquery(Child.objects.filter(pk=OuterRef("child_id")).values("date_of_birth")[:1])
    )


def _clean_identity(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(fields)
    try:
        if "nhs_number" in cleaned:
            # No NHS number is stored as NULL: many children have none, each must be unique.
            cleaned["nhs_number"] = nhs_number_clean(cleaned["nhs_number"]) or None
        if "postcode" in cleaned:
            cleaned["postcode"] = postcode_clean(cleaned["postcode"])
    except IdentityValueError as error:
        raise ValidationError({error.field: error.message}) from None
    return cleaned


def _identity_clash_check(*, child: Child, changes: dict[str, Any]) -> None:
    """Say plainly when an NHS number or the authority's own reference already belongs to
    another child, instead of the database's constraint message. Which child is not said
    unless it is the same authority's: the manager may not know of other areas' children."""
    others = Child.objects.exclude(pk=child.pk) if child.pk else Child.objects.all()
    errors: dict[str, str] = {}
    if changes.get("nhs_number") and others.filter(nhs_number=changes["nhs_number"]).exists():
        errors["nhs_number"] = "Another child on the register already has this NHS number"
    if (
        changes.get("la_reference")
        and others.filter(
            responsible_local_authority_id=child.responsible_local_authority_id, la_reference=changes["la_reference"]
        ).exists()
    ):
        errors["la_reference"] = "Another of your authority's children already has this reference"
    if errors:
        raise ValidationError(errors)


def _person(by: Actor[User]) -> User:
    # A practitioner's own involvement and a transfer are always a signed-in person's.
    assert by.user is not None, "this change is made by a signed-in user"
    return by.user


def child_create(
    *,
    by: Actor[User],
    responsible_local_authority: LocalAuthority,
    family_name: str,
    status: ProtectionStatus,
    given_names: str = "",
    other_names: list[tuple[str, str, str]] | None = None,
    today: datetime.date | None = None,
    duplicate_check: dict[str, Any] | None = None,
    **identity: Any,
) -> Child:
    """Add a child with their first status. `status` is an unsaved ProtectionStatus; the
    child must be in scope with it. `other_names` holds (kind, given names, family name).
    `duplicate_check` (register IDs shown and the manager's decision) joins the audit."""
    today = today or timezone.localdate()
    identity = _clean_identity(identity)
    _identity_clash_check(child=Child(responsible_local_authority=responsible_local_authority), changes=identity)
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
            other_name_build(child=child, kind=kind, given_names=other_given, family_name=other_family).save()
        status.child = child
        status.responsible_local_authority = responsible_local_authority
        status.full_clean()
        status.save()
        audit_event_record(
            action=AuditEvent.Action.CHILD_CREATED,
            actor=by,
            register_ids=[child.register_id],
            local_authority_code=responsible_local_authority.gss_code,
            details={"status_kind": status.kind, **({"duplicate_check": duplicate_check} if duplicate_check else {})},
        )
    return child


def child_identity_update(
    *,
    by: Actor[User],
    child: Child,
    changes: dict[str, Any],
    expected_version: int | None = None,
) -> Child:
    """Correct identity fields. Only the names of the changed fields are audited, never
    their values. Matching keys are recomputed when a name changes. With
    `expected_version`, raises ChildVersionConflict if the record changed meanwhile."""
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
    _identity_clash_check(child=child, changes={field: changes[field] for field in changed})
    for field in changed:
        setattr(child, field, changes[field])
    name_keys_apply(child)
    child.full_clean()
    with transaction.atomic():
        if expected_version is None:
            child.version = F("version") + 1
            child.save()
            child.refresh_from_db(fields=["version"])
        else:
            _child_version_claim(child=child, expected_version=expected_version)
            child.save(update_fields=[*changed, *NAME_KEY_FIELDS, "updated_at"])
        if "date_of_birth" in changed:
            other_names_date_of_birth_follow(child_ids=[child.pk])
        _child_updated_audit(by=by, child=child, fields=changed)
    return child


def status_add(
    *,
    by: Actor[User],
    child: Child,
    status: ProtectionStatus,
    expected_version: int | None = None,
    duplicate_check: dict[str, Any] | None = None,
) -> ProtectionStatus:
    """Add a protection status to a child already on the register. The status is held by
    the child's responsible authority at the time, and keeps it after a transfer."""
    status.child = child
    status.responsible_local_authority = child.responsible_local_authority
    with transaction.atomic():
        _child_version_claim(child=child, expected_version=expected_version)
        # Checked with the child locked: two managers adding the same plan at once cannot
        # both pass (the partial unique constraint would stop the second current one too).
        list(Child.objects.select_for_update().filter(pk=child.pk).values_list("pk"))
        status_overlap_check(status=status)
        status.full_clean()
        status.save()
        audit_event_record(
            action=AuditEvent.Action.STATUS_ADDED,
            actor=by,
            register_ids=[child.register_id],
            local_authority_code=child.responsible_local_authority.gss_code,
            details={"status_kind": status.kind, **({"duplicate_check": duplicate_check} if duplicate_check else {})},
        )
    return status


def status_end(
    *,
    by: Actor[User],
    status: ProtectionStatus,
    end_date: datetime.date,
    expected_version: int | None = None,
) -> ProtectionStatus:
    if end_date < status.start_date:
        raise ValidationError({"end_date": "The end date must be the same as or after the start date"})
    with transaction.atomic():
        _child_version_claim(child=status.child, expected_version=expected_version)
        status.end_date = end_date
        status.save(update_fields=["end_date", "updated_at"])
        audit_event_record(
            action=AuditEvent.Action.STATUS_ENDED,
            actor=by,
            register_ids=[status.child.register_id],
            # The child under the authority now responsible, which may not be the status's.
            child_authority_codes={status.child.register_id: status.child.responsible_local_authority.gss_code},
            local_authority_code=status.responsible_local_authority.gss_code,
            details={"status_kind": status.kind},
        )
    return status


def involvement_add(
    *,
    by: Actor[User],
    child: Child,
    involvement: Involvement,
    expected_version: int | None = None,
) -> Involvement:
    """Record that a practitioner (or an external contact) is working with the child."""
    involvement.child = child
    involvement.full_clean()
    with transaction.atomic():
        _child_version_claim(child=child, expected_version=expected_version)
        involvement.save()
        audit_event_record(
            action=AuditEvent.Action.INVOLVEMENT_ADDED,
            actor=by,
            register_ids=[child.register_id],
            local_authority_code=child.responsible_local_authority.gss_code,
            details={"service_type": involvement.service_type, "involvement_id": involvement.pk},
        )
    return involvement


def involvement_end(
    *,
    by: Actor[User],
    involvement: Involvement,
    end_date: datetime.date,
    expected_version: int | None = None,
) -> Involvement:
    if end_date < involvement.start_date:
        raise ValidationError({"end_date": "The end date must be the same as or after the start date"})
    with transaction.atomic():
        _child_version_claim(child=involvement.child, expected_version=expected_version)
        involvement.end_date = end_date
        involvement.save(update_fields=["end_date"])
        audit_event_record(
            action=AuditEvent.Action.INVOLVEMENT_ENDED,
            actor=by,
            register_ids=[involvement.child.register_id],
            local_authority_code=involvement.child.responsible_local_authority.gss_code,
            details={"involvement_id": involvement.pk},
        )
    return involvement


class InvolvementRefused(ValidationError):
    """A practitioner cannot record (or end) their involvement here; the message says why."""


def practitioner_involvement_start(*, by: Actor[User], child: Child, service_type: str) -> Involvement:
    """Record that the acting practitioner is working with the child. When they join others
    already involved, everyone involved and the responsible authority are told (on commit)."""
    actor = _person(by)
    if child.is_shielded:
        raise InvolvementRefused("This record is shielded. Contact the responsible local authority to be recorded")
    if child.is_deceased:
        raise InvolvementRefused("This child has died. You cannot record that you are working with them")
    organisation = actor.organisation
    involvement = Involvement(
        practitioner=actor,
        service_type=service_type,
        sensitive_category=involvement_sensitivity(
            service_type=service_type,
            organisation_sensitive_service=organisation.sensitive_service if organisation else "",
        ),
        start_date=timezone.localdate(),
    )
    with transaction.atomic():
        # Lock the child so that two practitioners joining at once both see each other.
        Child.objects.select_for_update().filter(pk=child.pk).first()
        if Involvement.objects.filter(child=child, practitioner=actor, end_date__isnull=True).exists():
            raise InvolvementRefused("You are already recorded as working with this child")
        involvement_add(by=by, child=child, involvement=involvement)
        others = list(
            Involvement.objects.filter(child=child, end_date__isnull=True)
            .exclude(pk=involvement.pk)
            .select_related("practitioner")
        )
        if others:
            involvement_match_notify(child=child, new_involvement=involvement, others=others)
    return involvement


def practitioner_involvement_end(*, by: Actor[User], child: Child) -> Involvement:
    """End the acting practitioner's own current involvement with the child, today."""
    actor = _person(by)
    involvement = Involvement.objects.filter(child=child, practitioner=actor, end_date__isnull=True).first()
    if involvement is None:
        raise InvolvementRefused("You are not recorded as working with this child")
    return involvement_end(by=by, involvement=involvement, end_date=timezone.localdate())


def _child_updated_audit(
    *,
    by: Actor[User],
    child: Child,
    fields: list[str],
    change: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """The CHILD_UPDATED event, against the authority now responsible. It names the changed
    fields, never their values; `extra` adds details that are not personal data."""
    details: dict[str, Any] = {} if change is None else {"change": change}
    details["fields"] = sorted(fields)
    details.update(extra or {})
    audit_event_record(
        action=AuditEvent.Action.CHILD_UPDATED,
        actor=by,
        register_ids=[child.register_id],
        local_authority_code=child.responsible_local_authority.gss_code,
        details=details,
    )


def other_name_add(
    *,
    by: Actor[User],
    child: Child,
    kind: str,
    given_names: str,
    family_name: str,
    expected_version: int | None = None,
) -> OtherName:
    """Record a name the child is or was also known by (alias, former name, previous
    surname, name at birth). Searched like the child's own name from then on."""
    other = other_name_build(child=child, kind=kind, given_names=given_names.strip(), family_name=family_name.strip())
    if OtherName.objects.filter(
        child=child, kind=other.kind, given_names=other.given_names, family_name=other.family_name
    ).exists():
        raise ValidationError({"family_name": "This name is already recorded for the child"})
    other.full_clean()
    with transaction.atomic():
        _child_version_claim(child=child, expected_version=expected_version)
        other.save()
        _child_updated_audit(by=by, child=child, change="other_name_added", fields=["other_names"])
    return other


def other_name_remove(
    *,
    by: Actor[User],
    other_name: OtherName,
    expected_version: int | None = None,
) -> None:
    """Remove a name recorded in error. The audit keeps that a name was removed, not the name."""
    child = other_name.child
    with transaction.atomic():
        _child_version_claim(child=child, expected_version=expected_version)
        other_name.delete()
        _child_updated_audit(by=by, child=child, change="other_name_removed", fields=["other_names"])


def child_shielding_set(
    *,
    by: Actor[User],
    child: Child,
    is_shielded: bool,
    reason: str,
    expected_version: int | None = None,
) -> Child:
    """Shield the child (address, postcode, other names and services hidden from ordinary
    users) or lift the shielding. Either way a reason is required and kept on the record;
    the audit says which was done, never the reason's text."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Enter why the shielding is being changed"})
    if is_shielded == child.is_shielded:
        raise ValidationError(
            {"is_shielded": "The record is already shielded" if is_shielded else "The record is not shielded"}
        )
    child.is_shielded = is_shielded
    child.shielding_reason = reason
    child.full_clean()
    with transaction.atomic():
        _child_version_claim(child=child, expected_version=expected_version)
        child.save(update_fields=["is_shielded", "shielding_reason", "updated_at"])
        _child_updated_audit(
            by=by,
            child=child,
            change="shielding_set" if is_shielded else "shielding_cleared",
            fields=["is_shielded", "shielding_reason"],
        )
    return child


def child_transfer(
    *,
    by: Actor[User],
    child: Child,
    to_local_authority: LocalAuthority,
    transferred_on: datetime.date,
    expected_version: int | None = None,
) -> ChildTransfer:
    """Pass responsibility for the child to another authority. The child keeps their
    register ID, statuses (each still naming the authority that held it), involvements and
    other names; the sending authority's own reference is cleared, since it means nothing
    to the receiving one. Both authorities' register managers are told in the app, and both
    secure mailboxes by email once the transfer commits."""
    actor = _person(by)
    from_local_authority = child.responsible_local_authority
    if to_local_authority.pk == from_local_authority.pk:
        raise ValidationError({"to_local_authority": "Choose an authority other than the one now responsible"})
    if transferred_on > timezone.localdate():
        raise ValidationError({"transferred_on": "The date of the move must be today or in the past"})
    with transaction.atomic():
        if expected_version is None:
            Child.objects.filter(pk=child.pk).update(version=F("version") + 1)
        else:
            _child_version_claim(child=child, expected_version=expected_version)
        child.responsible_local_authority = to_local_authority
        child.la_reference = ""
        child.save(update_fields=["responsible_local_authority", "la_reference", "updated_at"])
        child.refresh_from_db(fields=["version"])
        transfer = ChildTransfer.objects.create(
            child=child,
            from_local_authority=from_local_authority,
            to_local_authority=to_local_authority,
            transferred_on=transferred_on,
            transferred_by=actor,
        )
        # Recorded against the receiving authority, now the responsible one.
        _child_updated_audit(
            by=by,
            child=child,
            change="transferred",
            fields=["la_reference", "responsible_local_authority"],
            extra={
                "transfer_id": transfer.pk,
                # Authority codes are not personal data, and the trail must say who held the child.
                "from_local_authority": from_local_authority.gss_code,
                "to_local_authority": to_local_authority.gss_code,
            },
        )
        child_transfer_notify(transfer=transfer)
    return transfer


# --- Births and deaths registered with the General Register Office ----------------------
# The GRO feeds (feeds/) decide which child a registration concerns; these services make
# the change, each with its audit event in the same transaction. They never create a child
# and never touch an address, so a shielded child's location is never changed by a feed.
# Notifications name only the register ID; their emails go out on commit.


# Not yet choices of AuditEvent.Action (the audit app owns that list): stored as these values.
ACTION_DEATH_RECORDED = AuditEvent.Action.CHILD_DEATH_RECORDED
ACTION_DEATH_REVERSED = AuditEvent.Action.CHILD_DEATH_REVERSED
ACTION_BIRTH_CONFIRMED = AuditEvent.Action.CHILD_BIRTH_CONFIRMED
# A death recorded or reversed is the feed's doing whoever confirmed the match (a register
# manager's confirmation is audited separately, as theirs, on the web): its event records
# the feed as the way in, with the actor context's user and request.
FEED_CHANNEL = Channel.FEED


_DEATH_REGISTERED_MESSAGE = (
    "A death has been registered for child {register_id}. The register now shows the date of death."
)


def _locked(child: Child) -> Child:
    return Child.objects.select_for_update().select_related("responsible_local_authority").get(pk=child.pk)


def child_death_record(
    *, child: Child, date_of_death: datetime.date, by: Actor[User], source: dict[str, Any], notify: bool = True
) -> Child:
    """Mark the child deceased on `date_of_death` (the removal clock runs from it), tell the
    practitioners involved and the authority's register managers. `source` says which
    registration (no personal data); it is written to the audit event. One death is a batch
    of one (`child_deaths_record`), so that the two cannot drift apart."""
    with transaction.atomic():
        recorded, refused = child_deaths_record(
            deaths=[DeathToRecord(child=child, date_of_death=date_of_death, source=source, notify=notify)], by=by
        )
        if refused:
            raise ValidationError("The date of death is before the child's date of birth")
    return recorded[0].child


@dataclass(frozen=True)
class DeathToRecord:
    """One death for `child_deaths_record`: as the arguments of `child_death_record`."""

    child: Child
    date_of_death: datetime.date
    source: dict[str, Any]
    notify: bool = True


@dataclass(frozen=True)
class DeathRecorded:
    death: DeathToRecord
    child: Child  # as recorded, locked
    previous_date_of_death: datetime.date | None


def child_deaths_record(
    *, deaths: list[DeathToRecord], by: Actor[User]
) -> tuple[list[DeathRecorded], list[DeathToRecord]]:
    """`child_death_record` for many children at once (a feed chunk's deaths), with the same
    effects (each death audited, the same notifications) in a number of queries that does
    not grow with the deaths: one lock of the children, one update, and one write each of
    the audit events, notifications and emails. Each child at most once. Returns the deaths
    recorded, in the order given, and those refused because the date of death is before the
    child's date of birth (nothing is written for them)."""
    if len({death.child.pk for death in deaths}) != len(deaths):
        raise ValueError("child_deaths_record takes each child at most once")
    if not deaths:
        return [], []
    # No savepoint: a failure rolls back the caller's whole transaction (a feed chunk), as
    # it must, and the batch saves the savepoint's two round trips.
    with transaction.atomic(savepoint=False):
        locked = {
            child.pk: child
            for child in Child.objects.select_for_update(of=("self",))
            .select_related("responsible_local_authority")
            .filter(pk__in=[death.child.pk for death in deaths])
            .order_by("pk")
        }
        recorded: list[DeathRecorded] = []
        refused: list[DeathToRecord] = []
        for death in deaths:
            child = locked[death.child.pk]
            if child.date_of_birth and death.date_of_death < child.date_of_birth:
                refused.append(death)
                continue
            recorded.append(DeathRecorded(death=death, child=child, previous_date_of_death=child.date_of_death))
            child.date_of_death = death.date_of_death
        if not recorded:
            return [], refused
        Child.objects.filter(pk__in=[item.child.pk for item in recorded]).update(
            date_of_death=Case(
                *[When(pk=item.child.pk, then=Value(item.death.date_of_death)) for item in recorded],
                output_field=DateField(),
            ),
            version=F("version") + 1,
        )
        for item in recorded:
            audit_event_record(
                action=ACTION_DEATH_RECORDED,
                actor=by,
                register_ids=[item.child.register_id],
                local_authority_code=item.child.responsible_local_authority.gss_code,
                details={**item.death.source, "had_date_of_death": item.previous_date_of_death is not None},
                channel=FEED_CHANNEL,
            )
        life_events_notify(
            kind=Notification.Kind.DEATH_REGISTERED,
            events=[
                (item.child, _DEATH_REGISTERED_MESSAGE.format(register_id=item.child.register_id))
                for item in recorded
                if item.previous_date_of_death is None and item.death.notify
            ],
        )
    return recorded, refused


def child_death_reverse(
    *, child: Child, restore_to: datetime.date | None, by: Actor[User], source: dict[str, Any], notify: bool = True
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
            actor=by,
            register_ids=[child.register_id],
            local_authority_code=child.responsible_local_authority.gss_code,
            details={**source, "still_has_date_of_death": restore_to is not None},
            channel=FEED_CHANNEL,
        )
        if not notify:
            pass  # a correction: the caller tells them the net change once it is known
        elif restore_to is None:
            life_event_notify(
                child=child,
                kind=Notification.Kind.DEATH_CANCELLED,
                message=f"The death registration for child {child.register_id} has been cancelled. "
                "The register no longer shows a date of death.",
            )
        elif restore_to != before:
            life_event_notify(
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
    life_event_notify(child=child, kind=kind, message=message)


def child_birth_confirm(
    *,
    child: Child,
    unborn_status: ProtectionStatus,
    date_of_birth: datetime.date,
    given_names: str,
    family_name: str,
    sex: str,
    nhs_number: str,
    by: Actor[User],
    source: dict[str, Any],
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
        other_names_date_of_birth_follow(child_ids=[child.pk])
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
            actor=by,
            register_ids=[child.register_id],
            local_authority_code=child.responsible_local_authority.gss_code,
            details=source,
        )
    return child
