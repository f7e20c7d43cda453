"""The one set of writes on file jobs (registry.models.FileJob: a bulk upload, a GRO feed
file). Each takes the jobs to act on (usually `Model.objects.filter(pk=...)`, narrowed
further where the caller has its own condition, such as a feed file's cursor), is one
conditional UPDATE, and returns how many rows it changed: 0 means it did not happen. Of two
workers, one wins, without a lock held while the file is read (docs/adr/0003).

These write no audit event: the caller records the outcome in its own words (an upload
imported, a feed file failed), in the same transaction as the write."""

import datetime
from typing import Any, TypeVar

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from registry.models import FileJob

_Job = TypeVar("_Job", bound=FileJob)

_WAITING, _RUNNING = FileJob.State.WAITING, FileJob.State.RUNNING


def file_job_claim(
    jobs: QuerySet[_Job],
    *,
    worker: str,
    stale_after: int,
    count_delivery: bool = True,
    now: datetime.datetime | None = None,
    **fields: Any,
) -> int:
    """Mark the job running and held by `worker` (a Celery task id), if it is waiting, or
    running but held by nobody (released), by `worker` itself (a redelivery of the same
    task), or by a worker whose heartbeat is older than `stale_after` seconds (lost with its
    machine); with any `fields` to reset. `count_delivery` adds one to `deliveries`: a retry
    after a connection error is not a new delivery. `started_at` keeps the first start."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=stale_after)
    unheld = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=cutoff) | Q(heartbeat_by=worker)
    changes: dict[str, Any] = {
        "state": _RUNNING,
        "heartbeat_at": now,
        "heartbeat_by": worker,
        "started_at": Coalesce("started_at", Value(now)),
        **fields,
    }
    if count_delivery:
        changes["deliveries"] = F("deliveries") + 1
    return jobs.filter(Q(state=_WAITING) | (Q(state=_RUNNING) & unheld)).update(**changes)


def file_job_heartbeat(jobs: QuerySet[_Job], *, worker: str, progress: bool = False, **fields: Any) -> int:
    """Say that `worker` still holds the job, with any progress `fields` (rows done, a
    cursor). 0 means the worker no longer holds it (taken over, failed, stopped): it must
    stop. `progress` (or any field) also records `progress_at`."""
    now = timezone.now()
    changes: dict[str, Any] = {"heartbeat_at": now, **fields}
    if progress or fields:
        changes["progress_at"] = now
    return jobs.filter(state=_RUNNING, heartbeat_by=worker).update(**changes)


def file_job_release(jobs: QuerySet[_Job], *, worker: str) -> int:
    """Let go of a job without finishing it (the worker stops cleanly: a time limit, a
    continuation queued), so that the next worker may claim it at once."""
    return jobs.filter(heartbeat_by=worker).update(heartbeat_at=None, heartbeat_by="")


def file_job_finish(jobs: QuerySet[_Job], *, worker: str | None = None, **fields: Any) -> int:
    """Mark a running job done (only if `worker`, when given, holds it), with its final `fields`."""
    held = jobs.filter(state=_RUNNING)
    if worker is not None:
        held = held.filter(heartbeat_by=worker)
    return held.update(
        state=FileJob.State.DONE, finished_at=timezone.now(), heartbeat_at=None, heartbeat_by="", **fields
    )


def file_job_fail(jobs: QuerySet[_Job], *, reason: str, **fields: Any) -> int:
    """Mark a job that is waiting or running as failed, with a reason a person can read (cut
    to the field's 300 characters). A job already ended (done, failed, or a state of the
    model's own such as stopped) is left as it is."""
    return jobs.filter(state__in=(_WAITING, _RUNNING)).update(
        state=FileJob.State.FAILED,
        failure=reason[:300],
        finished_at=timezone.now(),
        heartbeat_at=None,
        heartbeat_by="",
        **fields,
    )
