"""A cheap signal that practitioners are searching right now, for background work (the GRO
feeds' ingestion) to give way to them (docs/feeds.md, "Giving way to searches").

A search sets one short-lived key in the shared cache (Redis in production); a reader
asks whether it is still there. The signal is a hint: if the cache is down, searches go on
as usual and the reader sees no searches."""

import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

SEARCHING_KEY = "registry:lookups:searching"


def interactive_search_mark() -> None:
    """Say that a practitioner searched just now; the key lasts
    SEARCH_ACTIVITY_WINDOW_SECONDS. Never fails the search."""
    try:
        cache.set(SEARCHING_KEY, 1, timeout=settings.SEARCH_ACTIVITY_WINDOW_SECONDS)
    except Exception as error:  # the cache's own errors, whatever its backend
        logger.debug("search activity not recorded (%s)", type(error).__name__)


def interactive_searches_recent() -> bool:
    """Whether a practitioner searched in the last SEARCH_ACTIVITY_WINDOW_SECONDS."""
    try:
        return cache.get(SEARCHING_KEY) is not None
    except Exception as error:  # the cache's own errors, whatever its backend
        logger.debug("search activity not read (%s)", type(error).__name__)
        return False
