"""Background work for the register. Each task takes ids, is safe to run twice, and
claims its rows with a conditional UPDATE so that two workers never send the same mail."""

import logging
from collections import defaultdict

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from audit.models import LookupReason
from registry.models import AccessNotice, ChildTransfer, Involvement, Notification

logger = logging.getLogger(__name__)

NOTIFICATION_EMAIL_SUBJECTS: dict[str, str] = {
    Notification.Kind.TRANSFERRED_IN: "Signposting register: a child has transferred to your authority",
    Notification.Kind.TRANSFERRED_OUT: "Signposting register: a child has transferred out of your authority",
}


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notification_emails_send(notification_ids: list[int]) -> int:
    """Email each notification not yet emailed. Returns how many were sent."""
    sent = 0
    for notification in Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True).select_related(
        "recipient"
    ):
        with transaction.atomic():
            claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
                emailed_at=timezone.now()
            )
            if not claimed:
                continue  # another worker sent it
            # Sent inside the transaction: if sending fails, the claim rolls back and a retry sends it.
            send_mail(
                subject=NOTIFICATION_EMAIL_SUBJECTS.get(
                    notification.kind, "Child protection signposting register: another practitioner is involved"
                ),
                message=(
                    f"{notification.message}\n\nSign in to the register to see who is involved and how to reach them."
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[notification.recipient.email],
            )
            sent += 1
    logger.info("notification emails sent: %s", sent)
    return sent


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def authority_involvement_email_send(involvement_id: int) -> bool:
    """Tell the responsible authority's secure mailbox that a further practitioner is
    involved with one of its children. Sent once per involvement."""
    involvement = (
        Involvement.objects.select_related("child__responsible_local_authority", "practitioner__organisation")
        .filter(pk=involvement_id)
        .first()
    )
    if involvement is None or involvement.practitioner is None:
        return False
    with transaction.atomic():
        claimed = Involvement.objects.filter(pk=involvement.pk, authority_notified_at__isnull=True).update(
            authority_notified_at=timezone.now()
        )
        if not claimed:
            return False
        authority = involvement.child.responsible_local_authority
        practitioner = involvement.practitioner
        organisation = practitioner.organisation.name if practitioner.organisation else "no organisation recorded"
        involved = Involvement.objects.filter(child=involvement.child, end_date__isnull=True).count()
        send_mail(
            subject=f"Signposting register: practitioner involved with child {involvement.child.register_id}",
            message=(
                f"{practitioner.full_name} ({organisation}, {practitioner.email}) recorded on "
                f"{involvement.start_date:%d %B %Y} that they are working with child {involvement.child.register_id}.\n"
                f"{involved} practitioners or services are now involved."
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[authority.secure_email],
        )
    return True


@shared_task(acks_late=True)
def access_digests_send() -> int:
    """Send each authority one email listing the look-ups of its children by users outside
    the authority since the last digest. Returns the number of digests sent."""
    pending: dict[int, list[AccessNotice]] = defaultdict(list)
    for notice in AccessNotice.objects.filter(digest_sent_at__isnull=True).select_related(
        "local_authority", "child", "accessed_by__organisation"
    ):
        pending[notice.local_authority_id].append(notice)
    sent = 0
    for notices in pending.values():
        authority = notices[0].local_authority
        with transaction.atomic():
            claimed = AccessNotice.objects.filter(
                pk__in=[notice.pk for notice in notices], digest_sent_at__isnull=True
            ).update(digest_sent_at=timezone.now())
            if claimed != len(notices):
                # Part of this batch was sent by another worker: undo and leave it to the next run.
                transaction.set_rollback(True)
                continue
            lines = [
                f"{timezone.localtime(notice.accessed_at):%d %b %Y %H:%M}  child {notice.child.register_id}  "
                f"{notice.accessed_by.full_name} ({notice.accessed_by.organisation or 'no organisation'})  "
                f"reason: {_reason_label(notice.reason)}"
                for notice in notices
            ]
            send_mail(
                subject=f"Signposting register: {len(notices)} look-ups of your children by other areas",
                message="Look-ups of children your authority is responsible for, by users outside it:\n\n"
                + "\n".join(lines),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[authority.secure_email],
            )
        sent += 1
    return sent


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def child_transfer_emails_send(transfer_id: int) -> int:
    """Tell both authorities' secure mailboxes that responsibility for a child has passed.
    ChildTransfer has no column to claim, so each mailbox is claimed in the shared cache
    (an atomic add); a failed send gives the claim back so that the retry sends it."""
    transfer = (
        ChildTransfer.objects.select_related("child", "from_local_authority", "to_local_authority")
        .filter(pk=transfer_id)
        .first()
    )
    if transfer is None:
        return 0
    register_id = transfer.child.register_id
    when = f"{transfer.transferred_on:%d %B %Y}"
    sent = 0
    sending, receiving = transfer.from_local_authority, transfer.to_local_authority
    for authority, message in (
        (sending, f"Child {register_id} has transferred to {receiving.name} on {when}."),
        (receiving, f"Child {register_id} has transferred to you from {sending.name} on {when}."),
    ):
        claim = f"child-transfer-email:{transfer.pk}:{authority.pk}"
        if not cache.add(claim, True, timeout=60 * 60 * 24 * 30):
            continue
        try:
            send_mail(
                subject=f"Signposting register: child {register_id} has transferred",
                message=f"{message}\n\nSign in to the register for the child's statuses and who is involved.",
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[authority.secure_email],
            )
        except Exception:
            cache.delete(claim)
            raise
        sent += 1
    return sent


def _reason_label(reason: str) -> str:
    """The reason as the practitioner chose it on the form, not its stored code."""
    return str(LookupReason(reason).label) if reason in LookupReason.values else reason
