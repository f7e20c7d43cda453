"""Who acted and which way in: the actor context every audit event records. It lives in
the audit core, which imports no other app, so that every app may import it.

An `Actor` is built once where work starts — `Actor.from_request(request, user=...)` in a
view, `Actor.system(channel=...)` in a scheduled task, a feed's ingestion or a command —
and passed down to the services that write, which pass it on to `audit_event_record`. So
the user, the request (for the client's address and request id) and the channel travel
together, and no event is written with an empty channel."""

import enum
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from django.http import HttpRequest

# Everything under this path is the JSON API (signposting/urls.py): practitioners' search
# and the case-management systems' writes.
API_PATH_PREFIX = "/api/"


class Channel(enum.StrEnum):
    """The way in, as written to AuditEvent.channel."""

    WEB = "web"  # a person using the register's pages
    API = "api"  # the JSON API
    FEED = "feed"  # a General Register Office feed file being ingested
    SYSTEM = "system"  # work no page or API call started: scheduled tasks, commands


def request_channel(request: HttpRequest) -> Channel:
    """The channel of a request: the API for the API's paths, the web for every page. Read
    from the request itself so that a service called by an API view (a case-management
    write through registry.children.services) records "api" without being told."""
    return Channel.API if request.path.startswith(API_PATH_PREFIX) else Channel.WEB


class _Authority(Protocol):
    @property
    def gss_code(self) -> str: ...


class ActingUser(Protocol):
    """A user as the trail snapshots them. The user model (settings.AUTH_USER_MODEL) has
    this shape; typed by shape so that the trail imports no other app."""

    @property
    def pk(self) -> Any: ...

    @property
    def organisation_id(self) -> int | None: ...

    @property
    def role_names(self) -> set[str]: ...

    @property
    def local_authority(self) -> _Authority | None: ...


# Unbounded: the shape is checked where the context is used (audit_event_record takes an
# Actor[ActingUser]); a bound naming the protocol defeats mypy's check of the user model
# inside the import cycle of accounts and audit. U is the constructors' own variable: a
# covariant one may not type a parameter.
UserT = TypeVar("UserT", covariant=True)
U = TypeVar("U")


@dataclass(frozen=True)
class Actor(Generic[UserT]):
    """The actor context: who (None for the register itself), through which request if
    any, by which channel. Immutable, so one built for a request cannot be changed by a
    service it is passed to."""

    user: UserT | None
    channel: Channel
    request: HttpRequest | None = None

    @staticmethod
    def from_request(request: HttpRequest, *, user: U | None) -> "Actor[U]":
        """The signed-in `user` (the caller's typed request.user, or None) acting through
        `request`; the channel is the request's way in (web or api)."""
        return Actor(user=user, channel=request_channel(request), request=request)

    @staticmethod
    def system(*, channel: Channel = Channel.SYSTEM, user: U | None = None) -> "Actor[U]":
        """Work no request started: scheduled work (`system`), a feed file (`feed`), or a
        command run for a named `user`."""
        return Actor(user=user, channel=channel)
