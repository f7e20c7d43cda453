"""Writes for the GRO feeds: receiving a file, and register managers' review decisions.
Each writes its audit event in the same transaction."""

import datetime
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from audit.actor import Actor
from audit.models import AuditEvent
from audit.services import audit_event_record
from feeds.models import EventType, FeedFile, FeedMatch, Registration
from feeds.parsing import HeaderRefused, file_event_type, file_is_gzip
from registry.children.services import child_birth_confirm, child_death_record
from registry.file_jobs.services import file_job_fail

ACTION_FILE_RECEIVED = AuditEvent.Action.FEED_FILE_RECEIVED
ACTION_FILE_REPEATED = AuditEvent.Action.FEED_FILE_REPEATED
ACTION_REVIEW_CONFIRMED = AuditEvent.Action.FEED_REVIEW_CONFIRMED
ACTION_REVIEW_REJECTED = AuditEvent.Action.FEED_REVIEW_REJECTED
ACTION_REVIEW_CHECKED = AuditEvent.Action.FEED_REVIEW_CHECKED
ACTION_FILE_FAILED = AuditEvent.Action.FEED_FILE_FAILED
ACTION_FILE_STOPPED = AuditEvent.Action.FEED_FILE_STOPPED
_COPY_BLOCK = 1024 * 1024


class FeedRefused(Exception):
    """The file was refused before any of it was processed. The message is safe to show."""


@dataclass(frozen=True)
class Receipt:
    feed_file: FeedFile
    repeated: bool  # the same file (by SHA-256) was received before: nothing was done

    @property
    def message(self) -> str:
        if self.repeated:
            return (
                f"This file was already received on {timezone.localtime(self.feed_file.received_at):%d %B %Y at %H:%M} "
                "(same SHA-256). Nothing was done."
            )
        return "The file was received and is being ingested."


def size_limit_message() -> str:
    return f"The file is larger than the limit of {settings.FEEDS_MAX_FILE_BYTES // (1024 * 1024)} MB"


def feed_file_receive(
    *,
    stream: IO[bytes],
    size: int,
    original_name: str,
    source: str,
    by: Actor[User],
    enqueue: bool = True,
) -> Receipt:
    """Store a GRO file and queue its ingestion (on commit). The same content again is a
    no-op. `by` is the feed itself (the inbox: `Actor.system(channel=Channel.FEED)`), or an
    operator's upload or command, whose user is recorded as the file's sender. Raises
    FeedRefused, before anything is stored or queued, for a file over FEEDS_MAX_FILE_BYTES
    or one whose header is not a deaths or births header."""
    if size > settings.FEEDS_MAX_FILE_BYTES:
        raise FeedRefused(size_limit_message())
    store = Path(settings.FEEDS_STORE_DIR)
    store.mkdir(parents=True, exist_ok=True)
    partial = store / f".{uuid.uuid4()}.part"
    digest = hashlib.sha256()
    written = 0
    try:
        with partial.open("wb") as out:
            while block := stream.read(_COPY_BLOCK):
                written += len(block)
                if written > settings.FEEDS_MAX_FILE_BYTES:
                    raise FeedRefused(size_limit_message())
                digest.update(block)
                out.write(block)
        sha256 = digest.hexdigest()
        existing = FeedFile.objects.filter(sha256=sha256).first()
        if existing is not None:
            return _repeated(existing, by=by)
        is_gzip = file_is_gzip(partial)
        try:
            event_type = file_event_type(partial, is_gzip)
        except HeaderRefused as refused:
            raise FeedRefused(str(refused)) from refused
        feed_file = FeedFile(
            event_type=event_type,
            sha256=sha256,
            # Control characters (a NUL above all) cannot be stored in PostgreSQL text.
            original_name="".join(ch for ch in Path(original_name).name if ch.isprintable())[:200] or "unnamed",
            size_bytes=written,
            is_gzip=is_gzip,
            source=source,
            received_by=by.user,
        )
        stored = store / f"{feed_file.id}{'.csv.gz' if is_gzip else '.csv'}"
        feed_file.stored_path = str(stored)
        try:
            with transaction.atomic():
                feed_file.save(force_insert=True)
                audit_event_record(
                    action=ACTION_FILE_RECEIVED,
                    actor=by,
                    details={
                        "feed_file": str(feed_file.pk),
                        "sha256": sha256,
                        "event_type": event_type,
                        "size_bytes": written,
                        "source": source,
                    },
                )
                partial.rename(stored)
                if enqueue:
                    # By name, not by import: feeds.tasks imports this module (the inbox scan
                    # receives files through it), and the import would close a cycle.
                    current_app.tasks["feeds.tasks.feed_file_ingest"].delay_on_commit(  # type: ignore[attr-defined]
                        str(feed_file.pk)
                    )
        except IntegrityError:
            # The same file arrived by another route at the same moment.
            stored.unlink(missing_ok=True)
            return _repeated(FeedFile.objects.get(sha256=sha256), by=by)
        return Receipt(feed_file=feed_file, repeated=False)
    finally:
        partial.unlink(missing_ok=True)


