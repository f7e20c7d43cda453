"""Every page that shows a register manager a child's personal data is audited before it
is shown, and is not shown if the audit cannot be written (issue 15, finding 4)."""

import datetime

import pytest
from django.db import DatabaseError
from django.urls import reverse

from audit.models import AuditEvent, LookupOutcome
from feeds.models import FeedMatch
from registry.models import ManualRemovalReason
from tests.factories import ChildFactory, ProtectionStatusFactory
from tests.feeds.factories_feeds import death_row, deaths_file, ingest
from tests.registry.factories_maintenance import child_on_plan, register_manager
from tests.registry.test_maintenance_changes import identity_post

pytestmark = pytest.mark.django_db

# Hidden Lane is a shielded child's refuge address in these tests: a name no page text holds.
NAME = {"given_names": "Ottoline", "family_name": "Quenby", "address_line_1": "7 Hidden Lane"}


@pytest.fixture
def manager(westminster):
    return register_manager(westminster)


@pytest.fixture
def child(westminster):
    return child_on_plan(
        westminster, is_shielded=True, shielding_reason="Refuge", date_of_birth=datetime.date(2018, 5, 1), **NAME
    )


def broken(**kwargs):
    raise DatabaseError("audit table unavailable")


def reads(manager, page):
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.CHILD_VIEWED, actor=manager, details__page=page, outcome=LookupOutcome.VIEWED
    )


def shown_and_audited(client, manager, child, url, page, *, method="get", data=None, name="Quenby"):
    response = getattr(client, method)(url, data or {})
    assert response.status_code == 200
    assert name in response.content.decode()
    [event] = reads(manager, page)
    assert event.register_ids == [child.register_id] and event.channel == "web"
    return response


def test_the_managers_list_and_record_page_are_audited(client, manager, child):
    client.force_login(manager)
    shown_and_audited(client, manager, child, reverse("registry:manage-children"), "manage_children")
    page = shown_and_audited(
        client, manager, child, reverse("registry:manage-child", args=[child.register_id]), "manage_child"
    )
    assert "7 Hidden Lane" in page.content.decode()


def test_the_identity_form_and_the_conflict_page_are_audited(client, westminster, manager, child):
    client.force_login(manager)
    url = reverse("registry:manage-identity", args=[child.register_id])
    shown_and_audited(client, manager, child, url, "child_identity")
    stale = identity_post(child, town="Leeds")
    other = register_manager(westminster)
    client.force_login(other)
    assert client.post(url, identity_post(child, family_name="Quenbie")).status_code == 302
    client.force_login(manager)
    response = client.post(url, stale)
    assert response.status_code == 409 and "Quenbie" in response.content.decode()
    [event] = reads(manager, "child_identity_conflict")
    assert event.register_ids == [child.register_id]


def test_the_removal_confirmation_is_audited(client, manager, child):
    client.force_login(manager)
    url = f"/children/{child.register_id}/remove/"
    shown_and_audited(
        client,
        manager,
        child,
        url,
        "removal_confirmation",
        method="post",
        data={"reason": ManualRemovalReason.DUPLICATE_MERGED},
    )


def test_the_transfer_confirmation_is_audited(client, manager, child, birmingham):
    client.force_login(manager)
    answers = {"version": "1", "to_local_authority": str(birmingham.pk), "transferred_on_0": "20",
               "transferred_on_1": "11", "transferred_on_2": "2026"}  # fmt: skip
    url = reverse("registry:manage-transfer", args=[child.register_id])
    shown_and_audited(client, manager, child, url, "child_transfer_confirm", method="post", data=answers)


@pytest.mark.parametrize(
    ("route", "page"),
    [
        ("registry:manage-shielding", "child_shielding"),
        ("registry:manage-other-name-add", "other_name_add"),
        ("registry:manage-status-add", "status_add"),
        ("registry:manage-involvement-add", "involvement_add"),
        ("registry:manage-transfer", "child_transfer"),
    ],
)
def test_every_form_filled_with_the_record_is_audited(client, manager, child, route, page):
    client.force_login(manager)
    shown_and_audited(client, manager, child, reverse(route, args=[child.register_id]), page)


def feed_review_match(westminster):
    # The death registration's defaults (tests/feeds/factories_feeds.py) name this child.
    child = ChildFactory(
        responsible_local_authority=westminster, nhs_number=None, given_names="Amelia", family_name="Oneil",
        date_of_birth=datetime.date(2019, 4, 12),
    )  # fmt: skip
    ProtectionStatusFactory(child=child)
    ingest(deaths_file(death_row(postcode="", address="1 Registered Road")))
    return child, FeedMatch.objects.get()


def test_the_feed_review_page_is_audited(client, westminster, manager):
    child, match = feed_review_match(westminster)
    client.force_login(manager)
    shown_and_audited(client, manager, child, f"/feeds/review/{match.pk}/", "feed_review", name="Oneil")


def test_a_feed_review_that_cannot_be_audited_is_not_shown(client, westminster, manager, monkeypatch):
    _child, match = feed_review_match(westminster)
    monkeypatch.setattr("audit.services.audit_event_record", broken)
    client.force_login(manager)
    response = client.get(f"/feeds/review/{match.pk}/")
    assert response.status_code == 503 and "Oneil" not in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        lambda child: reverse("registry:manage-children"),
        lambda child: reverse("registry:manage-child", args=[child.register_id]),
        lambda child: reverse("registry:manage-identity", args=[child.register_id]),
    ],
)
def test_a_page_whose_read_cannot_be_audited_is_not_shown(client, manager, child, monkeypatch, url):
    monkeypatch.setattr("audit.services.audit_event_record", broken)
    client.force_login(manager)
    response = client.get(url(child))
    assert response.status_code == 503
    assert "Quenby" not in response.content.decode() and "Hidden Lane" not in response.content.decode()


def test_a_removal_confirmation_that_cannot_be_audited_is_not_shown(client, manager, child, monkeypatch):
    monkeypatch.setattr("audit.services.audit_event_record", broken)
    client.force_login(manager)
    response = client.post(f"/children/{child.register_id}/remove/", {"reason": ManualRemovalReason.DUPLICATE_MERGED})
    assert response.status_code == 503 and "Quenby" not in response.content.decode()
    child.refresh_from_db()  # still on the register: nothing was removed
