"""Each dashboard figure against a known data set (tests/registry/dashboard_data.py)."""

import datetime

import pytest
from django.utils import timezone

from accounts.roles import Role
from audit.actor import Actor, Channel
from audit.models import AuditEvent
from registry.dashboard import figures
from registry.dashboard.refresh import (
    DUPLICATES_BOOKMARK,
    DUPLICATES_FIRST_SCAN_BOOKMARK,
    dashboard_refresh,
    duplicates_scan,
)
from registry.dashboard.selectors import (
    NATIONAL_COLUMNS,
    authority_figures,
    national_figures,
    national_table,
    suppression_pattern,
)
from registry.models import (
    Child,
    ChildTransfer,
    DashboardBookmark,
    DashboardEventCount,
    DuplicatePair,
    RemovalReceipt,
    RemovalRule,
)
from tests.factories import ChildFactory, InvolvementFactory, ProtectionStatusFactory
from tests.registry.dashboard_data import (
    hold,
    known_register,
    lookups,
    make_stale,
    match_notifications,
    refresh,
    user_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(westminster, birmingham):
    return known_register(westminster, birmingham)


def test_searches_that_returned_an_authoritys_children_by_reason_and_channel(register):
    lookups(register)
    refresh()
    f = authority_figures(local_authority=register.westminster)
    assert f.searches_returned == 2
    assert f.total(figures.SEARCHES_RETURNED_BY_REASON, "new_concern") == 1
    assert f.total(figures.SEARCHES_RETURNED_BY_REASON, "assessment") == 1
    assert f.total(figures.SEARCHES_RETURNED_BY_CHANNEL, "web") == 1
    assert f.total(figures.SEARCHES_RETURNED_BY_CHANNEL, "api") == 1
    # This week is the last of the twelve shown.
    assert f.weekly(figures.SEARCHES_RETURNED_BY_REASON)[-1] == 2
    assert authority_figures(local_authority=register.birmingham).searches_returned == 0


def test_outcomes_count_against_the_searching_practitioners_authority(register):
    lookups(register)
    refresh()
    westminster = authority_figures(local_authority=register.westminster)
    birmingham = authority_figures(local_authority=register.birmingham)
    assert westminster.total(figures.SEARCH_OUTCOMES, "no_results") == 1
    assert westminster.total(figures.SEARCH_OUTCOMES, "refused") == 1
    assert westminster.total(figures.SEARCH_OUTCOMES, "results") == 0
    assert birmingham.total(figures.SEARCH_OUTCOMES, "results") == 2


def test_a_search_opened_twice_counts_once_and_look_ups_from_outside_are_counted(register):
    lookups(register)
    refresh()
    f = authority_figures(local_authority=register.westminster)
    assert f.searches_opened == 1
    assert f.share(f.searches_opened, f.searches_returned) == 0.5
    assert f.total(figures.LOOKUPS_FROM_OUTSIDE) == 2


def test_a_second_refresh_counts_nothing_twice(register):
    lookups(register)
    refresh()
    refresh()
    f = authority_figures(local_authority=register.westminster)
    assert f.searches_returned == 2
    assert f.searches_opened == 1


def test_events_written_after_a_refresh_are_added_to_the_counts(register):
    lookups(register)
    refresh()
    lookups(register)
    refresh()
    f = authority_figures(local_authority=register.westminster)
    assert f.searches_returned == 4
    assert f.searches_opened == 2


def test_events_not_yet_settled_wait_for_the_next_refresh(register):
    lookups(register)
    dashboard_refresh(now=timezone.now())  # everything was written in the last two minutes
    assert authority_figures(local_authority=register.westminster).searches_returned == 0
    refresh()
    assert authority_figures(local_authority=register.westminster).searches_returned == 2


def test_practitioners_put_in_touch_counts_match_notifications_by_the_childs_authority(register):
    match_notifications(register.cpp_child, 3)
    match_notifications(register.birmingham_child, 1)
    refresh()
    assert authority_figures(local_authority=register.westminster).total(figures.MATCH_NOTIFICATIONS) == 3
    assert authority_figures(local_authority=register.birmingham).total(figures.MATCH_NOTIFICATIONS) == 1


def test_counts_survive_the_child_leaving_the_register(register):
    match_notifications(register.cpp_child, 2)
    refresh()
    register.cpp_child.delete()  # notifications go with the child (CASCADE); the count stays
    refresh()
    assert authority_figures(local_authority=register.westminster).total(figures.MATCH_NOTIFICATIONS) == 2


def test_children_by_status(register):
    ended = ChildFactory(responsible_local_authority=register.westminster)
    ProtectionStatusFactory(child=ended, start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2025, 6, 1))
    refresh()
    f = authority_figures(local_authority=register.westminster)
    assert f.children == 4
    assert f.status_count("cpp") == 1
    assert f.status_count("looked_after:s31") == 1
    assert f.looked_after == 1
    assert f.status_count("unborn_cpp") == 1
    assert authority_figures(local_authority=register.birmingham).children == 1


