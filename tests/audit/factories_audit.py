"""Helpers that write audit events the way the application does (audit_event_record)."""

import datetime
from typing import Any

import time_machine

from accounts.models import User
from accounts.roles import Role
from audit.models import AuditEvent, LookupOutcome
from audit.services import audit_event_record
from tests.factories import UserFactory


def national_auditor(**kwargs: Any) -> User:
    return UserFactory(organisation=None, local_authority=None, roles=[Role.AUDITOR], **kwargs)


def authority_auditor(authority: Any, **kwargs: Any) -> User:
    return UserFactory(organisation__local_authority=authority, roles=[Role.AUDITOR], **kwargs)


def practitioner_of(authority: Any, **kwargs: Any) -> User:
    # A surname no test searches for, so the own-family-name flag is raised only where a
    # test means it to be (a generated "Jones" once flagged a search for Jones).
    kwargs.setdefault("full_name", "Quilla Vexborough")
    return UserFactory(organisation__local_authority=authority, roles=[Role.PRACTITIONER], **kwargs)


def search_recorded(
    actor: User,
    *,
    criteria: dict[str, Any] | None = None,
    register_ids: list[str] | None = None,
    reason: str = "assessment",
    at: datetime.datetime | None = None,
) -> AuditEvent:
    def record() -> AuditEvent:
        return audit_event_record(
            action=AuditEvent.Action.SEARCH,
            actor=actor,
            criteria=criteria or {"family_name": "Oneil", "date_of_birth": "2019-04-12"},
            register_ids=register_ids or [],
            reason=reason,
            outcome=LookupOutcome.RESULTS if register_ids else LookupOutcome.NO_RESULTS,
            channel="web",
        )

    if at is None:
        return record()
    with time_machine.travel(at, tick=False):
        return record()


def view_recorded(
    actor: User, child: Any, *, reason: str = "assessment", at: datetime.datetime | None = None
) -> AuditEvent:
    def record() -> AuditEvent:
        return audit_event_record(
            action=AuditEvent.Action.CHILD_VIEWED,
            actor=actor,
            criteria={"register_id": child.register_id},
            register_ids=[child.register_id],
            local_authority_code=child.responsible_local_authority.gss_code,
            reason=reason,
            outcome=LookupOutcome.VIEWED,
            channel="web",
        )

    if at is None:
        return record()
    with time_machine.travel(at, tick=False):
        return record()
