"""Sign-in and sign-out are recorded in the audit trail. The handlers only translate the
auth signals into audit events; they hold no other logic."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.models import User
from audit.models import AuditEvent
from audit.services import audit_event_record


@receiver(user_logged_in)
def record_sign_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit_event_record(action=AuditEvent.Action.LOGIN_SUCCEEDED, actor=user, request=request)


@receiver(user_logged_out)
def record_sign_out(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit_event_record(action=AuditEvent.Action.LOGGED_OUT, actor=user, request=request)


@receiver(user_login_failed)
def record_failed_sign_in(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Name the account attacked when it exists; never store the password or an unknown email.
    subject = User.objects.filter(email=str(credentials.get("username", "")).lower()).first()
    audit_event_record(action=AuditEvent.Action.LOGIN_FAILED, actor=None, subject_user=subject, request=request)
