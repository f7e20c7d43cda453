"""The case-management API: upserts by the authority's own reference, idempotency keys,
batches, protected fields and the wall between authorities."""

import datetime
import io
import json
import uuid

import pytest
from django.core.management import call_command
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import Role
from audit.models import AuditEvent
from registry.models import Child, IdempotencyRecord, Involvement, OtherName, ProtectionStatus
from tests.factories import ChildFactory, ProtectionStatusFactory, UserFactory, nhs_number_for

pytestmark = pytest.mark.django_db

RECORD = {
    "nhs_number": "943 476 5919",
    "given_names": "Victoria",
    "family_name": "Adjo",
    "date_of_birth": "2016-11-02",
    "sex": "female",
    "postcode": "n17 9ex",
    "other_names": [{"kind": "alias", "given_names": "Anna", "family_name": "Kouao"}],
    "statuses": [{"kind": "cpp", "start_date": "2026-06-01"}],
    "involvements": [
        {
            "service_type": "education",
            "contact_name": "Ms Head",
            "contact_organisation_name": "Somerset Road Primary",
            "contact_phone": "020 7000 1234",
            "start_date": "2026-06-02",
            "is_lead": True,
        }
    ],
}


def cms_client(authority, email="mosaic@westminster.example.gov.uk"):
    out = io.StringIO()
    call_command("create_cms_account", local_authority=authority.gss_code, email=email, name="Mosaic", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def put(client, path, body, key=None):
    return client.put(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


def post(client, path, body, key=None):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


@pytest.fixture
def cms(westminster):
    return cms_client(westminster)


def test_create_cms_account_makes_a_token_only_register_manager_of_one_authority(westminster):
    out = io.StringIO()
    call_command(
        "create_cms_account", local_authority="e09000033", email="Sys@Example.gov.uk", name="Mosaic", stdout=out
    )
    account = User.objects.get(email="sys@example.gov.uk")
    assert account.has_role(Role.REGISTER_MANAGER)
    assert not account.has_usable_password()
    assert account.is_system_account
    # Only a hash of the token is kept.
    token = out.getvalue().strip().splitlines()[-1]
    assert AuthToken.objects.get(user=account).digest != token
    # No browser sign-in: there is no password to give.
    assert not account.check_password("")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ROLE_GRANTED, subject_user_id=account.pk).exists()


def test_a_child_is_created_with_its_statuses_names_and_involvements_then_updated(cms, westminster):
    response = put(cms, "/api/v1/cms/children/WCC-1/", RECORD)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["outcome"] == "created"
    child = Child.objects.get(register_id=body["register_id"])
    assert child.responsible_local_authority == westminster
    assert child.la_reference == "WCC-1"
    assert child.nhs_number == "9434765919"
    assert child.postcode == "N17 9EX"
    assert child.statuses.get().kind == ProtectionStatus.Kind.CHILD_PROTECTION_PLAN
    assert child.other_names.get().family_name == "Kouao"
    involvement = child.involvements.get()
    assert (involvement.contact_name, involvement.is_lead) == ("Ms Head", True)

    changed = {
        **RECORD,
        "town": "London",
        "statuses": [{"kind": "cpp", "start_date": "2026-06-01", "end_date": "2026-11-01"}],
    }
    response = put(cms, "/api/v1/cms/children/WCC-1/", changed)
    assert response.status_code == 200
    assert response.json()["outcome"] == "updated"
    child.refresh_from_db()
    assert child.town == "London"
    assert child.version == 2
    assert str(child.statuses.get().end_date) == "2026-11-01"
    actions = list(AuditEvent.objects.filter(register_ids=[child.register_id]).values_list("action", flat=True))
    assert AuditEvent.Action.CHILD_UPDATED in actions
    assert AuditEvent.Action.STATUS_ENDED in actions


def test_the_same_key_and_body_returns_the_stored_answer_and_writes_nothing(cms):
    first = put(cms, "/api/v1/cms/children/WCC-1/", RECORD, key="key-1")
    events = AuditEvent.objects.count()
    again = put(cms, "/api/v1/cms/children/WCC-1/", RECORD, key="key-1")
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert AuditEvent.objects.count() == events
    assert Child.objects.count() == 1


def test_the_same_key_with_a_different_body_is_refused_with_a_message(cms):
    put(cms, "/api/v1/cms/children/WCC-1/", RECORD, key="key-1")
    response = put(cms, "/api/v1/cms/children/WCC-1/", {**RECORD, "town": "Leeds"}, key="key-1")
    assert response.status_code == 422
    assert "different request" in response.json()["detail"]
    assert Child.objects.get().town == ""


def test_a_write_without_an_idempotency_key_is_refused(cms):
    response = cms.put("/api/v1/cms/children/WCC-1/", RECORD, format="json")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert not Child.objects.exists()


def test_the_same_batch_twice_changes_nothing(cms):
    records = [
        {**RECORD, "la_reference": "WCC-1"},
        {**RECORD, "la_reference": "WCC-2", "nhs_number": nhs_number_for(1), "involvements": []},
    ]
    first = post(cms, "/api/v1/cms/batch/", {"records": records})
    assert first.status_code == 200, first.json()
    assert first.json()["created"] == 2
    snapshot = list(Child.objects.order_by("pk").values())
    events = AuditEvent.objects.count()
    # A new key: the batch is really processed again, not replayed.
    second = post(cms, "/api/v1/cms/batch/", {"records": records})
    assert second.status_code == 200
    assert second.json()["unchanged"] == 2
    assert [result["outcome"] for result in second.json()["results"]] == ["unchanged", "unchanged"]
    assert list(Child.objects.order_by("pk").values()) == snapshot
    assert AuditEvent.objects.count() == events
    assert ProtectionStatus.objects.count() == 2
    assert Involvement.objects.count() == 1
    assert OtherName.objects.count() == 2


def test_a_batch_reports_each_record_and_a_bad_record_does_not_stop_the_others(cms):
    records = [
        {**RECORD, "la_reference": "WCC-1"},
        {**RECORD, "la_reference": "WCC-2", "nhs_number": "1234567890"},
        {**RECORD, "la_reference": "WCC-3", "nhs_number": nhs_number_for(2), "statuses": []},
        {"la_reference": "WCC-4", "family_name": "Smith", "register_id": "X"},
    ]
    response = post(cms, "/api/v1/cms/batch/", {"records": records})
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["rejected"]) == (1, 3)
    results = body["results"]
    assert results[0]["outcome"] == "created"
    assert "nhs_number" in results[1]["reasons"]
    assert "statuses" in results[2]["reasons"]
    assert "register_id" in results[3]["reasons"]
    assert [result["index"] for result in results] == [0, 1, 2, 3]
    assert list(Child.objects.values_list("la_reference", flat=True)) == ["WCC-1"]


