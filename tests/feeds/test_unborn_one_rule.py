"""One rule for "this pre-birth plan names the same mother"
(registry.matching.selectors.unborn_candidates), used by the duplicate check before a
manager adds an unborn child and by a birth registration from the GRO. The two used to
have a rule each, and disagreed on the cases below."""

import datetime

import pytest

from feeds.models import FeedMatch
from registry.maintenance.duplicates import ProposedChild, possible_duplicates
from registry.matching.selectors import MotherIdentity, unborn_candidates
from registry.models import ProtectionStatus
from tests.factories import ChildFactory, ProtectionStatusFactory, nhs_number_for
from tests.feeds.factories_feeds import birth_row, births_file, ingest
from tests.registry.factories_maintenance import register_manager

pytestmark = pytest.mark.django_db

MOTHER_BORN = datetime.date(1998, 5, 6)


@pytest.fixture
def plan(westminster):
    child = ChildFactory(
        responsible_local_authority=westminster, nhs_number=None, given_names="", family_name="O'Brien",
        date_of_birth=None,
    )  # fmt: skip
    return ProtectionStatusFactory(
        child=child,
        kind=ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN,
        start_date=datetime.date(2026, 6, 1),
        expected_delivery_date=datetime.date(2026, 11, 20),
        mother_given_names="Jade",
        mother_family_name="O'Brien",
        mother_date_of_birth=MOTHER_BORN,
    )


def duplicate_check_finds(plan, *, given, family, born, nhs_number=""):
    proposed = ProposedChild(
        family_name="Baby", mother_given_names=given, mother_family_name=family, mother_date_of_birth=born,
        mother_nhs_number=nhs_number,
    )  # fmt: skip
    check = possible_duplicates(user=register_manager(plan.child.responsible_local_authority), proposed=proposed)
    return [candidate.register_id for candidate in check.candidates] == [plan.child.register_id]


def birth_registration_finds(plan, *, given, family, born):
    row = birth_row(
        mother_forenames=given, mother_surname=family, mother_maiden_surname="",
        mother_date_of_birth=born.isoformat() if born else "",
    )  # fmt: skip
    ingest(births_file(row), name="births.csv")
    return list(FeedMatch.objects.values_list("child_id", flat=True)) == [plan.child_id]


@pytest.mark.parametrize(
    ("given", "family", "born", "same_mother"),
    [
        # Her surname typed without its apostrophe: the duplicate check compared surnames
        # letter for letter and missed her; the feed normalised them and found her.
        ("Jade", "OBrien", MOTHER_BORN, True),
        # Her twin sister, also expecting: same surname and date of birth, another given
        # name. The duplicate check took surname and date of birth as enough; the feed did not.
        ("Aisha", "O'Brien", MOTHER_BORN, False),
        # Her date of birth not known: the feed took surname and given name; the duplicate
        # check needed the date of birth.
        ("Jade", "O'Brien", None, True),
        # Nothing but the surname agrees: neither, then or now.
        ("", "O'Brien", None, False),
    ],
)
def test_the_duplicate_check_and_the_birth_feed_agree_on_the_same_mother(plan, given, family, born, same_mother):
    assert duplicate_check_finds(plan, given=given, family=family, born=born) is same_mother
    assert birth_registration_finds(plan, given=given, family=family, born=born) is same_mother


def test_two_nhs_numbers_decide_whatever_the_names(plan):
    plan.mother_nhs_number = nhs_number_for(5151)
    plan.save()
    same_woman = MotherIdentity(nhs_number=nhs_number_for(5151), family_names=("Smith",))
    another_woman = MotherIdentity(
        nhs_number=nhs_number_for(5152), given_names="Jade", family_names=("O'Brien",), date_of_birth=MOTHER_BORN
    )
    assert [match.child for match in unborn_candidates(same_woman)] == [plan.child]
    assert unborn_candidates(same_woman)[0].reasons == ["mother's NHS number matches"]
    assert unborn_candidates(another_woman) == []
    # The duplicate check, which used to accept surname and date of birth despite the numbers.
    assert not duplicate_check_finds(
        plan, given="Jade", family="O'Brien", born=MOTHER_BORN, nhs_number=nhs_number_for(5152)
    )


def test_a_birth_looks_only_at_current_plans_expecting_it_within_eight_weeks(plan):
    mother = MotherIdentity(given_names="Jade", family_names=("O'Brien",), date_of_birth=MOTHER_BORN)
    on_time = unborn_candidates(mother, born_on=datetime.date(2026, 11, 2))
    assert on_time[0].reasons[-1] == "born 18 days before the expected delivery date"
    assert unborn_candidates(mother, born_on=datetime.date(2026, 9, 20)) == []
    plan.end_date = datetime.date(2026, 10, 1)
    plan.save()
    assert unborn_candidates(mother, born_on=datetime.date(2026, 11, 2)) == []
    # An ended plan's child is still on the register: a duplicate for a manager adding one.
    assert [match.child for match in unborn_candidates(mother)] == [plan.child]
