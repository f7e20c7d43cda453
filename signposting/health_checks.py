"""Health and readiness endpoints for the load balancer, the orchestrator and monitoring,
built on django-health-check (docs/operations.md).

- `/health/live/`: the process answers. No checks: a liveness probe that touched the
  database would restart every web process during a database blip.
- `/health/ready/`: this web process can serve a request: the database answers and the
  shared cache (Redis in production) reads back what it wrote.
- `/health/`: the whole service, for monitoring: the above plus the worker heartbeat
  (which beat sends and a worker runs, so it proves beat, broker and worker) and the feed
  backlog (no file waiting or running without progress) and the email outbox (nothing
  overdue or given up).

They are the only pages besides sign-in that need no login: a probe has no session. They
say only which component is unhealthy, never any data, and are exempt from the HTTPS
redirect so that a probe inside the cluster can use plain HTTP.
"""

import dataclasses
import datetime
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from django.views.decorators.cache import never_cache
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from accounts.services_outbox import outbox_backlog
from feeds.ingestion import unrecovered_files
from signposting.health import worker_is_alive


@dataclasses.dataclass
class WorkerHeartbeat(HealthCheck):
    """A worker has run beat's heartbeat task within the last few minutes."""

    def run(self) -> None:
        if not worker_is_alive():
            raise ServiceUnavailable("No worker heartbeat in the last 3 minutes (beat, broker or worker down)")


@dataclasses.dataclass
class FeedBacklog(HealthCheck):
    """No feed file has waited or run without a heartbeat or progress for longer than the
    stall limit plus two sweeps: such a file is one the sweep and the workers have not
    taken up again (no worker, or every worker busy)."""

    timeout = datetime.timedelta(seconds=10)  # one indexed query, but on a busy primary

    def run(self) -> None:
        stalled = len(unrecovered_files())
        if stalled:
            raise ServiceUnavailable(f"{stalled} feed file(s) without progress")


@dataclasses.dataclass
class EmailOutbox(HealthCheck):
    """No email has waited longer than OUTBOX_HEALTH_PENDING_SECONDS, and none was given up."""

    timeout = datetime.timedelta(seconds=10)

    def run(self) -> None:
        backlog = outbox_backlog()
        if backlog["given_up"]:
            raise ServiceUnavailable(f"{backlog['given_up']} email(s) given up after repeated failures")
        if backlog["overdue"]:
            raise ServiceUnavailable(f"{backlog['overdue']} email(s) waiting longer than expected")


_READY = ("health_check.checks.Database", "health_check.checks.Cache")


def _view(checks: tuple[Any, ...]) -> Any:
    return login_not_required(never_cache(HealthCheckView.as_view(checks=checks)))


urlpatterns = [
    path("live/", _view(()), name="health-live"),
    path("ready/", _view(_READY), name="health-ready"),
    path("", _view((*_READY, WorkerHeartbeat, FeedBacklog, EmailOutbox)), name="health"),
]
