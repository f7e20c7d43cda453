"""Giving way to practitioners' searches while a file ingests (docs/feeds.md, "Giving way to
searches").

On two cores an ingest (its worker and its PostgreSQL backend) takes most of the machine,
and a search that arrives while a chunk is being applied waits for a core. So, between
chunks, the ingest asks whether anyone has searched in the last few seconds (one cache read,
registry.lookups.activity); if so it pauses long enough that it is busy at most
FEEDS_INGEST_BUSY_SHARE of the time, leaving the rest to the searches. With nobody
searching it never pauses, so a file ingested overnight or in a quiet hour goes at full speed."""

import time

from django.conf import settings

from registry.lookups.activity import interactive_searches_recent


def pause_after_chunk(*, chunk_seconds: float) -> float:
    """How long to pause after a chunk that took `chunk_seconds`: nothing unless a
    practitioner searched within SEARCH_ACTIVITY_WINDOW_SECONDS; then chunk_seconds x
    (1 - share) / share, so that the ingest works `share` of the time
    (FEEDS_INGEST_BUSY_SHARE; 1 turns pausing off), at most FEEDS_INGEST_MAX_PAUSE_SECONDS."""
    share = float(settings.FEEDS_INGEST_BUSY_SHARE)
    if share >= 1 or not interactive_searches_recent():
        return 0.0
    return min(max(chunk_seconds, 0.0) * (1 - share) / share, float(settings.FEEDS_INGEST_MAX_PAUSE_SECONDS))


def give_way_to_searches(*, chunk_seconds: float) -> float:
    """Pause (see pause_after_chunk) and return the seconds paused. The file's heartbeat
    thread goes on beating meanwhile, so a pausing worker is never taken for a dead one."""
    pause = pause_after_chunk(chunk_seconds=chunk_seconds)
    if pause > 0:
        _sleep(pause)
    return pause


def _sleep(seconds: float) -> None:
    time.sleep(seconds)
