"""A register manager's Find (/manage/children/): their own authority's children only, by
register ID or reference, NHS number, or name and date of birth through the register's
matcher, audited with what was typed."""

import datetime

import pytest
from django.db import DatabaseError
from django.urls import reverse

from audit.models import AuditEvent, LookupOutcome
from tests.factories import nhs_number_for
from tests.registry.factories_maintenance import child_on_plan, register_manager

pytestmark = pytest.mark.django_db

FIND = reverse("registry:manage-children")
BORN = datetime.date(2017, 8, 14)


def find(client, **fields):
    return client.post(FIND, {"q": "", "nhs_number": "", "family_name": "", "given_names": "", **fields})


def by_name(client, family_name, given_names="", born=BORN):
    return find(
        client, family_name=family_name, given_names=given_names, date_of_birth_0=str(born.day),
        date_of_birth_1=str(born.month), date_of_birth_2=str(born.year),
    )  # fmt: skip


def results(response):
    """The part of the page below the Find form, where what was found is listed."""
    return response.content.decode().split('id="children"', 1)[1]


def find_event():
    return AuditEvent.objects.get(action=AuditEvent.Action.SEARCH, details__purpose="manager_find")


@pytest.fixture
def manager(westminster):
    return register_manager(westminster)


@pytest.fixture
def amara(westminster):
    return child_on_plan(westminster, given_names="Amara", family_name="Bello", date_of_birth=BORN,
                         nhs_number=nhs_number_for(301))  # fmt: skip


@pytest.fixture
def elsewhere(birmingham):
    """Another authority's child with the same name and date of birth."""
    return child_on_plan(birmingham, given_names="Amara", family_name="Bello", date_of_birth=BORN,
                         nhs_number=nhs_number_for(302))  # fmt: skip


def test_a_manager_finds_their_own_child_by_name_and_date_of_birth_despite_a_misspelling(
    client, manager, amara, elsewhere
):
    client.force_login(manager)
    response = by_name(client, "Belo", "Amara")
    found = results(response)
    assert response.status_code == 200
    assert amara.register_id in found and "Surname spelt differently" in found
    assert elsewhere.register_id not in response.content.decode()
    event = find_event()
    assert event.criteria == {"family_name": "Belo", "given_names": "Amara", "date_of_birth": "2017-08-14"}
    assert (event.register_ids, event.outcome, event.channel) == ([amara.register_id], LookupOutcome.RESULTS, "web")
    assert event.actor == manager


def test_a_manager_finds_their_own_child_by_nhs_number_but_never_another_authoritys(client, manager, amara, elsewhere):
    client.force_login(manager)
    assert amara.register_id in results(find(client, nhs_number=nhs_number_for(301)))
    assert find_event().criteria == {"nhs_number": nhs_number_for(301)}
    response = find(client, nhs_number=nhs_number_for(302))
    assert elsewhere.register_id not in response.content.decode()
    assert "None of your authority's children" in results(response)
    last = AuditEvent.objects.filter(details__purpose="manager_find").latest("id")
    assert (last.criteria, last.register_ids, last.outcome) == (
        {"nhs_number": nhs_number_for(302)},
        [],
        LookupOutcome.NO_RESULTS,
    )


def test_a_find_by_register_id_or_reference_is_audited_with_what_was_typed(client, manager, westminster):
    child = child_on_plan(westminster, la_reference="WCC-77")
    client.force_login(manager)
    assert child.register_id in results(find(client, q="wcc-77"))
    event = find_event()
    assert (event.criteria, event.register_ids) == ({"register_id_or_reference": "wcc-77"}, [child.register_id])


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"family_name": "Bello"}, "id_date_of_birth", "Enter a date of birth as well as a family name"),
        (
            {"date_of_birth_0": "14", "date_of_birth_1": "8", "date_of_birth_2": "2017"},
            "id_family_name",
            "Enter a family name as well as a date of birth",
        ),
        ({}, "id_q", "Enter a register ID or your reference, an NHS number, or a family name and date of birth"),
        ({"nhs_number": "9434765918"}, "id_nhs_number", "Enter a valid NHS number"),
        (
            {"family_name": "Bello", "date_of_birth_0": "31", "date_of_birth_1": "2", "date_of_birth_2": "2017"},
            "id_date_of_birth",
            "Date of birth must be a real date",
        ),
    ],
)
def test_too_little_or_bad_input_is_explained_and_nothing_is_searched(
    client, manager, amara, fields, field_id, message
):
    client.force_login(manager)
    page = find(client, **fields).content.decode()
    assert "There is a problem" in page and f'href="#{field_id}"' in page and message in page
    assert "<title>Error:" in page
    assert not AuditEvent.objects.filter(details__purpose="manager_find").exists()


def test_the_page_no_longer_sends_managers_to_the_practitioner_search(client, manager, amara):
    client.force_login(manager)
    page = client.get(FIND).content.decode()
    assert "search as a practitioner" not in page and 'href="/search/"' not in page.split("<main", 1)[1]
    assert "Find one of your children" in page


def test_if_the_audit_write_fails_the_find_shows_nothing(client, manager, amara, monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr("registry.lookups.services.audit_event_record", broken)
    client.force_login(manager)
    response = by_name(client, "Bello", "Amara")
    assert response.status_code == 503
    assert amara.register_id not in response.content.decode()
