"""One rule for a child's statuses: two statuses of the same kind never overlap in time
(a child is not on two child protection plans at once). The database backs the commonest
case, two current ones, with the partial unique constraint `status_one_current_per_kind`;
this module is the whole rule, with a message a register manager or a system can act on,
and every way in (manager forms, the duplicate warning's "same child", bulk upload and the
import command, the case-management API) calls it through registry.children.services or
registry.intake.importing."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from registry.models import ProtectionStatus


@dataclass(frozen=True)
class StatusDates:
    kind: str
    start_date: datetime.date
    end_date: datetime.date | None


def statuses_overlap(first: StatusDates, second: StatusDates) -> bool:
    """Same kind and sharing at least one day (a status with no end date is open-ended)."""
    if first.kind != second.kind:
        return False
    first_end = first.end_date or datetime.date.max
    second_end = second.end_date or datetime.date.max
    return first.start_date <= second_end and second.start_date <= first_end


def status_overlap_message(existing: StatusDates) -> str:
    label = ProtectionStatus.Kind(existing.kind).label.lower()
    start = f"{existing.start_date.day} {existing.start_date:%B %Y}"
    if existing.end_date is None:
        return f"This child already has a current {label} from {start}. End it before adding another"
    end = f"{existing.end_date.day} {existing.end_date:%B %Y}"
    return f"This child already has a {label} from {start} to {end}, which overlaps these dates"


def status_overlap_find(new: StatusDates, others: Iterable[StatusDates]) -> StatusDates | None:
    return next((other for other in others if statuses_overlap(new, other)), None)


def status_overlap_check(*, status: ProtectionStatus) -> None:
    """Raise ValidationError (on `kind`) if `status` would overlap another status of the
    same kind of the same child. The status itself, if saved, is left out."""
    others = ProtectionStatus.objects.filter(child_id=status.child_id, kind=status.kind).exclude(pk=status.pk)
    dates = [StatusDates(o.kind, o.start_date, o.end_date) for o in others.order_by("start_date")]
    clash = status_overlap_find(StatusDates(status.kind, status.start_date, status.end_date), dates)
    if clash is not None:
        raise ValidationError({"kind": status_overlap_message(clash)})
