"""The same-address block (issue 13 item 2, third round): a child recorded at the full
postcode searched is compared whatever its names and date of birth, and shown as possible
when the address makes up for what differs, at even odds or better (odds of 10 to 1 for a
date of birth different altogether). Found by FEBRL's duplicates with their postcodes
typed: a surname changed with the given name left blank or misspelt, both names changed."""

import datetime

import pytest

from registry.matching.selectors import (
    CHANGED_SURNAME_REASON,
    SAME_ADDRESS_READ,
    Grade,
    Purpose,
)
from tests.factories import ChildFactory
from tests.registry.search_helpers import BORN, only_match, search

pytestmark = pytest.mark.django_db

HOME = "LS6 2AB"


def test_a_changed_surname_with_no_given_name_typed_is_found_at_the_same_address():
    child = ChildFactory(given_names="Kayden", family_name="Whitfield", date_of_birth=BORN, postcode=HOME)
    match = only_match(search(family_name="Osei", postcode=HOME))
    assert (match.child, match.grade) == (child, Grade.POSSIBLE)
    assert match.reasons[0] == CHANGED_SURNAME_REASON
    assert "no given name to compare" in match.reasons
    assert "postcode matches" in match.reasons
    # Without the address, or with another one in the same district, nothing says it is the child.
    assert search(family_name="Osei").matches == []
    assert search(family_name="Osei", postcode="LS6 2AD").matches == []


def test_a_changed_surname_with_the_given_name_misspelt_is_found_at_the_same_address():
    # "Kayxen" is spelt like Kayden but does not sound like it: the changed-surname block,
    # which needs the given name as written, a short form or the same sound, does not find it.
    child = ChildFactory(given_names="Kayden", family_name="Whitfield", date_of_birth=BORN, postcode=HOME)
    assert search(family_name="Osei", given_names="Kayxen").matches == []
    match = only_match(search(family_name="Osei", given_names="Kayxen", postcode=HOME))
    assert (match.child, match.grade) == (child, Grade.POSSIBLE)
    assert match.reasons[:2] == [CHANGED_SURNAME_REASON, "given name spelt differently"]
    assert "date of birth matches" in match.reasons


def test_a_changed_surname_with_a_date_one_digit_out_is_found_at_the_same_address():
    child = ChildFactory(given_names="Kayden", family_name="Whitfield", date_of_birth=BORN, postcode=HOME)
    slip = datetime.date(2016, 4, 3)
    assert search(family_name="Osei", given_names="Kayden", date_of_birth=slip, postcode="LS6 2AD").matches == []
    match = only_match(search(family_name="Osei", given_names="Kayden", date_of_birth=slip, postcode=HOME))
    assert (match.child, match.grade) == (child, Grade.POSSIBLE)
    assert match.reasons[0] == CHANGED_SURNAME_REASON
    assert "one digit of the date of birth differs" in match.reasons


def test_a_date_of_birth_different_altogether_needs_odds_of_ten_to_one_from_names_and_address():
    # Quennell (rare) and Eleanor (about 1 in 600) are not rare enough together to find a
    # child born on another date by the names alone; at the same full postcode they are.
    child = ChildFactory(
        given_names="Eleanor", family_name="Quennell", date_of_birth=datetime.date(2012, 9, 26), postcode=HOME
    )
    assert search(family_name="Quennell", given_names="Eleanor").matches == []
    match = only_match(search(family_name="Quennell", given_names="Eleanor", postcode=HOME))
    assert (match.child, match.grade) == (child, Grade.POSSIBLE)
    assert match.reasons[0] == "date of birth different by 4 years"
    assert "postcode matches" in match.reasons
    # A common given name beside the surname and the address is a sibling as often as not.
    ChildFactory(given_names="Oliver", family_name="Quennell", date_of_birth=datetime.date(2013, 1, 5), postcode=HOME)
    assert search(family_name="Quennell", given_names="Oliver", postcode=HOME).matches == []


def test_a_sibling_at_the_same_address_is_not_shown():
    ChildFactory(given_names="Amy", family_name="Ryan", date_of_birth=datetime.date(2012, 5, 8), postcode=HOME)
    assert search(family_name="Ryan", given_names="Alexander", postcode=HOME).matches == []


def test_a_stranger_at_the_same_address_with_other_names_and_date_is_not_shown():
    ChildFactory(given_names="Kayden", family_name="Whitfield", date_of_birth=datetime.date(2014, 1, 9), postcode=HOME)
    assert search(family_name="Osei", given_names="Marcus", postcode=HOME).matches == []


def test_a_shielded_child_is_never_found_by_its_address():
    ChildFactory(
        given_names="Kayden", family_name="Whitfield", date_of_birth=BORN, postcode=HOME, is_shielded=True,
        shielding_reason="Refuge",
    )  # fmt: skip
    assert search(family_name="Osei", postcode=HOME).matches == []
    assert search(family_name="Osei", given_names="Kayxen", postcode=HOME).matches == []


def test_a_same_address_match_is_not_listed_beside_an_exact_match():
    exact = ChildFactory(given_names="Zara", family_name="Osei", date_of_birth=BORN, postcode="M1 1AE")
    ChildFactory(given_names="Kayden", family_name="Whitfield", date_of_birth=BORN, postcode=HOME)
    match = only_match(search(family_name="Osei", given_names="Zara", postcode=HOME))
    assert (match.child, match.grade) == (exact, Grade.EXACT)


def test_a_feed_never_acts_on_a_same_address_match():
    ChildFactory(given_names="Kayden", family_name="Whitfield", date_of_birth=BORN, postcode=HOME)
    assert search(Purpose.FEED, family_name="Osei", given_names="Kayxen", postcode=HOME).matches == []


def test_an_address_with_many_children_on_the_register_reads_a_bounded_number_and_shows_none():
    # A children's home: more children than SAME_ADDRESS_READ at one postcode, all born on
    # the date searched and under other names. The block reads at most SAME_ADDRESS_READ
    # of them, and more second chances than the limit are dropped, not "too many".
    for number in range(SAME_ADDRESS_READ + 3):
        ChildFactory(given_names=f"Kayden{'x' * number}", family_name="Whitfield", date_of_birth=BORN, postcode=HOME)
    outcome = search(family_name="Osei", postcode=HOME)
    assert not outcome.too_many
    assert outcome.matches == []
