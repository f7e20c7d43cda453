import datetime

import pytest

from registry.matching.selectors import (
    TWIN_OR_SIBLING_REASON,
    UNCOMMON_FAMILY_NAME_REASON,
    UNCOMMON_GIVEN_NAME_REASON,
    Grade,
    Purpose,
    SearchCriteria,
    candidates,
    criteria_sufficient,
)
from registry.models import OtherName, Sex
from tests.factories import ChildFactory, OtherNameFactory, nhs_number_for

pytestmark = pytest.mark.django_db

BORN = datetime.date(2016, 4, 2)
STRONG = {Grade.EXACT, Grade.LIKELY}


def search(**criteria):
    criteria.setdefault("date_of_birth", BORN)
    return candidates(SearchCriteria(**criteria), purpose=Purpose.SEARCH)


def match_for(outcome, child):
    matches = [match for match in outcome.matches if match.child.pk == child.pk]
    assert matches, f"{child} not found in {[(m.child.given_names, m.child.family_name) for m in outcome.matches]}"
    return matches[0]


def assert_found(outcome, child, grade, reason):
    match = match_for(outcome, child)
    assert match.grade == grade, match.reasons
    assert any(reason in text for text in match.reasons), match.reasons
    assert outcome.matches[0].child.pk == child.pk
    return match


def assert_not_strong(outcome, child):
    """A clearly different child may be offered as possible, never as exact or likely."""
    assert all(match.grade not in STRONG for match in outcome.matches if match.child.pk == child.pk)


@pytest.fixture
def decoy():
    """Born the same day, a different child with a different name."""
    return ChildFactory(given_names="Harriet", family_name="Okonkwo", date_of_birth=BORN, sex=Sex.FEMALE)


# --- What may be searched --------------------------------------------------------------------


def test_nhs_number_alone_is_enough():
    assert criteria_sufficient(SearchCriteria(nhs_number="9434765919")) is None


def test_family_name_and_date_of_birth_are_enough():
    assert criteria_sufficient(SearchCriteria(family_name="Smith", date_of_birth=BORN)) is None


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        (
            SearchCriteria(family_name="Smith"),
            "Enter a date of birth as well as a family name, or search by NHS number",
        ),
        (SearchCriteria(family_name="Smith", given_names="Jo", sex=Sex.FEMALE, postcode="SW1A 1AA"), "date of birth"),
        (SearchCriteria(date_of_birth=BORN), "Enter a family name as well as a date of birth"),
        (SearchCriteria(given_names="Jo", date_of_birth=BORN), "family name"),
        (SearchCriteria(family_name="'-", date_of_birth=BORN), "family name"),
        (SearchCriteria(), "Enter a family name and date of birth, or search by NHS number"),
    ],
)
def test_too_little_to_search_on_is_refused_with_a_reason(criteria, message):
    refusal = criteria_sufficient(criteria)
    assert refusal is not None and message in refusal
    with pytest.raises(ValueError, match=message):
        candidates(criteria, purpose=Purpose.SEARCH)


# --- Exact matches ---------------------------------------------------------------------------


def test_nhs_number_finds_the_child_exactly(decoy):
    # A number ChildFactory's sequence (the decoy's) does not reach, whatever ran before.
    child = ChildFactory(nhs_number=nhs_number_for(90007))
    outcome = candidates(SearchCriteria(nhs_number=nhs_number_for(90007)), purpose=Purpose.SEARCH)
    assert [match.child for match in outcome.matches] == [child]
    assert outcome.matches[0].grade == Grade.EXACT
    assert outcome.matches[0].reasons == ["NHS number matches"]
    assert outcome.matches[0].score == 1.0


def test_nhs_number_match_notes_a_name_that_disagrees():
    ChildFactory(nhs_number=nhs_number_for(8), family_name="Smith", date_of_birth=BORN)
    outcome = search(nhs_number=nhs_number_for(8), family_name="Okafor", given_names="Ada")
    assert outcome.matches[0].grade == Grade.EXACT
    assert outcome.matches[0].reasons == ["NHS number matches", "surname is different"]


def test_a_different_nhs_number_stops_a_name_match_being_likely():
    child = ChildFactory(nhs_number=nhs_number_for(9), given_names="Amara", family_name="Mensah", date_of_birth=BORN)
    outcome = search(nhs_number=nhs_number_for(10), family_name="Mensah", given_names="Amara")
    match = match_for(outcome, child)
    assert match.grade == Grade.POSSIBLE
    assert "NHS number is different" in match.reasons


