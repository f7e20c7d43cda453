"""The search-quality benchmark loads a million children with COPY rather than through the
ORM: the rows must carry the keys the ORM would have written, or the matcher is measured
on a register it would never see."""

import datetime
import re

import pytest
import search_quality
from django.db import connection

from registry.identity import REGISTER_ID_PATTERN
from registry.matching.keys import name_keys

NAMES = [
    ("Oliver James", "Smith"), ("Zoë", "O'Neill-Smith"), ("Seán", "Ó Súilleabháin"), ("", "Van der Berg"),
    ("Marie-Claire", "de la Cruz"), ("Muhammad", "Khan"), ("Łucja", "Wiśniewski"), ("Amelia", "Smith"),
]  # fmt: skip


def test_keys_loaded_by_copy_are_the_keys_the_orm_writes():
    people = [
        search_quality.Person(
            ref=index, given=given, family=family, date_of_birth=datetime.date(2015, 3, 9), sex="female", postcode=""
        )
        for index, (given, family) in enumerate(NAMES * 2)
    ]
    for person, keys in search_quality._keys_cached(people):
        assert keys == name_keys(given_names=person.given, family_name=person.family)


def test_bench_register_ids_are_in_the_register_format_and_never_repeat():
    ids = [search_quality.bench_register_id(ref) for ref in range(20_000)]
    assert all(re.fullmatch(REGISTER_ID_PATTERN, register_id) for register_id in ids)
    assert len(set(ids)) == len(ids)
    assert search_quality.bench_register_id(7) == search_quality.bench_register_id(7)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY build is PostgreSQL's")
def test_the_copy_build_gives_each_other_name_its_childs_date_of_birth_so_aliases_are_found():
    from registry.matching.selectors import Purpose, SearchCriteria, candidates
    from registry.models import OtherName
    from tests.factories import LocalAuthorityFactory

    born = datetime.date(2015, 3, 9)
    person = search_quality.Person(
        ref=41, given="Amelia", family="Smith", date_of_birth=born, sex="female", postcode="LS6 2AB",
        other_names=[("alias", "Millie", "Quarrendon")],
    )  # fmt: skip
    authority = LocalAuthorityFactory()
    with connection.cursor() as cursor:
        # The build runs in its own transaction; inside the test's, the copied rows' deferred
        # foreign-key checks would be pending when it builds the indexes again.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    search_quality.register_copy([person], authority_id=authority.pk)
    assert list(OtherName.objects.values_list("child_date_of_birth", flat=True)) == [born]
    found = candidates(
        SearchCriteria(family_name="Quarrendon", given_names="Millie", date_of_birth=born), purpose=Purpose.SEARCH
    )
    assert [match.child.given_names for match in found.matches] == ["Amelia"]
