"""Request-scoped helpers shared by every app."""

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# A request id from the load balancer is trusted only if it looks like one.
_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9\-]{8,64}$")


class RequestIdMiddleware:
    """Give every request an id (kept from X-Request-ID when well formed) so that an audit
    event can be tied to the web server's access log line without logging personal data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response