def test_a_batch_over_the_limit_is_refused_before_anything_is_written(cms, settings):
    settings.CMS_BATCH_MAX_RECORDS = 3
    records = [{**RECORD, "la_reference": f"WCC-{n}", "nhs_number": ""} for n in range(4)]
    response = post(cms, "/api/v1/cms/batch/", {"records": records})
    assert response.status_code == 400
    assert "at most 3 records" in response.json()["detail"]
    assert not Child.objects.exists()
    assert post(cms, "/api/v1/cms/batch/", {"records": []}).status_code == 400


def test_the_default_batch_limit_is_a_thousand(cms):
    records = [{"la_reference": f"R{n}"} for n in range(1001)]
    response = post(cms, "/api/v1/cms/batch/", {"records": records})
    assert response.status_code == 400
    assert "1,000" in response.json()["detail"]


@pytest.mark.parametrize(
    "field",
    [
        "responsible_local_authority",
        "responsible_local_authority_id",
        "register_id",
        "version",
        "created_at",
        "updated_at",
        "is_shielded",
        "family_name_phonetic",
        "id",
    ],
)
def test_protected_fields_cannot_be_set(cms, birmingham, field):
    response = put(
        cms, "/api/v1/cms/children/WCC-1/", {**RECORD, field: birmingham.pk if "authority" in field else "X"}
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Child.objects.exists()


def test_protected_fields_cannot_be_set_in_nested_statuses_or_an_existing_child(cms, westminster, birmingham):
    put(cms, "/api/v1/cms/children/WCC-1/", RECORD)
    child = Child.objects.get()
    status = {"kind": "cpp", "start_date": "2026-06-01", "responsible_local_authority": birmingham.pk}
    response = put(cms, "/api/v1/cms/children/WCC-1/", {**RECORD, "statuses": [status]})
    assert response.status_code == 400
    response = put(cms, "/api/v1/cms/children/WCC-1/statuses/", {**status, "child": 1})
    assert response.status_code == 400
    assert set(response.json()) == {"responsible_local_authority", "child"}
    response = put(cms, "/api/v1/cms/children/WCC-1/", {**RECORD, "version": 99, "register_id": "R-0000-0000"})
    assert response.status_code == 400
    after = Child.objects.get()
    assert (after.version, after.register_id, after.responsible_local_authority) == (1, child.register_id, westminster)
    assert child.statuses.get().responsible_local_authority == westminster


def test_another_authoritys_child_is_never_touched(cms, birmingham):
    theirs = ChildFactory(
        responsible_local_authority=birmingham, la_reference="WCC-1", nhs_number=nhs_number_for(7),
        family_name="Vexborough",
    )  # fmt: skip
    ProtectionStatusFactory(child=theirs)
    # The same reference is a different child: references belong to their authority.
    response = put(cms, "/api/v1/cms/children/OTHER/statuses/", {"kind": "cpp", "start_date": "2026-06-01"})
    assert response.status_code == 404
    response = put(cms, "/api/v1/cms/children/WCC-1/involvements/", RECORD["involvements"][0])
    assert response.status_code == 404
    assert response.json() == {"detail": "Your authority has no child with this reference."}
    # Their child's NHS number: refused, without saying anything about that child.
    response = put(cms, "/api/v1/cms/children/NEW-1/", {**RECORD, "nhs_number": theirs.nhs_number})
    assert response.status_code == 409
    assert theirs.register_id not in response.content.decode()
    assert theirs.family_name not in response.content.decode()
    batch = post(
        cms, "/api/v1/cms/batch/", {"records": [{**RECORD, "la_reference": "X", "nhs_number": theirs.nhs_number}]}
    )
    assert batch.json()["results"][0]["outcome"] == "rejected"
    before = theirs.version
    theirs.refresh_from_db()
    assert theirs.version == before
    assert theirs.statuses.count() == 1
    assert not theirs.involvements.exists()
    assert not Child.objects.exclude(pk=theirs.pk).filter(nhs_number=theirs.nhs_number).exists()


def test_a_child_added_in_the_browser_is_taken_over_by_its_nhs_number(cms, westminster):
    ours = ChildFactory(responsible_local_authority=westminster, la_reference="", nhs_number="9434765919")
    # The same plan the system sends (a second current plan would be refused: issue 14 item 6).
    ProtectionStatusFactory(child=ours, kind="cpp", start_date=datetime.date(2026, 6, 1))
    response = put(cms, "/api/v1/cms/children/WCC-9/", RECORD)
    assert response.status_code == 200
    assert response.json()["register_id"] == ours.register_id
    ours.refresh_from_db()
    assert ours.la_reference == "WCC-9"
    assert Child.objects.count() == 1


def test_only_case_management_accounts_may_call(westminster, birmingham):
    anonymous = APIClient()
    assert put(anonymous, "/api/v1/cms/children/WCC-1/", RECORD).status_code == 401
    practitioner = UserFactory(organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=practitioner)[1]}")
    assert put(client, "/api/v1/cms/children/WCC-1/", RECORD).status_code == 401
    # A system account that manages two authorities cannot say whose reference this is.
    from accounts.services import user_create, user_grant_role

    system = user_create(
        email="two@example.gov.uk", full_name="Two", roles=[Role.REGISTER_MANAGER], local_authority=westminster,
        is_system_account=True,
    )  # fmt: skip
    user_grant_role(user=system, role=Role.REGISTER_MANAGER, local_authority=birmingham, granted_by=None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=system)[1]}")
    assert put(client, "/api/v1/cms/children/WCC-1/", RECORD).status_code == 403
    assert not Child.objects.exists()


