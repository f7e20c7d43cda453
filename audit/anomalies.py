"""Anomaly flags: look-ups an auditor should check, each with a plain-English explanation.

Flags are raised by a scan of the trail (audit.tasks.anomalies_detect, every five minutes
from beat), not at write time: a look-up never waits for, or fails because of, the rules.
The scan remembers the last event it read (AnomalyScan) and a flag is unique per event and
rule, so running it twice raises nothing twice. The rules read the register (a child's
family name and postcode, involvements) because misuse is about whose record was opened;
they ask through audit.register_reader, which the registry app supplies, so the audit app
imports no part of the register. docs/audit.md lists the rules.
"""

import datetime
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from accounts.models import User
from accounts.roles import Role
from accounts.selectors import local_authorities_for_role
from audit.models import AnomalyFlag, AnomalyRule, AuditEvent, LookupOutcome, LookupReason
from audit.register_reader import register_reader

LOOKUP_ACTIONS = (AuditEvent.Action.SEARCH, AuditEvent.Action.CHILD_VIEWED)
LONDON = ZoneInfo("Europe/London")
SCAN_CHUNK = 5000


def _name(value: str) -> str:
    return register_reader().name_normalise(value)


def _postcode(value: str) -> str:
    return register_reader().postcode_normalise(value)


def user_family_name(user: User) -> str:
    """The last word of the user's full name, normalised like a searched family name."""
    words = _name(user.full_name).split()
    return words[-1] if words else ""


def _viewed_child(event: AuditEvent) -> tuple[str, str] | None:
    """(family name, postcode) of the child a record view opened, if still on the register."""
    if event.action != AuditEvent.Action.CHILD_VIEWED or len(event.register_ids) != 1:
        return None
    return register_reader().child_family_name_and_postcode(register_id=event.register_ids[0])


def _own_family_and_home(event: AuditEvent, actor: User) -> list[tuple[str, str]]:
    flags: list[tuple[str, str]] = []
    family = user_family_name(actor)
    home = _postcode(actor.home_postcode)
    searched_family = _name(str(event.criteria.get("family_name", "")))
    searched_postcode = _postcode(str(event.criteria.get("postcode", "")))
    child = _viewed_child(event)
    if family and (searched_family.split()[-1:] == [family] or (child and _name(child[0]).split()[-1:] == [family])):
        what = (
            "searched for the family name"
            if event.action == AuditEvent.Action.SEARCH
            else "opened the record of a child named"
        )
        flags.append(
            (
                AnomalyRule.OWN_FAMILY_NAME,
                f"{actor.full_name} {what} {family.title()}, which is their own family name. "
                "Check they are not looking up a relative.",
            )
        )
    if home and (searched_postcode == home or (child and _postcode(child[1]) == home)):
        what = "searched by" if event.action == AuditEvent.Action.SEARCH else "opened the record of a child living at"
        flags.append(
            (
                AnomalyRule.HOME_POSTCODE,
                f"{actor.full_name} {what} their own home postcode. "
                "Check they are not looking up a neighbour or relative.",
            )
        )
    return flags


def _out_of_hours(event: AuditEvent) -> str | None:
    if event.reason == LookupReason.EMERGENCY:
        return None
    local = event.occurred_at.astimezone(LONDON)
    start, end = settings.AUDIT_OFFICE_HOURS_START, settings.AUDIT_OFFICE_HOURS_END
    if local.weekday() < 5 and start <= local.hour < end:
        return None
    when = local.strftime("%A %d %B %Y at %H:%M")
    return (
        f"A look-up at {when} (UK time), outside office hours ({start:02d}:00 to {end:02d}:00, Monday to Friday), "
        f"gave the reason \u201c{event.get_reason_display() or 'none'}\u201d rather than the emergency reason."
    )


def _outside_authority(event: AuditEvent, actor: User) -> str | None:
    if event.action != AuditEvent.Action.CHILD_VIEWED or event.outcome != "viewed" or not event.local_authority_code:
        return None
    if event.local_authority_code == event.actor_local_authority_code:
        return None
    if register_reader().practitioner_involved(user_id=actor.pk, register_ids=list(event.register_ids)):
        return None
    return (
        f"{actor.full_name} (authority {event.actor_local_authority_code or 'none'}) opened the record of a child "
        f"whose responsible authority is {event.local_authority_code}, and has never recorded working with the child."
    )


# Look-ups that showed nothing: refused (the throttle, no reason given, too little to search
# on, not allowed) or failed. Nothing was disclosed, so there is nothing for an auditor to
# weigh, and flagging them flooded the list with "reason: none".
UNFLAGGED_OUTCOMES = (LookupOutcome.REFUSED, LookupOutcome.FAILED)
# The purposes of a register manager's own look-ups (registry.lookups and
# registry.maintenance): finding one of their children, and the duplicate check before
# adding a child. With the reads of their pages (details "page"), their job, not a
# practitioner's look-up.
MANAGER_FIND = "manager_find"
DUPLICATE_CHECK = "duplicate_check"


