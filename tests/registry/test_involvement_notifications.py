import datetime

import pytest
from django.core import mail

from accounts.roles import Role
from accounts.tasks import outbox_deliver
from audit.models import AuditEvent
from registry.children.tasks import access_digests_send, notification_emails_send
from registry.models import AccessNotice, Involvement, Notification
from tests.factories import ChildFactory, InvolvementFactory, ProtectionStatusFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def child(westminster):
    # A name no email text contains, so "the name is not in the email" is a real check.
    child = ChildFactory(responsible_local_authority=westminster, family_name="Vexborough")
    ProtectionStatusFactory(child=child)
    return child


def start(client, user, child, service="health_visiting"):
    client.force_login(user)
    return client.post(f"/children/{child.register_id}/working-with/", {"service_type": service})


def test_the_first_practitioner_is_recorded_without_notifying_anyone(
    client, child, westminster, django_capture_on_commit_callbacks
):
    worker = UserFactory(organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    with django_capture_on_commit_callbacks(execute=True):
        response = start(client, worker, child)
    assert response.status_code == 302
    involvement = Involvement.objects.get(child=child, practitioner=worker)
    assert involvement.end_date is None and involvement.service_type == "health_visiting"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVOLVEMENT_ADDED, actor=worker).exists()
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_a_second_practitioner_notifies_everyone_involved_and_the_authority(
    client, child, westminster, django_capture_on_commit_callbacks
):
    first = UserFactory(full_name="First Worker", organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    InvolvementFactory(child=child, practitioner=first)
    second = UserFactory(full_name="Second Worker", roles=[Role.PRACTITIONER])
    with django_capture_on_commit_callbacks(execute=True):
        start(client, second, child)
    recipients = set(Notification.objects.values_list("recipient", flat=True))
    assert recipients == {first.pk, second.pk, manager.pk}
    assert "Second Worker" in Notification.objects.get(recipient=first).message
    assert child.register_id in Notification.objects.get(recipient=first).message
    emailed = sorted(address for message in mail.outbox for address in message.to)
    assert emailed == sorted([first.email, second.email, manager.email, child.responsible_local_authority.secure_email])
    assert all(child.family_name not in message.body for message in mail.outbox)
    # In-app: the first practitioner sees the notification.
    client.force_login(first)
    assert "Second Worker" in client.get("/notifications/").content.decode()


def test_notification_emails_are_sent_once_even_if_the_task_runs_twice(child):
    notification = Notification.objects.create(
        recipient=UserFactory(), child=child, kind=Notification.Kind.INVOLVEMENT_MATCH, message="m"
    )
    # The task kept for messages queued before the outbox: it queues the email once.
    assert notification_emails_send([notification.pk]) == 1
    assert notification_emails_send([notification.pk]) == 0
    assert outbox_deliver() == 1
    assert outbox_deliver() == 0
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [notification.recipient.email]


def test_a_practitioner_ends_their_own_involvement(client, child):
    worker = UserFactory(roles=[Role.PRACTITIONER])
    InvolvementFactory(child=child, practitioner=worker, start_date=datetime.date(2026, 1, 1))
    client.force_login(worker)
    client.post(f"/children/{child.register_id}/working-with/end/")
    assert Involvement.objects.get(practitioner=worker).end_date is not None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVOLVEMENT_ENDED, actor=worker).exists()


def test_twice_is_refused_and_a_shielded_child_cannot_be_joined_here(client, child):
    worker = UserFactory(roles=[Role.PRACTITIONER])
    start(client, worker, child)
    start(client, worker, child)
    assert Involvement.objects.filter(practitioner=worker).count() == 1
    shielded = ChildFactory(is_shielded=True, shielding_reason="Refuge")
    start(client, worker, shielded)
    assert not Involvement.objects.filter(child=shielded).exists()


def test_the_daily_digest_tells_each_authority_once_about_outside_lookups(child, birmingham):
    outsider = UserFactory(organisation__local_authority=birmingham, roles=[Role.PRACTITIONER])
    AccessNotice.objects.create(
        local_authority=child.responsible_local_authority, child=child, accessed_by=outsider, reason="emergency"
    )
    AccessNotice.objects.create(
        local_authority=child.responsible_local_authority, child=child, accessed_by=outsider, reason="assessment"
    )
    assert access_digests_send() == 1
    assert outbox_deliver() == 1
    assert len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert digest.to == [child.responsible_local_authority.secure_email]
    assert "2 look-ups" in digest.subject and child.register_id in digest.body and outsider.full_name in digest.body
    assert "reason: Emergency or out of hours" in digest.body and "reason: emergency" not in digest.body
    assert access_digests_send() == 0
    assert outbox_deliver() == 0
    assert len(mail.outbox) == 1


def test_a_sensitive_service_joining_is_not_revealed_outside_that_service(
    client, child, westminster, django_capture_on_commit_callbacks
):
    from accounts.models import SensitiveCategory
    from tests.factories import OrganisationFactory

    social_worker = UserFactory(organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    InvolvementFactory(child=child, practitioner=social_worker)
    clinic = OrganisationFactory(local_authority=westminster, sensitive_service=SensitiveCategory.SEXUAL_HEALTH)
    nurse = UserFactory(full_name="Clinic Nurse", organisation=clinic, roles=[Role.PRACTITIONER])
    with django_capture_on_commit_callbacks(execute=True):
        start(client, nurse, child, service="sexual_health")
    involvement = Involvement.objects.get(practitioner=nurse)
    assert involvement.sensitive_category == SensitiveCategory.SEXUAL_HEALTH
    # The nurse learns who else is involved; nobody outside the service learns of the nurse.
    assert set(Notification.objects.values_list("recipient", flat=True)) == {nurse.pk}
    assert all("Clinic Nurse" not in message.body for message in mail.outbox)
    assert [message.to for message in mail.outbox] == [[nurse.email]]
