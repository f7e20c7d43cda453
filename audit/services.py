"""Writing the audit trail. Callers invoke this inside their own transaction so that the
change and its audit event commit together or not at all (fail closed).

This module, audit.models and audit.chain are the trail's core and import no other app
(import-linter checks it), so that every app can write through them: callers pass what
an event needs (the acting user, the children's register IDs and their authorities)."""

import ipaddress
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.actor import ActingUser, Actor, Channel, request_channel
from audit.chain import CONTENT_FIELDS, chain_head, event_content, link_hash
from audit.models import (
    AnomalyFlag,
    AuditChainAnchor,
    AuditEvent,
    AuditEventAuthority,
    AuditEventChild,
    LookupOutcome,
)

# Events recorded inside audit_events_deferred(), each with its children's authorities,
# waiting to be written at its end.
_Pending = list[tuple[AuditEvent, Mapping[str, str]]]
_deferred_events: ContextVar[_Pending | None] = ContextVar("audit_deferred_events", default=None)


@contextmanager
def audit_events_deferred() -> Iterator[None]:
    """Within a long transaction (a feed file's chunk), write the audit events it records
    in one short step at the end of the block instead of one by one as they happen.

    Why: appending to the chain takes its lock (PostgreSQL: an advisory lock) until the
    transaction ends, so an event written early in a chunk that runs for seconds makes every
    search, which writes its own event, wait for the whole chunk. Written at the end, the
    lock is held from the last writes to the commit: milliseconds.

    Use it inside the transaction whose changes the events describe: the events are written
    before that transaction commits, so a failure to write them still rolls everything back
    (fail closed). If the block raises, nothing is written. A caller that needs an event's id
    must not defer it."""
    pending: _Pending = []
    token = _deferred_events.set(pending)
    try:
        yield
    finally:
        _deferred_events.reset(token)
    _events_write(pending)


def _client_ip(request: HttpRequest | None) -> str | None:
    """The client's address. Behind N trusted proxies (TRUSTED_PROXY_COUNT), it is the Nth
    address from the right of X-Forwarded-For: the left part can be forged by the client."""
    if request is None:
        return None
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    candidate = forwarded[-hops] if hops and len(forwarded) >= hops else request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def request_client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the audit trail records it (TRUSTED_PROXY_COUNT rule)."""
    return _client_ip(request)


def audit_event_record(
    *,
    action: AuditEvent.Action,
    actor: Actor[ActingUser] | ActingUser | None,
    request: HttpRequest | None = None,
    register_ids: list[str] | None = None,
    child_authority_codes: Mapping[str, str] | None = None,
    subject_user: ActingUser | None = None,
    local_authority_code: str = "",
    details: dict[str, Any] | None = None,
    reason: str = "",
    reason_detail: str = "",
    criteria: dict[str, Any] | None = None,
    outcome: str = "",
    channel: str = "",
) -> AuditEvent:
    """Append one audit event to the hash chain, and index the children it names. Raises if
    it cannot be written; never swallows errors. Inside the caller's transaction the chain
    stays locked (PostgreSQL: advisory lock; SQLite: the write lock) until it ends.

    Each child in `register_ids` is indexed under the authority responsible for it when the
    event happened, so that an auditor scoped to that authority sees the event: the caller
    says which, in `child_authority_codes` (register ID -> GSS code); for an event naming one
    child, `local_authority_code` is that child's authority unless the mapping says
    otherwise. The trail does not look children up: it cannot know the register.

    `actor` is the actor context (audit.actor.Actor: user, request, channel), or, from a
    caller not yet passing one, the user alone. The channel is never empty: what the caller
    names, else the context's, else the request's way in, else "system"."""
    if isinstance(actor, Actor):
        request = request or actor.request
        channel = channel or actor.channel
        user: ActingUser | None = actor.user
    else:
        user = actor
    authority = user.local_authority if user else None
    event = AuditEvent(
        occurred_at=timezone.now(),
        action=action,
        actor_id=user.pk if user else None,
        actor_roles=sorted(user.role_names) if user else [],
        actor_organisation_id=user.organisation_id if user else None,
        actor_local_authority_code=authority.gss_code if authority else "",
        ip_address=_client_ip(request),
        request_id=getattr(request, "request_id", "") if request else "",
        register_ids=register_ids or [],
        subject_user_id=subject_user.pk if subject_user else None,
        local_authority_code=local_authority_code,
        details=_storable(details or {}),
        reason=reason,
        reason_detail=_storable(reason_detail),
        criteria=_storable(criteria or {}),
        outcome=outcome,
        # One rule for every caller: what a caller says, else the request's way in. A
        # service that writes for a page and for the API records each correctly; work
        # that no request started is the system's.
        channel=channel or (request_channel(request) if request is not None else Channel.SYSTEM),
    )
    pending = _deferred_events.get()
    if pending is not None:
        pending.append((event, child_authority_codes or {}))
        return event
    _event_write(event, child_authority_codes or {})
    return event


def _event_write(event: AuditEvent, child_authority_codes: Mapping[str, str]) -> None:
    # Its own savepoint, as a write of one event always had.
    with transaction.atomic():
        _events_write([(event, child_authority_codes)])


def _events_write(pending: _Pending) -> None:
    """Write events (one alone, or those deferred) in the order recorded, in three statements whatever
    their number: the events (each linked to the one before it: on PostgreSQL by the
    trigger, row by row within the one INSERT; elsewhere here), their children's index
    rows and their authorities' index rows. A feed chunk records an event per death."""
    if not pending:
        return
    events = [event for event, _ in pending]
    # No savepoint: the events belong to the caller's transaction, which a failure here
    # must roll back whole (fail closed).
    with transaction.atomic(savepoint=False):
        if connection.vendor != "postgresql":
            # PostgreSQL's trigger hashes each row; elsewhere the write lock, taken when the
            # (IMMEDIATE) transaction began, keeps the head from moving under us.
            previous = chain_head()
            for event in events:
                event.previous_hash = previous
                event.chain_hash = previous = link_hash(previous, event_content(_content_values(event)))
        AuditEvent.objects.bulk_create(events)
        children: list[AuditEventChild] = []
        authorities: list[AuditEventAuthority] = []
        for event, child_authority_codes in pending:
            rows, child_authorities = _children_index_rows(event, child_authority_codes)
            children += rows
            authorities += _authorities_index_rows(event, child_authorities)
        AuditEventChild.objects.bulk_create(children)
        AuditEventAuthority.objects.bulk_create(authorities)


