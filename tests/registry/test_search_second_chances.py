"""Search v2 (issue 13, item 2): children found although the family name searched is a
different one (a change of surname) or the date of birth is wrong altogether. Such a
match is "possible" with a reason the practitioner can check, unless the evidence is strong."""

import datetime

import pytest

from registry.matching.keys import date_of_birth_difference, date_of_birth_window, date_of_birth_wrong_plausibly
from registry.matching.selectors import (
    CHANGED_SURNAME_REASON,
    SECOND_CHANCE_LIMIT,
    TWIN_OR_SIBLING_REASON,
    Grade,
    Purpose,
)
from registry.models import Sex
from tests.factories import ChildFactory
from tests.registry.search_helpers import BORN, only_match, search

pytestmark = pytest.mark.django_db


# --- A change of surname: given name, date of birth and the weight of the evidence --------------


def test_a_child_known_by_a_step_parents_surname_is_a_possible_match_saying_so():
    child = ChildFactory(given_names="Kayden", family_name="Whitfield", date_of_birth=BORN, postcode="LS6 2AB")
    match = only_match(search(family_name="Osei", given_names="Kayden", postcode="LS6 4QT"))
    assert match.child == child
    assert match.grade == Grade.POSSIBLE
    assert match.reasons[0] == CHANGED_SURNAME_REASON
    assert "given name and date of birth match" in match.reasons
    assert "postcode in the same district but different" in match.reasons


def test_a_changed_surname_with_a_common_given_name_needs_the_same_postcode():
    # One child in fifty is an Oliver: among the ~150 born on a day at a million children,
    # a different surname, Oliver and the date are as likely a stranger (fs_params.json).
    ChildFactory(given_names="Oliver", family_name="Whitfield", date_of_birth=BORN, postcode="LS6 2AB")
    assert search(family_name="Osei", given_names="Oliver").matches == []
    assert search(family_name="Osei", given_names="Oliver", postcode="LS7 2AB").matches == []
    assert search(family_name="Osei", given_names="Oliver", postcode="LS6 4QT").matches == []
    # The same full postcode is strong evidence (weighed as for children not sharing a surname).
    assert only_match(search(family_name="Osei", given_names="Oliver", postcode="LS6 2AB")).grade == Grade.POSSIBLE


def test_a_changed_surname_with_a_rare_given_name_and_the_exact_date_is_possible_without_a_postcode():
    # Weights from data (issue 13 item 3): an uncommon given name on the exact date of birth
    # is strong evidence even when the family name disagrees.
    child = ChildFactory(given_names="Kayden", family_name="Whitfield", date_of_birth=BORN, postcode="LS6 2AB")
    match = only_match(search(family_name="Osei", given_names="Kayden"))
    assert (match.child, match.grade) == (child, Grade.POSSIBLE)
    assert match.reasons[0] == CHANGED_SURNAME_REASON
    # A postcode typed that is not the child's, in another district, is evidence against:
    # below even odds, the bar for a name that differs (minimum disclosure).
    assert search(family_name="Osei", given_names="Kayden", postcode="LS7 2AB").matches == []


def test_a_changed_surname_needs_the_given_name_and_the_exact_date():
    ChildFactory(given_names="Kayden", family_name="Whitfield", date_of_birth=BORN, postcode="LS6 2AB")
    assert search(family_name="Osei", given_names="Marcus", postcode="LS6 2AB").matches == []
    # (At the same full postcode the same-address block may find it: test_search_same_address.)
    assert search(family_name="Osei", given_names="Kayden", postcode="LS6 2AD",
                  date_of_birth=datetime.date(2016, 4, 3)).matches == []  # fmt: skip


def test_a_changed_surname_with_everything_else_the_same_is_likely():
    child = ChildFactory(
        given_names="Kayden", family_name="Whitfield", date_of_birth=BORN, postcode="LS6 2AB", sex=Sex.MALE
    )
    match = only_match(search(family_name="Osei", given_names="Kayden", postcode="LS6 2AB", sex=Sex.MALE))
    assert match.child == child
    assert match.grade == Grade.LIKELY
    assert match.reasons[0] == CHANGED_SURNAME_REASON


