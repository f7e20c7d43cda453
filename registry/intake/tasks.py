"""Background work for intake: bulk uploads and the case-management API's stored answers.
Each task takes ids and is safe to run twice."""

import logging
from typing import Any

from celery import Task, shared_task

from registry.intake.selectors import bulk_uploads_stalled
from registry.intake.services import bulk_upload_process, idempotency_records_purge

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True)
def bulk_upload_process_task(self: "Task[Any, Any]", upload_id: str) -> bool:
    """Process a register manager's uploaded import file (registry.intake.services). Safe to run
    twice: an upload already finished or held by another live worker is left alone."""
    return bulk_upload_process(upload_id=upload_id, worker=self.request.id or "") is not None


@shared_task(acks_late=True, ignore_result=True)
def bulk_uploads_stalled_sweep() -> int:
    """Beat, every minute: hand out again every upload whose worker has shown no sign of
    life for BULK_UPLOAD_STALLED_AFTER_SECONDS (its machine was lost). Two deliveries of one
    upload are harmless: the claim lets one of them work. Returns how many."""
    stalled = bulk_uploads_stalled()
    for upload in stalled:
        logger.warning("bulk upload %s stalled; handing it to a worker again", upload.pk)
        bulk_upload_process_task.delay(str(upload.pk))
    return len(stalled)


@shared_task(acks_late=True)
def idempotency_keys_purge() -> int:
    """Delete the case-management API's stored answers whose Idempotency-Keys have expired."""
    return idempotency_records_purge()
