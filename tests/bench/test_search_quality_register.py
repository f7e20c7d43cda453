"""The search-quality benchmark loads a million children with COPY rather than through the
ORM: the rows must carry the keys the ORM would have written, or the matcher is measured
on a register it would never see."""

import datetime
import re

import search_quality

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