def test_joiners_and_leavers_by_month(register, westminster, birmingham):
    ChildTransfer.objects.create(
        child=register.birmingham_child,
        from_local_authority=birmingham,
        to_local_authority=westminster,
        transferred_on=datetime.date(2026, 11, 20),
        transferred_by=register.manager,
    )
    RemovalReceipt.objects.create(
        register_id="ZZZZ-ZZZZ-ZZZZ", responsible_local_authority=westminster, rule=RemovalRule.EIGHTEENTH_BIRTHDAY,
        removed_at=timezone.now(),
    )  # fmt: skip
    refresh()
    westminster_figures = authority_figures(local_authority=westminster)
    assert westminster_figures.monthly(figures.JOINERS, "added")[-1] == 3
    assert westminster_figures.monthly(figures.JOINERS)[-1] == 4
    assert westminster_figures.total(figures.LEAVERS) == 1
    assert authority_figures(local_authority=birmingham).total(figures.LEAVERS, "transferred_out") == 1


def test_removals_due_in_the_next_30_days_and_legal_holds(register):
    turning_18 = ChildFactory(
        responsible_local_authority=register.westminster, date_of_birth=datetime.date(2008, 12, 10)
    )
    ProtectionStatusFactory(child=turning_18)
    turning_18_later = ChildFactory(
        responsible_local_authority=register.westminster, date_of_birth=datetime.date(2009, 3, 1)
    )
    ProtectionStatusFactory(child=turning_18_later)
    hold(register.looked_after_child, register.manager)
    refresh()
    f = authority_figures(local_authority=register.westminster)
    assert f.count(figures.REMOVALS_DUE) == 1
    assert f.count(figures.LEGAL_HOLDS) == 1


def test_data_quality_counts(register):
    make_stale(register.cpp_child.involvements.get())
    refresh()
    f = authority_figures(local_authority=register.westminster)
    assert f.with_nhs_number == 1
    assert f.count(figures.NO_POSTCODE) == 2
    assert f.count(figures.NO_CURRENT_INVOLVEMENT) == 1  # the looked-after child
    assert f.count(figures.NO_LEAD) == 2  # the looked-after child and the unborn child
    assert f.count(figures.STALE_INVOLVEMENTS) == 1


def test_a_confirmed_involvement_is_no_longer_stale(register):
    from registry.dashboard.services import involvement_confirm

    involvement = register.cpp_child.involvements.get()
    make_stale(involvement)
    involvement.refresh_from_db()
    involvement_confirm(by=Actor(user=register.practitioner, channel=Channel.WEB), involvement=involvement)
    refresh()
    assert authority_figures(local_authority=register.westminster).count(figures.STALE_INVOLVEMENTS) == 0
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVOLVEMENT_CONFIRMED).count() == 1


def test_ended_involvements_are_never_stale(register):
    involvement = InvolvementFactory(
        child=register.looked_after_child, practitioner=user_of(register.westminster, Role.PRACTITIONER),
        end_date=datetime.date(2026, 6, 1),
    )  # fmt: skip
    make_stale(involvement)
    refresh()
    assert authority_figures(local_authority=register.westminster).count(figures.STALE_INVOLVEMENTS) == 0


