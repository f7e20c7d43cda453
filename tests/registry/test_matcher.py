"""The register's one matcher (registry.matching.selectors): criteria built one way from
every way in, and what differs by purpose."""

import datetime

import pytest
from django.utils import timezone

from feeds.ingestion import death_criteria
from feeds.models import EventType
from feeds.parsing import Record, parse_line
from registry.children.selectors import children_managed_by
from registry.intake.importing import row_parse
from registry.lookups.api import SearchRequestSerializer
from registry.lookups.forms import SearchForm
from registry.matching.selectors import Grade, Purpose, SearchCriteria, candidates
from registry.models import Sex
from tests.factories import ChildFactory, UserFactory
from tests.feeds.factories_feeds import death_row
from tests.registry.factories_maintenance import register_manager
from tests.registry.import_helpers import GOOD

pytestmark = pytest.mark.django_db

BORN = datetime.date(2016, 11, 2)
EXPECTED = SearchCriteria(
    nhs_number="", family_name="Adjo", given_names="Victoria", date_of_birth=BORN, sex=Sex.FEMALE, postcode="N17 9EX"
)


def test_a_form_a_serializer_an_import_row_and_a_feed_row_give_the_same_criteria(westminster):
    form = SearchForm(
        {"family_name": " Adjo ", "given_names": "Victoria", "dob_day": "2", "dob_month": "11", "dob_year": "2016",
         "sex": "female", "postcode": "n17 9ex", "reason": "assessment"}
    )  # fmt: skip
    assert form.is_valid(), form.errors
    serializer = SearchRequestSerializer(
        data={"family_name": "Adjo ", "given_names": " Victoria", "date_of_birth": "2016-11-02", "sex": "female",
              "postcode": "N17 9EX", "reason": "assessment"}
    )  # fmt: skip
    assert serializer.is_valid(), serializer.errors
    import_row = row_parse(
        {**GOOD, "nhs_number": ""}, line=2, authorities={"E09000033": westminster}, today=timezone.localdate()
    )
    feed_row = parse_line(
        event_type=EventType.DEATH,
        line_number=2,
        raw=death_row(forenames="Victoria", surname="Adjo", date_of_birth="2016-11-02", postcode="N17 9EX").encode(),
        today=timezone.localdate(),
        born_after=datetime.date(2000, 1, 1),
    )
    assert isinstance(feed_row, Record)
    assert form.criteria() == EXPECTED
    assert SearchCriteria.from_values(serializer.validated_data) == EXPECTED
    assert SearchCriteria.from_values(import_row.identity) == EXPECTED
    assert death_criteria(feed_row) == EXPECTED


def test_criteria_values_are_tidied_and_a_date_must_be_a_date():
    criteria = SearchCriteria.from_values({"nhs_number": "943 476 5919", "family_name": None, "reason": "other"})
    assert criteria == SearchCriteria(nhs_number="9434765919")
    with pytest.raises(TypeError, match="date_of_birth must be a date"):
        SearchCriteria.from_values({"family_name": "Adjo", "date_of_birth": "2016-11-02"})


def smiths(count, **fields):
    return ChildFactory.create_batch(count, family_name="Smith", date_of_birth=BORN, **fields)


@pytest.mark.parametrize(
    ("purpose", "listed"), [(Purpose.FEED, 9), (Purpose.SEARCH, 10), (Purpose.DUPLICATE_CHECK, 20)]
)
def test_each_purpose_lists_up_to_its_limit_and_past_it_nothing(purpose, listed):
    smiths(listed)
    criteria = SearchCriteria(family_name="Smith", date_of_birth=BORN)
    outcome = candidates(criteria, purpose=purpose)
    assert (outcome.too_many, len(outcome.matches)) == (False, listed if purpose != Purpose.FEED else 0)
    smiths(1)
    outcome = candidates(criteria, purpose=purpose)
    assert (outcome.too_many, outcome.matches) == (True, [])


def test_a_feed_is_given_exact_and_likely_matches_only():
    child = ChildFactory(given_names="Ava", family_name="Lewis", date_of_birth=BORN)
    criteria = SearchCriteria(family_name="Lewis", given_names="Ava", date_of_birth=datetime.date(2016, 11, 3))
    assert [match.grade for match in candidates(criteria, purpose=Purpose.SEARCH).matches] == [Grade.POSSIBLE]
    assert candidates(criteria, purpose=Purpose.FEED).matches == []
    exact = SearchCriteria(family_name="Lewis", given_names="Ava", date_of_birth=BORN)
    assert [match.child for match in candidates(exact, purpose=Purpose.FEED).matches] == [child]


# --- A manager's find: their own authority's children only ----------------------------------


def test_a_manager_finds_only_their_own_authoritys_children(westminster, birmingham):
    own = ChildFactory(responsible_local_authority=westminster, given_names="William", family_name="Whitfield",
                       date_of_birth=BORN)  # fmt: skip
    other = ChildFactory(responsible_local_authority=birmingham, given_names="Bill", family_name="Whitfield",
                         date_of_birth=BORN)  # fmt: skip
    criteria = SearchCriteria(family_name="Whitfield", given_names="Bill", date_of_birth=BORN)
    # Nationally, Birmingham's exact match leaves Westminster's child at possible.
    national = {match.child: match.grade for match in candidates(criteria, purpose=Purpose.SEARCH).matches}
    assert national == {other: Grade.EXACT, own: Grade.POSSIBLE}
    found = candidates(
        criteria, purpose=Purpose.MANAGER_FIND, within=children_managed_by(user=register_manager(westminster))
    ).matches
    # Another authority's child is not listed, and does not lower the grade of the manager's own.
    assert [(match.child, match.grade) for match in found] == [(own, Grade.LIKELY)]
    assert "given name is a short form (Bill for William)" in found[0].reasons


def test_another_authoritys_children_never_make_a_managers_find_too_many(westminster, birmingham):
    smiths(30, responsible_local_authority=birmingham)
    own = smiths(1, responsible_local_authority=westminster)
    criteria = SearchCriteria(family_name="Smith", date_of_birth=BORN)
    assert candidates(criteria, purpose=Purpose.SEARCH).too_many
    outcome = candidates(
        criteria, purpose=Purpose.MANAGER_FIND, within=children_managed_by(user=register_manager(westminster))
    )
    assert (outcome.too_many, [match.child for match in outcome.matches]) == (False, own)


def test_a_user_who_manages_no_register_finds_nobody(westminster):
    smiths(1, responsible_local_authority=westminster)
    criteria = SearchCriteria(family_name="Smith", date_of_birth=BORN)
    assert (
        candidates(criteria, purpose=Purpose.MANAGER_FIND, within=children_managed_by(user=UserFactory())).matches == []
    )
    with pytest.raises(ValueError, match="give them as within"):
        candidates(criteria, purpose=Purpose.MANAGER_FIND)
