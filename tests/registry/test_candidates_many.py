"""The matcher asked about many searches at once (a feed chunk's deaths) answers each as
it answers that search alone, whatever their number."""

import datetime

import pytest

from registry.matching import selectors
from registry.matching.selectors import Purpose, SearchCriteria, candidates, candidates_many
from registry.models import Sex
from tests.factories import ChildFactory

pytestmark = pytest.mark.django_db

BORN = datetime.date(2016, 11, 2)


def _answer(outcome: selectors.SearchOutcome) -> tuple:
    return outcome.too_many, [(match.child.pk, match.grade, match.reasons) for match in outcome.matches]


@pytest.mark.parametrize("per_query", [selectors.SEARCHES_PER_QUERY, 2])
def test_many_searches_together_answer_as_each_alone(westminster, monkeypatch, per_query):
    monkeypatch.setattr(selectors, "SEARCHES_PER_QUERY", per_query)
    for given in ("Victoria", "Anna"):
        ChildFactory(family_name="Adjo", given_names=given, date_of_birth=BORN, sex=Sex.FEMALE, postcode="N17 9EX")
    ChildFactory(family_name="Kouao", given_names="Anna", date_of_birth=BORN.replace(day=11, month=2))
    many = [
        SearchCriteria.from_values({"family_name": family, "given_names": given, "date_of_birth": born})
        for family, given, born in [
            ("Adjo", "Victoria", BORN),
            ("Nobody", "Here", BORN),
            ("Adjo", "", BORN),
            ("Kouao", "Anna", BORN),  # day and month swapped
            ("Adjo", "Anna", BORN),
        ]
    ]
    together = candidates_many(many, purpose=Purpose.SEARCH)
    alone = [candidates(criteria, purpose=Purpose.SEARCH) for criteria in many]
    assert [_answer(outcome) for outcome in together] == [_answer(outcome) for outcome in alone]
    # Not a vacuous comparison: a stranger is found by nobody, the others each find someone.
    assert [bool(outcome.matches) for outcome in together] == [True, False, True, True, True]
