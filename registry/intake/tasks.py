"""Background work for intake: bulk uploads and the case-management API's stored answers.
Each task takes ids and is safe to run twice."""

from celery import shared_task

from registry.intake.services import bulk_upload_process, idempotency_records_purge


@shared_task(acks_late=True)
def bulk_upload_process_task(upload_id: str) -> bool:
    """Process a register manager's uploaded import file (registry.intake.services). Safe to run
    twice: an upload already finished or being processed is left alone."""
    return bulk_upload_process(upload_id=upload_id) is not None


@shared_task(acks_late=True)
def idempotency_keys_purge() -> int:
    """Delete the case-management API's stored answers whose Idempotency-Keys have expired."""
    return idempotency_records_purge()
