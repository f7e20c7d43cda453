"""Every audit event says which way in the action came (issue 15 finding 19): the same
register service records "api" when a case-management system calls it, "web" when a
manager uses a form, "feed" for a GRO feed's effect and "system" for scheduled work."""

import pytest
from django.urls import reverse

from audit.actor import Actor, Channel
from audit.models import AuditEvent
from audit.services import audit_event_record
from registry.removal.services import removal_run
from tests.registry.factories_maintenance import child_on_plan, register_manager
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
