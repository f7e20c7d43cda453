"""Register maintenance is scoped to the manager's own authority: every route answers 404
for another authority's child (GET and POST), and forms never take protected fields."""

import datetime
import re

import pytest
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from registry.models import Child, ProtectionStatus
from tests.factories import InvolvementFactory, OtherNameFactory, UserFactory
from tests.registry.factories_maintenance import add_child_post, child_on_plan, register_manager

pytestmark = pytest.mark.django_db


def child_routes(child, *, status, involvement, other_name):
    rid = child.register_id
    return [
        reverse("registry:manage-child", args=[rid]),
        reverse("registry:manage-identity", args=[rid]),
        reverse("registry:manage-shielding", args=[rid]),
        reverse("registry:manage-other-name-add", args=[rid]),
        reverse("registry:manage-other-name-remove", args=[rid, other_name.pk]),
        reverse("registry:manage-status-add", args=[rid]),
        reverse("registry:manage-status-end", args=[rid, status.pk]),
        reverse("registry:manage-involvement-add", args=[rid]),
        reverse("registry:manage-involvement-end", args=[rid, involvement.pk]),
        reverse("registry:manage-transfer", args=[rid]),
    ]


@pytest.fixture
def birmingham_child(birmingham):
    child = child_on_plan(birmingham, family_name="Okafor")
    return {
        "child": child,
        "status": child.statuses.get(),
        "involvement": InvolvementFactory(child=child),
        "other_name": OtherNameFactory(child=child),
    }


def test_every_route_answers_404_for_another_authoritys_child(client, westminster, birmingham, birmingham_child):
    manager = register_manager(westminster)
    client.force_login(manager)
    child = birmingham_child["child"]
    before = (child.version, child.family_name, child.is_shielded, AuditEvent.objects.count())
    routes = child_routes(**birmingham_child)
    for url in routes:
        assert client.get(url).status_code == 404, url
        post = {
            "version": str(child.version),
            "family_name": "Changed",
            "reason": "Refuge",
            "end_date_0": "1",
            "end_date_1": "10",
            "end_date_2": "2026",
            "to_local_authority": str(westminster.pk),
            "transferred_on_0": "1",
            "transferred_on_1": "10",
            "transferred_on_2": "2026",
        }
        assert client.post(url, post).status_code == 404, url
    child.refresh_from_db()
    assert (child.version, child.family_name, child.is_shielded, AuditEvent.objects.count()) == before
    assert child.responsible_local_authority == birmingham
    assert child.statuses.get().end_date is None


def test_the_same_manager_reaches_every_route_for_their_own_child(client, westminster):
    manager = register_manager(westminster)
    child = child_on_plan(westminster)
    objects = {
        "child": child,
        "status": child.statuses.get(),
        "involvement": InvolvementFactory(child=child),
        "other_name": OtherNameFactory(child=child),
    }
    client.force_login(manager)
    for url in child_routes(**objects):
        assert client.get(url).status_code == 200, url


