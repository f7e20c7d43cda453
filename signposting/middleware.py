"""Request-scoped helpers shared by every app."""

import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

logger = logging.getLogger(__name__)

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


class DatabaseUnavailableMiddleware:
    """A page whose database write (its audit event above all) fails answers 503 with a
    plain message instead of a 500: nothing was shown or changed, and the user is told to
    try again. Views that fail closed with their own message do so before this is reached."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DatabaseError):
            return None
        # The request id ties this line to the audit and access logs; no personal data.
        logger.exception("database unavailable", extra={"request_id": getattr(request, "request_id", "")})
        return render(request, "503.html", status=503)


# Room for the multipart envelope (boundaries, the other form fields) around an upload.
MULTIPART_ALLOWANCE_BYTES = 64 * 1024
# The pages that take a file, by URL name, and the setting that limits the file. Every
# other request body is held to DATA_UPLOAD_MAX_MEMORY_SIZE. Named here, not marked on
# the views, so that no app imports the project layer.
UPLOAD_BODY_LIMITS = {
    "registry:upload-new": "BULK_UPLOAD_MAX_BYTES",
    "feeds:files": "FEEDS_MAX_FILE_BYTES",
}


def request_signed_in_fully(request: HttpRequest) -> bool:
    """Signed in with a password and a second factor: only such a request may send a file
    larger than an ordinary form, or have one written to disk."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def upload_file_limit_for(request: HttpRequest) -> int | None:
    """The largest file the view at this path accepts from this request, in bytes, or
    None where the view takes no file (or the request is not fully signed in)."""
    try:
        view_name = resolve(request.path_info).view_name
    except Resolver404:
        return None
    setting_name = UPLOAD_BODY_LIMITS.get(view_name)
    if setting_name is None or not request_signed_in_fully(request):
        return None
    return int(getattr(settings, setting_name))


def request_body_limit_for(request: HttpRequest) -> int:
    """The largest request body the view at this path accepts from this request, in bytes.
    An upload page's own limit applies only to a fully signed-in user: anyone else is held
    to the form limit, which Django keeps in memory, so an anonymous POST spools nothing."""
    file_limit = upload_file_limit_for(request)
    if file_limit is None:
        return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return file_limit + MULTIPART_ALLOWANCE_BYTES


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body (Content-Length) is larger than its view
    accepts, with 413, before anything reads the body. Django checks
    DATA_UPLOAD_MAX_MEMORY_SIZE only once a view reads `request.body`, and a multipart
    upload is written to disk in full before a form can look at the file's size; this
    answers from the header instead. Runs before CsrfViewMiddleware, whose process_view
    reads the form."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # Django treats a malformed length as no body at all
        limit = request_body_limit_for(request)
        if declared > limit:
            return request_too_large(request, limit=limit)
        return self.get_response(request)


def request_too_large(request: HttpRequest, *, limit: int) -> HttpResponse:
    """413 with a message: JSON on the API, the GOV.UK error page elsewhere."""
    megabytes = max(1, limit // (1024 * 1024))
    message = f"The request is larger than this page accepts ({megabytes} MB at most). Nothing was saved."
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message}, status=413)
    return render(request, "413.html", {"message": message}, status=413)
