"""Issue 14 item 6: a child never has two overlapping statuses of the same kind, whichever
way the status comes in; the database refuses a second current one by itself."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from audit.actor import Actor
from registry.children import services
from registry.children.status_rules import StatusDates, statuses_overlap
from registry.models import ProtectionStatus
from tests.registry.factories_maintenance import add_child_post, child_on_plan, register_manager
from tests.registry.import_helpers import run_import, write_csv
from tests.registry.test_cms_api import RECORD, put
from tests.registry.test_maintenance_duplicates import decide, existing_kofi

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        (("cpp", D(2026, 1, 1), None), ("cpp", D(2026, 6, 1), None), True),
        (("cpp", D(2026, 1, 1), D(2026, 3, 1)), ("cpp", D(2026, 3, 1), None), True),  # one shared day
        (("cpp", D(2026, 1, 1), D(2026, 2, 28)), ("cpp", D(2026, 3, 1), None), False),
        (("cpp", D(2026, 1, 1), None), ("looked_after", D(2026, 6, 1), None), False),
    ],
)
def test_the_rule(first, second, overlap):
    assert statuses_overlap(StatusDates(*first), StatusDates(*second)) is overlap
    assert statuses_overlap(StatusDates(*second), StatusDates(*first)) is overlap


def test_the_database_refuses_a_second_current_status_of_a_kind(westminster):
    child = child_on_plan(westminster)
    existing = child.statuses.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProtectionStatus.objects.create(
            child=child, kind=existing.kind, start_date=D(2026, 5, 1), responsible_local_authority=westminster
        )
    # Ended, or of another kind, is allowed.
    ProtectionStatus.objects.create(
        child=child, kind=existing.kind, start_date=D(2025, 1, 1), end_date=D(2025, 6, 1),
        responsible_local_authority=westminster,
    )  # fmt: skip
    ProtectionStatus.objects.create(
        child=child, kind="looked_after", legal_basis="s20", start_date=D(2026, 5, 1),
        responsible_local_authority=westminster,
    )  # fmt: skip


def test_the_service_refuses_an_overlap_with_a_clear_message(westminster):
    child = child_on_plan(westminster)  # a current plan from 1 March 2026
    new = ProtectionStatus(kind="cpp", start_date=D(2026, 9, 1))
    with pytest.raises(ValidationError) as refused:
        services.status_add(by=Actor.system(), child=child, status=new)
    assert refused.value.message_dict == {
        "kind": [
            "This child already has a current child protection plan from 1 March 2026. End it before adding another"
        ]
    }
    # An earlier plan that ended before this one began is fine; one that overlaps is not.
    services.status_add(
        by=Actor.system(),
        child=child,
        status=ProtectionStatus(kind="cpp", start_date=D(2025, 1, 1), end_date=D(2025, 12, 31)),
    )
    with pytest.raises(ValidationError, match="overlaps these dates"):
        services.status_add(
            by=Actor.system(),
            child=child,
            status=ProtectionStatus(kind="cpp", start_date=D(2025, 6, 1), end_date=D(2025, 7, 1)),
        )
    assert child.statuses.count() == 2


def test_same_child_on_the_duplicate_warning_does_not_add_a_second_current_plan(client, westminster):
    existing = existing_kofi(westminster)  # on a current plan
    client.force_login(register_manager(westminster))
    post = add_child_post(westminster)  # another child protection plan from 1 September 2026
    page = client.post(reverse("registry:manage-child-add"), post).content.decode()
    response = decide(client, post, f"same:{existing.register_id}", page)
    body = response.content.decode()
    assert response.status_code == 200
    assert "This child already has a current child protection plan from 1 March 2026" in body
    assert "govuk-error-summary" in body
    assert existing.statuses.count() == 1


def test_the_manager_status_form_shows_the_overlap_next_to_the_status(client, westminster):
    child = child_on_plan(westminster)
    client.force_login(register_manager(westminster))
    url = reverse("registry:manage-status-add", args=[child.register_id])
    page = client.get(url).content.decode()
    version = page.split('name="version" value="')[1].split('"')[0]
    body = client.post(
        url, {"version": version, "kind": "cpp", "start_date_0": "1", "start_date_1": "9", "start_date_2": "2026"}
    ).content.decode()
    assert "This child already has a current child protection plan" in body
    assert child.statuses.count() == 1


def test_the_import_rejects_a_row_that_would_overlap_and_keeps_the_others(tmp_path, westminster):
    child = child_on_plan(westminster, nhs_number="9434765919", la_reference="WCC-1")
    path = write_csv(
        tmp_path / "children.csv",
        [
            {"status_start": "2026-06-01"},  # a second current plan for the same child
            {"nhs_number": "", "la_reference": "WCC-2", "status_start": "2026-01-01"},
            {"nhs_number": "", "la_reference": "WCC-2", "status_start": "2026-02-01"},  # overlaps the row above
        ],
    )
    _, report = run_import(path)
    reasons = {int(row["line"]): row["reason"] for row in report}
    assert set(reasons) == {2, 4}
    assert "already has a current child protection plan from 1 March 2026" in reasons[2]
    assert "already has a current child protection plan from 1 January 2026" in reasons[4]
    assert child.statuses.count() == 1
    assert ProtectionStatus.objects.filter(child__la_reference="WCC-2").count() == 1


def test_the_cms_api_answers_400_with_the_message(westminster):
    from tests.registry.test_cms_api import cms_client

    cms = cms_client(westminster)
    assert put(cms, "/api/v1/cms/children/WCC-1/", {**RECORD}).status_code in (200, 201)
    response = put(cms, "/api/v1/cms/children/WCC-1/statuses/", {"kind": "cpp", "start_date": "2026-08-01"})
    assert response.status_code == 400
    assert "already has a current child protection plan from 1 June 2026" in str(response.json())
    assert ProtectionStatus.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_ends_all_but_the_latest_current_status_of_a_kind():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        [("registry", "0006_transfers_uploads_idempotency")],
        [("registry", "0007_one_current_status_per_kind")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        authority = old.get_model("accounts", "LocalAuthority").objects.create(
            gss_code="E09000033", name="Westminster", office_hours_phone="1", out_of_hours_phone="2",
            secure_email="a@westminster.gov.uk",
        )  # fmt: skip
        child = old.get_model("registry", "Child").objects.create(
            register_id="R7K2-M9QX-4HTP", family_name="Adjei", responsible_local_authority=authority
        )
        statuses = old.get_model("registry", "ProtectionStatus").objects
        # Two current plans, as the old "same child" path could leave them, and a looked-after period.
        for start in (D(2026, 3, 1), D(2026, 9, 1)):
            statuses.create(child=child, kind="cpp", start_date=start, responsible_local_authority=authority)
        statuses.create(
            child=child, kind="looked_after", legal_basis="s20", start_date=D(2026, 4, 1),
            responsible_local_authority=authority,
        )  # fmt: skip
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    finally:
        MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
    ends = dict(ProtectionStatus.objects.values_list("start_date", "end_date"))
    assert ends == {D(2026, 3, 1): D(2026, 8, 31), D(2026, 9, 1): None, D(2026, 4, 1): None}