def test_a_browser_session_cannot_use_the_cms_api(westminster):
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    client = APIClient()
    client.force_login(manager)
    assert put(client, "/api/v1/cms/children/WCC-1/", RECORD).status_code in (401, 403)


def test_status_and_involvement_endpoints_upsert_and_end(cms):
    put(cms, "/api/v1/cms/children/WCC-1/", RECORD)
    child = Child.objects.get()
    looked_after = {"kind": "looked_after", "start_date": "2026-07-01", "legal_basis": "s20"}
    response = put(cms, "/api/v1/cms/children/WCC-1/statuses/", looked_after)
    assert response.status_code == 200
    assert response.json()["outcome"] == "updated"
    assert put(cms, "/api/v1/cms/children/WCC-1/statuses/", looked_after).json()["outcome"] == "unchanged"
    bad = put(cms, "/api/v1/cms/children/WCC-1/statuses/", {"kind": "looked_after", "start_date": "2026-07-02"})
    assert bad.status_code == 400
    assert "legal_basis" in bad.json()
    ended = {**RECORD["involvements"][0], "end_date": "2026-11-01"}
    assert put(cms, "/api/v1/cms/children/WCC-1/involvements/", ended).status_code == 200
    assert str(child.involvements.get().end_date) == "2026-11-01"
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.INVOLVEMENT_ENDED, register_ids=[child.register_id]
    ).exists()
    assert child.statuses.count() == 2


