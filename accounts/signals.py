"""Sign-in and sign-out are recorded in the audit trail. The handlers translate the auth
signals into audit events, and stamp a new session with its sign-in time and owner
(accounts.services); they hold no other logic."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.lockout import sign_in_failure_by_address_record
from accounts.models import User
from accounts.services import session_forget, session_start
from audit.actor import Actor
from audit.models import AuditEvent
from audit.services import audit_event_record


@receiver(user_logged_in)
def record_sign_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit_event_record(action=AuditEvent.Action.LOGIN_SUCCEEDED, actor=Actor.from_request(request, user=user))
    # login() has just rotated the session key: stamp the new session's start.
    session_start(session=request.session, user=user)


@receiver(user_logged_out)
def record_sign_out(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit_event_record(action=AuditEvent.Action.LOGGED_OUT, actor=Actor.from_request(request, user=user))
    if request.session.session_key:
        session_forget(session_key=request.session.session_key)


@receiver(user_login_failed)
def record_failed_sign_in(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Name the account attacked when it exists; never store the password or an unknown email.
    subject = User.objects.filter(email=str(credentials.get("username", "")).lower()).first()
    # No request when authenticate() is called outside a page (a command, a test): the
    # register's own channel, "system".
    by: Actor[User] = Actor.from_request(request, user=None) if request is not None else Actor.system()
    audit_event_record(action=AuditEvent.Action.LOGIN_FAILED, actor=by, subject_user=subject)
    if request is not None:
        sign_in_failure_by_address_record(request=request)
