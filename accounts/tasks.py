"""Background work for accounts. Safe to run twice: a second run finds nothing to do."""

import logging

from celery import shared_task
from django.utils import timezone

from accounts.services import users_suspend_unrecertified
from accounts.services_outbox import outbox_deliver_due, outbox_sent_purge
from audit.actor import Actor, Channel

logger = logging.getLogger(__name__)


@shared_task(name="accounts.tasks.users_suspend_unrecertified", acks_late=True)
def users_suspend_unrecertified_task() -> int:
    """Suspend accounts whose re-certification has lapsed (beat, daily). Returns how many."""
    suspended = users_suspend_unrecertified(by=Actor.system(channel=Channel.SYSTEM), today=timezone.localdate())
    logger.info("Suspended %d accounts not re-certified in time", suspended)
    return suspended


# --- Delivering the email outbox: safe to run any number of times, by any number of workers.


@shared_task(acks_late=True, ignore_result=True)
def outbox_deliver() -> int:
    """Beat (every OUTBOX_DELIVER_EVERY_SECONDS) and the on-commit nudge: send the pending
    emails that are due. A full batch queues the next one. Returns how many were sent."""
    sent, more = outbox_deliver_due()
    if more:
        outbox_deliver.delay()
    return sent


@shared_task(acks_late=True, ignore_result=True)
def outbox_sent_emails_purge() -> int:
    """Daily (beat): delete emails sent more than OUTBOX_SENT_RETENTION_DAYS ago."""
    return outbox_sent_purge()
