"""A chunk's deaths are applied together (issue 16, item 8): what a chunk asks of the
database does not grow with the deaths in it, and every death still has all its effects:
recorded, audited on the chain, told to the child's practitioners and register managers
once, by email through the outbox."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import OutboundEmail
from accounts.roles import Role
from audit.chain import chain_verify
from audit.models import AuditEvent
from feeds.ingestion import feed_file_ingest_run
from feeds.models import FeedMatch
from registry.models import Child, Notification, ProtectionStatus
from tests.factories import ChildFactory, InvolvementFactory, ProtectionStatusFactory, UserFactory
from tests.feeds.factories_feeds import death_row, deaths_file, receive

pytestmark = pytest.mark.django_db


def _children(authorities, count: int, *, first: int) -> list[Child]:
    children = []
    for number in range(first, first + count):
        child = ChildFactory(
            responsible_local_authority=authorities[number % len(authorities)],
            date_of_birth=datetime.date(2015, 1, 1) + datetime.timedelta(days=number),
        )
        ProtectionStatusFactory(child=child, kind=ProtectionStatus.Kind.CHILD_PROTECTION_PLAN)
        InvolvementFactory(child=child, practitioner=UserFactory(roles=[Role.PRACTITIONER]))
        children.append(child)
    return children


def _ingest_counting_queries(children: list[Child], *, first_entry: int) -> int:
    rows = [
        death_row(
            entry_number=first_entry + index,
            nhs_number=child.nhs_number,
            date_of_birth=child.date_of_birth,
            forenames=child.given_names,
            surname=child.family_name,
        )
        for index, child in enumerate(children)
    ]
    receipt = receive(deaths_file(*rows), name=f"deaths-{first_entry}.csv")
    with CaptureQueriesContext(connection) as queries:
        feed_file = feed_file_ingest_run(feed_file_id=receipt.feed_file.pk)
    assert feed_file is not None and feed_file.rows_applied == len(children)
    return len(queries)


def test_a_chunk_of_many_deaths_asks_the_database_no_more_than_a_chunk_of_a_few(westminster, birmingham):
    authorities = [westminster, birmingham]
    for authority in authorities:
        UserFactory(organisation__local_authority=authority, roles=[Role.REGISTER_MANAGER])
    few = _children(authorities, 3, first=0)
    many = _children(authorities, 40, first=3)

    queries_for_few = _ingest_counting_queries(few, first_entry=1)
    queries_for_many = _ingest_counting_queries(many, first_entry=1000)

    # One at a time, each death cost about 15 queries: 40 deaths would be 600 or more.
    assert queries_for_many <= queries_for_few
    # Every death has all its effects, as when they were recorded one by one.
    deaths = [*few, *many]
    assert Child.objects.filter(pk__in=[child.pk for child in deaths], date_of_death__isnull=False).count() == 43
    assert FeedMatch.objects.filter(state=FeedMatch.State.APPLIED).count() == 43
    recorded = AuditEvent.objects.filter(action=AuditEvent.Action.CHILD_DEATH_RECORDED)
    assert sorted(id for event in recorded for id in event.register_ids) == sorted(c.register_id for c in deaths)
    assert chain_verify().intact
    told = Notification.objects.filter(kind=Notification.Kind.DEATH_REGISTERED)
    # Each child's practitioner and its authority's register manager, once each.
    assert told.count() == 2 * 43
    assert sorted(told.values_list("child_id", flat=True)) == sorted([child.pk for child in deaths] * 2)
    assert OutboundEmail.objects.count() == told.count()
