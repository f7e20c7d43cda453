"""Replays and repeated registrations (issue 16, items 3, 4 and 7): rows in any order, or
repeated, never undo a later GRO decision; a death registered twice stays recorded while
either registration stands; a correction tells people the net change once."""

import datetime
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.roles import Role
from feeds.models import FeedFile, FeedMatch, Registration
from registry.models import Child, Notification, ProtectionStatus
from tests.factories import ChildFactory, InvolvementFactory, ProtectionStatusFactory, UserFactory
from tests.feeds.factories_feeds import (
    death_row,
    deaths_file,
    ingest,
    versioned_death_row,
    versioned_deaths_file,
)

pytestmark = pytest.mark.django_db

FIRST = death_row()
CORRECTED = death_row(date_of_death="2026-10-30", record_status="corrected")
CANCELLED = death_row(record_status="cancelled")


def _amelia(westminster) -> Child:
    child = ChildFactory(
        responsible_local_authority=westminster,
        nhs_number=None,
        given_names="Amelia",
        family_name="Oneil",
        date_of_birth=datetime.date(2019, 4, 12),
        postcode="SW1A 1AA",
    )
    ProtectionStatusFactory(child=child, kind=ProtectionStatus.Kind.CHILD_PROTECTION_PLAN)
    InvolvementFactory(child=child, practitioner=UserFactory(roles=[Role.PRACTITIONER]))
    return child


@pytest.fixture
def amelia(westminster):
    return _amelia(westminster)


def _date_of_death(child: Child) -> datetime.date | None:
    child.refresh_from_db()
    return child.date_of_death


def test_rows_replayed_in_reverse_order_do_not_bring_back_a_cancelled_death(amelia):
    ingest(deaths_file(FIRST, CORRECTED, CANCELLED), name="in-order.csv")
    assert _date_of_death(amelia) is None
    ingest(deaths_file(CANCELLED, CORRECTED, FIRST), name="reversed.csv")
    assert _date_of_death(amelia) is None


def test_a_superseded_correction_arriving_after_the_cancellation_changes_nothing(amelia):
    ingest(deaths_file(FIRST))
    ingest(deaths_file(CANCELLED), name="cancel.csv")
    notified = Notification.objects.count()
    feed_file = ingest(deaths_file(CORRECTED), name="late-correction.csv")
    assert _date_of_death(amelia) is None
    assert feed_file.rows_duplicate == 1
    assert Notification.objects.count() == notified


def test_the_same_rows_in_another_file_send_nothing_again(amelia):
    ingest(deaths_file(FIRST, CANCELLED), name="a.csv")
    notified = Notification.objects.count()
    ingest(deaths_file(FIRST, CANCELLED), name="b.csv")
    assert Notification.objects.count() == notified


def test_a_death_registered_twice_stays_recorded_while_one_registration_stands(amelia):
    ingest(deaths_file(FIRST))
    second = death_row(registration_district="Camden", entry_number="77", date_of_death="2026-11-02")
    ingest(deaths_file(second), name="second.csv")
    assert _date_of_death(amelia) == datetime.date(2026, 11, 2)
    # The first registration is cancelled: the second still stands, with its date.
    ingest(deaths_file(death_row(record_status="cancelled")), name="cancel-first.csv")
    assert _date_of_death(amelia) == datetime.date(2026, 11, 2)
    assert FeedMatch.objects.filter(state="applied").count() == 1
    # Then the second: no registration stands, and the date before any feed returns.
    ingest(deaths_file(death_row(registration_district="Camden", entry_number="77", record_status="cancelled")),
           name="cancel-second.csv")  # fmt: skip
    assert _date_of_death(amelia) is None


def test_a_correction_tells_people_once_that_the_date_was_corrected(amelia):
    ingest(deaths_file(FIRST))
    before = set(Notification.objects.values_list("id", flat=True))
    ingest(deaths_file(CORRECTED), name="correction.csv")
    new = Notification.objects.exclude(id__in=before)
    assert _date_of_death(amelia) == datetime.date(2026, 10, 30)
    assert {notification.kind for notification in new} == {Notification.Kind.DEATH_REGISTERED}
    assert all("has been corrected" in notification.message for notification in new)
    assert new.count() == len({notification.recipient_id for notification in new})  # one each


def test_a_correction_that_changes_nothing_for_the_child_tells_nobody(amelia):
    ingest(deaths_file(FIRST))
    before = Notification.objects.count()
    ingest(deaths_file(death_row(place_of_death="Another Hospital", record_status="corrected")), name="c.csv")
    assert _date_of_death(amelia) == datetime.date(2026, 11, 1)
    assert Notification.objects.count() == before


