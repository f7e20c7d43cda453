"""When a child leaves the register, and by which rule: the one place these rules are written.

Each rule gives a date; the earliest wins (docs/removal.md). A legal hold does not change
the date, it stops removal until a system administrator lifts it. The writes (removal,
holds, the daily run) are in registry.removal.services; this module only reads.

Finding who is due must not load every child: `_candidates` narrows the children in SQL
with a few days' margin either side, and `removal_due` (plain Python, the authority) then
decides each one exactly. The SQL can only ever let through too many, never too few.
"""

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import LocalAuthority, User
from accounts.roles import Role
from accounts.selectors import local_authorities_for_role
from registry.children.eligibility import eighteenth_birthday
from registry.children.selectors import children_managed_by
from registry.models import Child, LegalHold, ProtectionStatus, RemovalReceipt, RemovalRule

# When two rules fall on the same day, the one listed first is named: the more specific
# reason is the more useful one to read on the screen and in the receipt.
RULE_PRECEDENCE = (
    RemovalRule.DEATH,
    RemovalRule.EIGHTEENTH_BIRTHDAY,
    RemovalRule.UNBORN_NO_BIRTH,
    RemovalRule.STATUSES_ENDED,
)

# The SQL narrowing is widened by this many days so that month arithmetic at month ends
# (29 February, 31st) can never make it stricter than the exact rule in Python.
_CANDIDATE_MARGIN = datetime.timedelta(days=7)