def _repeated(feed_file: FeedFile, *, by: Actor[User]) -> Receipt:
    with transaction.atomic():
        audit_event_record(
            action=ACTION_FILE_REPEATED,
            actor=by,
            details={"feed_file": str(feed_file.pk), "sha256": feed_file.sha256},
        )
    return Receipt(feed_file=feed_file, repeated=True)


def _decision_source(match: FeedMatch) -> dict[str, Any]:
    registration = match.registration
    return {
        "feed_match": match.pk,
        "event_type": registration.event_type,
        "registration_district": registration.registration_district,
        "entry_number": registration.entry_number,
        "registration_year": registration.registration_year,
        "method": match.method,
    }


def feed_match_confirm(*, match: FeedMatch, by: Actor[User]) -> FeedMatch:
    """A register manager confirms that a registration concerns this child: the death is
    recorded, or the birth becomes the child's record (registry.children.services). The
    registration's other candidates are withdrawn. Raises ValidationError with a message
    to show if it can no longer be confirmed."""
    with transaction.atomic():
        match = FeedMatch.objects.select_for_update().select_related("registration", "child").get(pk=match.pk)
        if match.state != FeedMatch.State.PENDING:
            raise ValidationError("This registration has already been decided or was withdrawn")
        details = match.details
        source = _decision_source(match)
        if match.registration.event_type == EventType.DEATH:
            match.previous_date_of_death = match.child.date_of_death
            child_death_record(
                child=match.child,
                date_of_death=_date(details["date_of_death"]),
                by=by,
                source=source,
            )
        else:
            assert match.unborn_status is not None
            child_birth_confirm(
                child=match.child,
                unborn_status=match.unborn_status,
                date_of_birth=_date(details["date_of_birth"]),
                given_names=details["forenames"],
                family_name=details["surname"],
                sex=details["sex"],
                nhs_number=details["nhs_number"],
                by=by,
                source=source,
            )
        match.state = FeedMatch.State.CONFIRMED
        match.decided_by = by.user
        match.decided_at = timezone.now()
        match.save(update_fields=["state", "decided_by", "decided_at", "previous_date_of_death", "updated_at"])
        FeedMatch.objects.filter(registration=match.registration, state=FeedMatch.State.PENDING).exclude(
            pk=match.pk
        ).update(state=FeedMatch.State.WITHDRAWN)
        Registration.objects.filter(pk=match.registration_id).update(outcome=Registration.Outcome.APPLIED)
        audit_event_record(
            action=ACTION_REVIEW_CONFIRMED,
            actor=by,
            register_ids=[match.child.register_id],
            # The child under the authority now responsible, which may not be the match's.
            child_authority_codes={match.child.register_id: match.child.responsible_local_authority.gss_code},
            local_authority_code=match.local_authority.gss_code,
            details=source,
        )
    return match