def test_a_shielded_childs_postcode_never_finds_it_under_another_surname():
    ChildFactory(
        given_names="Kayden", family_name="Whitfield", date_of_birth=BORN, postcode="LS6 2AB", is_shielded=True,
        shielding_reason="Refuge",
    )  # fmt: skip
    assert search(family_name="Osei", given_names="Kayden", postcode="LS6 2AB").matches == []


def test_a_feed_never_acts_on_a_changed_surname():
    ChildFactory(given_names="Kayden", family_name="Whitfield", date_of_birth=BORN, postcode="LS6 2AB", sex=Sex.MALE)
    outcome = search(Purpose.FEED, family_name="Osei", given_names="Kayden", postcode="LS6 2AB", sex=Sex.MALE)
    assert outcome.matches == []


# --- A wrong date of birth: family and given name keys, a window of years ---------------------


def test_a_year_of_birth_two_out_is_a_possible_match_saying_by_how_much():
    # 2019 for 2021 is two digits: no slip of one key.
    child = ChildFactory(given_names="Aaliyah", family_name="Brennan", date_of_birth=datetime.date(2019, 12, 30))
    match = only_match(search(family_name="Brennan", given_names="Aaliyah", date_of_birth=datetime.date(2021, 12, 30)))
    assert match.child == child
    assert match.grade == Grade.POSSIBLE
    assert match.reasons[0] == "date of birth different by 2 years"


def test_a_different_day_and_month_in_the_same_year_is_a_possible_match():
    child = ChildFactory(given_names="Aaliyah", family_name="Brennan", date_of_birth=BORN, postcode="SW1A 1AA")
    # Neither one digit nor a swap away: 2 April 2016 recorded, 19 November 2016 searched.
    wrong_date = datetime.date(2016, 11, 19)
    match = only_match(
        search(family_name="Brenan", given_names="Aaliyah", date_of_birth=wrong_date, postcode="SW1A 2AA")
    )
    assert match.child == child
    assert match.grade == Grade.POSSIBLE
    assert "date of birth different: same year, different day and month" in match.reasons
    # With nothing else in common a child of that name born that year is as likely a namesake.
    assert search(family_name="Brenan", given_names="Aaliyah", date_of_birth=wrong_date).matches == []
    assert (
        search(family_name="Brenan", given_names="Aaliyah", date_of_birth=wrong_date, postcode="N17 9EX").matches == []
    )


def test_a_wrong_date_of_birth_needs_both_names_to_agree():
    ChildFactory(given_names="Aaliyah", family_name="Brennan", date_of_birth=BORN)
    wrong_date = datetime.date(2015, 9, 14)
    assert search(family_name="Brennan", given_names="Chloe", date_of_birth=wrong_date).matches == []
    assert search(family_name="Brennan", date_of_birth=wrong_date).matches == []
    assert search(family_name="Okafor", given_names="Aaliyah", date_of_birth=wrong_date).matches == []


def test_a_wrong_date_with_names_postcode_and_sex_all_the_same_is_likely():
    child = ChildFactory(
        given_names="Aaliyah", family_name="Brennan", date_of_birth=BORN, postcode="B15 2TT", sex=Sex.FEMALE
    )
    match = only_match(
        search(family_name="Brennan", given_names="Aaliyah", postcode="B15 2TT", sex=Sex.FEMALE,
               date_of_birth=datetime.date(2016, 9, 14))
    )  # fmt: skip
    assert match.child == child
    assert match.grade == Grade.LIKELY
    assert match.reasons[0] == "date of birth different: same year, different day and month"


def test_a_namesake_born_in_another_year_on_another_day_is_not_shown():
    # Within the window of years, but neither the same year nor the same birthday: as
    # likely a namesake as the child searched for.
    ChildFactory(given_names="Aaliyah", family_name="Brennan", date_of_birth=datetime.date(2019, 12, 30))
    assert search(family_name="Brennan", given_names="Aaliyah", date_of_birth=datetime.date(2021, 3, 14)).matches == []


