"""The email outbox: every email the register sends is a row written in the transaction of
the change that causes it, and delivered from the database by a Celery task.

`email_enqueue` is the one way an email leaves the register. It never talks to the broker
or the mail server inside the caller's transaction; after commit it nudges a worker to
deliver at once, and beat's `outbox-deliver` delivers whatever the nudge did not (the broker
was down, the worker died, the mail server refused). Each row is claimed with a conditional
UPDATE before it is sent, so two workers never send one row twice.
"""

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import OutboundEmail

logger = logging.getLogger(__name__)

DELIVER_TASK = "accounts.tasks.outbox_deliver"


def email_enqueue(*, to: str, subject: str, body: str) -> OutboundEmail:
    """Write one email to the outbox in the caller's transaction. It is sent only if that
    transaction commits, and then at least once and normally exactly once (see
    docs/operations.md, "Email outbox")."""
    return emails_enqueue(emails=[EmailToSend(to=to, subject=subject, body=body)])[0]


@dataclass(frozen=True)
class EmailToSend:
    to: str
    subject: str
    body: str


def emails_enqueue(*, emails: Iterable[EmailToSend]) -> list[OutboundEmail]:
    """`email_enqueue` for many emails in one INSERT (a feed chunk's notifications): each is
    sent only if the caller's transaction commits, exactly as one written alone."""
    now = timezone.now()
    rows = OutboundEmail.objects.bulk_create(
        OutboundEmail(to=email.to, subject=email.subject[:200], body=email.body, next_attempt_at=now)
        for email in emails
    )
    if rows:
        _deliver_after_commit()
    return rows


def _deliver_after_commit() -> None:
    connection = transaction.get_connection()
    # One nudge per transaction, however many emails it wrote (a feed chunk writes dozens).
    if connection.in_atomic_block and any(callback is _nudge for _, callback, _ in connection.run_on_commit):
        return
    transaction.on_commit(_nudge)


def _nudge() -> None:
    """Ask a worker to deliver now. A broker outage must not fail the caller, whose change
    has committed: the rows wait for beat's next delivery."""
    try:
        # By name: accounts.tasks imports this module. retry=False: fail at once when the
        # broker is down rather than hold up the caller.
        current_app.tasks[DELIVER_TASK].apply_async(retry=False)
    except Exception as error:  # any broker or connection error
        logger.warning("outbox: could not nudge a worker (%s); beat will deliver", type(error).__name__)


def outbox_deliver_due(*, now: datetime.datetime | None = None) -> tuple[int, bool]:
    """Send every pending email whose time has come, oldest first, at most
    OUTBOX_BATCH_SIZE. Returns how many were sent and whether more are due. A database
    error stops the batch and propagates (the rows stay pending); a mail error is recorded
    on its row, which is tried again later with backoff."""
    now = now or timezone.now()
    due = OutboundEmail.objects.filter(sent_at__isnull=True, given_up_at__isnull=True, next_attempt_at__lte=now)
    batch = settings.OUTBOX_BATCH_SIZE
    ids = list(due.order_by("next_attempt_at", "id").values_list("id", flat=True)[: batch + 1])
    sent = 0
    with get_connection() as mail:
        for email_id in ids[:batch]:
            sent += _deliver_one(email_id=email_id, mail=mail, now=now)
    return sent, len(ids) > batch


def _deliver_one(*, email_id: int, mail: BaseEmailBackend, now: datetime.datetime) -> int:
    try:
        with transaction.atomic():
            # The claim: of two workers, one updates the row and the other, waiting on its
            # lock, then finds it sent and updates nothing. The email is sent inside the
            # claim's transaction, so a worker that dies before commit leaves it pending.
            claimed = OutboundEmail.objects.filter(pk=email_id, sent_at__isnull=True, given_up_at__isnull=True).update(
                sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
            )
            if not claimed:
                return 0
            email = OutboundEmail.objects.get(pk=email_id)
            _message(email, mail).send()
    except DatabaseError:
        raise
    except Exception as error:  # the mail server's, whatever its class
        _attempt_failed(email_id=email_id, error=error, now=now)
        return 0
    return 1


def _message(email: OutboundEmail, mail: BaseEmailBackend) -> EmailMessage:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return EmailMessage(
        subject=email.subject,
        body=email.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        connection=mail,
        # The same Message-ID on every attempt: if the narrow window of a commit lost
        # after sending makes it go twice, mail systems can tell the copies apart.
        headers={"Message-ID": f"<outbox-{email.pk}-{email.created_at:%Y%m%d%H%M%S}@{domain}>"},
    )


def _attempt_failed(*, email_id: int, error: Exception, now: datetime.datetime) -> None:
    email = OutboundEmail.objects.get(pk=email_id)
    attempts = email.attempts + 1
    fields: dict[str, object] = {"attempts": attempts, "last_error": type(error).__name__[:100]}
    if attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        fields["given_up_at"] = now
        logger.error("outbox: email %s given up after %s attempts (%s)", email_id, attempts, type(error).__name__)
    else:
        delay = min(settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** (attempts - 1), settings.OUTBOX_RETRY_MAX_SECONDS)
        fields["next_attempt_at"] = now + datetime.timedelta(seconds=delay)
        logger.warning("outbox: email %s not sent (%s); trying again in %s s", email_id, type(error).__name__, delay)
    OutboundEmail.objects.filter(pk=email_id, sent_at__isnull=True).update(**fields)


def outbox_retry_given_up() -> int:
    """Put every given-up email back in the queue (after the mail server is mended)."""
    return OutboundEmail.objects.filter(sent_at__isnull=True, given_up_at__isnull=False).update(
        given_up_at=None, attempts=0, next_attempt_at=timezone.now()
    )


def outbox_requeue_one(*, email_id: int, now: datetime.datetime | None = None) -> bool:
    """Put one given-up email back in the queue, with its attempts counted afresh, in the
    caller's transaction (a conditional UPDATE: of two operators pressing at once, one
    requeues it). Returns False if it is no longer given up (sent, or requeued already).
    Audited by the caller (accounts.services.outbound_email_requeue)."""
    return bool(
        OutboundEmail.objects.filter(pk=email_id, sent_at__isnull=True, given_up_at__isnull=False).update(
            given_up_at=None, attempts=0, next_attempt_at=now or timezone.now()
        )
    )


def outbox_sent_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete emails sent more than OUTBOX_SENT_RETENTION_DAYS ago: their bodies can name
    practitioners and register IDs, and the in-app notification is the lasting record."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.OUTBOX_SENT_RETENTION_DAYS)
    deleted, _ = OutboundEmail.objects.filter(sent_at__lt=cutoff).delete()
    return deleted


def outbox_backlog(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Counts for monitoring: emails waiting, those waiting longer than
    OUTBOX_HEALTH_PENDING_SECONDS (overdue), and those given up."""
    cutoff = (now or timezone.now()) - datetime.timedelta(seconds=settings.OUTBOX_HEALTH_PENDING_SECONDS)
    pending = OutboundEmail.objects.filter(sent_at__isnull=True)
    waiting = pending.filter(given_up_at__isnull=True)
    return {
        "pending": waiting.count(),
        "overdue": waiting.filter(created_at__lt=cutoff).count(),
        "given_up": pending.exclude(given_up_at=None).count(),
    }