def test_likely_duplicates_are_found_inside_the_authority_only(register):
    twin = ChildFactory(
        responsible_local_authority=register.westminster, nhs_number=None, given_names="Ottoline",
        family_name="Quarrendon", date_of_birth=datetime.date(2015, 4, 2),
    )  # fmt: skip
    ChildFactory(
        responsible_local_authority=register.birmingham, nhs_number=None, given_names="Ottoline",
        family_name="Quarrendon", date_of_birth=datetime.date(2015, 4, 2),
    )  # fmt: skip
    refresh()
    pairs = list(DuplicatePair.objects.all())
    assert [(pair.child_id, pair.other_child_id) for pair in pairs] == [(register.cpp_child.pk, twin.pk)]
    assert pairs[0].grade in ("exact", "likely")
    assert authority_figures(local_authority=register.westminster).count(figures.DUPLICATE_PAIRS) == 1
    assert authority_figures(local_authority=register.birmingham).count(figures.DUPLICATE_PAIRS) == 0


def test_two_different_nhs_numbers_are_never_a_duplicate(register):
    ChildFactory(
        responsible_local_authority=register.westminster, given_names="Ottoline", family_name="Quarrendon",
        date_of_birth=datetime.date(2015, 4, 2),
    )  # fmt: skip
    refresh()
    assert not DuplicatePair.objects.exists()


def test_a_dismissed_pair_is_not_counted_or_raised_again(register):
    from registry.dashboard.services import duplicate_pair_dismiss

    ChildFactory(
        responsible_local_authority=register.westminster, nhs_number=None, given_names="Ottoline",
        family_name="Quarrendon", date_of_birth=datetime.date(2015, 4, 2),
    )  # fmt: skip
    refresh()
    duplicate_pair_dismiss(by=Actor(user=register.manager, channel=Channel.WEB), pair=DuplicatePair.objects.get())
    register.cpp_child.save()  # a later change to one of them
    refresh()
    assert authority_figures(local_authority=register.westminster).count(figures.DUPLICATE_PAIRS) == 0
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DUPLICATE_PAIR_DISMISSED).count() == 1


def test_a_corrected_record_drops_out_of_the_duplicates(register):
    twin = ChildFactory(
        responsible_local_authority=register.westminster, nhs_number=None, given_names="Ottoline",
        family_name="Quarrendon", date_of_birth=datetime.date(2015, 4, 2),
    )  # fmt: skip
    refresh()
    assert DuplicatePair.objects.count() == 1
    twin.date_of_birth = datetime.date(2019, 8, 30)
    twin.save()
    refresh()
    assert not DuplicatePair.objects.exists()


def test_the_first_duplicate_scan_is_bounded_per_run_and_carries_on_from_its_bookmark(westminster, birmingham):
    # Three children come first, the two records of one child last: a run that may pass only
    # two ids finds nothing yet, and the pair appears once the scan reaches them.
    ChildFactory.create_batch(3, responsible_local_authority=westminster)
    twins = ChildFactory.create_batch(
        2, responsible_local_authority=westminster, nhs_number=None, given_names="Ottoline",
        family_name="Quarrendon", date_of_birth=datetime.date(2015, 4, 2),
    )  # fmt: skip
    # The scan starts at the lowest id there is, whatever the ids are (test_the_first_...lowest_id).
    assert duplicates_scan(limit=2, chunk=1) == 2
    assert not DuplicatePair.objects.exists()
    runs = 1
    while not DuplicatePair.objects.exists():
        duplicates_scan(limit=2, chunk=1)
        runs += 1
        assert runs < 5
    assert list(DuplicatePair.objects.values_list("child_id", "other_child_id")) == [(twins[0].pk, twins[1].pk)]


def test_the_first_duplicate_scan_starts_at_the_lowest_id_so_a_high_numbered_register_takes_one_run(westminster):
    # Children removed long ago leave their ids unused: the live ones may start anywhere.
    for pk in (500_000, 500_003):
        ChildFactory(
            pk=pk, responsible_local_authority=westminster, nhs_number=None, given_names="Ottoline",
            family_name="Quarrendon", date_of_birth=datetime.date(2015, 4, 2),
        )  # fmt: skip
    duplicates_scan(limit=10, chunk=10)
    assert list(DuplicatePair.objects.values_list("child_id", "other_child_id")) == [(500_000, 500_003)]
    assert DashboardBookmark.objects.get(source=DUPLICATES_FIRST_SCAN_BOOKMARK).last_id == 500_003