def test_a_wrong_date_of_birth_beside_an_exact_match_is_not_listed():
    exact = ChildFactory(given_names="Aaliyah", family_name="Brennan", date_of_birth=datetime.date(2015, 9, 14))
    ChildFactory(given_names="Aaliyah", family_name="Brennan", date_of_birth=BORN)
    outcome = search(family_name="Brennan", given_names="Aaliyah", date_of_birth=datetime.date(2015, 9, 14))
    assert [match.child for match in outcome.matches] == [exact]


def test_many_wrong_date_matches_for_a_common_name_are_dropped_not_too_many():
    # Children of the same name in neighbouring years say nothing about the one searched:
    # listing them would hide a real match behind "too many".
    # Born the same year in the same postcode district, none a slip of a key from the date searched.
    born = [
        datetime.date(2016, 3, 5),
        datetime.date(2016, 5, 11),
        datetime.date(2016, 1, 31),
        datetime.date(2016, 11, 3),
    ]
    assert len(born) > SECOND_CHANCE_LIMIT
    for date_of_birth in born:
        ChildFactory(given_names="Oliver", family_name="Smith", date_of_birth=date_of_birth, postcode="SW1A 1AA")
    outcome = search(
        family_name="Smith", given_names="Oliver", date_of_birth=datetime.date(2016, 8, 20), postcode="SW1A 2AA"
    )
    assert outcome.matches == []
    assert not outcome.too_many


def test_the_wrong_date_window_and_reasons():
    assert date_of_birth_window(BORN) == (datetime.date(2014, 1, 1), datetime.date(2018, 12, 31))
    assert date_of_birth_wrong_plausibly(BORN, datetime.date(2018, 4, 2), same_district=False)
    assert not date_of_birth_wrong_plausibly(BORN, datetime.date(2019, 4, 2), same_district=True)
    assert not date_of_birth_wrong_plausibly(BORN, datetime.date(2016, 9, 20), same_district=False)
    assert date_of_birth_wrong_plausibly(BORN, datetime.date(2016, 9, 20), same_district=True)
    assert date_of_birth_difference(BORN, datetime.date(2017, 4, 2)) == "date of birth different by 1 year"
    assert date_of_birth_difference(BORN, datetime.date(2016, 4, 20)) == (
        "date of birth different: same month and year, different day"
    )
    assert date_of_birth_difference(BORN, datetime.date(2016, 9, 2)) == (
        "date of birth different: same day and year, different month"
    )


# --- The reasons reach the practitioner: the results page and the API ----------------------


@pytest.fixture
def practitioner():
    from accounts.roles import Role
    from tests.factories import UserFactory

    return UserFactory(roles=[Role.PRACTITIONER])


def test_the_results_page_shows_why_a_child_with_another_surname_may_be_the_one(client, practitioner):
    ChildFactory(given_names="Kayden", family_name="Whitfield", date_of_birth=BORN, postcode="LS6 2AB")
    client.force_login(practitioner)
    page = client.post(
        "/search/",
        {"family_name": "Osei", "given_names": "Kayden", "dob_day": "2", "dob_month": "4", "dob_year": "2016",
         "postcode": "LS6 4QT", "reason": "assessment"},
        follow=True,
    ).content.decode()  # fmt: skip
    assert "Kayden Whitfield" in page and "Possible" in page
    assert "Family name different: check for a change of name" in page


def test_the_api_gives_the_wrong_date_of_birth_as_a_reason(practitioner):
    from rest_framework.test import APIClient

    ChildFactory(given_names="Aaliyah", family_name="Brennan", date_of_birth=datetime.date(2019, 12, 30))
    api = APIClient()
    api.force_login(practitioner)  # practitioners' API: the two-factor-verified session
    body = {"family_name": "Brennan", "given_names": "Aaliyah", "date_of_birth": "2021-12-30", "reason": "assessment"}
    [result] = api.post("/api/v1/search/", body, format="json").json()["results"]
    assert result["grade"] == "possible"
    assert result["reasons"][0] == "date of birth different by 2 years"


