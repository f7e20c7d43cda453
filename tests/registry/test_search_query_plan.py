"""Every condition of search's candidate query is an indexed lookup (PostgreSQL), the
second-chance blocks of issue 13 included: with sequential scans priced out, the plan
reads registry_child only through indexes. A condition no index serves would leave a
sequential scan in the plan whatever it cost. Measured plans on a register of a million
children: docs/search-query-plans.md."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.matching.keys import name_keys
from registry.matching.selectors import Purpose, SearchCriteria, candidates
from registry.models import Child, OtherName
from tests.factories import ChildFactory, LocalAuthorityFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's"),
]


GIVEN = ["Amelia", "Noah", "Olivia", "George", "Isla", "Arthur", "Ava", "Muhammad", "Ivy", "Leo"]
FAMILY = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright"]


@pytest.fixture
def register() -> None:
    """Four thousand children over eight years of birth, so that the planner (its
    statistics fresh) knows five years of birth are half the register and a name pair few."""
    authority = LocalAuthorityFactory()
    children = []
    for number in range(4000):
        given, family = GIVEN[number % 10], FAMILY[(number // 10) % 10]
        children.append(
            Child(
                responsible_local_authority=authority,
                la_reference=f"PLAN-{number}",
                given_names=given,
                family_name=family,
                date_of_birth=datetime.date(2012, 1, 1) + datetime.timedelta(days=number * 8 % 2900),
                **vars(name_keys(given_names=given, family_name=family)),
            )
        )
    Child.objects.bulk_create(children)
    # One child in ten known by another name too, so that the planner knows the other
    # names' keys and dates as it knows the children's.
    OtherName.objects.bulk_create(
        OtherName(
            child=child,
            given_names=GIVEN[(number + 3) % 10],
            family_name=FAMILY[(number + 7) % 10],
            child_date_of_birth=child.date_of_birth,
            **vars(name_keys(given_names=GIVEN[(number + 3) % 10], family_name=FAMILY[(number + 7) % 10])),
        )
        for number, child in enumerate(Child.objects.order_by("pk"))
        if number % 10 == 0
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_child")
        cursor.execute("ANALYZE registry_othername")


def index_scans(plan: str) -> list[tuple[str, str]]:
    """(index, its condition) for each index scan in a plan."""
    lines = plan.splitlines()
    return [
        (line.split(" on ")[1].split()[0], lines[number + 1].strip())
        for number, line in enumerate(lines)
        if "Index Scan on" in line and number + 1 < len(lines)
    ]


def candidate_query_plan(criteria: SearchCriteria) -> str:
    with CaptureQueriesContext(connection) as captured:
        candidates(criteria, purpose=Purpose.SEARCH)
    sql = next(query["sql"] for query in captured.captured_queries if "registry_othername" in query["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_wrong_date_block_reads_children_through_the_name_keys_and_date_index(register: None) -> None:
    plan = candidate_query_plan(
        SearchCriteria(family_name="Patel", given_names="Olivia", date_of_birth=datetime.date(2016, 11, 19))
    )
    assert "Seq Scan on registry_child" not in plan, plan
    # Without a postcode only the same day and month in the other years of the window can
    # be accepted, and those dates are read together with both name keys.
    assert not [index for index, condition in index_scans(plan) if "date_of_birth >=" in condition], plan
    assert {"child_first_given_dob_idx", "child_last_given_dob_idx"} <= {index for index, _ in index_scans(plan)}, plan


def test_with_a_postcode_the_wrong_date_block_reads_the_year_searched_through_the_name_keys(register: None) -> None:
    plan = candidate_query_plan(
        SearchCriteria(
            family_name="Patel", given_names="Olivia", date_of_birth=datetime.date(2016, 11, 19), postcode="LS6 2AB"
        )
    )
    assert "Seq Scan on registry_child" not in plan, plan
    ranges = [index for index, condition in index_scans(plan) if "date_of_birth >=" in condition]
    assert sorted(ranges) == ["child_first_given_dob_idx", "child_last_given_dob_idx"], plan
    assert "'2016-01-01'" in plan and "'2016-12-31'" in plan and "'2014-01-01'" not in plan, plan


def test_a_name_search_reads_the_children_born_that_day_only_with_a_name_key(register: None) -> None:
    """At eleven million children about 1,800 are born on any day: reading them all made
    every search slower as the register grew (issue 13 item 5). Not even for their other
    names: those are looked up by key and date too, on the other names' own indexes
    (OtherName.child_date_of_birth), instead of probing each child born that day."""
    plan = candidate_query_plan(
        SearchCriteria(family_name="Smith", given_names="Amelia", date_of_birth=datetime.date(2016, 11, 19))
    )
    lines = [line.strip() for line in plan.splitlines()]
    date_alone = ("Index Cond: (date_of_birth", "Index Cond: (child_date_of_birth")
    assert not [line for line in lines if line.startswith(date_alone)], plan
    assert "Seq Scan on registry_othername" not in plan, plan
    # Each key of the name searched on its own (key, child's date of birth) index; the
    # foreign-key index only brings the other names of the children found.
    other_name_indexes = {
        line.split(" using ")[1].split()[0] for line in lines if "Scan using" in line and " registry_othername " in line
    }
    assert other_name_indexes == {
        "other_first_dob_idx", "other_last_dob_idx", "other_initials_dob_idx", "other_given_dob_idx",
        "registry_othername_child_id_ea9a683b",
    }, plan  # fmt: skip


def test_the_names_alone_block_reads_a_bounded_number_through_the_name_keys_index(register: None) -> None:
    """A date of birth replaced altogether: children of a rare name born on any date, read
    from the (key, given key, date of birth) indexes, at most NAMES_ALONE_READ for each key
    column, so that it costs the same at eleven million children as at four thousand."""
    from registry.matching.selectors import NAMES_ALONE_READ

    with CaptureQueriesContext(connection) as captured:
        candidates(
            SearchCriteria(family_name="Zogopoulos", given_names="Tahni", date_of_birth=datetime.date(1970, 6, 9)),
            purpose=Purpose.SEARCH,
        )
    sql = next(query["sql"] for query in captured.captured_queries if "registry_othername" in query["sql"])
    assert sql.count(f"LIMIT {NAMES_ALONE_READ}") == 2, sql
    plan = candidate_query_plan(
        SearchCriteria(family_name="Zogopoulos", given_names="Tahni", date_of_birth=datetime.date(1970, 6, 9))
    )
    assert "Seq Scan on registry_child" not in plan, plan
    assert plan.count("Limit") == 2, plan
    assert {"child_first_given_dob_idx", "child_last_given_dob_idx"} <= {index for index, _ in index_scans(plan)}, plan
    # A common name is no evidence on its own: nothing read for it.
    with CaptureQueriesContext(connection) as captured:
        candidates(
            SearchCriteria(family_name="Smith", given_names="Olivia", date_of_birth=datetime.date(1970, 6, 9)),
            purpose=Purpose.SEARCH,
        )
    assert all("LIMIT" not in query["sql"] for query in captured.captured_queries)


def test_a_search_with_a_postcode_for_a_changed_surname_scans_nothing(register: None) -> None:
    ChildFactory(given_names="Kayden", family_name="Whitfield", date_of_birth=datetime.date(2016, 4, 2))
    plan = candidate_query_plan(
        SearchCriteria(
            family_name="Osei", given_names="Kayden", date_of_birth=datetime.date(2016, 4, 2), postcode="LS6 2AB"
        )
    )
    assert "Seq Scan on registry_child" not in plan, plan


def test_the_search_by_the_mother_reads_pre_birth_plans_through_their_partial_indexes(register: None) -> None:
    from registry.matching.selectors import UnbornSearchCriteria, unborn_search
    from registry.models import ProtectionStatus
    from tests.factories import nhs_number_for

    # One child in five unborn, each with a pre-birth plan naming a different mother.
    unborn = Child.objects.filter(la_reference__regex=r"[05]$")
    unborn.update(date_of_birth=None)
    ProtectionStatus.objects.bulk_create(
        ProtectionStatus(
            child=child,
            kind=ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN,
            start_date=datetime.date(2026, 10, 1),
            expected_delivery_date=datetime.date(2027, 2, 3),
            responsible_local_authority_id=child.responsible_local_authority_id,
            mother_family_name=child.family_name,
            mother_date_of_birth=datetime.date(1980, 1, 1) + datetime.timedelta(days=child.pk % 7000),
            mother_nhs_number=nhs_number_for(child.pk),
        )
        for child in unborn
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_child")
        cursor.execute("ANALYZE registry_protectionstatus")

    criteria = UnbornSearchCriteria(
        mother_nhs_number="9434765919", mother_family_name="Okafor", mother_date_of_birth=datetime.date(1997, 8, 14)
    )
    with CaptureQueriesContext(connection) as captured:
        unborn_search(criteria)
    [sql] = [query["sql"] for query in captured.captured_queries if "registry_protectionstatus" in query["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    assert "status_unborn_mother_nhs_idx" in plan, plan
    assert "status_unborn_mother_dob_idx" in plan, plan


def test_the_same_address_block_reads_a_bounded_number_through_the_postcode_index(register: None) -> None:
    """Children at the full postcode searched, whatever their names and date of birth,
    read from the postcode's index, at most SAME_ADDRESS_READ of them, shielded children
    left out in the query itself."""
    from registry.matching.selectors import SAME_ADDRESS_READ

    criteria = SearchCriteria(
        family_name="Osei", given_names="Kayden", date_of_birth=datetime.date(2016, 4, 2), postcode="LS6 2AB"
    )
    with CaptureQueriesContext(connection) as captured:
        candidates(criteria, purpose=Purpose.SEARCH)
    sql = next(query["sql"] for query in captured.captured_queries if "registry_othername" in query["sql"])
    assert f'w."postcode" = \'LS6 2AB\' AND w."is_shielded" = false LIMIT {SAME_ADDRESS_READ}' in sql, sql
    plan = candidate_query_plan(criteria)
    assert "Seq Scan on registry_child" not in plan, plan
    address = [line for line in plan.splitlines() if "Index Scan using registry_child_postcode" in line]
    assert len(address) == 1, plan
    # Without a postcode searched, nothing is read by address.
    with CaptureQueriesContext(connection) as captured:
        candidates(
            SearchCriteria(family_name="Osei", given_names="Kayden", date_of_birth=datetime.date(2016, 4, 2)),
            purpose=Purpose.SEARCH,
        )
    assert all('w."postcode"' not in query["sql"] for query in captured.captured_queries)
