"""Background work for the register: each task takes ids, is safe to run twice, and calls a
service in registry.children.services_notifications. Emails are written to the outbox in
the transaction of the change that causes them (accounts.services_outbox.email_enqueue); the email
tasks here are kept so that messages queued before the outbox existed still put their
emails there (each once)."""

import logging

from celery import shared_task

from registry.children import services_notifications as notifications

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def notification_emails_send(notification_ids: list[int]) -> int:
    """Put the email of each notification not yet emailed in the outbox. Returns how many."""
    return sum(notifications.notification_email_deliver(notification_id=pk) for pk in notification_ids)


@shared_task(acks_late=True)
def authority_involvement_email_send(involvement_id: int) -> bool:
    """Put the authority's email about a further practitioner in the outbox, once."""
    return notifications.authority_involvement_email_deliver(involvement_id=involvement_id)


@shared_task(acks_late=True)
def access_digests_send() -> int:
    """Beat, daily: queue each authority one email listing the look-ups of its children by
    users outside the authority since the last digest. Returns the number of digests."""
    return notifications.access_digests_deliver()


@shared_task(acks_late=True)
def child_transfer_emails_send(transfer_id: int) -> int:
    """Put both authorities' emails about a transfer in the outbox."""
    return notifications.child_transfer_emails_deliver(transfer_id=transfer_id)
