"""Request-wide sign-in rules: session time limits, and two factors before any page."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import user_has_two_factor
from accounts.services import session_expired_record
from accounts.sessions import session_expiry_reason, session_touch
from audit.actor import Actor

API_PREFIX = "/api/"


def two_factor_not_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view as reachable with a password alone: signing in, the code and set-up
    pages, invitation acceptance and signing out."""
    view.two_factor_not_required = True  # type: ignore[attr-defined]
    return view


def _is_api_view(view_func: Callable[..., Any]) -> bool:
    cls = getattr(view_func, "cls", None)
    return isinstance(cls, type) and issubclass(cls, APIView)


class SessionTimeoutMiddleware:
    """Ends a session idle for ACCOUNTS_SESSION_IDLE_SECONDS or older than
    ACCOUNTS_SESSION_ABSOLUTE_SECONDS, and otherwise records the request as activity.
    Requests without a session (API tokens) pass untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            reason = session_expiry_reason(session=request.session)
            if reason is not None:
                return self._expire(request, reason)
            session_touch(session=request.session)
        return self.get_response(request)

    def _expire(self, request: HttpRequest, reason: str) -> HttpResponse:
        user = request.user
        assert isinstance(user, User)
        session_expired_record(by=Actor.from_request(request, user=user), reason=reason)
        logout(request)
        if request.path.startswith(API_PREFIX):
            return JsonResponse({"detail": "Your session has ended. Sign in again."}, status=401)
        if reason == "idle":
            minutes = settings.ACCOUNTS_SESSION_IDLE_SECONDS // 60
            messages.info(request, f"You were signed out because you were inactive for {minutes} minutes.")
        else:
            hours = settings.ACCOUNTS_SESSION_ABSOLUTE_SECONDS // 3600
            messages.info(request, f"You were signed out because you had been signed in for {hours} hours.")
        return redirect_to_login(request.get_full_path())


class TwoFactorRequiredMiddleware:
    """A user who has given only their password reaches nothing but the sign-in pages: the
    code page if they have an authenticator, else the set-up page. Session API calls get 403;
    token API calls carry no session user and are left to the API's own authentication."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if getattr(view_func, "two_factor_not_required", False):
            return None
        user = request.user
        if not isinstance(user, User) or not user.is_authenticated or user.is_verified():  # type: ignore[attr-defined]
            return None
        if _is_api_view(view_func) or request.path.startswith(API_PREFIX):
            return JsonResponse({"detail": "Finish signing in with your two-factor code first."}, status=403)
        target = "accounts:two_factor_verify" if user_has_two_factor(user=user) else "accounts:two_factor_enrol"
        return redirect_to_login(request.get_full_path(), resolve_url(target))
