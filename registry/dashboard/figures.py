"""The names of the dashboard's figures, shared by the refresh that counts them, the
selectors that read them and docs/dashboard.md that defines them, and the periods the pages
show."""

import datetime

from dateutil.relativedelta import relativedelta

WEEKS_SHOWN = 12
MONTHS_SHOWN = 12

# Counted incrementally, per authority and week (Monday) or month (the 1st).
SEARCHES_RETURNED_BY_REASON = "searches_returned_reason"
SEARCHES_RETURNED_BY_CHANNEL = "searches_returned_channel"
SEARCH_OUTCOMES = "search_outcomes"
SEARCHES_OPENED = "searches_opened"
LOOKUPS_FROM_OUTSIDE = "lookups_from_outside"
MATCH_NOTIFICATIONS = "match_notifications"
JOINERS = "joiners"
LEAVERS = "leavers"

WEEKLY_FIGURES = (
    SEARCHES_RETURNED_BY_REASON,
    SEARCHES_RETURNED_BY_CHANNEL,
    SEARCH_OUTCOMES,
    SEARCHES_OPENED,
    LOOKUPS_FROM_OUTSIDE,
    MATCH_NOTIFICATIONS,
)
MONTHLY_FIGURES = (JOINERS, LEAVERS)

# Each of those summed over the periods the pages show (12 weeks, 12 months), per authority
# and key, stored with the snapshot at each refresh: the national view reads these few rows
# instead of adding up every authority's weekly counts.
WINDOW_PREFIX = "window:"


def window(figure: str) -> str:
    return WINDOW_PREFIX + figure


WINDOW_FIGURES = tuple(window(figure) for figure in (*WEEKLY_FIGURES, *MONTHLY_FIGURES))

# Recounted whole at each refresh: the register as it stands.
CHILDREN = "children"
CHILDREN_BY_STATUS = "children_by_status"
WITH_NHS_NUMBER = "with_nhs_number"
NO_POSTCODE = "no_postcode"
NO_CURRENT_INVOLVEMENT = "no_current_involvement"
NO_LEAD = "no_lead"
STALE_INVOLVEMENTS = "stale_involvements"
REMOVALS_DUE = "removals_due"
LEGAL_HOLDS = "legal_holds"
DUPLICATE_PAIRS = "duplicate_pairs"
# Written by feeds (feeds.dashboard), which may read registry; registry never reads feeds.
FEED_OUTCOMES = "feed_outcomes"
FEED_OLDEST_WAITING_DAYS = "feed_oldest_waiting_days"

REGISTER_SNAPSHOT_FIGURES = (
    CHILDREN,
    CHILDREN_BY_STATUS,
    WITH_NHS_NUMBER,
    NO_POSTCODE,
    NO_CURRENT_INVOLVEMENT,
    NO_LEAD,
    STALE_INVOLVEMENTS,
    REMOVALS_DUE,
    LEGAL_HOLDS,
    DUPLICATE_PAIRS,
)
FEED_SNAPSHOT_FIGURES = (FEED_OUTCOMES, FEED_OLDEST_WAITING_DAYS)

# Keys of CHILDREN_BY_STATUS: a status kind, with the legal basis for looked-after children.
STATUS_KEYS = ("cpp", "looked_after:s31", "looked_after:s38", "looked_after:s20", "looked_after:other", "unborn_cpp")
OUTCOME_KEYS = ("results", "no_results", "too_many", "refused")
FEED_OUTCOME_KEYS = ("applied", "waiting", "rejected")


def weeks_shown(*, today: datetime.date) -> list[datetime.date]:
    """The Mondays of the last WEEKS_SHOWN weeks, oldest first, this week last."""
    this_week = today - datetime.timedelta(days=today.weekday())
    return [this_week - datetime.timedelta(weeks=n) for n in range(WEEKS_SHOWN - 1, -1, -1)]


def months_shown(*, today: datetime.date) -> list[datetime.date]:
    this_month = today.replace(day=1)
    return [this_month - relativedelta(months=n) for n in range(MONTHS_SHOWN - 1, -1, -1)]
