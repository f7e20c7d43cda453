"""Writing the audit trail. Callers invoke this inside their own transaction so that the
change and its audit event commit together or not at all (fail closed)."""

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from accounts.models import User
from audit.models import AuditEvent


def _client_ip(request: HttpRequest | None) -> str | None:
    """The client's address. Behind N trusted proxies (TRUSTED_PROXY_COUNT), it is the Nth
    address from the right of X-Forwarded-For: the left part can be forged by the client."""
    if request is None:
        return None
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    candidate = forwarded[-hops] if hops and len(forwarded) >= hops else request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def audit_event_record(
    *,
    action: AuditEvent.Action,
    actor: User | None,
    request: HttpRequest | None = None,
    register_ids: list[str] | None = None,
    subject_user: User | None = None,
    local_authority_code: str = "",
    details: dict[str, Any] | None = None,
    reason: str = "",
    reason_detail: str = "",
    criteria: dict[str, Any] | None = None,
    outcome: str = "",
    channel: str = "",
) -> AuditEvent:
    """Append one audit event. Raises if it cannot be written; never swallows errors."""
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_roles=sorted(actor.role_names) if actor else [],
        actor_organisation_id=actor.organisation_id if actor else None,
        actor_local_authority_code=(actor.local_authority.gss_code if actor and actor.local_authority else ""),
        ip_address=_client_ip(request),
        request_id=getattr(request, "request_id", "") if request else "",
        register_ids=register_ids or [],
        subject_user_id=subject_user.pk if subject_user else None,
        local_authority_code=local_authority_code,
        details=details or {},
        reason=reason,
        reason_detail=reason_detail,
        criteria=criteria or {},
        outcome=outcome,
        channel=channel,
    )
