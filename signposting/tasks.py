from celery import shared_task

from signposting.health import worker_heartbeat_record


@shared_task(ignore_result=True)
def record_worker_heartbeat() -> None:
    """Record that a worker is consuming the queue. Safe to run any number of times."""
    worker_heartbeat_record()
