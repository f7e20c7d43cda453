"""Logging filters that keep personal data and case references out of the logs."""

import logging

from django.http import HttpRequest

PATH_WITHHELD = "(path withheld)"


class RequestPathWithheld(logging.Filter):
    """django.request logs every 4xx and 5xx as "Not Found: /path". A path can name a
    case-management reference (/api/v1/cms/children/<la_reference>/) or a register ID, so
    the path is replaced by its URL pattern ("api/v1/cms/children/<str:la_reference>/")
    or, for a path that matched nothing, by "(path withheld)". The request id (in the
    response's X-Request-ID and the audit event) still ties the line to the request."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if not isinstance(request, HttpRequest) or not isinstance(record.args, tuple):
            return True
        path = request.path
        escaped = path.encode("unicode_escape").decode("ascii")
        match = getattr(request, "resolver_match", None)
        shown = f"/{match.route}" if match is not None and match.route else PATH_WITHHELD
        record.args = tuple(shown if arg in (path, escaped) else arg for arg in record.args)
        return True