class StatusFacts(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def end_date(self) -> datetime.date | None: ...
    @property
    def expected_delivery_date(self) -> datetime.date | None: ...


@dataclass(frozen=True)
class RemovalDue:
    rule: RemovalRule
    due_on: datetime.date


def _months(n: int) -> relativedelta:
    return relativedelta(months=n)


def statuses_ended_due_on(last_end: datetime.date) -> datetime.date:
    """The first day on which a status that ended on `last_end` no longer keeps the child:
    "ended more than N months ago", the same test as registry.children.eligibility."""
    return last_end + _months(settings.REGISTER_RETENTION_MONTHS_AFTER_PLAN_END) + datetime.timedelta(days=1)


def removal_due(
    *,
    date_of_birth: datetime.date | None,
    date_of_death: datetime.date | None,
    created_on: datetime.date,
    statuses: Iterable[StatusFacts],
) -> RemovalDue | None:
    """The rule that removes the child first, and the day it does. None only while a status
    is current and no other rule gives a date (an unborn child on a current plan with no
    expected delivery date cannot exist: the database requires one)."""
    statuses = list(statuses)
    candidates: list[RemovalDue] = []
    if date_of_death is not None:
        candidates.append(RemovalDue(RemovalRule.DEATH, date_of_death + _months(settings.REMOVAL_MONTHS_AFTER_DEATH)))
    if date_of_birth is not None:
        candidates.append(RemovalDue(RemovalRule.EIGHTEENTH_BIRTHDAY, eighteenth_birthday(date_of_birth)))
    else:
        deliveries = [
            status.expected_delivery_date
            for status in statuses
            if status.kind == ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN and status.expected_delivery_date
        ]
        if deliveries:
            due_on = max(deliveries) + _months(settings.REMOVAL_MONTHS_AFTER_EXPECTED_DELIVERY)
            candidates.append(RemovalDue(RemovalRule.UNBORN_NO_BIRTH, due_on))
    end_dates = [status.end_date for status in statuses]
    if not end_dates:
        # No status at all: nothing keeps the child, but removal is irreversible, so the
        # record is treated as if its status had ended the day it was added.
        candidates.append(RemovalDue(RemovalRule.STATUSES_ENDED, statuses_ended_due_on(created_on)))
    elif all(end is not None for end in end_dates):
        last_end = max(end for end in end_dates if end is not None)
        candidates.append(RemovalDue(RemovalRule.STATUSES_ENDED, statuses_ended_due_on(last_end)))
    if not candidates:
        return None
    return min(candidates, key=lambda due: (due.due_on, RULE_PRECEDENCE.index(due.rule)))


def rule_explanation(rule: str) -> str:
    """The rule in words for the screen, completing "due to leave the register on <date>, ..."."""
    explanations = {
        RemovalRule.STATUSES_ENDED: (
            f"more than {settings.REGISTER_RETENTION_MONTHS_AFTER_PLAN_END} months after their last status ended"
        ),
        RemovalRule.EIGHTEENTH_BIRTHDAY: f"their {settings.REGISTER_MAXIMUM_AGE_YEARS}th birthday",
        RemovalRule.UNBORN_NO_BIRTH: (
            f"{settings.REMOVAL_MONTHS_AFTER_EXPECTED_DELIVERY} months after the expected delivery date, "
            "as no birth has been matched"
        ),
        RemovalRule.DEATH: f"{settings.REMOVAL_MONTHS_AFTER_DEATH} months after their registered death",
        RemovalRule.MANUAL: "removed by the responsible local authority",
    }
    return explanations.get(RemovalRule(rule), "")


@dataclass(frozen=True)
class RemovalSchedule:
    """When one child leaves the register. `due` is the earliest rule; `on_hold` says a
    legal hold stops it for now."""

    register_id: str
    due: RemovalDue | None
    on_hold: bool

    def is_due(self, *, today: datetime.date) -> bool:
        return self.due is not None and self.due.due_on <= today and not self.on_hold

    @property
    def explanation(self) -> str:
        return rule_explanation(self.due.rule) if self.due else ""


def _active_holds() -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(lifted_at__isnull=True)


def children_with_removal_facts(children: QuerySet[Child]) -> QuerySet[Child]:
    return children.prefetch_related(
        Prefetch(
            "statuses", queryset=ProtectionStatus.objects.only("child_id", "kind", "end_date", "expected_delivery_date")
        ),
        Prefetch("legal_holds", queryset=_active_holds(), to_attr="active_holds"),
    )


def removal_schedule(*, child: Child) -> RemovalSchedule:
    """The child's schedule. Reads the child's statuses and holds (prefetched if the child
    came from `children_with_removal_facts`)."""
    holds = getattr(child, "active_holds", None)
    on_hold = bool(holds) if holds is not None else _active_holds().filter(child=child).exists()
    due = removal_due(
        date_of_birth=child.date_of_birth,
        date_of_death=child.date_of_death,
        created_on=timezone.localdate(child.created_at),
        statuses=child.statuses.all(),
    )
    return RemovalSchedule(register_id=child.register_id, due=due, on_hold=on_hold)


def removal_schedule_for_register_id(*, register_id: str) -> RemovalSchedule | None:
    child = children_with_removal_facts(Child.objects.filter(register_id=register_id)).first()
    return removal_schedule(child=child) if child is not None else None


def _candidates(*, on: datetime.date) -> QuerySet[Child]:
    """Every child that may be due on or before `on` (a superset: see the module docstring)."""
    margin = _CANDIDATE_MARGIN
    retention_cutoff = on - _months(settings.REGISTER_RETENTION_MONTHS_AFTER_PLAN_END) + margin
    statuses = ProtectionStatus.objects.filter(child=OuterRef("pk"))
    still_kept = statuses.filter(Q(end_date__isnull=True) | Q(end_date__gte=retention_cutoff))
    unborn_overdue = statuses.filter(
        kind=ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN,
        expected_delivery_date__lte=on - _months(settings.REMOVAL_MONTHS_AFTER_EXPECTED_DELIVERY) + margin,
    )
    eighteen_before = on - relativedelta(years=settings.REGISTER_MAXIMUM_AGE_YEARS) + margin
    return Child.objects.filter(
        Q(date_of_death__lte=on - _months(settings.REMOVAL_MONTHS_AFTER_DEATH) + margin)
        | Q(date_of_birth__lte=eighteen_before)
        | (Q(date_of_birth__isnull=True) & Exists(unborn_overdue))
        | (~Exists(still_kept) & (Exists(statuses) | Q(created_at__date__lt=retention_cutoff)))
    )


@dataclass(frozen=True)
class DueChild:
    """A child due for removal, as lists, logs and the command show it: no personal data."""

    child_pk: int
    register_id: str
    la_reference: str
    local_authority_code: str
    local_authority_name: str
    rule: RemovalRule
    due_on: datetime.date
    on_hold: bool

    @property
    def explanation(self) -> str:
        return rule_explanation(self.rule)


def children_due(
    *,
    on: datetime.date,
    local_authorities: QuerySet[LocalAuthority] | None = None,
    include_held: bool = False,
    batch_size: int | None = None,
) -> Iterator[DueChild]:
    """Every child whose removal date is on or before `on`, in register order, read in
    chunks so that memory stays flat whatever the size of the register. Children under a
    legal hold are left out unless `include_held`."""
    batch_size = batch_size or settings.REMOVAL_BATCH_SIZE
    children = _candidates(on=on)
    if local_authorities is not None:
        children = children.filter(responsible_local_authority__in=local_authorities)
    if not include_held:
        children = children.exclude(Exists(_active_holds().filter(child=OuterRef("pk"))))
    children = children_with_removal_facts(children.select_related("responsible_local_authority")).order_by("pk")
    last_pk = 0
    while True:
        chunk = list(children.filter(pk__gt=last_pk)[:batch_size])
        if not chunk:
            return
        last_pk = chunk[-1].pk
        for child in chunk:
            schedule = removal_schedule(child=child)
            if schedule.due is None or schedule.due.due_on > on:
                continue
            authority = child.responsible_local_authority
            yield DueChild(
                child_pk=child.pk,
                register_id=child.register_id,
                la_reference=child.la_reference,
                local_authority_code=authority.gss_code,
                local_authority_name=authority.name,
                rule=schedule.due.rule,
                due_on=schedule.due.due_on,
                on_hold=schedule.on_hold,
            )


def children_due_soon(*, user: User, today: datetime.date) -> list[DueChild]:
    """The children of the authorities `user` manages that are due for removal within
    REMOVAL_DUE_SOON_DAYS (and any already due but held), soonest first."""
    authorities = local_authorities_for_role(user=user, role=Role.REGISTER_MANAGER)
    horizon = today + datetime.timedelta(days=settings.REMOVAL_DUE_SOON_DAYS)
    due = children_due(on=horizon, local_authorities=authorities, include_held=True)
    return sorted(due, key=lambda item: (item.due_on, item.register_id))


def manageable_child(*, user: User, register_id: str) -> Child | None:
    """The child if `user` is a register manager of the child's responsible authority."""
    return (
        children_managed_by(user=user)
        .select_related("responsible_local_authority")
        .filter(register_id=register_id)
        .first()
    )


def holdable_child(*, user: User, register_id: str) -> Child | None:
    """The child if `user` may set a legal hold on it (a system administrator: national)."""
    authorities = local_authorities_for_role(user=user, role=Role.SYSTEM_ADMINISTRATOR)
    return Child.objects.filter(register_id=register_id, responsible_local_authority__in=authorities).first()


def legal_holds_active(*, user: User) -> QuerySet[LegalHold]:
    """The holds in force over children `user` may hold, newest first."""
    authorities = local_authorities_for_role(user=user, role=Role.SYSTEM_ADMINISTRATOR)
    return (
        _active_holds()
        .filter(child__responsible_local_authority__in=authorities)
        .select_related("child__responsible_local_authority", "set_by")
        .order_by("-set_at", "-pk")
    )


def legal_hold_for_user(*, user: User, hold_id: int) -> LegalHold | None:
    return legal_holds_active(user=user).filter(pk=hold_id).first()


def removal_receipts_for_user(*, user: User) -> QuerySet[RemovalReceipt]:
    """Receipts of every authority for a system administrator, else of the authorities the
    user manages as register manager, newest first."""
    authorities = local_authorities_for_role(user=user, role=Role.SYSTEM_ADMINISTRATOR)
    if not authorities.exists():
        authorities = local_authorities_for_role(user=user, role=Role.REGISTER_MANAGER)
    return RemovalReceipt.objects.filter(responsible_local_authority__in=authorities).select_related(
        "responsible_local_authority"
    )
