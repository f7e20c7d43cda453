"""Reads on file jobs (registry.models.FileJob): which ones have stalled."""

import datetime
from typing import TypeVar

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from registry.models import FileJob

_Job = TypeVar("_Job", bound=FileJob)


def file_jobs_stale(
    jobs: QuerySet[_Job],
    *,
    seconds: int,
    waiting_too: bool = False,
    now: datetime.datetime | None = None,
    signs: tuple[str, ...] | None = None,
) -> QuerySet[_Job]:
    """Jobs running (and, with `waiting_too`, waiting) with no sign of life (the model's
    SIGNS_OF_LIFE, or `signs`) for `seconds`: their worker is gone, or their message was
    lost, and they need handing out again."""
    now = now or timezone.now()
    states = [FileJob.State.RUNNING] + ([FileJob.State.WAITING] if waiting_too else [])
    last_sign = file_job_last_sign_of_life(signs or jobs.model.SIGNS_OF_LIFE)
    # alias() is typed as returning QuerySet[Any]; it keeps the model, as filter() does.
    signed: QuerySet[_Job] = jobs.filter(state__in=states).alias(last_sign=last_sign)
    return signed.filter(last_sign__lt=now - datetime.timedelta(seconds=seconds))


def file_job_last_sign_of_life(signs: tuple[str, ...]) -> Greatest:
    """The latest of `signs` (field names), as an expression. Each one not yet set counts as
    the last (the job's creation, always set), so that one missing time hides no other."""
    *others, created = signs
    return Greatest(*(Coalesce(sign, created) for sign in others), F(created))
