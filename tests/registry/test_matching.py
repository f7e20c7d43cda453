import datetime
import itertools

import pytest

from registry.matching.keys import (
    DateOfBirthAgreement,
    FamilyNameAgreement,
    GivenNameAgreement,
    date_of_birth_variants,
    family_name_compare,
    family_names_clearly_different,
    given_name_compare,
    name_keys,
    name_normalise,
    surname_profile,
    surname_search_keys,
    surname_units,
)
from registry.matching.nicknames import given_name_groups, given_names_are_variants

EARLIEST = datetime.date(2006, 1, 1)
LATEST = datetime.date(2026, 11, 23)


def family(searched, recorded):
    return family_name_compare(surname_profile(name_normalise(searched)), surname_profile(name_normalise(recorded)))[0]


def given(searched, recorded):
    return given_name_compare(name_normalise(searched), name_normalise(recorded))[0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Zoë O'Neill-Smith", "zoe oneill smith"),
        ("  ÓBRIAIN ", "obriain"),
        ("Renée", "renee"),
        ("Mac Giolla", "mac giolla"),
    ],
)
def test_names_are_normalised_for_case_accents_and_punctuation(value, expected):
    assert name_normalise(value) == expected


def test_keys_include_each_half_of_a_double_barrelled_surname_and_the_initials():
    keys = name_keys(given_names="William James", family_name="Smith-Jones")
    assert keys.family_name_first_phonetic == "SM0"
    assert keys.family_name_last_phonetic == "JNS"
    assert keys.name_initials == "sw"


def test_particles_are_read_with_the_word_after_them():
    assert surname_units("van der berg") == ("vanderberg",)
    assert surname_units("o neill smith") == ("oneill", "smith")
    assert name_keys(given_names="", family_name="Ó Briain").family_name_first_phonetic == (
        name_keys(given_names="", family_name="O'Brien").family_name_first_phonetic
    )
    assert name_keys(given_names="", family_name="van der Berg").family_name_last_phonetic == "BRK"


def test_search_keys_cover_the_whole_name_each_part_and_the_given_name():
    keys = surname_search_keys("smith jones", "william")
    assert {"SM0", "JNS", "WLM"} <= keys
    assert "" not in surname_search_keys("", "")


@pytest.mark.parametrize(
    ("searched", "recorded", "expected"),
    [
        ("Smith", "smith", FamilyNameAgreement.EXACT),
        ("O Neill", "O'Neill", FamilyNameAgreement.SPACING),
        ("Smith", "Smith-Jones", FamilyNameAgreement.PART),
        ("Jones", "Smith-Jones", FamilyNameAgreement.PART),
        ("Smith-Jones", "Jones", FamilyNameAgreement.PART),
        ("Smyth", "Smith", FamilyNameAgreement.PHONETIC),
        ("ONeil", "O'Neill", FamilyNameAgreement.PHONETIC),
        ("Thomson", "Thompson", FamilyNameAgreement.SIMILAR),
        ("Smiht", "Smith", FamilyNameAgreement.SIMILAR),
        ("Smyth", "Smith-Jones", FamilyNameAgreement.SIMILAR),
        ("Harris", "Harrison", FamilyNameAgreement.WEAK),
        ("Limmonds", "Simmonds", FamilyNameAgreement.SIMILAR),
        ("Kwinn", "Quinn", FamilyNameAgreement.WEAK),
        ("White", "Wood", FamilyNameAgreement.WEAK),
        ("Kox", "Cox", FamilyNameAgreement.PHONETIC),
        ("Phry", "Fry", FamilyNameAgreement.PHONETIC),
        ("Patel", "Khan", FamilyNameAgreement.DIFFERENT),
    ],
)
def test_family_names_agree_at_the_right_level(searched, recorded, expected):
    assert family(searched, recorded) == expected


SURNAMES = [
    *("Smith", "Smyth", "Smiht", "Jones", "Harris", "Harrison", "Thomson", "Thompson", "Day", "Ady", "Dey"),
    *("Wood", "White", "Cox", "Kox", "Fry", "Phry", "Patel", "Khan", "Kahn", "Quinn", "Kwinn", "O'Neill"),
    *("ONeil", "Oneil", "Neill", "de Courcey", "Courcey", "van der Berg", "Berg", "Li", "Lee", "Le", "Ng"),
    *("Ho", "Hu", "Ahmed", "Ahmad", "Nowak", "Novak", "Kowalski", "Kowalska", "Mac Giolla Phadraig", "Brown"),
    *("Browne", "Braun", "Green", "Greene", "Simmonds", "Limmonds", "Simmons", "Clarke", "Clark", "Wright"),
    *("Right", "Knight", "Night", "Ghosh", "Hughes", "Leigh", "Yates", "Gates", "O", "Ab", "Xu", "Ma", "", "'"),
]


