"""Reads of the audit trail for auditors, always within the auditor's scope.

A national auditor sees every event. An auditor scoped to authorities sees an event when
it concerns one of their authorities: it was made by a user of that authority (as the
user's authority stood when the event was written), it names that authority, or it names
a child that authority was responsible for when the event was written (docs/audit.md).
"""

import datetime
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import LocalAuthority, Organisation, User
from accounts.roles import Role
from accounts.selectors import local_authorities_for_role, role_held_nationally
from audit.models import AnomalyFlag, AnomalyRule, AuditEvent, AuditEventAuthority, AuditEventChild
from audit.register_reader import register_reader

LONDON = ZoneInfo("Europe/London")


def audit_event_count_since(*, hours: int) -> int:
    return AuditEvent.objects.filter(occurred_at__gte=timezone.now() - timedelta(hours=hours)).count()


@dataclass(frozen=True)
class AuditorScope:
    """None for a national auditor, else the GSS codes the auditor may audit."""

    authority_codes: frozenset[str] | None

    @property
    def national(self) -> bool:
        return self.authority_codes is None

    def covers(self, code: str) -> bool:
        return self.authority_codes is None or code in self.authority_codes


def auditor_scope(*, user: User) -> AuditorScope | None:
    """The auditor's scope, or None if the user is not an auditor at all."""
    if not user.has_role(Role.AUDITOR):
        return None
    if role_held_nationally(user=user, role=Role.AUDITOR):
        return AuditorScope(None)
    codes = local_authorities_for_role(user=user, role=Role.AUDITOR).values_list("gss_code", flat=True)
    return AuditorScope(frozenset(codes))


def _in_scope(events: QuerySet[AuditEvent], scope: AuditorScope) -> QuerySet[AuditEvent]:
    if scope.authority_codes is None:
        return events
    return events.filter(pk__in=_concerning(sorted(scope.authority_codes)))


def _concerning(codes: list[str]) -> Any:
    """The ids of events concerning these authorities, as a subquery."""
    return AuditEventAuthority.objects.filter(local_authority_code__in=codes).values("event_id")


@dataclass(frozen=True)
class AuditQuery:
    """An auditor's filter. Holds identifiers only, so it can travel in a URL."""

    actor_id: int | None = None
    register_id: str = ""
    local_authority_code: str = ""
    organisation_id: int | None = None
    action: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None

    def as_criteria(self) -> dict[str, str | int]:
        values: dict[str, str | int | None] = {
            "user": self.actor_id,
            "register_id": self.register_id,
            "local_authority": self.local_authority_code,
            "organisation": self.organisation_id,
            "action": self.action,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
        }
        return {key: value for key, value in values.items() if value is not None and value != ""}


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=LONDON)


def audit_events_find(*, scope: AuditorScope, query: AuditQuery) -> QuerySet[AuditEvent]:
    """Events matching the auditor's filter within their scope, newest first. The authority
    filter matches the acting user's authority, the event's, or a child's (as written)."""
    events = AuditEvent.objects.all()
    if query.actor_id is not None:
        events = events.filter(actor_id=query.actor_id)
    if query.register_id:
        events = events.filter(pk__in=AuditEventChild.objects.filter(register_id=query.register_id).values("event_id"))
    if query.local_authority_code:
        events = events.filter(pk__in=_concerning([query.local_authority_code]))
    if query.organisation_id is not None:
        events = events.filter(actor_organisation_id=query.organisation_id)
    if query.action:
        events = events.filter(action=query.action)
    if query.date_from:
        events = events.filter(occurred_at__gte=_local_midnight(query.date_from))
    if query.date_to:
        events = events.filter(occurred_at__lt=_local_midnight(query.date_to + timedelta(days=1)))
    return _in_scope(events, scope).select_related("actor").order_by("-occurred_at", "-id")


def audit_child_history(*, scope: AuditorScope, register_id: str) -> QuerySet[AuditEvent]:
    return audit_events_find(scope=scope, query=AuditQuery(register_id=register_id))


def child_in_scope(*, scope: AuditorScope, register_id: str) -> bool:
    """Whether the child is, or when last audited was, with one of the auditor's authorities."""
    if scope.national:
        return True
    codes = sorted(scope.authority_codes or ())
    if register_reader().child_authority_codes(register_ids=[register_id]).get(register_id) in codes:
        return True
    return AuditEventChild.objects.filter(register_id=register_id, local_authority_code__in=codes).exists()