def test_the_results_page_and_the_api_say_why_a_child_with_another_given_name_or_date_may_be_the_one(
    client, practitioner
):
    from rest_framework.test import APIClient

    ChildFactory(given_names="Eboni", family_name="Zogopoulos", date_of_birth=BORN)
    ChildFactory(given_names="Tahni", family_name="Zogopoulos", date_of_birth=datetime.date(2015, 10, 15))
    client.force_login(practitioner)
    page = client.post(
        "/search/",
        {"family_name": "Zogopoulos", "given_names": "Connor", "dob_day": "2", "dob_month": "4", "dob_year": "2016",
         "reason": "assessment"},
        follow=True,
    ).content.decode()  # fmt: skip
    assert "Eboni Zogopoulos" in page and "Possible" in page
    assert "Given name different: check whether the child is known by another given name, or is a twin" in page
    api = APIClient()
    api.force_login(practitioner)
    body = {"family_name": "Zogopoulos", "given_names": "Tahni", "date_of_birth": "1970-06-09", "reason": "assessment"}
    [result] = api.post("/api/v1/search/", body, format="json").json()["results"]
    assert (result["grade"], result["reasons"][0]) == ("possible", "date of birth different by 45 years")


# --- "The date of birth may be wrong": the whole window, when the practitioner asks -------


def test_widening_the_date_of_birth_finds_a_child_of_that_name_born_on_another_day_a_year_away(client, practitioner):
    child = ChildFactory(given_names="Aaliyah", family_name="Brennan", date_of_birth=datetime.date(2019, 12, 30))
    wrong_date = datetime.date(2021, 3, 14)
    assert search(family_name="Brennan", given_names="Aaliyah", date_of_birth=wrong_date).matches == []
    match = only_match(
        search(family_name="Brennan", given_names="Aaliyah", date_of_birth=wrong_date, widen_date_of_birth=True)
    )
    assert match.child == child
    assert match.grade == Grade.POSSIBLE
    assert match.reasons[0] == "date of birth different by 2 years"

    client.force_login(practitioner)
    page = client.post(
        "/search/",
        {"family_name": "Brennan", "given_names": "Aaliyah", "dob_day": "14", "dob_month": "3", "dob_year": "2021",
         "widen_date_of_birth": "on", "reason": "assessment"},
        follow=True,
    ).content.decode()  # fmt: skip
    assert "Aaliyah Brennan" in page and "(or up to 2 years either side)" in page
    from audit.models import AuditEvent

    event = AuditEvent.objects.get(action=AuditEvent.Action.SEARCH)
    assert event.criteria["widen_date_of_birth"] is True
    # "Change search" keeps the box ticked.
    checkbox = client.get("/search/?change").content.decode().split('id="id_widen_date_of_birth"')[1].split(">")[0]
    assert checkbox.endswith(" checked")


def test_the_api_widens_the_date_of_birth_when_asked(practitioner):
    from rest_framework.test import APIClient

    ChildFactory(given_names="Aaliyah", family_name="Brennan", date_of_birth=datetime.date(2019, 12, 30))
    api = APIClient()
    api.force_login(practitioner)  # practitioners' API: the two-factor-verified session
    body = {"family_name": "Brennan", "given_names": "Aaliyah", "date_of_birth": "2021-03-14", "reason": "assessment"}
    assert api.post("/api/v1/search/", body, format="json").json()["results"] == []
    [result] = api.post("/api/v1/search/", {**body, "widen_date_of_birth": True}, format="json").json()["results"]
    assert result["reasons"][0] == "date of birth different by 2 years"


# --- Issue 13 item 2, second round: what FEBRL replaces whole ----------------------------------
# Shepherd (about one child in 2,100), Hannah (one in 500) and Nathan (one in 700) are in the parameters
# file's frequency table; Zogopoulos and Tahni are too rare for it (fs_params.json). A name that
# differs is shown only at even odds, not at possible's 1 to 20 (minimum disclosure:
# the comment above registry.matching.selectors._given_differs_beside_family_and_date says why).


def test_a_different_given_name_beside_a_rare_family_name_and_exact_date_is_possible_asking_about_a_twin():
    # Rare enough for even odds: shown, for the practitioner to check, never likely (twins
    # share both).
    child = ChildFactory(given_names="Eboni", family_name="Zogopoulos", date_of_birth=BORN, postcode="LS6 2AB")
    match = only_match(search(family_name="Zogopoulos", given_names="Connor"))
    assert (match.child, match.grade) == (child, Grade.POSSIBLE)
    assert match.reasons[0] == TWIN_OR_SIBLING_REASON
    assert "surname and date of birth match" in match.reasons
    strong = search(family_name="Zogopoulos", given_names="Connor", postcode="LS6 2AB", sex=Sex.FEMALE)
    assert only_match(strong).grade == Grade.POSSIBLE


