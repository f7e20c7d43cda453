"""The email outbox: an email exists only if the change that caused it committed, survives a
broker outage and a mail-server failure, and is sent once however many workers deliver."""

import datetime
import smtplib
import threading

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerOperationalError

from accounts import services_outbox as services
from accounts.models import OutboundEmail
from accounts.services_outbox import email_enqueue, outbox_deliver_due, outbox_retry_given_up, outbox_sent_purge
from accounts.tasks import outbox_deliver

pytestmark = pytest.mark.django_db


def _broker_down(monkeypatch):
    calls = []

    def refuse(*args, **kwargs):
        calls.append(kwargs)
        raise BrokerOperationalError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(outbox_deliver, "apply_async", refuse)
    return calls


def test_an_email_is_sent_on_commit_and_never_if_the_change_rolls_back(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email_enqueue(to="a@example.gov.uk", subject="Kept", body="b")

    def change_that_fails() -> None:
        with transaction.atomic():
            email_enqueue(to="b@example.gov.uk", subject="Rolled back", body="b")
            raise RuntimeError("the change fails")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        change_that_fails()
    assert [email.subject for email in mail.outbox] == ["Kept"]
    assert OutboundEmail.objects.get().sent_at is not None


def test_a_broker_outage_loses_no_email_and_does_not_fail_the_change(monkeypatch, django_capture_on_commit_callbacks):
    calls = _broker_down(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for n in range(3):
            email_enqueue(to=f"p{n}@example.gov.uk", subject="Death registered", body="Child R-1")
    # One nudge for the whole transaction, refused without retrying: the change stands.
    assert calls == [{"retry": False}]
    assert mail.outbox == [] and OutboundEmail.objects.filter(sent_at=None).count() == 3
    # Beat's next delivery, once the broker is back, sends them all.
    assert outbox_deliver() == 3
    assert sorted(email.to[0] for email in mail.outbox) == [
        "p0@example.gov.uk",
        "p1@example.gov.uk",
        "p2@example.gov.uk",
    ]


def test_each_email_is_sent_once_however_often_delivery_runs(monkeypatch):
    _broker_down(monkeypatch)
    email = email_enqueue(to="a@example.gov.uk", subject="s", body="b")
    assert outbox_deliver() == 1
    assert outbox_deliver() == 0
    assert outbox_deliver_due() == (0, False)
    assert len(mail.outbox) == 1
    # The Message-ID is the row's, so a copy sent twice in the worst case can be recognised.
    assert mail.outbox[0].extra_headers["Message-ID"].startswith(f"<outbox-{email.pk}-")


def test_a_mail_server_failure_is_retried_with_backoff_then_given_up(monkeypatch, settings):
    _broker_down(monkeypatch)
    settings.OUTBOX_RETRY_BASE_SECONDS, settings.OUTBOX_MAX_ATTEMPTS = 30, 3
    email = email_enqueue(to="a@example.gov.uk", subject="s", body="b")
    other = email_enqueue(to="b@example.gov.uk", subject="s", body="b")
    failing = {email.to}
    real_send = EmailMessage.send

    def send(message, fail_silently=False):
        if set(message.to) & failing:
            raise smtplib.SMTPRecipientsRefused({"a@example.gov.uk": (450, b"try later")})
        return real_send(message, fail_silently)

    monkeypatch.setattr(EmailMessage, "send", send)
    start = timezone.now()
    # One bad address holds up no other email.
    assert outbox_deliver_due(now=start) == (1, False)
    email.refresh_from_db()
    assert (email.sent_at, email.attempts, email.last_error) == (None, 1, "SMTPRecipientsRefused")
    assert email.next_attempt_at >= start + datetime.timedelta(seconds=30)
    assert outbox_deliver_due(now=start + datetime.timedelta(seconds=10)) == (0, False)  # not due yet
    assert outbox_deliver_due(now=start + datetime.timedelta(seconds=31)) == (0, False)
    email.refresh_from_db()
    assert email.attempts == 2 and email.next_attempt_at >= start + datetime.timedelta(seconds=31 + 60)
    assert outbox_deliver_due(now=start + datetime.timedelta(hours=1)) == (0, False)
    email.refresh_from_db()
    assert email.attempts == 3 and email.given_up_at is not None
    assert services.outbox_backlog() == {"pending": 0, "overdue": 0, "given_up": 1}
    # The mail server mended, an operator puts it back in the queue: it goes, once.
    failing.clear()
    assert outbox_retry_given_up() == 1
    assert outbox_deliver() == 1
    assert sorted(message.to[0] for message in mail.outbox) == [email.to, other.to]


def test_a_database_error_stops_delivery_and_leaves_the_email_pending(monkeypatch):
    _broker_down(monkeypatch)
    email_enqueue(to="a@example.gov.uk", subject="s", body="b")

    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "_message", database_gone)
    with pytest.raises(OperationalError):
        outbox_deliver()
    assert OutboundEmail.objects.get().sent_at is None and mail.outbox == []


def test_a_full_batch_queues_the_next(monkeypatch, settings):
    calls = _broker_down(monkeypatch)
    settings.OUTBOX_BATCH_SIZE = 2
    for n in range(3):
        email_enqueue(to=f"p{n}@example.gov.uk", subject="s", body="b")
    monkeypatch.setattr(outbox_deliver, "delay", lambda: calls.append("next batch"))
    assert outbox_deliver() == 2
    assert calls[-1] == "next batch"
    assert outbox_deliver() == 1 and len(mail.outbox) == 3


def test_sent_emails_are_purged_after_the_retention_period(monkeypatch, settings):
    _broker_down(monkeypatch)
    settings.OUTBOX_SENT_RETENTION_DAYS = 30
    email_enqueue(to="a@example.gov.uk", subject="s", body="b")
    email_enqueue(to="b@example.gov.uk", subject="s", body="b")
    outbox_deliver()
    email_enqueue(to="c@example.gov.uk", subject="pending", body="b")
    now = timezone.now()
    assert outbox_sent_purge(now=now + datetime.timedelta(days=29)) == 0
    assert outbox_sent_purge(now=now + datetime.timedelta(days=31)) == 2
    assert list(OutboundEmail.objects.values_list("subject", flat=True)) == ["pending"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_at_once_send_each_email_once(monkeypatch):
    if connection.vendor == "sqlite":
        pytest.skip("the SQLite test database is in memory and shared by threads: run on PostgreSQL")
    _broker_down(monkeypatch)
    for n in range(40):
        email_enqueue(to=f"p{n}@example.gov.uk", subject="s", body="b")
    sent: list[int] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        try:
            sent.append(outbox_deliver_due()[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent) == 40
    assert sorted(message.to[0] for message in mail.outbox) == sorted(f"p{n}@example.gov.uk" for n in range(40))
