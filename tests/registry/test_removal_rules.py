"""The removal rules: each at its boundary (the day before and the day of), the earliest
rule winning, and the SQL narrowing never missing a child the rules make due."""

import datetime

import pytest
import time_machine
from django.test import override_settings

from audit.actor import Actor
from registry.models import Child, ProtectionStatus, RemovalReceipt, RemovalRule
from registry.removal.rules import children_due, removal_due, removal_schedule_for_register_id
from registry.removal.services import removal_run
from tests.factories import ChildFactory, ProtectionStatusFactory
from tests.registry.factories_removal import LegalHoldFactory

pytestmark = pytest.mark.django_db

CPP = ProtectionStatus.Kind.CHILD_PROTECTION_PLAN
UNBORN = ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN


def run_on(day: datetime.date):
    """The daily run as beat would start it on `day` (noon UTC is the same day in London)."""
    with time_machine.travel(datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC), tick=False):
        return removal_run(by=Actor.system(), dry_run=False)


def still_on_register(child: Child) -> bool:
    return Child.objects.filter(pk=child.pk).exists()


def child_whose_status_ended(end_date: datetime.date, **kwargs) -> Child:
    child = ChildFactory(date_of_birth=datetime.date(2015, 5, 5), **kwargs)
    ProtectionStatusFactory(child=child, start_date=datetime.date(2019, 1, 1), end_date=end_date)
    return child


def test_last_status_ended_more_than_12_months_ago():
    child = child_whose_status_ended(datetime.date(2025, 11, 23))
    ProtectionStatusFactory(
        child=child, kind=ProtectionStatus.Kind.LOOKED_AFTER, legal_basis="s20",
        start_date=datetime.date(2023, 1, 1), end_date=datetime.date(2024, 6, 1),
    )  # fmt: skip

    run_on(datetime.date(2026, 11, 23))
    assert still_on_register(child), "12 months to the day is not yet more than 12 months"

    run_on(datetime.date(2026, 11, 24))
    assert not still_on_register(child)
    receipt = RemovalReceipt.objects.get(register_id=child.register_id)
    assert receipt.rule == RemovalRule.STATUSES_ENDED
    assert receipt.due_on == datetime.date(2026, 11, 24)


def test_a_current_status_keeps_the_child_however_old_the_others():
    child = child_whose_status_ended(datetime.date(2020, 1, 1))
    ProtectionStatusFactory(child=child, start_date=datetime.date(2026, 1, 1), end_date=None)
    run_on(datetime.date(2027, 6, 1))
    assert still_on_register(child)


def test_eighteenth_birthday():
    child = ChildFactory(date_of_birth=datetime.date(2008, 12, 1))
    ProtectionStatusFactory(child=child, start_date=datetime.date(2026, 1, 1))

    run_on(datetime.date(2026, 11, 30))
    assert still_on_register(child)

    run_on(datetime.date(2026, 12, 1))
    assert not still_on_register(child)
    assert RemovalReceipt.objects.get(register_id=child.register_id).rule == RemovalRule.EIGHTEENTH_BIRTHDAY


def test_a_29_february_birthday_is_reached_on_28_february_in_a_common_year():
    due = removal_due(
        date_of_birth=datetime.date(2008, 2, 29), date_of_death=None, created_on=datetime.date(2026, 1, 1),
        statuses=[ProtectionStatus(kind=CPP, end_date=None)],
    )  # fmt: skip
    assert due is not None
    assert (due.rule, due.due_on) == (RemovalRule.EIGHTEENTH_BIRTHDAY, datetime.date(2026, 2, 28))


def test_unborn_plan_with_no_birth_matched_12_months_after_expected_delivery():
    child = ChildFactory(date_of_birth=None, nhs_number=None)
    ProtectionStatusFactory(
        child=child,
        kind=UNBORN,
        start_date=datetime.date(2025, 6, 1),
        expected_delivery_date=datetime.date(2025, 12, 10),
        mother_given_names="Mary",
        mother_family_name="Mother",
    )

    run_on(datetime.date(2026, 12, 9))
    assert still_on_register(child)

    run_on(datetime.date(2026, 12, 10))
    assert not still_on_register(child)
    assert RemovalReceipt.objects.get(register_id=child.register_id).rule == RemovalRule.UNBORN_NO_BIRTH


def test_a_birth_matched_stops_the_unborn_rule():
    child = ChildFactory(date_of_birth=datetime.date(2025, 12, 8))
    ProtectionStatusFactory(
        child=child,
        kind=UNBORN,
        start_date=datetime.date(2025, 6, 1),
        expected_delivery_date=datetime.date(2025, 12, 10),
    )
    run_on(datetime.date(2026, 12, 10))
    assert still_on_register(child)