def test_name_and_date_of_birth_match_exactly(decoy):
    child = ChildFactory(given_names="Amara Grace", family_name="Mensah", date_of_birth=BORN)
    outcome = search(family_name="Mensah", given_names="Amara")
    match = assert_found(outcome, child, Grade.EXACT, "name and date of birth match")
    assert match.reasons == ["name and date of birth match"]
    assert match.child.responsible_local_authority.name  # loaded with the child
    assert_not_strong(outcome, decoy)


def test_case_accents_and_punctuation_do_not_matter(decoy):
    child = ChildFactory(given_names="Zoë", family_name="O'Neill", date_of_birth=BORN)
    outcome = search(family_name="ONEILL", given_names="zoe")
    assert_found(outcome, child, Grade.EXACT, "name and date of birth match")
    assert_not_strong(outcome, decoy)


def test_a_surname_spaced_differently_is_likely(decoy):
    child = ChildFactory(given_names="Aoife", family_name="O'Neill", date_of_birth=BORN)
    outcome = search(family_name="O Neill", given_names="Aoife")
    assert_found(outcome, child, Grade.LIKELY, "surname spaced or punctuated differently")
    assert_not_strong(outcome, decoy)


def test_a_misspelt_apostrophe_name_is_likely(decoy):
    child = ChildFactory(given_names="Sean", family_name="O'Neill", date_of_birth=BORN)
    outcome = search(family_name="ONeil", given_names="Sean")
    assert_found(outcome, child, Grade.LIKELY, "surname spelt differently")
    assert_not_strong(outcome, decoy)


# --- Names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("searched", ["Smith", "Jones", "smith jones"])
def test_either_half_of_a_double_barrelled_surname_finds_the_child(searched, decoy):
    child = ChildFactory(given_names="Poppy", family_name="Smith-Jones", date_of_birth=BORN)
    # Begins like one half, but is no misspelling of it.
    other = ChildFactory(given_names="Poppy", family_name="Smithson", date_of_birth=BORN)
    outcome = search(family_name=searched, given_names="Poppy")
    if searched == "smith jones":
        assert_found(outcome, child, Grade.EXACT, "name and date of birth match")
    else:
        assert_found(outcome, child, Grade.LIKELY, "surname matches one part of a double-barrelled surname")
    assert_not_strong(outcome, decoy)
    assert_not_strong(outcome, other)


def test_a_double_barrelled_search_finds_a_child_recorded_with_one_half(decoy):
    child = ChildFactory(given_names="Poppy", family_name="Jones", date_of_birth=BORN)
    outcome = search(family_name="Smith-Jones", given_names="Poppy")
    assert_found(outcome, child, Grade.LIKELY, "surname matches one part of a double-barrelled surname")
    assert_not_strong(outcome, decoy)


def test_given_and_family_names_swapped(decoy):
    # Names common enough (Thomas Evans) leave the swap at possible: the weights of two
    # common names and a date are not ten to one at a million children.
    child = ChildFactory(given_names="Tobias", family_name="Pemberton", date_of_birth=BORN)
    outcome = search(family_name="Tobias", given_names="Pemberton")
    assert_found(outcome, child, Grade.LIKELY, "given and family names swapped")
    assert_not_strong(outcome, decoy)


def test_names_swapped_with_a_surname_particle_and_middle_names(decoy):
    courcey = ChildFactory(given_names="Isla", family_name="de Courcey", date_of_birth=BORN)
    thomas = ChildFactory(given_names="Leo", family_name="Thomas", date_of_birth=BORN)
    outcome = search(family_name="Isla", given_names="de Courcey")
    assert_found(outcome, courcey, Grade.LIKELY, "given and family names swapped")
    # Middle names typed in the given-name box are not a double-barrelled surname.
    assert_not_strong(search(family_name="Lee", given_names="Noah Thomas"), thomas)


