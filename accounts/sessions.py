"""Session limits and ending a user's sessions.

A session records when its user signed in and when they were last seen. It ends after
ACCOUNTS_SESSION_IDLE_SECONDS without a request and ACCOUNTS_SESSION_ABSOLUTE_SECONDS after
signing in, whichever comes first. Times are epoch seconds from time.time(), which the tests
control. Which sessions belong to which user (UserSession rows) is written by
accounts.services (session_start, session_key_rotated, session_forget, sessions_end_for_user)."""

import time
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

SIGNED_IN_AT = "accounts_signed_in_at"
LAST_SEEN_AT = "accounts_last_seen_at"


def session_expiry_reason(*, session: SessionBase, now: float | None = None) -> str | None:
    """'idle' or 'absolute' when the session has run out, else None. A session without a
    sign-in time was not made by our sign-in and counts as expired."""
    moment = time.time() if now is None else now
    signed_in_at: Any = session.get(SIGNED_IN_AT)
    last_seen_at: Any = session.get(LAST_SEEN_AT)
    if not isinstance(signed_in_at, int | float) or not isinstance(last_seen_at, int | float):
        return "absolute"
    if moment - signed_in_at > settings.ACCOUNTS_SESSION_ABSOLUTE_SECONDS:
        return "absolute"
    if moment - last_seen_at > settings.ACCOUNTS_SESSION_IDLE_SECONDS:
        return "idle"
    return None


def session_touch(*, session: SessionBase) -> None:
    session[LAST_SEEN_AT] = time.time()
