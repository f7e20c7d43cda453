"""Beat's audit jobs: the anomaly scan and the nightly hash-chain check."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction

from accounts.models import User
from accounts.roles import Role
from accounts.services_outbox import email_enqueue
from audit.chain import chain_verify
from audit.models import AuditEvent
from audit.services import audit_event_record, chain_anchor_record
from audit.services_anomalies import anomalies_scan

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def anomalies_detect() -> int:
    """Raise anomaly flags for events written since the last scan. Safe to run twice."""
    return anomalies_scan()


def _alert_recipients() -> list[str]:
    administrators = User.objects.filter(is_active=True, groups__name=Role.SYSTEM_ADMINISTRATOR.value)
    emails = {email for _, email in settings.ADMINS} | set(administrators.values_list("email", flat=True))
    return sorted(emails)


@shared_task(acks_late=True)
def audit_chain_verify() -> bool:
    """Check the whole chain; when intact, anchor its head (AuditChainAnchor: count, id,
    hash) outside the events; record the result in the trail; on a break, log an error
    naming the event id only and email the system administrators."""
    report = chain_verify(workers=2)
    with transaction.atomic():
        if report.intact and report.head_event_id is not None:
            # Anchor what was found intact: from now on, losing these events is detected.
            chain_anchor_record(
                event_count=report.events_checked, head_event_id=report.head_event_id, head_hash=report.head_hash
            )
        audit_event_record(
            action=AuditEvent.Action.AUDIT_CHAIN_VERIFIED,
            actor=None,
            outcome="" if report.intact else "failed",
            details={
                "events_checked": report.events_checked,
                "head_hash": report.head_hash,
                "first_broken_event_id": report.first_broken_event_id,
                "problem": report.problem,
            },
        )
    if report.intact:
        logger.info("audit chain intact: %s events", report.events_checked)
        return True
    logger.error("audit chain broken at event %s: %s", report.first_broken_event_id, report.problem)
    with transaction.atomic():
        for recipient in _alert_recipients():
            email_enqueue(
                to=recipient,
                subject="Audit trail: the hash chain is broken",
                body=(
                    f"The nightly check of the audit trail found the hash chain broken at event "
                    f"{report.first_broken_event_id} ({report.problem}). An event may have been changed or removed. "
                    "Run `manage.py verify_audit` to confirm, preserve the database, and follow the incident procedure."
                ),
            )
    return False