@pytest.mark.parametrize(
    ("recorded", "searched", "reason"),
    [
        ("William", "Bill", "given name is a short form (Bill for William)"),
        ("William", "Will", "given name is a short form (Will for William)"),
        ("William", "Liam", "given name is a short form (Liam for William)"),
        ("Bill", "William", "given name is a short form (Bill for William)"),
        ("Elizabeth", "Beth", "given name is a short form (Beth for Elizabeth)"),
        ("Elizabeth", "Liz", "given name is a short form (Liz for Elizabeth)"),
        ("Muhammad", "Mohammed", "given name is another spelling of the same name (Mohammed for Muhammad)"),
        ("Mohamed", "Muhammad", "another spelling of the same name"),
        ("Siobhán", "Shivaun", "another spelling of the same name"),
        ("Aaliyah", "Aliyah", "another spelling of the same name"),
    ],
)
def test_short_forms_and_other_spellings_of_a_given_name_are_likely(recorded, searched, reason, decoy):
    child = ChildFactory(given_names=recorded, family_name="Hughes", date_of_birth=BORN)
    different = ChildFactory(given_names="Oscar", family_name="Hughes", date_of_birth=BORN)
    outcome = search(family_name="Hughes", given_names=searched)
    assert_found(outcome, child, Grade.LIKELY, reason)
    assert_not_strong(outcome, decoy)
    assert_not_strong(outcome, different)


@pytest.mark.parametrize(
    ("recorded", "searched", "reason"),
    [
        ("Thompson", "Thomson", "surname spelt differently"),
        ("Smith", "Smyth", "surname spelt differently but sounds the same"),
        ("Chowdhury", "Choudhury", "surname spelt differently"),
        ("Williams", "Willaims", "surname spelt differently"),
        ("Khan", "Kahn", "surname spelt differently"),
    ],
)
def test_misspelt_surnames_are_likely(recorded, searched, reason, decoy):
    child = ChildFactory(given_names="Maryam", family_name=recorded, date_of_birth=BORN)
    outcome = search(family_name=searched, given_names="Maryam")
    assert_found(outcome, child, Grade.LIKELY, reason)
    assert_not_strong(outcome, decoy)


@pytest.mark.parametrize(
    ("recorded", "searched"), [("Caitlin", "Kaitlyn"), ("Isabella", "Isabela"), ("Grace", "Grcae")]
)
def test_misspelt_given_names_are_likely(recorded, searched, decoy):
    child = ChildFactory(given_names=recorded, family_name="Walker", date_of_birth=BORN)
    outcome = search(family_name="Walker", given_names=searched)
    match = match_for(outcome, child)
    assert match.grade == Grade.LIKELY
    assert any("given name" in reason for reason in match.reasons)
    assert_not_strong(outcome, decoy)


def test_a_middle_name_the_child_goes_by_is_possible_or_likely_at_the_same_postcode(decoy):
    # Middle names are few and common (Jane, Rose, James): weak evidence on their own.
    child = ChildFactory(given_names="Mary Jane", family_name="Walker", date_of_birth=BORN, postcode="LS6 2AB")
    assert_found(search(family_name="Walker", given_names="Jane"), child, Grade.POSSIBLE, "matched a middle name")
    outcome = search(family_name="Walker", given_names="Jane", postcode="LS6 2AB")
    assert_found(outcome, child, Grade.LIKELY, "matched a middle name")
    assert_not_strong(outcome, decoy)


def test_two_loose_agreements_make_only_a_possible_match():
    child = ChildFactory(given_names="Sofia", family_name="Allen-Harding", date_of_birth=BORN)
    match = match_for(search(family_name="Allen", given_names="Sophia"), child)
    assert match.grade == Grade.POSSIBLE
    assert "surname matches one part of a double-barrelled surname" in match.reasons


def test_a_twin_with_another_given_name_is_not_a_strong_match():
    searched_for = ChildFactory(given_names="Olivia", family_name="Walker", date_of_birth=BORN, sex=Sex.FEMALE)
    twin = ChildFactory(given_names="Oliver", family_name="Walker", date_of_birth=BORN, sex=Sex.MALE)
    outcome = search(family_name="Walker", given_names="Olivia")
    assert_found(outcome, searched_for, Grade.EXACT, "name and date of birth match")
    assert_not_strong(outcome, twin)


def test_a_misspelt_name_is_not_likely_when_another_child_matches_exactly():
    exact = ChildFactory(given_names="Jon", family_name="Walker", date_of_birth=BORN)
    near = ChildFactory(given_names="John", family_name="Walker", date_of_birth=BORN)
    outcome = search(family_name="Walker", given_names="Jon")
    assert_found(outcome, exact, Grade.EXACT, "name and date of birth match")
    assert match_for(outcome, near).grade == Grade.POSSIBLE


