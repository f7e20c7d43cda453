"""A child's other names carry the child's date of birth (OtherName.child_date_of_birth),
which search's other-names block looks them up by (issue 13 item 5): every way a date of
birth changes or another name is added keeps it in step, so that a practitioner searching
by a former name and the child's corrected date of birth still finds the child."""

import datetime

import pytest

from audit.actor import Actor, Channel
from registry.children.services import child_birth_confirm, child_identity_update, other_name_add
from registry.matching.selectors import Purpose, SearchCriteria, candidates
from registry.models import Child, OtherName, ProtectionStatus
from tests.factories import ChildFactory, OtherNameFactory, ProtectionStatusFactory, UserFactory
from tests.registry.import_helpers import run_import, write_csv

pytestmark = pytest.mark.django_db

FIRST = datetime.date(2016, 4, 2)
CORRECTED = datetime.date(2015, 9, 17)  # no digit slip nor swap of the first: a different date


def found_by_former_name(date_of_birth: datetime.date) -> list[str]:
    """Register IDs a search for Anna Kouao born on the date finds."""
    outcome = candidates(
        SearchCriteria(family_name="Kouao", given_names="Anna", date_of_birth=date_of_birth), purpose=Purpose.SEARCH
    )
    return [match.child.register_id for match in outcome.matches]


def test_correcting_a_date_of_birth_moves_the_other_names_with_it():
    child = ChildFactory(given_names="Victoria", family_name="Adjo", date_of_birth=FIRST)
    OtherNameFactory(child=child, kind=OtherName.Kind.FORMER_NAME, given_names="Anna", family_name="Kouao")
    assert found_by_former_name(FIRST) == [child.register_id]

    child_identity_update(
        by=Actor(user=UserFactory(), channel=Channel.WEB), child=child, changes={"date_of_birth": CORRECTED}
    )

    assert list(child.other_names.values_list("child_date_of_birth", flat=True)) == [CORRECTED]
    assert found_by_former_name(CORRECTED) == [child.register_id]
    assert found_by_former_name(FIRST) == []


def test_another_name_added_later_is_found_on_the_childs_date_of_birth():
    child = ChildFactory(given_names="Victoria", family_name="Adjo", date_of_birth=FIRST)
    other_name_add(
        by=Actor(user=UserFactory(), channel=Channel.WEB),
        child=child,
        kind=OtherName.Kind.ALIAS,
        given_names="Anna",
        family_name="Kouao",
    )
    assert found_by_former_name(FIRST) == [child.register_id]


def test_an_import_that_corrects_a_date_of_birth_moves_the_other_names_with_it(tmp_path, westminster):
    run_import(write_csv(tmp_path / "first.csv", [{"date_of_birth": FIRST.isoformat()}]))
    child = Child.objects.get(la_reference="WCC-1")
    assert set(child.other_names.values_list("child_date_of_birth", flat=True)) == {FIRST}

    run_import(write_csv(tmp_path / "corrected.csv", [{"date_of_birth": CORRECTED.isoformat()}]))

    assert set(child.other_names.values_list("child_date_of_birth", flat=True)) == {CORRECTED}
    assert found_by_former_name(CORRECTED) == [child.register_id]
    assert found_by_former_name(FIRST) == []


def test_a_confirmed_birth_gives_the_other_names_the_date_of_birth():
    unborn = ChildFactory(given_names="", family_name="Adjo", date_of_birth=None)
    OtherNameFactory(child=unborn, kind=OtherName.Kind.ALIAS, given_names="Anna", family_name="Kouao")
    plan = ProtectionStatusFactory(
        child=unborn,
        kind=ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN,
        start_date=datetime.date(2026, 6, 1),
        expected_delivery_date=datetime.date(2026, 11, 20),
    )
    born = datetime.date(2026, 11, 2)

    child_birth_confirm(
        child=unborn, unborn_status=plan, date_of_birth=born, given_names="Victoria", family_name="Adjo",
        sex="female", nhs_number="", by=Actor(user=UserFactory(), channel=Channel.WEB), source={},
    )  # fmt: skip

    assert list(unborn.other_names.values_list("child_date_of_birth", flat=True)) == [born]
    assert found_by_former_name(born) == [unborn.register_id]