def test_a_statuses_or_names_id_from_another_child_is_404_under_the_managers_own_child(
    client, westminster, birmingham_child
):
    manager = register_manager(westminster)
    own = child_on_plan(westminster)
    client.force_login(manager)
    urls = [
        reverse("registry:manage-status-end", args=[own.register_id, birmingham_child["status"].pk]),
        reverse("registry:manage-involvement-end", args=[own.register_id, birmingham_child["involvement"].pk]),
        reverse("registry:manage-other-name-remove", args=[own.register_id, birmingham_child["other_name"].pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"version": str(own.version)}).status_code == 404, url


@pytest.mark.parametrize(
    "roles", [[Role.PRACTITIONER], [Role.LA_USER_ADMIN], [Role.AUDITOR]], ids=["practitioner", "user_admin", "auditor"]
)
def test_users_who_are_not_register_managers_find_nothing_to_manage(client, westminster, roles):
    user = UserFactory(organisation__local_authority=westminster, roles=roles)
    child = child_on_plan(westminster)
    client.force_login(user)
    assert client.get(reverse("registry:manage-children")).status_code == 404
    assert client.get(reverse("registry:manage-child-add")).status_code == 404
    assert client.post(reverse("registry:manage-child-add"), add_child_post(westminster)).status_code == 404
    assert client.get(reverse("registry:manage-child", args=[child.register_id])).status_code == 404
    assert not Child.objects.filter(family_name="Adjei").exists()


def test_signed_out_users_are_sent_to_sign_in(client, westminster):
    child = child_on_plan(westminster)
    response = client.get(reverse("registry:manage-child", args=[child.register_id]))
    assert response.status_code == 302
    assert "/sign-in/" in response["Location"]


def test_the_list_shows_only_the_managers_own_children_and_finds_by_reference(client, westminster, birmingham):
    manager = register_manager(westminster)
    own = child_on_plan(westminster, given_names="Amara", family_name="Bello", la_reference="WCC-77")
    other = child_on_plan(birmingham, given_names="Ewan", family_name="Doyle", la_reference="WCC-77")
    client.force_login(manager)
    page = client.get(reverse("registry:manage-children")).content.decode()
    assert own.register_id in page and "Amara Bello" in page
    assert other.register_id not in page and "Ewan Doyle" not in page
    found = client.post(reverse("registry:manage-children"), {"q": "wcc-77"}).content.decode()
    assert own.register_id in found and other.register_id not in found
    # Managing is not searching the register: another authority's register ID finds nothing.
    elsewhere = client.post(reverse("registry:manage-children"), {"q": other.register_id}).content.decode()
    assert other.register_id not in elsewhere.split('id="children"', 1)[1].split("</main>", 1)[0]
    assert "None of your authority's children" in elsewhere


def test_the_list_is_paginated(client, westminster):
    manager = register_manager(westminster)
    for _ in range(27):
        child_on_plan(westminster)
    client.force_login(manager)
    first = client.get(reverse("registry:manage-children")).content.decode()
    child_link = re.compile(r'href="/manage/children/[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/"')
    assert "27 children" in first and len(child_link.findall(first)) == 25
    second = client.get(reverse("registry:manage-children"), {"page": "2"}).content.decode()
    assert len(child_link.findall(second)) == 2


# --- Mass assignment: fields a form does not declare are ignored ---------------------------


def test_identity_form_ignores_authority_register_id_shielding_and_version_fields(client, westminster, birmingham):
    manager = register_manager(westminster)
    child = child_on_plan(westminster, family_name="Smith", given_names="Jo", date_of_birth=datetime.date(2018, 5, 1))
    register_id, version = child.register_id, child.version
    client.force_login(manager)
    response = client.post(
        reverse("registry:manage-identity", args=[register_id]),
        {
            "version": str(version),
            "family_name": "Smyth",
            "given_names": "Jo",
            "date_of_birth_0": "1",
            "date_of_birth_1": "5",
            "date_of_birth_2": "2018",
            "sex": "female",
            "responsible_local_authority": str(birmingham.pk),
            "register_id": "AAAA-AAAA-AAAA",
            "is_shielded": "on",
            "shielding_reason": "x",
            "created_at": "2001-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.family_name == "Smyth"
    assert child.register_id == register_id
    assert child.responsible_local_authority == westminster
    assert child.is_shielded is False
    assert child.version == version + 1


def test_adding_a_child_for_an_authority_the_manager_does_not_manage_is_refused(client, westminster, birmingham):
    manager = register_manager(westminster)
    client.force_login(manager)
    response = client.post(reverse("registry:manage-child-add"), add_child_post(birmingham))
    assert response.status_code == 200
    assert "Select one of the authorities you manage" in response.content.decode()
    assert not Child.objects.exists()


def test_adding_a_child_ignores_protected_fields(client, westminster):
    manager = register_manager(westminster)
    client.force_login(manager)
    post = add_child_post(westminster, register_id="AAAA-AAAA-AAAA", version="99", is_shielded="on", nhs_number="")
    response = client.post(reverse("registry:manage-child-add"), post)
    assert response.status_code == 302
    child = Child.objects.get()
    assert child.register_id != "AAAA-AAAA-AAAA"
    assert child.version == 1 and child.is_shielded is False
    assert child.responsible_local_authority == westminster


def test_a_status_is_always_held_by_the_childs_authority(client, westminster, birmingham):
    manager = register_manager(westminster)
    child = child_on_plan(westminster)
    client.force_login(manager)
    response = client.post(
        reverse("registry:manage-status-add", args=[child.register_id]),
        {
            "version": str(child.version),
            "kind": "looked_after",
            "legal_basis": "s20",
            "start_date_0": "2",
            "start_date_1": "11",
            "start_date_2": "2026",
            "responsible_local_authority": str(birmingham.pk),
            "child": "1",
        },
    )
    assert response.status_code == 302
    status = child.statuses.get(kind=ProtectionStatus.Kind.LOOKED_AFTER)
    assert status.responsible_local_authority == westminster and status.child == child