def test_a_second_current_lead_is_refused_with_a_message(cms):
    put(cms, "/api/v1/cms/children/WCC-1/", RECORD)
    second = {**RECORD["involvements"][0], "contact_name": "Dr Who", "service_type": "gp"}
    response = put(cms, "/api/v1/cms/children/WCC-1/involvements/", second)
    assert response.status_code == 400
    assert "lead" in response.json()["is_lead"][0]


def test_a_child_out_of_scope_is_refused(cms):
    old = {**RECORD, "statuses": [{"kind": "cpp", "start_date": "2020-01-01", "end_date": "2021-01-01"}]}
    response = put(cms, "/api/v1/cms/children/WCC-1/", old)
    assert response.status_code == 400
    assert "cannot be added" in str(response.json())
    assert not Child.objects.exists()


def test_a_refused_write_is_rolled_back_with_its_audit_and_its_answer_stored(cms, monkeypatch):
    import registry.children.services

    def broken(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(registry.children.services, "audit_event_record", broken)
    response = put(cms, "/api/v1/cms/children/WCC-1/", RECORD, key="k")
    assert response.status_code == 503
    assert not Child.objects.exists()
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**RECORD, "postcode": "not a postcode"}, "postcode"),
        ({**RECORD, "date_of_birth": "2030-01-01"}, "date_of_birth"),
        ({**RECORD, "statuses": [{"kind": "cpp", "start_date": "2026-06-01", "end_date": "2026-01-01"}]}, "statuses"),
        (
            {**RECORD, "involvements": [{"service_type": "gp", "contact_name": " ", "start_date": "2026-01-01"}]},
            "involvements",
        ),
    ],
)
def test_bad_values_are_400_with_the_field_named(cms, body, field):
    response = put(cms, "/api/v1/cms/children/WCC-1/", body)
    assert response.status_code == 400
    assert field in response.json()