def _outcome(child: Child) -> tuple:
    return (
        _date_of_death(child),
        sorted(FeedMatch.objects.filter(child=child).values_list("state", flat=True)),
        sorted(
            (kind, message.replace(child.register_id, "<child>"))
            for kind, message in Notification.objects.filter(child=child).values_list("kind", "message")
        ),
    )


ROWS = [FIRST, CORRECTED, CANCELLED]


def _forget_everything() -> None:
    """A register and a feed history as new: each run below starts from nothing."""
    Registration.objects.all().delete()
    FeedFile.objects.all().delete()
    Child.objects.all().delete()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    versions=st.integers(min_value=1, max_value=3),
    order=st.permutations(range(3)),
    repeats=st.lists(st.integers(min_value=0, max_value=2), max_size=3),
)
def test_any_order_or_repetition_of_a_files_rows_does_what_the_ordered_file_does(westminster, versions, order, repeats):
    """The same registration's versions (registered, corrected, cancelled: the first
    `versions` of them), shuffled and with some repeated, in one file, leave the child,
    the matches and the notifications exactly as the rows in the GRO's order do."""
    rows = ROWS[:versions]
    _forget_everything()
    expected_child = _amelia(westminster)
    ingest(deaths_file(*rows), name="ordered.csv")
    expected = _outcome(expected_child)
    _forget_everything()

    shuffled = [rows[index] for index in order if index < versions]
    shuffled += [rows[index] for index in repeats if index < versions]
    child = _amelia(westminster)
    ingest(deaths_file(*shuffled), name=f"shuffled-{'-'.join(map(str, itertools.chain(order, repeats)))}.csv")
    assert _outcome(child) == expected


# --- The optional version column (docs/feeds.md "Formats") ------------------------------
V1 = versioned_death_row(1)
V2 = versioned_death_row(2, date_of_death="2026-10-30", record_status="corrected")
V3 = versioned_death_row(3, date_of_death="2026-10-29", record_status="corrected")
V4 = versioned_death_row(4, record_status="cancelled")


def test_two_corrections_are_ordered_by_version_not_by_arrival(amelia):
    ingest(versioned_deaths_file(V1, V3), name="v1-v3.csv")
    assert _date_of_death(amelia) == datetime.date(2026, 10, 29)
    notified = Notification.objects.count()
    # The older correction arrives last: it changes nothing and tells nobody.
    feed_file = ingest(versioned_deaths_file(V2), name="late-v2.csv")
    assert _date_of_death(amelia) == datetime.date(2026, 10, 29)
    assert feed_file.rows_duplicate == 1 and Notification.objects.count() == notified
    # In one file, in reverse order: the highest version is applied.
    _forget_everything()
    child = _amelia(amelia.responsible_local_authority)
    ingest(versioned_deaths_file(V3, V2, V1), name="reversed.csv")
    assert _date_of_death(child) == datetime.date(2026, 10, 29)


def test_without_version_numbers_the_later_correction_received_wins(amelia):
    ingest(deaths_file(FIRST, death_row(date_of_death="2026-10-29", record_status="corrected")), name="a.csv")
    ingest(deaths_file(CORRECTED), name="b.csv")
    assert _date_of_death(amelia) == datetime.date(2026, 10, 30)


VERSIONED_ROWS = [V1, V2, V3, V4]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    versions=st.integers(min_value=1, max_value=4),
    order=st.permutations(range(4)),
    repeats=st.lists(st.integers(min_value=0, max_value=3), max_size=3),
    split=st.integers(min_value=0, max_value=6),
)
def test_any_order_repetition_or_split_of_versioned_rows_does_what_the_ordered_file_does(
    westminster, versions, order, repeats, split
):
    """With version numbers, two corrections too: the first `versions` of registered,
    corrected, corrected again and cancelled, shuffled and some repeated, in one file,
    leave the child, the matches and the notifications exactly as one file in the GRO's
    order does; split across two files (received apart, so people may rightly be told
    twice), they leave the register the same."""
    rows = VERSIONED_ROWS[:versions]
    _forget_everything()
    expected_child = _amelia(westminster)
    ingest(versioned_deaths_file(*rows), name="ordered.csv")
    expected = _outcome(expected_child)
    _forget_everything()

    shuffled = [rows[index] for index in order if index < versions]
    shuffled += [rows[index] for index in repeats if index < versions]
    child = _amelia(westminster)
    name = "-".join(map(str, itertools.chain(order, repeats, [split])))
    parts = [part for part in (shuffled[:split], shuffled[split:]) if part]
    for number, part in enumerate(parts):
        ingest(versioned_deaths_file(*part), name=f"shuffled-{name}-{number}.csv")
    if len(parts) == 1:
        assert _outcome(child) == expected
    else:
        assert _date_of_death(child) == expected[0]
