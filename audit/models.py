from typing import Any

from django.conf import settings
from django.db import models


class AuditTrailIsAppendOnly(Exception):
    """Raised when code tries to change or delete an audit event."""


class LookupReason(models.TextChoices):
    """Why a practitioner looked a child up. Stated before every search and record view."""

    NEW_CONCERN = "new_concern", "New concern or referral"
    ASSESSMENT = "assessment", "Assessment"
    ONGOING_WORK = "ongoing_work", "Ongoing work with the child"
    EMERGENCY = "emergency", "Emergency or out of hours"
    OTHER = "other", "Other"


class LookupOutcome(models.TextChoices):
    RESULTS = "results", "Results shown"
    NO_RESULTS = "no_results", "No match"
    TOO_MANY = "too_many", "Too many matches: asked to narrow"
    REFUSED = "refused", "Refused: not enough information or not allowed"
    FAILED = "failed", "Failed with an error"
    VIEWED = "viewed", "Record shown"


class AuditEvent(models.Model):
    """One thing a person (or a system job) did to the register. Written in the same
    transaction as the change it records; never updated or deleted by the application.

    Children are named only by their pseudonymous register ID, so that removing a child's
    personal data leaves the audit trail intact and non-identifying.
    """

    class Action(models.TextChoices):
        CHILD_CREATED = "child_created", "Child added"
        CHILD_UPDATED = "child_updated", "Child updated"
        STATUS_ADDED = "status_added", "Status added"
        STATUS_ENDED = "status_ended", "Status ended"
        INVOLVEMENT_ADDED = "involvement_added", "Involvement added"
        INVOLVEMENT_ENDED = "involvement_ended", "Involvement ended"
        CHILDREN_IMPORTED = "children_imported", "Children imported from a file"
        USER_CREATED = "user_created", "User created"
        ROLE_GRANTED = "role_granted", "Role granted"
        LOGIN_SUCCEEDED = "login_succeeded", "Logged in"
        LOGIN_FAILED = "login_failed", "Login failed"
        LOGGED_OUT = "logged_out", "Logged out"
        SEARCH = "search", "Searched the register"
        CHILD_VIEWED = "child_viewed", "Viewed a child's record"

    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=40, choices=Action.choices)
    # PROTECT: users are deactivated, never deleted, so the trail always names its actor.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Snapshot of the actor's context at the time: roles and employers change later.
    actor_roles = models.JSONField(default=list, blank=True)
    actor_organisation_id = models.BigIntegerField(null=True, blank=True)
    actor_local_authority_code = models.CharField(max_length=9, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    register_ids = models.JSONField(default=list, blank=True)
    subject_user_id = models.BigIntegerField(null=True, blank=True)
    local_authority_code = models.CharField(max_length=9, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # Lookups (searches and record views): why, what was asked, how it ended. The criteria
    # are personal data: readable by auditors here, never written to application logs.
    reason = models.CharField(max_length=20, choices=LookupReason.choices, blank=True)
    reason_detail = models.CharField(max_length=200, blank=True)
    criteria = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=20, choices=LookupOutcome.choices, blank=True)
    channel = models.CharField(max_length=10, blank=True, help_text="web or api")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["actor", "occurred_at"]), models.Index(fields=["action", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditTrailIsAppendOnly("Audit events cannot be changed once written")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted")
