"""Which way in an action came: the channel every audit event records. It lives in the
audit core, which imports no other app, so that every app may import it."""

import enum

from django.http import HttpRequest

# Everything under this path is the JSON API (signposting/urls.py): practitioners' search
# and the case-management systems' writes.
API_PATH_PREFIX = "/api/"


class Channel(enum.StrEnum):
    """The way in, as written to AuditEvent.channel."""

    WEB = "web"  # a person using the register's pages
    API = "api"  # the JSON API
    FEED = "feed"  # a General Register Office feed file being ingested
    SYSTEM = "system"  # scheduled work with no person behind it


def request_channel(request: HttpRequest) -> Channel:
    """The channel of a request: the API for the API's paths, the web for every page. Read
    from the request itself so that a service called by an API view (a case-management
    write through registry.children.services) records "api" without being told."""
    return Channel.API if request.path.startswith(API_PATH_PREFIX) else Channel.WEB