def test_text_that_cannot_be_stored_is_400_not_a_server_error(cms):
    # A lone surrogate is valid JSON but not storable UTF-8.
    body = json.dumps({**RECORD, "family_name": "\ud800"})
    response = cms.put("/api/v1/cms/children/WCC-1/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 400
    assert "family_name" in response.json()


def test_the_schema_documents_the_cms_endpoints(westminster):
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    client = APIClient()
    client.force_login(manager)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/api/v1/cms/children/{la_reference}/" in schema["paths"]
    assert "/api/v1/cms/batch/" in schema["paths"]
    properties = schema["components"]["schemas"]["ChildRecord"]["properties"]
    assert "register_id" not in properties
    assert "version" not in properties


def test_expired_keys_are_purged_and_may_be_used_afresh(cms):
    import datetime

    import time_machine

    from registry.intake.tasks import idempotency_keys_purge

    put(cms, "/api/v1/cms/children/WCC-1/", RECORD, key="old-key")
    assert idempotency_keys_purge() == 0
    with time_machine.travel(datetime.datetime(2026, 11, 25, 11, 0, tzinfo=datetime.UTC)):
        changed = put(cms, "/api/v1/cms/children/WCC-1/", {**RECORD, "town": "Leeds"}, key="old-key")
        assert changed.status_code == 200
        assert Child.objects.get().town == "Leeds"
        with time_machine.travel(datetime.datetime(2026, 11, 28, 11, 0, tzinfo=datetime.UTC)):
            assert idempotency_keys_purge() == 1
    assert not IdempotencyRecord.objects.exists()


def test_nul_characters_are_400_not_a_server_error(cms):
    # PostgreSQL cannot store NUL in text or JSON: it must be refused before it gets there.
    response = put(cms, "/api/v1/cms/children/WCC-1/", {**RECORD, "town": "a\x00b"})
    assert response.status_code == 400
    assert "town" in response.json()
    assert put(cms, "/api/v1/cms/children/A%00B/", RECORD).status_code == 400
    batch = post(cms, "/api/v1/cms/batch/", {"records": [{**RECORD, "la_reference": "\x00"}]})
    assert batch.status_code == 200
    assert batch.json()["results"][0]["outcome"] == "rejected"
    assert not Child.objects.exists()


def test_an_answer_echoing_unstorable_text_is_still_a_4xx(cms):
    body = json.dumps({**RECORD, "sex": "\ud800\u0000"})
    response = cms.put("/api/v1/cms/children/WCC-1/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 400
    assert "sex" in response.json()
    again = cms.put("/api/v1/cms/children/WCC-1/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("shielded", [False, True])
def test_a_half_made_record_cannot_tell_whether_an_nhs_number_is_on_the_register(cms, birmingham, shielded):
    """Issue 15, finding 7: a record missing its statuses used to get 409 for an NHS number
    another authority holds and 400 for a free one."""
    theirs = ChildFactory(
        responsible_local_authority=birmingham, nhs_number=nhs_number_for(8), is_shielded=shielded,
        shielding_reason="Refuge" if shielded else "",
    )  # fmt: skip
    ProtectionStatusFactory(child=theirs)
    probe = {**RECORD, "statuses": [], "involvements": [], "other_names": []}
    held = put(cms, "/api/v1/cms/children/PROBE-1/", {**probe, "nhs_number": theirs.nhs_number})
    free = put(cms, "/api/v1/cms/children/PROBE-2/", {**probe, "nhs_number": nhs_number_for(9)})
    assert (
        (held.status_code, held.json())
        == (free.status_code, free.json())
        == (
            400,
            {"statuses": ["A child new to the register needs at least one status"]},
        )
    )
    batch = post(
        cms,
        "/api/v1/cms/batch/",
        {"records": [{**probe, "la_reference": "P1", "nhs_number": theirs.nhs_number},
                     {**probe, "la_reference": "P2", "nhs_number": nhs_number_for(9)}]},
    )  # fmt: skip
    held_result, free_result = batch.json()["results"]
    assert held_result["reasons"] == free_result["reasons"]
    assert Child.objects.count() == 1

    # A record that would otherwise be accepted is refused, and the look-up is audited.
    refused = put(cms, "/api/v1/cms/children/NEW-1/", {**RECORD, "nhs_number": theirs.nhs_number})
    assert refused.status_code == 409
    assert theirs.register_id not in refused.content.decode()
    event = AuditEvent.objects.get(details__refusal="nhs_number_held_elsewhere")
    assert event.register_ids == [theirs.register_id] and event.channel == "api"
    assert event.local_authority_code == birmingham.gss_code
    assert Child.objects.count() == 1
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CHILD_CREATED).exists()
