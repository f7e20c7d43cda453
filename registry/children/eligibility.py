"""Whether a child may be held on the register: the one place this rule is written.

A child is in scope while they have a status that is current, or that ended less than the
retention period ago (12 months by default, as CP-IS), and they are under 18. An unborn
child (no date of birth) is in scope while their unborn plan is.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from dateutil.relativedelta import relativedelta
from django.conf import settings


class StatusDates(Protocol):
    @property
    def start_date(self) -> datetime.date: ...
    @property
    def end_date(self) -> datetime.date | None: ...


@dataclass(frozen=True)
class Eligibility:
    in_scope: bool
    reason: str


def retention_cutoff(*, today: datetime.date) -> datetime.date:
    """A status that ended before this date no longer keeps a child on the register."""
    return today - relativedelta(months=settings.REGISTER_RETENTION_MONTHS_AFTER_PLAN_END)


def eighteenth_birthday(date_of_birth: datetime.date) -> datetime.date:
    # relativedelta maps 29 February to 28 February in a non-leap year.
    return date_of_birth + relativedelta(years=settings.REGISTER_MAXIMUM_AGE_YEARS)


def child_eligibility(
    *, date_of_birth: datetime.date | None, statuses: Iterable[StatusDates], today: datetime.date
) -> Eligibility:
    if date_of_birth is not None and date_of_birth > today:
        return Eligibility(False, "The date of birth is in the future")
    if date_of_birth is not None and eighteenth_birthday(date_of_birth) <= today:
        return Eligibility(False, f"The child is {settings.REGISTER_MAXIMUM_AGE_YEARS} or over")
    statuses = list(statuses)
    if not statuses:
        return Eligibility(False, "The child has no child protection or looked-after status")
    if all(status.start_date > today for status in statuses):
        return Eligibility(False, "Every status starts in the future")
    cutoff = retention_cutoff(today=today)
    if all(status.end_date is not None and status.end_date < cutoff for status in statuses):
        return Eligibility(
            False,
            f"Every status ended more than {settings.REGISTER_RETENTION_MONTHS_AFTER_PLAN_END} months ago",
        )
    return Eligibility(True, "")
