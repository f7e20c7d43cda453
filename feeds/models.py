"""General Register Office feed files, the registrations they carry, and what the register
did with each registration (applied it to a child, or asked a register manager)."""

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import LocalAuthority
from registry.models import Child, FileJob, ProtectionStatus


class EventType(models.TextChoices):
    DEATH = "death", "Death"
    BIRTH = "birth", "Birth"


class RecordStatus(models.TextChoices):
    REGISTERED = "registered", "Registered"
    CORRECTED = "corrected", "Corrected"
    CANCELLED = "cancelled", "Cancelled"


class FeedFile(FileJob):
    """One file received from the GRO, identified by its SHA-256: a file job
    (registry.models.FileJob), claimed, kept alive, finished, failed and found stalled by
    registry.file_jobs as a bulk upload is. Its ingestion runs in chunks;
    `lines_committed` is the cursor a resumed worker starts after."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded in the browser"
        INBOX = "inbox", "Inbox folder"
        COMMAND = "command", "ingest_feed command"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_type = models.CharField(max_length=8, choices=EventType.choices)
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    original_name = models.CharField(max_length=200)
    size_bytes = models.BigIntegerField()
    is_gzip = models.BooleanField(default=False)
    source = models.CharField(max_length=8, choices=Source.choices)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Where the worker reads it from (under FEEDS_STORE_DIR); emptied once ingested.
    stored_path = models.CharField(max_length=500, blank=True)
    # state, rows_total (data lines, the header excluded), failure, deliveries (failed past
    # FEEDS_MAX_DELIVERIES), the times, and the heartbeat (every FEEDS_HEARTBEAT_SECONDS,
    # also while the worker counts lines or waits on a long chunk, by its Celery task id;
    # older than FEEDS_STALLED_AFTER_SECONDS means the worker is gone): FileJob.
    # The cursor: data lines whose outcome is committed. Updated in each chunk's transaction.
    lines_committed = models.PositiveIntegerField(default=0)
    rows_applied = models.PositiveIntegerField(default=0)
    rows_for_review = models.PositiveIntegerField(default=0)
    rows_unmatched = models.PositiveIntegerField(default=0)
    rows_duplicate = models.PositiveIntegerField(default=0)
    rows_out_of_scope = models.PositiveIntegerField(default=0)
    rows_quarantined = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    # When the stalled-file sweep last handed the file out again (its claim: one sweep, one message).
    swept_at = models.DateTimeField(null=True, blank=True)

    # A hand-out by the sweep counts as a sign of life, so that the next waits its turn;
    # receipt is the first sign (feeds.ingestion.unrecovered_files leaves hand-outs out).
    SIGNS_OF_LIFE: ClassVar[tuple[str, ...]] = ("heartbeat_at", "progress_at", "started_at", "swept_at", "received_at")

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rows_total__isnull=True) | Q(lines_committed__lte=models.F("rows_total")),
                name="feed_file_cursor_within_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()} feed file {self.id}"

    @property
    def rows_done(self) -> int:
        return self.lines_committed

    @property
    def percent_done(self) -> int:
        if not self.rows_total:
            return 100 if self.state == self.State.DONE else 0
        return int(100 * self.lines_committed / self.rows_total)


class QuarantinedRow(models.Model):
    """A line that could not be read, with its line number and why. The line's content is
    not copied: the operator has the file."""

    feed_file = models.ForeignKey(FeedFile, on_delete=models.CASCADE, related_name="quarantined_rows")
    line_number = models.PositiveIntegerField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["line_number"]
        constraints = [
            models.UniqueConstraint(fields=["feed_file", "line_number"], name="quarantined_row_unique_line"),
        ]

    def __str__(self) -> str:
        return f"Line {self.line_number} of {self.feed_file_id}"


class Registration(models.Model):
    """A registration the register has seen, by its natural key. Holds no personal data:
    the details of a registration are kept only on the matches it produced."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied to a child"
        FOR_REVIEW = "for_review", "Waiting for a register manager"
        UNMATCHED = "unmatched", "No child on the register"
        CANCELLED = "cancelled", "Cancelled"

    event_type = models.CharField(max_length=8, choices=EventType.choices)
    registration_district = models.CharField(max_length=100)
    entry_number = models.CharField(max_length=20)
    registration_year = models.PositiveSmallIntegerField()
    record_status = models.CharField(max_length=12, choices=RecordStatus.choices)
    # The GRO's version number of the version applied, when its file had the `version` column.
    version = models.PositiveIntegerField(null=True, blank=True)
    # SHA-256 of the row's fields: the same registration sent again changes nothing.
    content_sha256 = models.CharField(max_length=64)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    feed_file = models.ForeignKey(FeedFile, on_delete=models.PROTECT, related_name="+")
    line_number = models.PositiveIntegerField()
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event_type", "registration_district", "entry_number", "registration_year"],
                name="registration_unique_natural_key",
            ),
        ]
        indexes = [models.Index(fields=["event_type", "entry_number"], name="registration_entry_idx")]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()} registration {self.pk}"


class FeedMatch(models.Model):
    """A registration matched to a child on the register: applied when the match was
    certain, else waiting for the responsible authority's register managers. Holds the
    registration's details, and is deleted with the child (CASCADE)."""

    class Method(models.TextChoices):
        NHS_NUMBER = "nhs_number", "NHS number"
        MATCHER = "matcher", "Names, date of birth and postcode"
        UNBORN_PLAN = "unborn_plan", "Mother's identity and expected delivery date"

    class State(models.TextChoices):
        APPLIED = "applied", "Applied"
        PENDING = "pending", "Waiting for review"
        CONFIRMED = "confirmed", "Confirmed by a register manager"
        REJECTED = "rejected", "Rejected by a register manager"
        REVERSED = "reversed", "Reversed by a cancellation"
        WITHDRAWN = "withdrawn", "Withdrawn: the registration changed before review"
        # A birth confirmed into a record cannot be undone by the feed (the record took the
        # baby's names and a new plan): its cancellation or correction waits in the review
        # queue until a register manager has checked the record by hand.
        RECHECK = "recheck", "Changed by the GRO after confirmation: check the record"
        CHECKED = "checked", "Checked by a register manager after the GRO's change"

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="matches")
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="feed_matches")
    # The unborn plan a birth was matched to.
    unborn_status = models.ForeignKey(
        ProtectionStatus, on_delete=models.CASCADE, null=True, blank=True, related_name="feed_matches"
    )
    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=12, choices=Method.choices)
    state = models.CharField(max_length=10, choices=State.choices)
    grade = models.CharField(max_length=10, blank=True)
    reasons = models.JSONField(default=list)
    # The registration's fields as last received (parsed, normalised).
    details = models.JSONField(default=dict)
    # The child's date of death before a death was applied, restored if it is cancelled.
    previous_date_of_death = models.DateField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["local_authority", "state"], name="feed_match_queue_idx")]
        constraints = [
            models.UniqueConstraint(fields=["registration", "child"], name="feed_match_unique_child"),
            models.CheckConstraint(
                condition=~Q(method="unborn_plan") | Q(unborn_status__isnull=False),
                name="feed_match_birth_has_plan",
            ),
        ]

    def __str__(self) -> str:
        return f"Feed match {self.pk} ({self.state})"