def test_clearly_different_family_names_are_never_names_that_agree():
    # Search sets a candidate aside on this quick test alone: it may only ever say "clearly
    # different" where the full comparison would say DIFFERENT.
    double_barrelled = [f"{first}-{second}" for first, second in itertools.pairwise(SURNAMES)]
    profiles = [surname_profile(name_normalise(name)) for name in [*SURNAMES, *double_barrelled]]
    set_aside = 0
    for searched in profiles:
        for recorded in profiles:
            if family_names_clearly_different(searched, recorded):
                set_aside += 1
                assert family_name_compare(searched, recorded)[0] == FamilyNameAgreement.DIFFERENT, (searched, recorded)
    single = len(SURNAMES)
    assert set_aside > single * single / 2  # and it does set most pairs of names aside


@pytest.mark.parametrize(
    ("searched", "recorded", "expected"),
    [
        ("Zoe", "Zoë", GivenNameAgreement.EXACT),
        ("Mary", "Mary Jane", GivenNameAgreement.EXACT),
        ("Bill", "William", GivenNameAgreement.NICKNAME),
        ("Liam", "William", GivenNameAgreement.NICKNAME),
        ("Trev", "Trevor", GivenNameAgreement.NICKNAME),
        ("Beth", "Elizabeth", GivenNameAgreement.NICKNAME),
        ("Liz", "Elizabeth", GivenNameAgreement.NICKNAME),
        ("Mohammed", "Muhammad", GivenNameAgreement.NICKNAME),
        ("Siobhan", "Shivaun", GivenNameAgreement.NICKNAME),
        ("Jane", "Mary Jane", GivenNameAgreement.MIDDLE),
        ("Stephen", "Steven", GivenNameAgreement.NICKNAME),
        ("Jon", "John", GivenNameAgreement.NICKNAME),
        ("Kaitlyn", "Caitlin", GivenNameAgreement.NICKNAME),
        ("Katelynn", "Kaitlyn", GivenNameAgreement.PHONETIC),
        ("Grcae", "Grace", GivenNameAgreement.SIMILAR),
        ("O", "Olivia", GivenNameAgreement.INITIAL),
        ("Aav", "Ava", GivenNameAgreement.WEAK),
        ("Rosie", "Róża", GivenNameAgreement.WEAK),
        ("Harry", "Olivia", GivenNameAgreement.DIFFERENT),
        ("", "Olivia", GivenNameAgreement.MISSING),
    ],
)
def test_given_names_agree_at_the_right_level(searched, recorded, expected):
    assert given(searched, recorded) == expected


def test_nickname_groups_link_short_forms_but_not_different_names_sharing_one():
    assert given_names_are_variants("bill", "liam")
    assert given_names_are_variants("alex", "alexandra")
    assert not given_names_are_variants("alexander", "alexandra")
    assert not given_names_are_variants("samuel", "samantha")
    assert not given_names_are_variants("william", "william")
    assert given_name_groups("nosuchname") == frozenset()


def test_date_of_birth_variants_hold_the_swap_and_one_digit_typos_only():
    variants = date_of_birth_variants(datetime.date(2015, 3, 7), earliest=EARLIEST, latest=LATEST)
    assert variants[datetime.date(2015, 7, 3)] == DateOfBirthAgreement.SWAPPED
    assert variants[datetime.date(2015, 3, 1)] == DateOfBirthAgreement.ONE_DIGIT  # 07 -> 01
    assert variants[datetime.date(2015, 3, 27)] == DateOfBirthAgreement.ONE_DIGIT  # 07 -> 27
    assert variants[datetime.date(2016, 3, 7)] == DateOfBirthAgreement.ONE_DIGIT
    assert variants[datetime.date(2025, 3, 7)] == DateOfBirthAgreement.ONE_DIGIT
    assert datetime.date(2015, 3, 7) not in variants
    assert datetime.date(2015, 4, 8) not in variants  # two digits
    assert all(EARLIEST <= date <= LATEST for date in variants)
    assert 20 <= len(variants) <= 40


def test_date_of_birth_variants_skip_impossible_and_future_dates():
    variants = date_of_birth_variants(datetime.date(2024, 2, 29), earliest=EARLIEST, latest=LATEST)
    assert datetime.date(2024, 2, 29) not in variants
    assert all(date.year <= 2026 for date in variants)
    # 29/02 cannot be swapped: there is no month 29.
    assert DateOfBirthAgreement.SWAPPED not in variants.values()
    # No swap when day and month are the same.
    same = date_of_birth_variants(datetime.date(2015, 5, 5), earliest=EARLIEST, latest=LATEST)
    assert DateOfBirthAgreement.SWAPPED not in same.values()