def audited_user(*, scope: AuditorScope, user_id: int) -> User | None:
    """A user whose activity the auditor may review: a national auditor any user, a scoped
    auditor users of their own authorities."""
    user = User.objects.select_related("organisation", "local_authority").filter(pk=user_id).first()
    if user is None:
        return None
    if scope.national:
        return user
    return user if user.local_authority and scope.covers(user.local_authority.gss_code) else None


def audited_user_by_email(*, scope: AuditorScope, email: str) -> User | None:
    user = User.objects.filter(email__iexact=email.strip()).first()
    return audited_user(scope=scope, user_id=user.pk) if user else None


def authorities_in_scope(*, scope: AuditorScope) -> QuerySet[LocalAuthority]:
    authorities = LocalAuthority.objects.order_by("name")
    return authorities if scope.national else authorities.filter(gss_code__in=sorted(scope.authority_codes or ()))


def organisations_in_scope(*, scope: AuditorScope) -> QuerySet[Organisation]:
    organisations = Organisation.objects.select_related("local_authority").order_by("name")
    if scope.national:
        return organisations
    return organisations.filter(local_authority__gss_code__in=sorted(scope.authority_codes or ()))


def anomaly_flags_find(*, scope: AuditorScope, reviewed: bool | None = False) -> QuerySet[AnomalyFlag]:
    """Flags on events within scope, newest first; unreviewed only by default."""
    flags = AnomalyFlag.objects.filter(event__in=_in_scope(AuditEvent.objects.all(), scope))
    if reviewed is not None:
        flags = flags.filter(reviewed_at__isnull=not reviewed)
    return flags.select_related("event", "actor", "reviewed_by").order_by("-event_id", "rule")


def anomaly_flag_get(*, scope: AuditorScope, flag_id: int) -> AnomalyFlag | None:
    return anomaly_flags_find(scope=scope, reviewed=None).filter(pk=flag_id).first()


@dataclass(frozen=True)
class FlagGroup:
    """One user's flags on one UK day: how many, and which rules fired how often."""

    actor: User
    day: datetime.date
    count: int
    rule_counts: tuple[tuple[str, int], ...]

    @property
    def key(self) -> str:
        return f"{self.actor.pk}:{self.day.isoformat()}"

    @property
    def rule_labels(self) -> list[str]:
        return [f"{AnomalyRule(rule).label} ({count})" for rule, count in self.rule_counts]


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    return _local_midnight(day), _local_midnight(day + timedelta(days=1))


def anomaly_flag_groups(
    *, scope: AuditorScope, reviewed: bool = False, rule: str = "", limit: int = 100
) -> list[FlagGroup]:
    """Flags in scope grouped per user per UK day, newest day first: one line an auditor
    reads and reviews at once, instead of one per look-up. Counted in the database."""
    flags = anomaly_flags_find(scope=scope, reviewed=reviewed)
    if rule:
        flags = flags.filter(rule=rule)
    rows = (
        flags.annotate(day=TruncDate("event__occurred_at", tzinfo=LONDON))
        .values("actor_id", "day", "rule")
        .annotate(flags=Count("id"))
        .order_by()
    )
    counts: dict[tuple[int, datetime.date], dict[str, int]] = {}
    for row in rows:
        counts.setdefault((row["actor_id"], row["day"]), {})[row["rule"]] = row["flags"]
    actors = User.objects.in_bulk({actor_id for actor_id, _ in counts})
    groups = [
        FlagGroup(
            actor=actors[actor_id],
            day=day,
            count=sum(by_rule.values()),
            rule_counts=tuple(sorted(by_rule.items(), key=lambda item: (-item[1], item[0]))),
        )
        for (actor_id, day), by_rule in counts.items()
    ]
    groups.sort(key=lambda group: (-group.day.toordinal(), group.actor.full_name, group.actor.pk))
    return groups[:limit]


def anomaly_flags_of_group(
    *, scope: AuditorScope, actor_id: int, day: datetime.date, reviewed: bool | None = False, rule: str = ""
) -> QuerySet[AnomalyFlag]:
    """The flags of one user on one UK day, within scope (unreviewed by default)."""
    start, end = _day_bounds(day)
    flags = anomaly_flags_find(scope=scope, reviewed=reviewed).filter(
        actor_id=actor_id, event__occurred_at__gte=start, event__occurred_at__lt=end
    )
    return flags.filter(rule=rule) if rule else flags
