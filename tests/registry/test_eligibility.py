import datetime

import pytest

from registry.children.eligibility import child_eligibility
from registry.models import ProtectionStatus

TODAY = datetime.date(2026, 11, 23)


def status(start, end=None):
    return ProtectionStatus(start_date=start, end_date=end)


def test_a_child_with_a_current_plan_is_in_scope():
    result = child_eligibility(
        date_of_birth=datetime.date(2015, 5, 1), statuses=[status(datetime.date(2026, 1, 1))], today=TODAY
    )
    assert result.in_scope


@pytest.mark.parametrize(
    ("ended", "in_scope"),
    [
        (datetime.date(2025, 11, 23), True),  # exactly 12 months ago: last day still held
        (datetime.date(2025, 11, 22), False),  # 12 months and a day ago: out
        (datetime.date(2026, 6, 1), True),
    ],
)
def test_a_plan_that_ended_keeps_the_child_for_12_months(ended, in_scope):
    result = child_eligibility(
        date_of_birth=datetime.date(2015, 5, 1), statuses=[status(datetime.date(2024, 1, 1), ended)], today=TODAY
    )
    assert result.in_scope is in_scope
    if not in_scope:
        assert "12 months" in result.reason


def test_one_current_status_among_old_ones_keeps_the_child():
    statuses = [status(datetime.date(2020, 1, 1), datetime.date(2021, 1, 1)), status(datetime.date(2026, 2, 1))]
    assert child_eligibility(date_of_birth=datetime.date(2015, 5, 1), statuses=statuses, today=TODAY).in_scope


@pytest.mark.parametrize(
    ("born", "in_scope"),
    [
        (datetime.date(2008, 11, 24), True),  # 18 tomorrow
        (datetime.date(2008, 11, 23), False),  # 18 today
    ],
)
def test_children_leave_scope_on_their_18th_birthday(born, in_scope):
    result = child_eligibility(date_of_birth=born, statuses=[status(datetime.date(2026, 1, 1))], today=TODAY)
    assert result.in_scope is in_scope


def test_an_unborn_child_with_a_current_plan_is_in_scope():
    assert child_eligibility(date_of_birth=None, statuses=[status(datetime.date(2026, 10, 1))], today=TODAY).in_scope


def test_a_child_with_no_status_is_never_in_scope():
    result = child_eligibility(date_of_birth=datetime.date(2015, 5, 1), statuses=[], today=TODAY)
    assert not result.in_scope
    assert "no child protection or looked-after status" in result.reason


def test_a_future_date_of_birth_is_refused():
    result = child_eligibility(
        date_of_birth=datetime.date(2027, 1, 1), statuses=[status(datetime.date(2026, 1, 1))], today=TODAY
    )
    assert not result.in_scope


def test_the_retention_period_is_a_setting(settings):
    settings.REGISTER_RETENTION_MONTHS_AFTER_PLAN_END = 6
    result = child_eligibility(
        date_of_birth=datetime.date(2015, 5, 1),
        statuses=[status(datetime.date(2025, 1, 1), datetime.date(2026, 4, 1))],
        today=TODAY,
    )
    assert not result.in_scope
