"""Background work for the register. Each task takes ids, is safe to run twice, and
claims its rows with a conditional UPDATE so that two workers never send the same mail."""

import logging
from collections import defaultdict

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from registry.models import AccessNotice, Involvement, Notification

logger = logging.getLogger(__name__)


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
                subject="Child protection signposting register: another practitioner is involved",
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
                f"reason: {notice.reason}"
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
