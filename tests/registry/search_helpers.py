"""Helpers for the matcher's second-chance tests (test_search_second_chances,
test_search_same_address): one search on a date of birth unless told otherwise, and the one
child it must list."""

import datetime

from registry.matching.selectors import Purpose, SearchCriteria, SearchMatch, SearchOutcome, candidates

BORN = datetime.date(2016, 4, 2)


def search(purpose: Purpose = Purpose.SEARCH, **criteria) -> SearchOutcome:
    criteria.setdefault("date_of_birth", BORN)
    return candidates(SearchCriteria(**criteria), purpose=purpose)


def only_match(outcome: SearchOutcome) -> SearchMatch:
    assert not outcome.too_many
    assert len(outcome.matches) == 1, [(m.child.family_name, m.reasons) for m in outcome.matches]
    return outcome.matches[0]
