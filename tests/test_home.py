"""The home page (signposting/home.py, signposting/views.py): built in the project layer
because it shows counts from every app; accounts and audit import nothing of the register."""

import pytest

from accounts.roles import Role
from audit.models import AuditEvent
from audit.services import audit_event_record
from tests.factories import ChildFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_home_shows_each_role_its_own_summary(client, westminster):
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER, Role.LA_USER_ADMIN])
    client.force_login(manager)
    page = client.get("/").content.decode()
    assert "Your authority's register" in page
    assert "Your authority's users" in page
    assert "Service health" not in page
    admin = UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR])
    client.force_login(admin)
    page = client.get("/").content.decode()
    assert "Service health" in page and "No background worker has reported in" in page


def test_home_counts_the_managers_children_and_the_auditors_events_of_the_last_day(client, westminster, birmingham):
    ChildFactory.create_batch(3, responsible_local_authority=westminster)
    ChildFactory(responsible_local_authority=birmingham)
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    client.force_login(manager)
    page = client.get("/").content.decode()
    assert '<td class="govuk-table__cell" data-label="Local authority">Westminster City Council</td>' in page
    assert (
        '<td class="govuk-table__cell govuk-table__cell--numeric" data-label="Children on the register">3</td>' in page
    )
    auditor = UserFactory(organisation=None, local_authority=None, roles=[Role.AUDITOR])
    before = AuditEvent.objects.count()
    for _ in range(2):
        audit_event_record(action=AuditEvent.Action.SEARCH, actor=manager)
    client.force_login(auditor)
    # Signing in is audited too: the count is every event of the last 24 hours.
    expected = AuditEvent.objects.count()
    assert expected >= before + 2
    assert f"{expected} events recorded in the last 24 hours." in client.get("/").content.decode()
