"""Whether the background worker is alive, as seen from the web process.

The worker records a heartbeat in the shared cache once a minute (a beat task); the web
process reads it. Both processes must share the cache: a file cache locally, Redis in
production.
"""

from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_CACHE_KEY = "signposting:worker-heartbeat"
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)


def worker_heartbeat_record(*, at: datetime | None = None) -> datetime:
    moment = at or timezone.now()
    cache.set(HEARTBEAT_CACHE_KEY, moment.isoformat(), timeout=None)
    return moment


def worker_last_seen() -> datetime | None:
    value = cache.get(HEARTBEAT_CACHE_KEY)
    return datetime.fromisoformat(value) if value else None


def worker_is_alive(*, now: datetime | None = None) -> bool:
    last_seen = worker_last_seen()
    return last_seen is not None and (now or timezone.now()) - last_seen < HEARTBEAT_STALE_AFTER
