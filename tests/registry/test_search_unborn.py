"""Search v2 (issue 13, item 4 of the issue): a practitioner finds an unborn child on a
pre-birth plan by the mother's details, in the page and the API, through the same audited
lookup (reason required, what was typed recorded, shielding as for children)."""

import datetime

import pytest
from rest_framework.test import APIClient

from accounts.roles import Role
from audit.models import AuditEvent, LookupOutcome
from registry.lookups.services import UNBORN_SEARCH
from registry.matching.selectors import Grade, UnbornSearchCriteria, unborn_criteria_sufficient, unborn_search
from registry.models import ProtectionStatus
from tests.factories import ChildFactory, ProtectionStatusFactory, UserFactory, nhs_number_for

pytestmark = pytest.mark.django_db

MOTHER_BORN = datetime.date(1997, 8, 14)
MOTHER_NHS = nhs_number_for(7301)
DUE = datetime.date(2027, 2, 3)


def unborn_plan(*, family="Okafor", given="Chiamaka", born=MOTHER_BORN, nhs=MOTHER_NHS, due=DUE, **child):
    child.setdefault("postcode", "E8 1DY")
    baby = ChildFactory(nhs_number=None, given_names="", family_name=family, date_of_birth=None, **child)
    return ProtectionStatusFactory(
        child=baby,
        kind=ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN,
        start_date=datetime.date(2026, 10, 1),
        expected_delivery_date=due,
        mother_given_names=given,
        mother_family_name=family,
        mother_date_of_birth=born,
        mother_nhs_number=nhs,
    )


@pytest.fixture
def plan():
    return unborn_plan()


@pytest.fixture
def practitioner():
    return UserFactory(roles=[Role.PRACTITIONER])


def find(**criteria):
    return unborn_search(UnbornSearchCriteria(**criteria))


# --- The matcher ----------------------------------------------------------------------------


def test_the_mothers_nhs_number_alone_finds_the_unborn_child(plan):
    outcome = find(mother_nhs_number=MOTHER_NHS)
    [match] = outcome.matches
    assert match.child == plan.child
    assert match.grade == Grade.LIKELY
    assert "mother's NHS number matches" in match.reasons


def test_the_mothers_name_and_date_of_birth_find_the_unborn_child(plan):
    [match] = find(mother_family_name="okafor", mother_given_names="Chiamaka", mother_date_of_birth=MOTHER_BORN).matches
    assert match.child == plan.child
    assert match.grade == Grade.LIKELY
    assert match.reasons[:3] == ["mother's surname matches", "mother's given name matches",
                                 "mother's date of birth matches"]  # fmt: skip


def test_a_mother_who_has_changed_her_surname_is_a_possible_match_saying_so(plan):
    [match] = find(
        mother_family_name="Adeyemi", mother_given_names="Chiamaka", mother_date_of_birth=MOTHER_BORN
    ).matches
    assert match.child == plan.child
    assert match.grade == Grade.POSSIBLE
    assert match.reasons[0] == "mother's family name different: check for a change of name"


def test_an_expected_delivery_date_far_from_the_plans_makes_it_only_possible(plan):
    near = find(mother_nhs_number=MOTHER_NHS, expected_delivery_date=DUE + datetime.timedelta(days=10)).matches
    assert near[0].grade == Grade.LIKELY
    assert "expected delivery date within 10 days" in near[0].reasons
    [far] = find(mother_nhs_number=MOTHER_NHS, expected_delivery_date=DUE + datetime.timedelta(weeks=20)).matches
    assert far.grade == Grade.POSSIBLE
    assert "expected delivery date differs by 20 weeks: check it is the same pregnancy" in far.reasons


def test_another_woman_is_not_found(plan):
    assert find(mother_nhs_number=nhs_number_for(7302)).matches == []
    # Her twin sister: same surname and date of birth, another given name.
    assert find(mother_family_name="Okafor", mother_given_names="Ngozi", mother_date_of_birth=MOTHER_BORN).matches == []
    assert find(mother_family_name="Okafor", mother_date_of_birth=datetime.date(1997, 8, 15)).matches == []


def test_a_baby_born_in_the_last_weeks_is_found_by_the_mother_an_older_child_is_not(plan):
    # The fixed test date is 23 November 2026 (tests/conftest.py).
    plan.child.date_of_birth = datetime.date(2026, 11, 2)
    plan.child.save()
    [match] = find(mother_nhs_number=MOTHER_NHS).matches
    assert "born 2 November 2026" in match.reasons
    plan.child.date_of_birth = datetime.date(2026, 5, 2)
    plan.child.save()
    assert find(mother_nhs_number=MOTHER_NHS).matches == []


def test_a_shielded_unborn_childs_postcode_is_never_compared():
    shielded = unborn_plan(is_shielded=True, shielding_reason="Refuge")
    [match] = find(mother_nhs_number=MOTHER_NHS, postcode="E8 1DY").matches
    assert match.child == shielded.child
    assert not any("postcode" in reason for reason in match.reasons)
    visible = unborn_plan(nhs=nhs_number_for(7303), born=datetime.date(1990, 1, 1), family="Byrne", given="Orla")
    [match] = find(mother_nhs_number=nhs_number_for(7303), postcode="E8 1DY").matches
    assert match.child == visible.child
    assert "postcode matches" in match.reasons


def test_more_than_ten_plans_for_one_description_show_nothing():
    for number in range(11):
        unborn_plan(nhs="", due=DUE + datetime.timedelta(days=number))
    outcome = find(mother_family_name="Okafor", mother_given_names="Chiamaka", mother_date_of_birth=MOTHER_BORN)
    assert outcome.too_many and outcome.matches == []


