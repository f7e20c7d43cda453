"""The system administrator's page of emails the outbox gave up on, and its "send again"."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import OutboundEmail
from accounts.roles import Role
from accounts.tasks import outbox_deliver
from audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/outbox/given-up/"


def _given_up(*, to: str = "practitioner@westminster.gov.uk", body: str = "Child R-ABC123 has died") -> OutboundEmail:
    now = timezone.now()
    return OutboundEmail.objects.create(
        to=to,
        subject="Child protection signposting register: a death has been registered",
        body=body,
        next_attempt_at=now - datetime.timedelta(hours=6),
        attempts=12,
        last_error="SMTPRecipientsRefused",
        given_up_at=now - datetime.timedelta(hours=1),
    )


@pytest.fixture
def admin():
    return UserFactory(is_staff=True, organisation=None, local_authority=None, roles=[Role.SYSTEM_ADMINISTRATOR])


def _send_again_url(email: OutboundEmail) -> str:
    return f"/outbox/given-up/{email.pk}/send-again/"


def test_the_system_administrator_sees_given_up_emails_without_their_messages(client, admin):
    email = _given_up()
    pending = OutboundEmail.objects.create(
        to="other@example.gov.uk", subject="Waiting", body="b", next_attempt_at=timezone.now()
    )
    client.force_login(admin)
    home = client.get("/").content.decode()
    assert f'href="{PAGE}"' in home and "1 email could not be sent" in home
    page = client.get(PAGE).content.decode()
    assert "1 email not sent" in page
    assert email.to in page and "a death has been registered" in page and "SMTPRecipientsRefused" in page
    assert "R-ABC123" not in page  # the body is never shown
    assert pending.to not in page  # still being tried: not given up
    assert _send_again_url(email) in page and "csrfmiddlewaretoken" in page


@pytest.mark.parametrize("role", [Role.FEED_OPERATOR, Role.AUDITOR, Role.PRACTITIONER, Role.REGISTER_MANAGER])
def test_nobody_else_sees_or_sends_them(client, westminster, role):
    email = _given_up()
    client.force_login(UserFactory(organisation__local_authority=westminster, roles=[role]))
    assert client.get(PAGE).status_code == 403
    assert client.post(_send_again_url(email)).status_code == 403
    email.refresh_from_db()
    assert email.given_up_at is not None
    assert f'href="{PAGE}"' not in client.get("/").content.decode()


def test_send_again_puts_it_back_in_the_queue_audited_and_the_next_delivery_sends_it(client, admin):
    email = _given_up()
    client.force_login(admin)
    assert client.get(_send_again_url(email)).status_code == 405  # a change is a POST
    response = client.post(_send_again_url(email))
    assert response.status_code == 302 and response["Location"] == PAGE
    page = client.get(PAGE).content.decode()
    assert "is back in the queue" in page and "Every email has been sent or is still being tried" in page
    email.refresh_from_db()
    assert (email.given_up_at, email.attempts) == (None, 0)
    event = AuditEvent.objects.get(action=AuditEvent.Action.OUTBOUND_EMAIL_REQUEUED)
    assert (event.actor, event.channel, event.details["outbound_email"], event.details["attempts"]) == (
        admin,
        "web",
        email.pk,
        12,
    )
    assert "R-ABC123" not in str(event.details)
    assert outbox_deliver() == 1
    assert [message.to for message in mail.outbox] == [[email.to]]


def test_send_again_twice_requeues_once(client, admin):
    email = _given_up()
    client.force_login(admin)
    client.post(_send_again_url(email))
    response = client.post(_send_again_url(email), follow=True)
    assert "no longer given up" in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.OUTBOUND_EMAIL_REQUEUED).count() == 1


def test_the_audit_event_names_the_recipient_when_they_are_a_user(client, admin, westminster):
    practitioner = UserFactory(organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    email = _given_up(to=practitioner.email.upper())
    client.force_login(admin)
    client.post(_send_again_url(email))
    assert AuditEvent.objects.get(action=AuditEvent.Action.OUTBOUND_EMAIL_REQUEUED).subject_user_id == practitioner.pk
