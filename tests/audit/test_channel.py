"""Every audit event says which way in the action came (issue 15 finding 19): the same
register service records "api" when a case-management system calls it, "web" when a
manager uses a form, "feed" for a GRO feed's effect and "system" for scheduled work."""

import datetime

import pytest
from django.urls import reverse

from audit.actor import Actor, Channel
from audit.models import AuditEvent
from audit.services import audit_event_record
from registry.removal.services import removal_run
from tests.factories import InvolvementFactory, nhs_number_for
from tests.feeds.factories_feeds import death_row, deaths_file, ingest
from tests.registry.factories_maintenance import child_on_plan, register_manager
from tests.registry.import_helpers import run_import, write_csv
from tests.registry.test_cms_api import RECORD, cms_client, put

pytestmark = pytest.mark.django_db


def test_a_case_management_write_is_audited_with_the_api_channel(westminster):
    response = put(cms_client(westminster), "/api/v1/cms/children/WCC-1/", RECORD)
    assert response.status_code == 201
    written = AuditEvent.objects.filter(
        action__in=[
            AuditEvent.Action.CHILD_CREATED,
            AuditEvent.Action.STATUS_ADDED,
            AuditEvent.Action.INVOLVEMENT_ADDED,
        ]
    )
    assert written.exists()
    assert set(written.values_list("channel", flat=True)) == {"api"}


def test_a_web_form_write_is_audited_with_the_web_channel(client, westminster):
    child = child_on_plan(westminster)
    client.force_login(register_manager(westminster))
    base = {"version": "1", "kind": "looked_after", "start_date_0": "2", "start_date_1": "11", "start_date_2": "2026"}
    response = client.post(
        reverse("registry:manage-status-add", args=[child.register_id]), {**base, "legal_basis": "s38"}
    )
    assert response.status_code == 302
    assert AuditEvent.objects.get(action=AuditEvent.Action.STATUS_ADDED).channel == "web"


def test_scheduled_work_is_audited_with_the_system_channel():
    removal_run(by=Actor.system(), dry_run=True)
    assert AuditEvent.objects.get(action=AuditEvent.Action.REMOVAL_DRY_RUN).channel == "system"


def test_the_actor_context_carries_user_request_and_channel_to_the_event(rf, westminster):
    manager = register_manager(westminster)
    request = rf.post("/api/v1/search/", REMOTE_ADDR="192.0.2.7")
    by = Actor.from_request(request, user=manager)
    assert (by.user, by.channel, by.request) == (manager, Channel.API, request)
    event = audit_event_record(action=AuditEvent.Action.SEARCH, actor=by)
    assert (event.actor_id, event.channel, event.ip_address) == (manager.pk, "api", "192.0.2.7")


def test_no_event_is_written_with_an_empty_channel(westminster):
    # A user's action that no request started (a command run for them) is the system's way
    # in, not "" as before; a context built for a feed says so.
    manager = register_manager(westminster)
    assert audit_event_record(action=AuditEvent.Action.SEARCH, actor=manager).channel == "system"
    feed = Actor.system(channel=Channel.FEED)
    assert audit_event_record(action=AuditEvent.Action.FEED_FILE_INGESTED, actor=feed).channel == "feed"
    assert not AuditEvent.objects.filter(channel="").exists()


# The actor context reaches the GRO feeds, the CSV importer and the dashboard (issue 12
# item 4): each way in still records its own channel.


def test_a_death_applied_by_a_feed_is_audited_with_the_feed_channel(westminster):
    child = child_on_plan(westminster, nhs_number=nhs_number_for(1), date_of_birth=datetime.date(2019, 4, 12))
    ingest(deaths_file(death_row(entry_number=1, nhs_number=child.nhs_number)))
    recorded = AuditEvent.objects.get(action=AuditEvent.Action.CHILD_DEATH_RECORDED)
    assert (recorded.register_ids, recorded.channel, recorded.actor_id) == ([child.register_id], "feed", None)
    assert set(
        AuditEvent.objects.filter(
            action__in=[AuditEvent.Action.FEED_RECORDS_MATCHED, AuditEvent.Action.FEED_FILE_INGESTED]
        ).values_list("channel", flat=True)
    ) == {"feed"}


def test_an_import_is_audited_with_the_system_channel_for_the_named_user(tmp_path, westminster):
    manager = register_manager(westminster)
    run_import(write_csv(tmp_path / "children.csv", [{}]), actor=manager.email)
    imported = AuditEvent.objects.get(action=AuditEvent.Action.CHILDREN_IMPORTED)
    assert (imported.channel, imported.actor_id) == ("system", manager.pk)


def test_a_dashboard_confirmation_is_audited_with_the_web_channel(client, westminster):
    involvement = InvolvementFactory(child=child_on_plan(westminster))
    client.force_login(involvement.practitioner)
    response = client.post(reverse("dashboard:involvement-confirm", args=[involvement.pk]))
    assert response.status_code == 302
    confirmed = AuditEvent.objects.get(action=AuditEvent.Action.INVOLVEMENT_CONFIRMED)
    assert (confirmed.channel, confirmed.actor_id) == ("web", involvement.practitioner_id)