def _storable(value: Any) -> Any:
    """What a user typed, made storable: PostgreSQL refuses NUL in text and JSON, and a lone
    surrogate cannot be encoded. Without this, a search containing one could not be audited,
    and so would fail: the event must record it, not refuse it."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value


def _content_values(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in CONTENT_FIELDS}


def _authorities_index_rows(event: AuditEvent, child_authorities: set[str]) -> list[AuditEventAuthority]:
    codes = {event.actor_local_authority_code, event.local_authority_code, *child_authorities} - {""}
    return [
        AuditEventAuthority(event=event, local_authority_code=code, occurred_at=event.occurred_at)
        for code in sorted(codes)
    ]


def _children_index_rows(
    event: AuditEvent, child_authority_codes: Mapping[str, str]
) -> tuple[list[AuditEventChild], set[str]]:
    """The index rows of the children the event names, and their authorities' codes."""
    register_ids = list(dict.fromkeys(event.register_ids))
    if not register_ids:
        return [], set()
    authorities = {key: code for key, code in child_authority_codes.items() if key in register_ids and code}
    if len(register_ids) == 1 and event.local_authority_code:
        authorities.setdefault(register_ids[0], event.local_authority_code)
    rows = [
        AuditEventChild(
            event=event,
            register_id=register_id,
            local_authority_code=authorities.get(register_id, ""),
            occurred_at=event.occurred_at,
        )
        for register_id in register_ids
    ]
    return rows, {code for code in authorities.values() if code}


def personal_data_read_record(
    *,
    by: Actor[ActingUser],
    register_ids: list[str],
    page: str,
    child_authority_codes: Mapping[str, str],
) -> AuditEvent:
    """Audit a page that shows children's personal data outside the practitioners' search
    and record view (a register manager's list and record, a form filled with a child's
    details, a feed review, a removal confirmation, a version-conflict page). Call it before
    rendering: if the event cannot be written the error propagates and the page is not shown
    (DatabaseUnavailableMiddleware answers 503), as for a search."""
    with transaction.atomic():
        return audit_event_record(
            action=AuditEvent.Action.CHILD_VIEWED,
            actor=by,
            register_ids=register_ids,
            child_authority_codes=child_authority_codes,
            outcome=LookupOutcome.VIEWED,
            details={"page": page},
        )


