from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

# The chain's first event links to this instead of a previous event's hash.
GENESIS_HASH = "0" * 64


class ChainHashField(models.CharField):  # type: ignore[type-arg]
    """Read back from INSERT ... RETURNING: on PostgreSQL the trigger sets the value."""

    db_returning = True


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
        # Auditors' own actions: the audit of the auditors.
        AUDIT_SEARCHED = "audit_searched", "Searched the audit trail"
        AUDIT_CHILD_FOUND = "audit_child_found", "Searched for a child to audit"
        AUDIT_USER_FOUND = "audit_user_found", "Searched for a user to audit"
        AUDIT_CHILD_HISTORY_VIEWED = "audit_child_history_viewed", "Viewed a child's access history"
        AUDIT_USER_ACTIVITY_VIEWED = "audit_user_activity_viewed", "Viewed a user's activity"
        AUDIT_EXPORTED = "audit_exported", "Exported audit events"
        AUDIT_FLAGS_VIEWED = "audit_flags_viewed", "Viewed anomaly flags"
        ANOMALY_FLAG_REVIEWED = "anomaly_flag_reviewed", "Reviewed an anomaly flag"
        AUDIT_CHAIN_VERIFIED = "audit_chain_verified", "Checked the audit trail's hash chain"
        # Accounts (issue 7).
        USER_INVITED = "user_invited", "User invited"
        INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted and password set"
        ROLE_REVOKED = "role_revoked", "Role revoked"
        TRAINING_RECORDED = "training_recorded", "Training completion recorded"
        EXPIRY_SET = "expiry_set", "Access expiry date set"
        USER_DEACTIVATED = "user_deactivated", "User deactivated"
        USER_RECERTIFIED = "user_recertified", "User re-certified"
        USER_SUSPENDED = "user_suspended", "User suspended: not re-certified"
        TWO_FACTOR_ENROLLED = "two_factor_enrolled", "Two-factor authenticator set up"
        TWO_FACTOR_VERIFIED = "two_factor_verified", "Two-factor code accepted"
        TWO_FACTOR_FAILED = "two_factor_failed", "Two-factor code refused"
        TWO_FACTOR_RESET = "two_factor_reset", "Two-factor authenticator reset"
        USER_UNLOCKED = "user_unlocked", "Locked-out user unlocked"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        HOME_POSTCODE_SET = "home_postcode_set", "Own home postcode recorded"
        USER_DETAILS_CORRECTED = "user_details_corrected", "User's details corrected by a system administrator"
        SESSION_EXPIRED = "session_expired", "Session expired"
        # Removal and retention (issue 6).
        CHILD_REMOVED = "child_removed", "Child removed from the register"
        REMOVAL_RUN = "removal_run", "Removal run"
        REMOVAL_DRY_RUN = "removal_dry_run", "Removal dry run"
        LEGAL_HOLD_SET = "legal_hold_set", "Legal hold set"
        LEGAL_HOLD_LIFTED = "legal_hold_lifted", "Legal hold lifted"
        # GRO feeds and the life events they apply (issue 5).
        FEED_FILE_RECEIVED = "feed_file_received", "Feed file received"
        FEED_FILE_REPEATED = "feed_file_repeated", "Feed file received again (no change)"
        FEED_FILE_INGESTED = "feed_file_ingested", "Feed file ingested"
        FEED_FILE_FAILED = "feed_file_failed", "Feed file failed"
        FEED_FILE_STOPPED = "feed_file_stopped", "Feed file stopped by an operator"
        FEED_RECORDS_MATCHED = "feed_records_matched", "Feed records matched to the register"
        FEED_REVIEW_CONFIRMED = "feed_review_confirmed", "Feed match confirmed by the authority"
        FEED_REVIEW_REJECTED = "feed_review_rejected", "Feed match rejected by the authority"
        FEED_REVIEW_CHECKED = "feed_review_checked", "Confirmed birth checked after the GRO changed it"
        CHILD_DEATH_RECORDED = "child_death_recorded", "Death recorded from a registration"
        CHILD_DEATH_REVERSED = "child_death_reversed", "Recorded death reversed"
        CHILD_BIRTH_CONFIRMED = "child_birth_confirmed", "Birth confirmed for an unborn child's plan"
        # The dashboard (issue 17).
        INVOLVEMENT_CONFIRMED = "involvement_confirmed", "Involvement confirmed as still current"
        DUPLICATE_PAIR_DISMISSED = "duplicate_pair_dismissed", "Possible duplicate marked as two different children"
        # Case-management system accounts' API tokens (issue 15, finding 2).
        API_TOKEN_ISSUED = "api_token_issued", "API token issued to a case-management system"
        API_TOKEN_REVOKED = "api_token_revoked", "API tokens of a case-management system revoked"
        # The email outbox (issue 16).
        OUTBOUND_EMAIL_REQUEUED = "outbound_email_requeued", "Given-up email put back in the queue"

    # Set by audit_event_record before the row is hashed (auto_now_add would set it too late).
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
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
    channel = models.CharField(max_length=10, blank=True, help_text="web, api, feed or system (audit.actor.Channel)")
    # Tamper evidence (docs/audit.md): chain_hash = SHA-256(previous_hash + canonical content);
    # previous_hash is the chain_hash of the event before it (by id). Set on insert by the
    # database trigger (PostgreSQL) or by audit_event_record (SQLite), never by callers.
    previous_hash = ChainHashField(max_length=64, blank=True, editable=False)
    chain_hash = ChainHashField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["actor", "occurred_at"]),
            models.Index(fields=["action", "occurred_at"]),
            models.Index(fields=["actor_organisation_id", "occurred_at"], name="audit_event_actor_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditTrailIsAppendOnly("Audit events cannot be changed once written")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted")


