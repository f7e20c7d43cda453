"""Background work for the register: each task takes ids, is safe to run twice, and calls a
service in registry.children.services_notifications, which claims its rows with a
conditional UPDATE so that two workers never send the same mail."""

import logging

from celery import shared_task

from registry.children import services_notifications as notifications

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notification_emails_send(notification_ids: list[int]) -> int:
    """Email each notification not yet emailed, once, whatever its kind (the one email task
    for every notification). Returns how many were sent."""
    sent = sum(notifications.notification_email_deliver(notification_id=pk) for pk in notification_ids)
    logger.info("notification emails sent: %s", sent)
    return sent


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def authority_involvement_email_send(involvement_id: int) -> bool:
    """Tell the responsible authority's secure mailbox that a further practitioner is
    involved with one of its children. Sent once per involvement."""
    return notifications.authority_involvement_email_deliver(involvement_id=involvement_id)


@shared_task(acks_late=True)
def access_digests_send() -> int:
    """Send each authority one email listing the look-ups of its children by users outside
    the authority since the last digest. Returns the number of digests sent."""
    return notifications.access_digests_deliver()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def child_transfer_emails_send(transfer_id: int) -> int:
    """Tell both authorities' secure mailboxes that responsibility for a child has passed."""
    return notifications.child_transfer_emails_deliver(transfer_id=transfer_id)