def test_after_the_first_scan_each_run_checks_a_bounded_number_of_changed_children(westminster, birmingham):
    children = ChildFactory.create_batch(5, responsible_local_authority=westminster)
    duplicates_scan()  # the first scan, complete
    long_ago = timezone.now() - datetime.timedelta(days=1)
    Child.objects.update(updated_at=long_ago)
    DashboardBookmark.objects.filter(source=DUPLICATES_BOOKMARK).update(
        refreshed_at=long_ago + datetime.timedelta(seconds=1)
    )
    twenty_minutes_ago = timezone.now() - datetime.timedelta(minutes=20)
    # Two children changed at the same instant, one later: with one child a run, each is
    # checked in turn (the scan does not stall on a shared instant), then nothing more.
    Child.objects.filter(pk__in=[children[0].pk, children[1].pk]).update(updated_at=twenty_minutes_ago)
    Child.objects.filter(pk=children[2].pk).update(updated_at=timezone.now() - datetime.timedelta(minutes=10))
    assert [duplicates_scan(limit=1) for _ in range(4)] == [1, 1, 1, 0]
    assert [duplicates_scan(limit=5) for _ in range(2)] == [0, 0]


def test_counts_are_stored_per_authority_week_and_key(register):
    lookups(register)
    refresh()
    this_week = datetime.date(2026, 11, 23)
    assert DashboardEventCount.objects.filter(
        local_authority=register.westminster, figure=figures.SEARCHES_RETURNED_BY_CHANNEL, period=this_week, key="api"
    ).values_list("count", flat=True).get() == 1  # fmt: skip


# --- National: suppression -------------------------------------------------------------------

COLUMNS = [column for column, _heading in NATIONAL_COLUMNS]


def cell(row: list[str], column: str) -> str:
    return row[2 + COLUMNS.index(column)]


def test_national_table_suppresses_counts_from_1_to_4_and_shares_built_on_them(register):
    lookups(register)
    match_notifications(register.cpp_child, 5)
    refresh()
    rows = {row[1]: row for row in national_table(authorities=national_figures())}
    csv_rows = {row[1]: row for row in national_table(authorities=national_figures(), csv=True)}
    westminster = rows["E09000033"]
    assert cell(westminster, "searches_returned") == "fewer than 5"  # 2
    assert cell(westminster, "searches_opened_share") == "fewer than 5"  # 1 of 2
    assert cell(westminster, "match_notifications") == "5"
    assert cell(westminster, "outcome_results") == "0"
    assert cell(westminster, "children") == "fewer than 5"  # 3
    assert cell(csv_rows["E09000033"], "children") == "[c]"
    assert cell(csv_rows["E09000033"], "searches_opened_share") == "[c]"


def test_a_share_is_shown_when_none_of_its_counts_is_small(westminster, birmingham):
    ChildFactory.create_batch(5, responsible_local_authority=westminster, nhs_number=None)
    ChildFactory.create_batch(6, responsible_local_authority=westminster)
    refresh()
    westminster_row = next(row for row in national_table(authorities=national_figures()) if row[1] == "E09000033")
    assert cell(westminster_row, "children") == "11"
    assert cell(westminster_row, "nhs_share") == "55%"
    assert cell(westminster_row, "no_postcode") == "0"


def test_a_share_is_withheld_when_those_without_are_fewer_than_5(westminster, birmingham):
    # 5 of 6 with an NHS number: "83% of 6" would tell a reader that one child has none.
    ChildFactory(responsible_local_authority=westminster, nhs_number=None)
    ChildFactory.create_batch(5, responsible_local_authority=westminster)
    refresh()
    westminster_row = next(row for row in national_table(authorities=national_figures()) if row[1] == "E09000033")
    assert cell(westminster_row, "children") == "6"
    assert cell(westminster_row, "nhs_share") == "fewer than 5"


# --- Complementary suppression: no withheld count can be worked out by subtraction ------------

SMALL_COLUMNS = ["a", "b", "c"]


def withheld_cells(rows, row_totals=None):
    return suppression_pattern(rows, columns=SMALL_COLUMNS, row_totals=row_totals or {})