def test_no_given_name_finds_the_child_as_possible_only(decoy):
    child = ChildFactory(given_names="Ivy", family_name="Nakamura", date_of_birth=BORN)
    outcome = search(family_name="Nakamura")
    assert_found(outcome, child, Grade.POSSIBLE, "no given name to compare")
    assert all(match.child.pk != decoy.pk for match in outcome.matches)


def test_names_that_merely_sound_alike_when_short_are_not_likely():
    # Metaphone keys White and Wood alike ("WT").
    wood = ChildFactory(given_names="Alice", family_name="Wood", date_of_birth=BORN)
    outcome = search(family_name="White", given_names="Alice")
    assert_not_strong(outcome, wood)


# --- Other names ---------------------------------------------------------------------------------


def test_a_former_surname_finds_the_child(decoy):
    child = ChildFactory(given_names="Victoria", family_name="Adjo", date_of_birth=BORN)
    OtherNameFactory(child=child, kind=OtherName.Kind.PREVIOUS_SURNAME, given_names="", family_name="Climbié")
    outcome = search(family_name="Climbie", given_names="Victoria")
    assert_found(outcome, child, Grade.LIKELY, "matched a former surname")
    assert_not_strong(outcome, decoy)


def test_an_alias_finds_the_child(decoy):
    child = ChildFactory(given_names="Victoria", family_name="Climbié", date_of_birth=BORN)
    OtherNameFactory(child=child, kind=OtherName.Kind.ALIAS, given_names="Anna", family_name="Kouao")
    outcome = search(family_name="Kouao", given_names="Anna")
    assert_found(outcome, child, Grade.LIKELY, "matched a name the child is also known by")
    assert_not_strong(outcome, decoy)


def test_a_former_name_is_found_with_a_mistyped_date_of_birth():
    child = ChildFactory(given_names="Victoria", family_name="Adjo", date_of_birth=BORN)
    OtherNameFactory(child=child, kind=OtherName.Kind.BIRTH_NAME, given_names="Victoria", family_name="Climbié")
    outcome = search(family_name="Climbié", given_names="Victoria", date_of_birth=datetime.date(2016, 2, 4))
    assert_found(outcome, child, Grade.LIKELY, "matched the name at birth")
    assert "day and month of birth swapped" in match_for(outcome, child).reasons


# --- Dates of birth --------------------------------------------------------------------------------


def test_day_and_month_swapped_is_likely(decoy):
    child = ChildFactory(given_names="Arjun", family_name="Patel", date_of_birth=BORN)
    outcome = search(family_name="Patel", given_names="Arjun", date_of_birth=datetime.date(2016, 2, 4))
    assert_found(outcome, child, Grade.LIKELY, "day and month of birth swapped")
    assert_not_strong(outcome, decoy)


def test_one_digit_wrong_in_the_date_of_birth_is_possible(decoy):
    child = ChildFactory(given_names="Arjun", family_name="Patel", date_of_birth=BORN)
    outcome = search(family_name="Patel", given_names="Arjun", date_of_birth=datetime.date(2018, 4, 2))
    assert_found(outcome, child, Grade.POSSIBLE, "one digit of the date of birth differs")
    assert_not_strong(outcome, decoy)


def test_one_digit_wrong_with_the_same_postcode_is_likely():
    child = ChildFactory(given_names="Arjun", family_name="Patel", date_of_birth=BORN, postcode="B11 4RT")
    outcome = search(
        family_name="Patel", given_names="Arjun", date_of_birth=datetime.date(2016, 4, 3), postcode="B11 4RT"
    )
    match = assert_found(outcome, child, Grade.LIKELY, "one digit of the date of birth differs")
    assert "postcode matches" in match.reasons


def test_a_misspelt_surname_with_a_mistyped_date_is_still_found():
    child = ChildFactory(given_names="Reuben", family_name="Thompson", date_of_birth=BORN)
    outcome = search(family_name="Tomson", given_names="Reuben", date_of_birth=datetime.date(2016, 2, 4))
    match = match_for(outcome, child)
    assert match.grade in {Grade.LIKELY, Grade.POSSIBLE}


def test_a_first_letter_typo_with_a_mistyped_date_is_still_found():
    child = ChildFactory(given_names="Reuben", family_name="Simmonds", date_of_birth=BORN)
    outcome = search(family_name="Limmonds", given_names="Reuben", date_of_birth=datetime.date(2016, 4, 12))
    assert match_for(outcome, child).grade == Grade.POSSIBLE


