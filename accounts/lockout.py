"""How sign-in failures lock: django-axes per account and address (the account's name and
the address by the audit trail's rule), and a limit per address across all accounts."""

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from audit.services import request_client_ip


def username_from_request(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The email address as the sign-in form cleans it (lower case), so that "Sam@x" and
    "sam@x" count towards the same account's lockout."""
    value = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(value).strip().lower()


def client_ip(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address the audit trail records for this request (None
    when there is no valid one: axes stores it in an address column)."""
    return request_client_ip(request)


def _address_key(request: HttpRequest) -> str:
    return f"sign-in-failures:{client_ip(request) or 'unknown'}"


def sign_in_failure_by_address_record(*, request: HttpRequest) -> None:
    """Count a failed sign-in against the client's address for the cool-off period."""
    key = _address_key(request)
    cache.add(key, 0, timeout=int(settings.AXES_COOLOFF_TIME.total_seconds()))
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=int(settings.AXES_COOLOFF_TIME.total_seconds()))


def sign_in_refused_for_address(*, request: HttpRequest) -> bool:
    """Whether the client's address has failed to sign in too often, to any accounts, within
    the cool-off (ACCOUNTS_SIGN_IN_ADDRESS_FAILURE_LIMIT)."""
    limit: int = settings.ACCOUNTS_SIGN_IN_ADDRESS_FAILURE_LIMIT
    return int(cache.get(_address_key(request)) or 0) >= limit
