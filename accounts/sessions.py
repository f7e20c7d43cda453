"""Session limits and ending a user's sessions.

A session records when its user signed in and when they were last seen. It ends after
ACCOUNTS_SESSION_IDLE_SECONDS without a request and ACCOUNTS_SESSION_ABSOLUTE_SECONDS after
signing in, whichever comes first. Times are epoch seconds from time.time(), which the tests
control."""

import time
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

from accounts.models import User, UserSession

SIGNED_IN_AT = "accounts_signed_in_at"
LAST_SEEN_AT = "accounts_last_seen_at"


def session_start(*, session: SessionBase, user: User) -> None:
    """Stamp a newly signed-in session and remember that it belongs to `user`."""
    now = time.time()
    session[SIGNED_IN_AT] = now
    session[LAST_SEEN_AT] = now
    if session.session_key is None:
        session.save()
    UserSession.objects.get_or_create(session_key=session.session_key, defaults={"user": user})


def session_key_rotated(*, session: SessionBase, user: User, previous_key: str | None) -> None:
    """Follow a session to its new key after cycle_key()."""
    if previous_key:
        UserSession.objects.filter(session_key=previous_key).delete()
    if session.session_key is None:
        session.save()
    UserSession.objects.get_or_create(session_key=session.session_key, defaults={"user": user})


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


def sessions_end_for_user(*, user: User) -> int:
    """Delete every session of `user` from the session store, wherever they are signed in.
    Returns how many were ended."""
    engine = import_module(settings.SESSION_ENGINE)
    store = engine.SessionStore()
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store.delete(key)
    UserSession.objects.filter(user=user).delete()
    return len(keys)