def test_a_date_of_birth_with_the_year_and_the_month_wrong_is_not_matched():
    # As likely a namesake as the child: the wrong-date block shows only a wrong day or
    # month in the same year, or the year alone wrong (tests/registry/test_search_second_chances.py).
    ChildFactory(given_names="Arjun", family_name="Patel", date_of_birth=BORN)
    assert search(family_name="Patel", given_names="Arjun", date_of_birth=datetime.date(2017, 5, 2)).matches == []


def test_a_date_of_birth_three_years_out_is_not_matched():
    ChildFactory(given_names="Arjun", family_name="Patel", date_of_birth=BORN)
    assert search(family_name="Patel", given_names="Arjun", date_of_birth=datetime.date(2019, 5, 2)).matches == []


# --- Sex and postcode ------------------------------------------------------------------------------


def test_a_different_postcode_lowers_the_score_but_never_excludes():
    child = ChildFactory(given_names="Leo", family_name="Hart", date_of_birth=BORN, postcode="SW1A 1AA")
    same = match_for(search(family_name="Hart", given_names="Leo", postcode="SW1A 1AA"), child)
    moved = match_for(search(family_name="Hart", given_names="Leo", postcode="LS6 2AB"), child)
    assert moved.grade == Grade.EXACT
    assert moved.score < same.score
    assert "different postcode" in moved.reasons


def test_the_same_postcode_ranks_a_child_first():
    elsewhere = ChildFactory(given_names="Leo", family_name="Hart", date_of_birth=BORN, postcode="LS6 2AB")
    here = ChildFactory(given_names="Leo", family_name="Hart", date_of_birth=BORN, postcode="SW1A 1AA")
    outcome = search(family_name="Hart", given_names="Leo", postcode="SW1A 1AA")
    assert [match.child for match in outcome.matches] == [here, elsewhere]


def test_a_different_sex_stops_a_match_being_exact():
    child = ChildFactory(given_names="Alex", family_name="Hart", date_of_birth=BORN, sex=Sex.MALE)
    match = match_for(search(family_name="Hart", given_names="Alex", sex=Sex.FEMALE), child)
    assert match.grade == Grade.POSSIBLE
    assert "sex recorded differently" in match.reasons


# --- Rules about what is shown -------------------------------------------------------------------


def test_more_matches_than_the_limit_means_too_many_and_nothing_shown():
    ChildFactory.create_batch(11, family_name="Smith", date_of_birth=BORN)
    outcome = search(family_name="Smith")
    assert outcome.too_many
    assert outcome.matches == []


def test_up_to_the_limit_is_shown_best_first():
    ChildFactory.create_batch(3, family_name="Smith", given_names="Jack", date_of_birth=BORN)
    exact = ChildFactory(family_name="Smith", given_names="Oscar", date_of_birth=BORN)
    outcome = candidates(
        SearchCriteria(family_name="Smith", given_names="Oscar", date_of_birth=BORN), purpose=Purpose.SEARCH
    )
    assert not outcome.too_many
    assert outcome.matches[0].child == exact


def test_scores_lie_between_zero_and_one_and_fall_with_the_grade():
    ChildFactory(given_names="Ava", family_name="Lewis", date_of_birth=BORN)
    ChildFactory(given_names="Ava", family_name="Lewis", date_of_birth=datetime.date(2016, 2, 4))
    ChildFactory(given_names="Ava", family_name="Lewis", date_of_birth=datetime.date(2016, 4, 3))
    outcome = search(family_name="Lewis", given_names="Ava")
    scores = [match.score for match in outcome.matches]
    assert [match.grade for match in outcome.matches] == [Grade.EXACT, Grade.POSSIBLE, Grade.POSSIBLE]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= score <= 1 for score in scores)


def test_unborn_children_without_a_date_of_birth_break_nothing():
    ChildFactory(given_names="", family_name="Mensah", date_of_birth=None, nhs_number=None)
    born = ChildFactory(given_names="Kofi", family_name="Mensah", date_of_birth=BORN)
    outcome = search(family_name="Mensah", given_names="Kofi")
    assert [match.child for match in outcome.matches] == [born]
    assert candidates(SearchCriteria(nhs_number=nhs_number_for(99)), purpose=Purpose.SEARCH).matches == []


def test_a_child_recorded_without_a_given_name_can_still_be_found():
    child = ChildFactory(given_names="", family_name="Mensah", date_of_birth=BORN)
    outcome = search(family_name="Mensah", given_names="Baby")
    assert match_for(outcome, child).grade == Grade.POSSIBLE