def test_a_different_given_name_needs_a_surname_rare_enough_the_exact_date_and_nothing_contradicting():
    ChildFactory(given_names="Eboni", family_name="Smith", date_of_birth=BORN)
    ChildFactory(given_names="Eboni", family_name="Shepherd", date_of_birth=BORN)
    ChildFactory(given_names="Eboni", family_name="Zogopoulos", date_of_birth=BORN, sex=Sex.FEMALE)
    assert search(family_name="Smith", given_names="Connor").matches == []  # one child in 70 is a Smith
    # One in 2,100: past possible's 1 to 20 but not even odds; at a million children a
    # Shepherd born on the day searched is as often a stranger, and more so at 11 million.
    assert search(family_name="Shepherd", given_names="Connor").matches == []
    assert search(family_name="Zogopoulos", given_names="Connor", sex=Sex.MALE).matches == []
    assert search(family_name="Zogopoulos", given_names="Connor", date_of_birth=datetime.date(2016, 4, 3)).matches == []


def test_searching_for_one_twin_lists_that_twin_and_not_the_other():
    connor = ChildFactory(given_names="Connor", family_name="Zogopoulos", date_of_birth=BORN)
    eboni = ChildFactory(given_names="Eboni", family_name="Zogopoulos", date_of_birth=BORN)
    assert [match.child for match in search(family_name="Zogopoulos", given_names="Connor").matches] == [connor]
    # Neither twin's name searched: both shown, each as possibly the child, saying why.
    outcome = search(family_name="Zogopoulos", given_names="Maisie")
    assert {match.child for match in outcome.matches} == {connor, eboni}
    assert {match.grade for match in outcome.matches} == {Grade.POSSIBLE}
    assert all(match.reasons[0] == TWIN_OR_SIBLING_REASON for match in outcome.matches)


def test_a_given_name_typed_as_the_family_name_with_the_other_name_replaced_is_possible():
    child = ChildFactory(given_names="Jarvis", family_name="Zogopoulos", date_of_birth=BORN)
    match = only_match(search(family_name="Jack", given_names="Zogopoulos"))
    assert (match.child, match.grade) == (child, Grade.POSSIBLE)
    assert match.reasons[:2] == ["given and family names swapped", TWIN_OR_SIBLING_REASON]


def test_a_shielded_childs_postcode_never_changes_a_different_given_name_match():
    ChildFactory(
        given_names="Eboni", family_name="Zogopoulos", date_of_birth=BORN, postcode="LS6 2AB", is_shielded=True,
        shielding_reason="Refuge",
    )  # fmt: skip
    without = only_match(search(family_name="Zogopoulos", given_names="Connor"))
    same = only_match(search(family_name="Zogopoulos", given_names="Connor", postcode="LS6 2AB"))
    other = only_match(search(family_name="Zogopoulos", given_names="Connor", postcode="N17 9EX"))
    assert (without.grade, without.score, without.reasons) == (same.grade, same.score, same.reasons)
    assert (without.grade, without.score, without.reasons) == (other.grade, other.score, other.reasons)


def test_a_changed_surname_with_a_given_name_in_the_frequency_table_is_not_shown_without_more():
    # Hannah, one child in 350: odds past possible's 1 to 20 with a different family name and
    # the exact date, but not even odds, the bar for a name that differs: at 11 million
    # children three or four Hannahs are born on most days, nearly all strangers.
    ChildFactory(given_names="Hannah", family_name="Dixon", date_of_birth=BORN, postcode="LS6 2AB")
    assert search(family_name="Bloomfield", given_names="Hannah").matches == []
    # The same full postcode is the evidence that makes it worth showing.
    match = only_match(search(family_name="Bloomfield", given_names="Hannah", postcode="LS6 2AB"))
    assert (match.grade, match.reasons[0]) == (Grade.POSSIBLE, CHANGED_SURNAME_REASON)