class AuditEventChild(models.Model):
    """Index of which children an event names, with each child's responsible authority when
    the event was written: the per-child history reads it.
    Derived from AuditEvent.register_ids (which is hashed); append-only like the events."""

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="children")
    register_id = models.CharField(max_length=14)
    # Blank when the child was no longer on the register when the event was written.
    local_authority_code = models.CharField(max_length=9, blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["register_id", "occurred_at"], name="audit_child_register_idx")]

    def __str__(self) -> str:
        return f"{self.register_id} in event {self.event_id}"


class AuditEventAuthority(models.Model):
    """Index of the local authorities an event concerns: the acting user's, the event's own,
    and each named child's, as they were when it was written. An authority auditor's scope
    and the authority filter read it (one indexed semi-join instead of an OR of three).
    Derived from hashed fields and the register; append-only like the events."""

    # The unique constraint's index (event, code) serves lookups by event.
    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="authorities", db_index=False)
    local_authority_code = models.CharField(max_length=9)
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["local_authority_code", "occurred_at"], name="audit_authority_la_idx")]
        constraints = [
            models.UniqueConstraint(fields=["event", "local_authority_code"], name="audit_authority_once_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.local_authority_code} in event {self.event_id}"


class AuditChainAnchor(models.Model):
    """The chain's head as the nightly check found it intact: how many events, the newest
    event's id and its hash. Kept apart from the events so that removing the newest events
    (which leaves a shorter chain that still links) is found: `verify_audit` requires every
    anchored head event to be there with its anchored hash. Append-only (same triggers as
    the events); the application's database role may only insert (docs/audit.md)."""

    recorded_at = models.DateTimeField(default=timezone.now)
    event_count = models.BigIntegerField()
    # Not a foreign key: an anchor must outlive, and so reveal, a removed event.
    head_event_id = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"chain head {self.head_event_id} ({self.event_count} events) at {self.recorded_at:%Y-%m-%d %H:%M}"


class AnomalyRule(models.TextChoices):
    OWN_FAMILY_NAME = "own_family_name", "Looked up their own family name"
    HOME_POSTCODE = "home_postcode", "Looked up their own home postcode"
    DAILY_VOLUME = "daily_volume", "Unusually many searches in a day"
    OUT_OF_HOURS = "out_of_hours", "Out-of-hours look-up without the emergency reason"
    OUTSIDE_AUTHORITY = "outside_authority", "Opened a record outside their authority with no involvement"
    EMERGENCY_REASON = "emergency_reason", "Used the emergency reason"


class AnomalyFlag(models.Model):
    """A look-up that an auditor should check, raised by audit.anomalies from the trail. Not
    part of the trail itself: reviewing a flag changes it, and the review is audited."""

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="anomaly_flags")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rule = models.CharField(max_length=24, choices=AnomalyRule.choices)
    explanation = models.TextField()
    raised_at = models.DateTimeField(default=timezone.now)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-event_id", "rule"]
        constraints = [
            models.UniqueConstraint(fields=["event", "rule"], name="anomaly_flag_once_per_event_and_rule"),
            models.CheckConstraint(
                condition=models.Q(reviewed_at__isnull=True) | ~models.Q(review_note=""),
                name="anomaly_flag_review_has_note",
            ),
        ]
        indexes = [models.Index(fields=["reviewed_at", "raised_at"], name="anomaly_flag_review_idx")]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} (event {self.event_id})"


class AnomalyScan(models.Model):
    """How far the anomaly scan has read the trail (one row): the scan is resumable and
    never flags the same event twice."""

    last_event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Anomaly scan up to event {self.last_event_id}"
