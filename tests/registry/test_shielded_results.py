"""What a search shows of shielded children and of children who only possibly match
(issue 15, findings 1, 13 and 20): nothing links a shielded child's other name to the
child, and an NHS number comes back only for the number searched."""

import datetime

import pytest
from rest_framework.test import APIClient

from accounts.roles import Role
from audit.models import AuditEvent
from registry.models import AccessNotice, OtherName
from tests.factories import ChildFactory, LocalAuthorityFactory, OtherNameFactory, ProtectionStatusFactory, UserFactory

pytestmark = pytest.mark.django_db

BORN = datetime.date(2016, 11, 2)


@pytest.fixture
def practitioner():
    return UserFactory(roles=[Role.PRACTITIONER])


@pytest.fixture
def refuge_authority():
    return LocalAuthorityFactory(
        name="Shire Borough", office_hours_phone="01632 960001", out_of_hours_phone="01632 960999"
    )


@pytest.fixture
def shielded_child(refuge_authority):
    """A child in a refuge under a new name; the family knew her as Kezia Quarrington."""
    child = ChildFactory(
        nhs_number="9434765919", given_names="Phoebe", family_name="Zabrowski", date_of_birth=BORN,
        responsible_local_authority=refuge_authority, is_shielded=True, shielding_reason="Child in a refuge",
    )  # fmt: skip
    ProtectionStatusFactory(child=child)
    OtherNameFactory(child=child, kind=OtherName.Kind.FORMER_NAME, given_names="Kezia", family_name="Quarrington")
    return child


IDENTIFYING = ("Phoebe", "Zabrowski", "former name", "9434765919", "943 476 5919")


def test_a_shielded_child_found_by_a_former_name_is_only_signposted_on_the_page(
    client, practitioner, shielded_child, refuge_authority
):
    client.force_login(practitioner)
    response = client.post(
        "/search/",
        {"reason": "assessment", "given_names": "Kezia", "family_name": "Quarrington", "dob_day": "2",
         "dob_month": "11", "dob_year": "2016"},
        follow=True,
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200
    assert "A shielded record may match" in page
    # Shown again from the session (Back, "Back to results"), it is still withheld.
    again = client.get("/search/results/").content.decode()
    assert "A shielded record may match" in again and "01632 960999" in again
    assert not any(value in again for value in (*IDENTIFYING, shielded_child.register_id, "Former name"))
    assert "01632 960001" in page and "01632 960999" in page
    for value in (*IDENTIFYING, shielded_child.register_id, "Former name"):
        assert value not in page
    assert f"/children/{shielded_child.register_id}" not in page
    # The auditor still sees which child was found, and the authority hears of the look-up.
    event = AuditEvent.objects.get(action=AuditEvent.Action.SEARCH)
    assert event.register_ids == [shielded_child.register_id]
    assert event.details["withheld"] == [shielded_child.register_id]
    assert AccessNotice.objects.get().local_authority == refuge_authority


def test_a_shielded_child_found_by_a_former_name_is_only_signposted_by_the_api(
    practitioner, shielded_child, refuge_authority
):
    api = APIClient()
    api.force_authenticate(practitioner)
    body = {"family_name": "Quarrington", "given_names": "Kezia", "date_of_birth": "2016-11-02", "reason": "assessment"}
    response = api.post("/api/v1/search/", body, format="json")
    assert response.status_code == 200, response.content
    [result] = response.json()["results"]
    assert result["withheld"] is True
    assert result["message"] == "A shielded record may match: contact the responsible authority"
    assert result["responsible_authority"]["office_hours_phone"] == "01632 960001"
    text = response.content.decode()
    for value in (*IDENTIFYING, shielded_child.register_id):
        assert value not in text
    assert result["reasons"] == [] and result["register_id"] is None and result["nhs_number"] is None


def test_a_shielded_child_found_by_its_own_name_still_shows_name_and_register_id(practitioner, shielded_child):
    # Name, date of birth, sex and ID are what a shielded result has always shown: only the
    # link between an old name and this record is withheld.
    api = APIClient()
    api.force_authenticate(practitioner)
    body = {"family_name": "Zabrowski", "given_names": "Phoebe", "date_of_birth": "2016-11-02", "reason": "assessment"}
    [result] = api.post("/api/v1/search/", body, format="json").json()["results"]
    assert (result["withheld"], result["register_id"], result["is_shielded"]) == (
        False,
        shielded_child.register_id,
        True,
    )
    assert result["responsible_authority"] is None


def test_an_unshielded_child_found_by_a_former_name_says_so(practitioner):
    child = ChildFactory(given_names="Phoebe", family_name="Zabrowski", date_of_birth=BORN)
    OtherNameFactory(child=child, kind=OtherName.Kind.FORMER_NAME, given_names="Kezia", family_name="Quarrington")
    api = APIClient()
    api.force_authenticate(practitioner)
    body = {"family_name": "Quarrington", "given_names": "Kezia", "date_of_birth": "2016-11-02", "reason": "assessment"}
    [result] = api.post("/api/v1/search/", body, format="json").json()["results"]
    assert result["withheld"] is False and result["family_name"] == "Zabrowski"
    assert "matched a former name" in result["reasons"]


def test_the_api_returns_an_nhs_number_only_for_the_child_whose_number_was_searched(practitioner):
    searched = ChildFactory(nhs_number="9434765919", given_names="Amara", family_name="Okonkwo", date_of_birth=BORN)
    twin = ChildFactory(given_names="Ada", family_name="Okonkwo", date_of_birth=BORN)
    api = APIClient()
    api.force_authenticate(practitioner)

    by_name = {"family_name": "Okonkwo", "date_of_birth": "2016-11-02", "reason": "assessment"}
    results = api.post("/api/v1/search/", by_name, format="json").json()["results"]
    assert {result["register_id"] for result in results} == {searched.register_id, twin.register_id}
    assert [result["nhs_number"] for result in results] == [None, None]

    by_number = {**by_name, "nhs_number": "9434765919"}
    results = api.post("/api/v1/search/", by_number, format="json").json()["results"]
    numbers = {result["register_id"]: result["nhs_number"] for result in results}
    assert numbers[searched.register_id] == "9434765919"
    assert numbers.get(twin.register_id) is None
    assert twin.nhs_number not in str(results)
