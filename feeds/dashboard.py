"""The feeds' part of the register dashboard (docs/dashboard.md): how each authority's feed
matches ended, and how long the oldest one has waited for review. Written into the
registry's summary table from here because feeds reads registry, never the other way."""

import datetime
from collections import defaultdict

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from accounts.models import LocalAuthority
from feeds.models import FeedMatch
from registry.dashboard import figures
from registry.dashboard.refresh import Snapshot, snapshot_replace

# The feed states each dashboard figure counts: applied without review or confirmed by a
# manager (and checked again after the GRO changed a confirmed birth); waiting for a manager
# (to decide, or to check a confirmed birth the GRO changed); rejected by a manager.
# Reversed and withdrawn matches were undone by the feed itself and are not counted.
OUTCOME_STATES = {
    "applied": (FeedMatch.State.APPLIED, FeedMatch.State.CONFIRMED, FeedMatch.State.CHECKED),
    "waiting": (FeedMatch.State.PENDING, FeedMatch.State.RECHECK),
    "rejected": (FeedMatch.State.REJECTED,),
}


def feed_snapshot(*, now: datetime.datetime) -> Snapshot:
    snapshot: Snapshot = defaultdict(int)
    state_key = {state: key for key, states in OUTCOME_STATES.items() for state in states}
    rows = FeedMatch.objects.order_by().values("local_authority_id", "state").annotate(n=Count("id"))
    for row in rows:
        key = state_key.get(row["state"])
        if key:
            snapshot[(row["local_authority_id"], figures.FEED_OUTCOMES, key)] += row["n"]
    oldest = (
        FeedMatch.objects.filter(state=FeedMatch.State.PENDING)
        .order_by()
        .values("local_authority_id")
        .annotate(first=Min("created_at"))
    )
    for row in oldest:
        snapshot[(row["local_authority_id"], figures.FEED_OLDEST_WAITING_DAYS, "")] = (now - row["first"]).days
    return snapshot


def feed_figures_refresh(*, now: datetime.datetime | None = None) -> None:
    """Replace the feed figures of every authority. Safe to run twice."""
    now = now or timezone.now()
    snapshot_replace(figure_names=figures.FEED_SNAPSHOT_FIGURES, snapshot=feed_snapshot(now=now), computed_at=now)


def feed_matches_listed(*, local_authority: LocalAuthority, outcome: str) -> QuerySet[FeedMatch]:
    """The feed matches behind one of the dashboard's feed figures (applied, waiting or
    rejected) for an authority the caller has checked the user may see
    (registry.dashboard.selectors.dashboard_authority), oldest first. Raises KeyError for an
    unknown outcome."""
    return (
        FeedMatch.objects.filter(local_authority=local_authority, state__in=OUTCOME_STATES[outcome])
        .select_related("child", "registration")
        .only("created_at", "state", "method", "child__register_id", "registration__event_type")
        .order_by("created_at", "id")
    )