def test_one_small_count_in_a_column_takes_the_next_smallest_with_it():
    # Column a: 3, 40, 9, 120 shown with England's total 172. Withholding only the 3 would
    # let a reader subtract: 172 - 40 - 9 - 120 = 3. So the 9 is withheld as well.
    rows = [[3, 10, 10], [40, 10, 10], [9, 10, 10], [120, 10, 10], [172, 40, 40]]
    assert withheld_cells(rows) == {(0, 0), (2, 0)}


def test_two_small_counts_in_a_column_need_nothing_more():
    rows = [[3, 10, 10], [2, 10, 10], [9, 10, 10], [14, 30, 30]]
    assert withheld_cells(rows) == {(0, 0), (1, 0)}


def test_zeros_are_shown_and_never_chosen_to_hide_a_count():
    # 0 identifies nobody; hiding it would not hide the 3 (a reader still gets 3 + 0).
    rows = [[3, 10, 10], [0, 10, 10], [12, 10, 10], [15, 30, 30]]
    assert withheld_cells(rows) == {(0, 0), (2, 0)}


def test_a_row_total_is_protected_too_and_the_rule_repeats_until_nothing_can_be_derived():
    # Row 0's "a" is the total of its "b" and "c": withholding b=2 alone would give it away
    # as 30 - 28, so c=28 is withheld; column b's total gives the 2 away too, so row 1's b=10
    # is withheld, which in turn takes row 1's c=50 (its row total is shown). Whatever the
    # order, no column and no row is left with exactly one withheld cell.
    rows = [[30, 2, 28], [60, 10, 50], [100, 20, 80], [190, 32, 158]]
    withheld = withheld_cells(rows, row_totals={"a": ("b", "c")})
    assert {(0, 1), (0, 2), (1, 2)} <= withheld
    for c in range(3):
        column_withheld = [r for r in range(3) if (r, c) in withheld]
        assert len(column_withheld) != 1
    for r in range(3):
        assert len([c for c in (1, 2) if (r, c) in withheld]) != 1


def test_the_national_table_ends_with_englands_total_and_protects_it(westminster, birmingham):
    ChildFactory.create_batch(3, responsible_local_authority=westminster)
    ChildFactory.create_batch(40, responsible_local_authority=birmingham)
    refresh()
    rows = national_table(authorities=national_figures())
    england = rows[-1]
    assert england[:2] == ["England (all authorities)", "E92000001"]
    assert cell(england, "children") == "43"
    by_code = {row[1]: row for row in rows}
    # Westminster's 3 is withheld; Birmingham's 40 with it, or 43 - 40 would give it away.
    assert cell(by_code["E09000033"], "children") == "fewer than 5"
    assert cell(by_code["E08000025"], "children") == "fewer than 5"
    csv_rows = {row[1]: row for row in national_table(authorities=national_figures(), csv=True)}
    assert cell(csv_rows["E08000025"], "children") == "[c]"


def test_feed_outcomes_per_authority(register):
    from feeds.dashboard import feed_figures_refresh, feed_snapshot
    from tests.registry.dashboard_feeds import feed_match

    feed_match(register.cpp_child, state="applied")
    feed_match(register.cpp_child, state="confirmed")
    feed_match(register.cpp_child, state="pending", age_days=9)
    feed_match(register.looked_after_child, state="pending", age_days=2)
    feed_match(register.cpp_child, state="rejected")
    feed_match(register.cpp_child, state="withdrawn")
    feed_match(register.birmingham_child, state="pending", age_days=1)
    feed_figures_refresh()
    refresh()  # the register's refresh leaves the feed figures alone
    f = authority_figures(local_authority=register.westminster)
    assert f.count(figures.FEED_OUTCOMES, "applied") == 2
    assert f.count(figures.FEED_OUTCOMES, "waiting") == 2
    assert f.count(figures.FEED_OUTCOMES, "rejected") == 1
    assert f.count(figures.FEED_OLDEST_WAITING_DAYS) == 9
    assert authority_figures(local_authority=register.birmingham).count(figures.FEED_OUTCOMES, "waiting") == 1
    assert feed_snapshot(now=timezone.now())
