"""How django-axes names the account a sign-in attempt is for."""

from typing import Any

from django.http import HttpRequest


def username_from_request(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The email address as the sign-in form cleans it (lower case), so that "Sam@x" and
    "sam@x" count towards the same account's lockout."""
    value = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(value).strip().lower()