def auditor_action_record(
    *,
    action: AuditEvent.Action,
    by: Actor[ActingUser],
    criteria: dict[str, Any] | None = None,
    register_ids: list[str] | None = None,
    child_authority_codes: Mapping[str, str] | None = None,
    subject_user: ActingUser | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Audit what an auditor looked at or searched for: the audit of the auditors. `by` is
    the auditor's actor context, built once by the page."""
    with transaction.atomic():
        return audit_event_record(
            action=action,
            actor=by,
            criteria=criteria,
            register_ids=register_ids,
            child_authority_codes=child_authority_codes,
            subject_user=subject_user,
            details=details,
        )


class FlagAlreadyReviewed(Exception):
    """Another auditor reviewed the flag first."""


def anomaly_flag_review(*, flag: AnomalyFlag, by: Actor[ActingUser], note: str) -> AnomalyFlag:
    """Mark a flag reviewed with the auditor's note, once; audited in the same transaction."""
    reviewer = by.user
    assert reviewer is not None, "a flag is reviewed by a signed-in auditor"
    note = _review_note(note)
    with transaction.atomic():
        now = timezone.now()
        claimed = AnomalyFlag.objects.filter(pk=flag.pk, reviewed_at__isnull=True).update(
            reviewed_at=now, reviewed_by_id=reviewer.pk, review_note=note
        )
        if not claimed:
            raise FlagAlreadyReviewed("This flag has already been reviewed")
        _flag_review_record(flag=flag, by=by, note=note)
    flag.refresh_from_db()
    return flag


def anomaly_flags_review(*, flag_ids: list[int], by: Actor[ActingUser], note: str) -> int:
    """Mark many flags reviewed with one note (a user's day of flags, or several days), in
    one transaction: each is audited exactly as a single review is, naming how many were
    reviewed together. Flags another auditor reviewed first are left as they are; returns
    how many this review claimed."""
    reviewer = by.user
    assert reviewer is not None, "flags are reviewed by a signed-in auditor"
    note = _review_note(note)
    with transaction.atomic():
        # Locks only the flags (the events' table is append-only: never lock it for update).
        claimed = list(
            AnomalyFlag.objects.select_for_update(of=("self",))
            .filter(pk__in=flag_ids, reviewed_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        AnomalyFlag.objects.filter(pk__in=claimed).update(
            reviewed_at=timezone.now(), reviewed_by_id=reviewer.pk, review_note=note
        )
        for flag in AnomalyFlag.objects.filter(pk__in=claimed).select_related("event").order_by("pk"):
            _flag_review_record(flag=flag, by=by, note=note, together=len(claimed))
    return len(claimed)


def _review_note(note: str) -> str:
    note = note.strip()
    if not note:
        raise ValueError("A review needs a note")
    return note


def _flag_review_record(*, flag: AnomalyFlag, by: Actor[ActingUser], note: str, together: int = 1) -> None:
    register_ids = list(flag.event.register_ids)[:1] if flag.event.action == AuditEvent.Action.CHILD_VIEWED else []
    details: dict[str, Any] = {"flag": flag.pk, "rule": flag.rule, "event": flag.event_id, "note": note}
    if together > 1:
        details["reviewed_together"] = together
    audit_event_record(
        action=AuditEvent.Action.ANOMALY_FLAG_REVIEWED,
        actor=by,
        subject_user=flag.actor,
        register_ids=register_ids,
        # The child under the authority the flagged event recorded for them.
        child_authority_codes=dict(
            AuditEventChild.objects.filter(event=flag.event, register_id__in=register_ids).values_list(
                "register_id", "local_authority_code"
            )
        ),
        details=details,
    )


def chain_anchor_record(*, event_count: int, head_event_id: int, head_hash: str) -> AuditChainAnchor:
    """Anchor the chain's head as verified: `verify_audit` then requires that event, with
    that hash, and that many events up to it, for ever after (audit.chain.anchors_check)."""
    return AuditChainAnchor.objects.create(event_count=event_count, head_event_id=head_event_id, head_hash=head_hash)