def test_shielded_children_are_found_like_any_other():
    child = ChildFactory(
        given_names="Amara", family_name="Mensah", date_of_birth=BORN, is_shielded=True, shielding_reason="Refuge"
    )
    outcome = search(family_name="Mensah", given_names="Amara")
    assert_found(outcome, child, Grade.EXACT, "name and date of birth match")


def test_a_shielded_childs_postcode_neither_helps_nor_shows_in_the_reasons():
    child = ChildFactory(
        given_names="Amara",
        family_name="Mensah",
        date_of_birth=BORN,
        postcode="SW1A 1AA",
        is_shielded=True,
        shielding_reason="Refuge",
    )
    with_postcode = match_for(search(family_name="Mensah", given_names="Amara", postcode="SW1A 1AA"), child)
    without = match_for(search(family_name="Mensah", given_names="Amara"), child)
    assert with_postcode.score == without.score
    assert not any("postcode" in reason for reason in with_postcode.reasons)


def test_a_search_uses_a_fixed_number_of_queries(django_assert_max_num_queries):
    for number in range(5):
        child = ChildFactory(family_name="Hughes", date_of_birth=BORN)
        OtherNameFactory(child=child, kind=OtherName.Kind.ALIAS, given_names=f"Ann{number}", family_name="Kouao")
    # Candidates with their other names (by the child's foreign key), the children shown.
    with django_assert_max_num_queries(2):
        outcome = search(family_name="Hughes", given_names="Ann")
        [match.child.responsible_local_authority.name for match in outcome.matches]


def test_only_an_other_name_agreeing_keeps_a_child_with_a_different_surname_in_the_running(decoy):
    # Children whose every family name differs are set aside before comparing: a former
    # surname or an alias must keep the child in, with or without a given name.
    child = ChildFactory(given_names="Victoria", family_name="Adjo", date_of_birth=BORN)
    OtherNameFactory(child=child, kind=OtherName.Kind.PREVIOUS_SURNAME, given_names="", family_name="Kouao")
    OtherNameFactory(child=child, kind=OtherName.Kind.ALIAS, given_names="Anna", family_name="")
    assert_found(search(family_name="Kouao", given_names="Victoria"), child, Grade.LIKELY, "matched a former surname")
    assert child.pk in [match.child.pk for match in search(family_name="Kouao").matches]
    assert child.pk not in [match.child.pk for match in search(family_name="Mensah", given_names="Anna").matches]


def test_a_different_family_name_is_not_made_up_for_by_a_common_given_name():
    # Children born that day whose family name differs are set aside unless their own given
    # name could make up for it (the changed-surname block): Oliver, one child in fifty,
    # cannot, without a postcode.
    ChildFactory(given_names="Oliver", family_name="Whitfield", date_of_birth=BORN)
    assert search(family_name="Osei", given_names="Oliver").matches == []


# --- Weights from data: what counts for more, and the reasons that say so (issue 13 item 3) ---


def test_a_different_given_name_with_an_uncommon_surname_and_the_exact_date_is_possible_saying_so():
    child = ChildFactory(given_names="Eboni", family_name="Pantazopoulos", date_of_birth=BORN)
    match = match_for(search(family_name="Pantazopoulos", given_names="Chloe"), child)
    assert match.grade == Grade.POSSIBLE
    # The same family name and date: the child under another given name, or a twin or sibling.
    assert match.reasons[0] == TWIN_OR_SIBLING_REASON
    assert UNCOMMON_FAMILY_NAME_REASON in match.reasons


def test_a_different_given_name_with_a_common_surname_is_not_shown():
    # About one child in seventy is a Smith: the same date and surname is no evidence of
    # which child, once the given name differs.
    ChildFactory(given_names="Eboni", family_name="Smith", date_of_birth=BORN)
    assert search(family_name="Smith", given_names="Chloe").matches == []


def test_an_uncommon_given_name_says_it_counts_for_more_and_a_common_one_does_not():
    rare = ChildFactory(given_names="Tahni", family_name="Murton", date_of_birth=BORN)
    common = ChildFactory(given_names="Oliver", family_name="Murtagh", date_of_birth=BORN)
    assert UNCOMMON_GIVEN_NAME_REASON in match_for(search(family_name="Murtonn", given_names="Tahni"), rare).reasons
    assert (
        UNCOMMON_GIVEN_NAME_REASON not in match_for(search(family_name="Murtagh", given_names="Oliver"), common).reasons
    )