def feed_match_reject(*, match: FeedMatch, by: Actor[User]) -> FeedMatch:
    """A register manager says the registration is not this child's: nothing changes on the
    child's record."""
    with transaction.atomic():
        match = FeedMatch.objects.select_for_update().select_related("registration", "child").get(pk=match.pk)
        if match.state != FeedMatch.State.PENDING:
            raise ValidationError("This registration has already been decided or was withdrawn")
        match.state = FeedMatch.State.REJECTED
        match.decided_by = by.user
        match.decided_at = timezone.now()
        match.save(update_fields=["state", "decided_by", "decided_at", "updated_at"])
        if not FeedMatch.objects.filter(
            registration=match.registration_id,
            state__in=(FeedMatch.State.PENDING, FeedMatch.State.CONFIRMED, FeedMatch.State.APPLIED),
        ).exists():
            Registration.objects.filter(pk=match.registration_id).update(outcome=Registration.Outcome.UNMATCHED)
        audit_event_record(
            action=ACTION_REVIEW_REJECTED,
            actor=by,
            register_ids=[match.child.register_id],
            # The child under the authority now responsible, which may not be the match's.
            child_authority_codes={match.child.register_id: match.child.responsible_local_authority.gss_code},
            local_authority_code=match.local_authority.gss_code,
            details=_decision_source(match),
        )
    return match


def feed_match_checked(*, match: FeedMatch, by: Actor[User]) -> FeedMatch:
    """A register manager has checked a record whose confirmed birth the GRO cancelled or
    corrected afterwards (and corrected the record by hand where needed): the item leaves
    the review queue. Raises ValidationError with a message to show if it is not waiting."""
    with transaction.atomic():
        match = FeedMatch.objects.select_for_update().select_related("registration", "child").get(pk=match.pk)
        if match.state != FeedMatch.State.RECHECK:
            raise ValidationError("This registration has already been checked")
        match.state = FeedMatch.State.CHECKED
        match.decided_by = by.user
        match.decided_at = timezone.now()
        match.save(update_fields=["state", "decided_by", "decided_at", "updated_at"])
        audit_event_record(
            action=ACTION_REVIEW_CHECKED,
            actor=by,
            register_ids=[match.child.register_id],
            child_authority_codes={match.child.register_id: match.child.responsible_local_authority.gss_code},
            local_authority_code=match.local_authority.gss_code,
            details={**_decision_source(match), "record_status": match.registration.record_status},
        )
    return match


def _date(value: str) -> datetime.date:
    return datetime.date.fromisoformat(value)


def feed_file_fail(*, feed_file_id: Any, reason: str, by: Actor[User]) -> FeedFile:
    """Mark a file that is not finished as failed, with a reason an operator can read, and
    audit it ('stopped' when `by` names an operator, 'failed' when it is the feed's own
    ingestion). Chunks already committed stay applied; a running worker stops at its next
    chunk, which finds the file no longer running. The stored copy is kept for
    FEEDS_FAILED_RETENTION_DAYS for investigation. Safe to call twice."""
    with transaction.atomic():
        feed_file = FeedFile.objects.select_for_update().get(pk=feed_file_id)
        if not file_job_fail(FeedFile.objects.filter(pk=feed_file.pk), reason=reason):
            return feed_file  # already ended
        feed_file.refresh_from_db()
        audit_event_record(
            action=ACTION_FILE_STOPPED if by.user else ACTION_FILE_FAILED,
            actor=by,
            details={"feed_file": str(feed_file.pk), "sha256": feed_file.sha256, "reason": feed_file.failure},
        )
    return feed_file


def failed_copies_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the stored copies of files failed more than FEEDS_FAILED_RETENTION_DAYS ago:
    the GRO's rows are personal data and are not kept once nobody will investigate them.
    Returns how many copies were deleted. Safe to run twice."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.FEEDS_FAILED_RETENTION_DAYS)
    purged = 0
    for feed_file in FeedFile.objects.filter(state=FeedFile.State.FAILED, finished_at__lt=cutoff).exclude(
        stored_path=""
    ):
        Path(feed_file.stored_path).unlink(missing_ok=True)
        purged += FeedFile.objects.filter(pk=feed_file.pk, stored_path=feed_file.stored_path).update(stored_path="")
    return purged