def is_flaggable(event: AuditEvent) -> bool:
    """Whether any rule may look at the event: a search or record view by a signed-in user
    that showed something, and not a register manager's look-up of their own children."""
    if event.actor is None or event.action not in LOOKUP_ACTIONS or event.outcome in UNFLAGGED_OUTCOMES:
        return False
    return not _manager_own_children(event, event.actor)


def _manager_own_children(event: AuditEvent, actor: User) -> bool:
    """A register manager's find (always within their own authorities), or their duplicate
    check or read of a page of children's personal data (`details.page`, audit.services.
    personal_data_read_record) when every child it named was, as the event recorded, the
    responsibility of one of the authorities they manage."""
    details = event.details if isinstance(event.details, dict) else {}
    purpose = details.get("purpose")
    if purpose == MANAGER_FIND:
        return True
    if purpose != DUPLICATE_CHECK and "page" not in details:
        return False
    managed = set(local_authorities_for_role(user=actor, role=Role.REGISTER_MANAGER).values_list("gss_code", flat=True))
    if not managed:
        return False
    named = list(event.children.values_list("local_authority_code", flat=True)) if event.register_ids else []
    if event.local_authority_code:
        named.append(event.local_authority_code)
    return all(code in managed for code in named)


def rules_for_event(event: AuditEvent) -> list[tuple[str, str]]:
    """The (rule, explanation) pairs an event raises, apart from daily volume."""
    actor = event.actor
    if actor is None or not is_flaggable(event):
        return []
    flags = _own_family_and_home(event, actor)
    if event.reason == LookupReason.EMERGENCY:
        flags.append(
            (AnomalyRule.EMERGENCY_REASON, f"{actor.full_name} gave the emergency reason. Every use of it is checked.")
        )
    out_of_hours = _out_of_hours(event)
    if out_of_hours:
        flags.append((AnomalyRule.OUT_OF_HOURS, out_of_hours))
    outside = _outside_authority(event, actor)
    if outside:
        flags.append((AnomalyRule.OUTSIDE_AUTHORITY, outside))
    return flags


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=LONDON)
    return start, start + datetime.timedelta(days=1)


def daily_volume_explanation(*, actor: User, day: datetime.date, up_to_event_id: int) -> str | None:
    """Why the actor's searches on `day` (UK time) are unusual, or None if they are not: above
    the limit, or far above their own average over the days before."""
    start, end = _day_bounds(day)
    searches = (
        AuditEvent.objects.filter(actor=actor, action=AuditEvent.Action.SEARCH)
        .exclude(outcome__in=UNFLAGGED_OUTCOMES)
        # Not exclude(details__purpose=...): that also drops every event without the key.
        .filter(Q(details__purpose__isnull=True) | ~Q(details__purpose=MANAGER_FIND))
    )
    today = searches.filter(occurred_at__gte=start, occurred_at__lt=end, id__lte=up_to_event_id).count()
    days = settings.AUDIT_USUAL_VOLUME_DAYS
    before = searches.filter(occurred_at__gte=start - datetime.timedelta(days=days), occurred_at__lt=start).count()
    usual = before / days
    limit = settings.AUDIT_DAILY_SEARCH_LIMIT
    threshold = max(settings.AUDIT_USUAL_VOLUME_FACTOR * usual, settings.AUDIT_USUAL_VOLUME_MINIMUM)
    if today > limit:
        return f"{actor.full_name} made {today} searches on {day:%d %B %Y}, above the daily limit of {limit}."
    if today > threshold:
        return (
            f"{actor.full_name} made {today} searches on {day:%d %B %Y}; over the previous {days} days they averaged "
            f"{usual:.1f} a day."
        )
    return None


def daily_volume_flags(events: Iterable[AuditEvent]) -> list[AnomalyFlag]:
    # The latest search per user and day in this chunk stands for that day's volume.
    latest: dict[tuple[int, datetime.date], AuditEvent] = {}
    for event in events:
        if event.action == AuditEvent.Action.SEARCH and event.actor_id is not None and is_flaggable(event):
            latest[(event.actor_id, event.occurred_at.astimezone(LONDON).date())] = event
    flags = []
    for (actor_id, day), event in latest.items():
        start, end = _day_bounds(day)
        already = AnomalyFlag.objects.filter(
            rule=AnomalyRule.DAILY_VOLUME, actor_id=actor_id, event__occurred_at__gte=start, event__occurred_at__lt=end
        ).exists()
        assert event.actor is not None
        explanation = None if already else daily_volume_explanation(actor=event.actor, day=day, up_to_event_id=event.pk)
        if explanation:
            flags.append(
                AnomalyFlag(event=event, actor_id=actor_id, rule=AnomalyRule.DAILY_VOLUME, explanation=explanation)
            )
    return flags