def test_a_date_of_birth_no_child_on_the_register_can_have_finds_a_child_of_that_rare_name():
    # FEBRL replaces a date whole: 1970 typed for a child born in 2015.
    child = ChildFactory(given_names="Nathan", family_name="Zogopoulos", date_of_birth=datetime.date(2015, 10, 15))
    match = only_match(search(family_name="Zogopoulos", given_names="Nathan", date_of_birth=datetime.date(1970, 6, 9)))
    assert (match.child, match.grade) == (child, Grade.POSSIBLE)
    assert match.reasons[0] == "date of birth different by 45 years"
    assert "surname and given name match" in match.reasons


def test_a_date_of_birth_a_child_could_have_needs_rarer_names_to_find_a_child_born_another_day():
    ChildFactory(given_names="Nathan", family_name="Zogopoulos", date_of_birth=datetime.date(2015, 10, 15))
    rare = ChildFactory(given_names="Tahni", family_name="Zogopoulos", date_of_birth=datetime.date(2015, 10, 15))
    # A date in the register's years may be right, and another Nathan Zogopoulos's.
    assert search(family_name="Zogopoulos", given_names="Nathan", date_of_birth=datetime.date(2019, 3, 2)).matches == []
    match = only_match(search(family_name="Zogopoulos", given_names="Tahni", date_of_birth=datetime.date(2019, 3, 2)))
    assert (match.child, match.grade) == (rare, Grade.POSSIBLE)
    assert match.reasons[0] == "date of birth different by 4 years"


def test_a_date_replaced_altogether_needs_both_names_as_written_and_rare_and_is_never_likely():
    ChildFactory(given_names="Nathan", family_name="Shepherd", date_of_birth=datetime.date(2015, 10, 15))
    child = ChildFactory(
        given_names="Nathan", family_name="Zogopoulos", date_of_birth=datetime.date(2015, 10, 15), postcode="LS6 2AB",
        sex=Sex.MALE,
    )  # fmt: skip
    far = datetime.date(1970, 6, 9)
    assert search(family_name="Shepherd", given_names="Nathan", date_of_birth=far).matches == []
    assert search(family_name="Zogopoulis", given_names="Nathan", date_of_birth=far).matches == []
    assert search(family_name="Zogopoulos", given_names="Nathen", date_of_birth=far).matches == []
    strong = search(family_name="Zogopoulos", given_names="Nathan", date_of_birth=far, postcode="LS6 2AB", sex=Sex.MALE)
    assert (only_match(strong).child, only_match(strong).grade) == (child, Grade.POSSIBLE)
    assert search(family_name="Zogopoulos", given_names="Nathan", date_of_birth=far, sex=Sex.FEMALE).matches == []


def test_many_children_of_a_name_found_on_the_names_alone_are_dropped_not_too_many():
    for year in range(2010, 2010 + SECOND_CHANCE_LIMIT + 1):
        ChildFactory(given_names="Tahni", family_name="Zogopoulos", date_of_birth=datetime.date(year, 10, 15))
    outcome = search(family_name="Zogopoulos", given_names="Tahni", date_of_birth=datetime.date(1970, 6, 9))
    assert (outcome.matches, outcome.too_many) == ([], False)


def test_a_feed_never_acts_on_a_different_given_name_or_a_date_replaced_altogether():
    ChildFactory(given_names="Eboni", family_name="Zogopoulos", date_of_birth=BORN)
    ChildFactory(given_names="Tahni", family_name="Zogopoulos", date_of_birth=datetime.date(2015, 10, 15))
    assert search(Purpose.FEED, family_name="Zogopoulos", given_names="Connor").matches == []
    far = datetime.date(1970, 6, 9)
    assert search(Purpose.FEED, family_name="Zogopoulos", given_names="Tahni", date_of_birth=far).matches == []
    # The same searches by a practitioner list them, as possible.
    assert len(search(family_name="Zogopoulos", given_names="Connor").matches) == 1
    assert len(search(family_name="Zogopoulos", given_names="Tahni", date_of_birth=far).matches) == 1