def test_what_is_too_little_to_search_on_is_said_plainly():
    assert unborn_criteria_sufficient(UnbornSearchCriteria(mother_family_name="Okafor")) == (
        "Enter the mother's date of birth as well as her family name, or search by her NHS number"
    )
    assert unborn_criteria_sufficient(UnbornSearchCriteria(mother_date_of_birth=MOTHER_BORN)) is not None
    assert unborn_criteria_sufficient(UnbornSearchCriteria(mother_nhs_number=MOTHER_NHS)) is None


# --- The page ---------------------------------------------------------------------------------


def search_page(client, **fields):
    return client.post("/search/unborn/", {"reason": "assessment", **fields}, follow=True)


def test_the_search_page_links_to_the_search_by_the_mother(client, practitioner):
    client.force_login(practitioner)
    page = client.get("/search/").content.decode()
    assert 'href="/search/unborn/"' in page


def test_the_page_finds_the_unborn_child_and_audits_what_was_typed(client, practitioner, plan):
    client.force_login(practitioner)
    response = search_page(
        client, mother_family_name="Okafor", mother_given_names="Chiamaka", mother_dob_day="14", mother_dob_month="8",
        mother_dob_year="1997", expected_delivery_day="1", expected_delivery_month="2", expected_delivery_year="2027",
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/search/results/"
    assert "You searched for an unborn baby by the mother's details" in page
    assert plan.child.register_id in page and "Unborn" in page and "Likely" in page
    assert "Mother&#x27;s surname matches" in page
    event = AuditEvent.objects.get(action=AuditEvent.Action.SEARCH)
    assert event.outcome == LookupOutcome.RESULTS
    assert event.register_ids == [plan.child.register_id]
    assert event.reason == "assessment"
    assert event.details["purpose"] == UNBORN_SEARCH
    assert event.criteria == {
        "mother_family_name": "Okafor", "mother_given_names": "Chiamaka", "mother_date_of_birth": "1997-08-14",
        "expected_delivery_date": "2027-02-01",
    }  # fmt: skip
    # The result opens the child's record with the search's reason, as any search result.
    assert client.get(f"/children/{plan.child.register_id}/?lookup={event.pk}").status_code == 200


def test_change_search_fills_the_mothers_form_again(client, practitioner, plan):
    client.force_login(practitioner)
    search_page(client, mother_nhs_number=MOTHER_NHS)
    page = client.get("/search/unborn/?change").content.decode()
    assert f'value="{MOTHER_NHS}"' in page


def test_a_search_without_a_reason_or_with_too_little_is_refused_by_the_field_and_audited(client, practitioner, plan):
    client.force_login(practitioner)
    page = client.post("/search/unborn/", {"mother_family_name": "Okafor"}).content.decode()
    assert "There is a problem" in page and "Select why you are looking for this child" in page
    page = search_page(client, mother_family_name="Okafor").content.decode()
    assert "Enter the mother&#x27;s date of birth as well as her family name" in page
    events = AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).order_by("pk")
    assert [event.outcome for event in events] == [LookupOutcome.REFUSED, LookupOutcome.REFUSED]
    assert all(event.criteria == {"mother_family_name": "Okafor"} for event in events)
    assert all(event.register_ids == [] for event in events)


def test_someone_who_may_not_search_is_refused(client, plan):
    client.force_login(UserFactory(roles=[]))
    assert client.get("/search/unborn/").status_code == 403


# --- The API ----------------------------------------------------------------------------------


@pytest.fixture
def api(practitioner):
    client = APIClient()
    client.force_login(practitioner)  # practitioners' API: the two-factor-verified session
    return client


def test_the_api_finds_the_unborn_child_by_the_mother_and_audits_it(api, plan):
    body = {"mother": {"nhs_number": MOTHER_NHS}, "expected_delivery_date": "2027-02-10", "reason": "emergency"}
    response = api.post("/api/v1/search/", body, format="json")
    assert response.status_code == 200, response.json()
    [result] = response.json()["results"]
    assert result["register_id"] == plan.child.register_id
    assert result["date_of_birth"] is None
    assert result["grade"] == "likely"
    assert "expected delivery date within 7 days" in result["reasons"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.SEARCH)
    assert event.channel == "api"
    assert event.criteria == {"mother_nhs_number": MOTHER_NHS, "expected_delivery_date": "2027-02-10"}
    assert event.details["purpose"] == UNBORN_SEARCH


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mother": {"nhs_number": MOTHER_NHS}, "family_name": "Okafor"}, "mother"),
        ({"expected_delivery_date": "2027-02-10", "family_name": "Okafor"}, "expected_delivery_date"),
        ({"mother": {"nhs_number": "1234567890"}}, "mother"),
        ({"mother": {"family_name": "Okafor"}}, "detail"),
        ({"mother": "Okafor"}, "mother"),
    ],
)
def test_api_errors_for_a_search_by_the_mother_are_400_with_a_message_and_audited(api, plan, body, field):
    response = api.post("/api/v1/search/", {**body, "reason": "assessment"}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    event = AuditEvent.objects.get(action=AuditEvent.Action.SEARCH)
    assert event.outcome == LookupOutcome.REFUSED


def test_the_openapi_schema_documents_the_search_by_the_mother(api):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    request = schema["components"]["schemas"]["SearchRequest"]["properties"]
    assert "mother" in request and "expected_delivery_date" in request
    mother = schema["components"]["schemas"]["Mother"]["properties"]
    assert set(mother) == {"nhs_number", "family_name", "given_names", "date_of_birth"}