def test_registered_death_12_months_after_the_date_of_death():
    child = ChildFactory(date_of_birth=datetime.date(2015, 5, 5), date_of_death=datetime.date(2025, 12, 5))
    ProtectionStatusFactory(child=child, start_date=datetime.date(2025, 1, 1))

    run_on(datetime.date(2026, 12, 4))
    assert still_on_register(child)

    run_on(datetime.date(2026, 12, 5))
    assert not still_on_register(child)
    assert RemovalReceipt.objects.get(register_id=child.register_id).rule == RemovalRule.DEATH


@override_settings(REMOVAL_MONTHS_AFTER_DEATH=6, REGISTER_MAXIMUM_AGE_YEARS=16)
def test_periods_are_settings():
    due = removal_due(
        date_of_birth=datetime.date(2011, 1, 10), date_of_death=datetime.date(2026, 3, 1),
        created_on=datetime.date(2026, 1, 1), statuses=[ProtectionStatus(kind=CPP, end_date=None)],
    )  # fmt: skip
    assert due is not None
    assert (due.rule, due.due_on) == (RemovalRule.DEATH, datetime.date(2026, 9, 1))
    due = removal_due(
        date_of_birth=datetime.date(2011, 1, 10), date_of_death=None,
        created_on=datetime.date(2026, 1, 1), statuses=[ProtectionStatus(kind=CPP, end_date=None)],
    )  # fmt: skip
    assert due is not None
    assert (due.rule, due.due_on) == (RemovalRule.EIGHTEENTH_BIRTHDAY, datetime.date(2027, 1, 10))


def test_the_earliest_rule_wins_and_a_tie_names_the_more_specific_rule():
    ended = ProtectionStatus(kind=CPP, end_date=datetime.date(2026, 1, 31))
    due = removal_due(
        date_of_birth=datetime.date(2009, 3, 1), date_of_death=None, created_on=datetime.date(2025, 1, 1),
        statuses=[ended],
    )  # fmt: skip
    assert due is not None
    assert (due.rule, due.due_on) == (RemovalRule.STATUSES_ENDED, datetime.date(2027, 2, 1))
    due = removal_due(
        date_of_birth=datetime.date(2009, 2, 1), date_of_death=None, created_on=datetime.date(2025, 1, 1),
        statuses=[ended],
    )  # fmt: skip
    assert due is not None
    assert (due.rule, due.due_on) == (RemovalRule.EIGHTEENTH_BIRTHDAY, datetime.date(2027, 2, 1))


def test_a_legal_hold_blocks_every_rule_until_lifted():
    child = ChildFactory(date_of_birth=datetime.date(2008, 1, 1), date_of_death=datetime.date(2025, 1, 1))
    ProtectionStatusFactory(child=child, start_date=datetime.date(2024, 1, 1), end_date=datetime.date(2024, 6, 1))
    hold = LegalHoldFactory(child=child)

    schedule = removal_schedule_for_register_id(register_id=child.register_id)
    assert schedule is not None and schedule.on_hold and not schedule.is_due(today=datetime.date(2026, 11, 23))
    run_on(datetime.date(2026, 11, 23))
    assert still_on_register(child)

    hold.lifted_at = hold.set_at + datetime.timedelta(hours=1)
    hold.lifted_by = hold.set_by
    hold.save()
    run_on(datetime.date(2026, 11, 23))
    assert not still_on_register(child)


def test_the_database_narrowing_never_misses_a_child_the_rules_make_due():
    """Month ends and 29 February are where month arithmetic in SQL and Python could part."""
    today = datetime.date(2026, 3, 1)
    for offset in range(-10, 10):
        end = datetime.date(2025, 3, 1) + datetime.timedelta(days=offset)
        child_whose_status_ended(end)
        ChildFactory(date_of_birth=datetime.date(2008, 3, 1) + datetime.timedelta(days=offset))
        ChildFactory(date_of_birth=datetime.date(2015, 1, 1), date_of_death=end)
        unborn = ChildFactory(date_of_birth=None, nhs_number=None)
        ProtectionStatusFactory(
            child=unborn, kind=UNBORN, start_date=datetime.date(2024, 6, 1), expected_delivery_date=end
        )
    for child in Child.objects.filter(statuses__isnull=True):
        ProtectionStatusFactory(child=child, start_date=datetime.date(2024, 1, 1))

    expected = set()
    for child in Child.objects.all():
        schedule = removal_schedule_for_register_id(register_id=child.register_id)
        if schedule is not None and schedule.is_due(today=today):
            expected.add(child.register_id)
    found = {due.register_id for due in children_due(on=today, batch_size=7)}
    assert found == expected
    assert 30 < len(expected) < Child.objects.count()
