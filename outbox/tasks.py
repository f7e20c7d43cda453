"""Delivering the email outbox. Safe to run any number of times, by any number of workers."""

from celery import shared_task

from outbox.services import outbox_deliver_due, outbox_sent_purge


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
