"""Ingesting a received feed file: streamed, in chunks, exactly once.

Each chunk is one transaction that writes the chunk's outcomes (registrations, matches,
effects on children, quarantined lines, counters) together with the file's cursor
(`FeedFile.lines_committed`). A worker killed mid-chunk loses only the uncommitted chunk,
which the next worker reads again from the cursor; a registration already recorded with
the same content is a duplicate and changes nothing. Two workers on one file cannot both
commit a chunk: each locks the file's row and checks the cursor it started from.
"""

import datetime
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any
from uuid import uuid4

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from audit.actor import Actor, Channel
from audit.models import AuditEvent
from audit.services import audit_event_record, audit_events_deferred
from feeds.models import EventType, FeedFile, FeedMatch, QuarantinedRow, RecordStatus, Registration
from feeds.pacing import give_way_to_searches
from feeds.parsing import (
    FeedFileUnreadable,
    FeedFileUnsafe,
    OutOfScope,
    Quarantine,
    Record,
    data_line_count,
    data_lines,
    file_columns,
    parse_line,
)
from feeds.services import feed_file_fail
from registry.children.selectors import child_authority_codes
from registry.children.services import (
    DeathToRecord,
    child_death_correction_notify,
    child_death_record,
    child_death_reverse,
    child_deaths_record,
)
from registry.children.services_notifications import register_managers_notify_review
from registry.file_jobs.selectors import file_jobs_stale
from registry.file_jobs.services import file_job_claim, file_job_finish, file_job_heartbeat, file_job_release
from registry.matching.selectors import (
    Grade,
    MotherIdentity,
    Purpose,
    SearchCriteria,
    SearchOutcome,
    candidates,
    candidates_many,
    unborn_candidates,
    unborn_plans,
)
from registry.models import Child, ProtectionStatus, Sex

logger = logging.getLogger(__name__)

ACTION_FILE_INGESTED = AuditEvent.Action.FEED_FILE_INGESTED
ACTION_RECORDS_MATCHED = AuditEvent.Action.FEED_RECORDS_MATCHED
# At most this many children are put to the register managers for one registration.
REVIEW_CANDIDATES_LIMIT = 3
_OUTCOME_COUNTERS = {Registration.Outcome.APPLIED.value: "applied", Registration.Outcome.FOR_REVIEW.value: "for_review"}
# A confirmed birth changed again (waiting to be checked, or checked) goes back to the queue.
_ACTIVE_MATCH_STATES = (
    FeedMatch.State.APPLIED,
    FeedMatch.State.CONFIRMED,
    FeedMatch.State.PENDING,
    FeedMatch.State.RECHECK,
    FeedMatch.State.CHECKED,
)
_IN_FORCE = (FeedMatch.State.APPLIED, FeedMatch.State.CONFIRMED)
# The order of a registration's versions, as the GRO issues them, when the file has no
# version number: two corrections of one registration then cannot be ordered, and the later
# received wins (docs/feeds.md). With version numbers on both sides, they decide.
_STATUS_ORDER: dict[str, int] = {RecordStatus.REGISTERED: 0, RecordStatus.CORRECTED: 1, RecordStatus.CANCELLED: 2}


def born_after(today: datetime.date) -> datetime.date:
    years = settings.FEEDS_MAXIMUM_AGE_YEARS
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def after_chunk(feed_file_id: Any, chunks_committed: int) -> None:
    """Called after each committed chunk. Does nothing; tests replace it to simulate a
    worker that dies between chunks."""


def feed_file_ingest_run(*, feed_file_id: Any, delivery: str = "", retry: bool = False) -> FeedFile | None:
    """Ingest the file from its cursor to the end. Safe to run twice, and by two workers at
    once (the second stops at its first chunk). A file that cannot be read to the end
    (truncated or damaged gzip), or that has been started FEEDS_MAX_DELIVERIES times without
    finishing, is marked failed with the reason: it is never retried for ever. Returns the
    file, or None if unknown.

    `delivery` names this attempt (the Celery task id, the same across its retries): a
    delivery that finds another one's heartbeat fresh leaves the file to it. `retry` is
    True when the task is retried after a database or connection error, which is not the
    file's fault and so does not count towards FEEDS_MAX_DELIVERIES."""
    feed_file = FeedFile.objects.filter(pk=feed_file_id).first()
    if feed_file is None or feed_file.state in (FeedFile.State.DONE, FeedFile.State.FAILED):
        return feed_file
    # The file's ingestion is the feed's own work, whoever sent the file: every event it
    # writes (matches, deaths recorded and reversed, the file ingested or failed) says so.
    by: Actor[User] = Actor.system(channel=Channel.FEED)
    # A delivery run without a task id (the ingest_feed command, a test) is its own worker.
    delivery = delivery or uuid4().hex
    path = Path(feed_file.stored_path)
    if not path.exists():
        return feed_file_fail(feed_file_id=feed_file.pk, reason="The stored copy of the file is missing", by=by)
    claimed = file_job_claim(
        FeedFile.objects.filter(pk=feed_file.pk),
        worker=delivery,
        stale_after=settings.FEEDS_STALLED_AFTER_SECONDS,
        count_delivery=not retry,
    )
    feed_file.refresh_from_db()
    if not claimed:
        logger.info("feed file %s: ended, or another worker's heartbeat is fresh; leaving it", feed_file.pk)
        return feed_file
    if feed_file.deliveries > settings.FEEDS_MAX_DELIVERIES:
        return feed_file_fail(
            feed_file_id=feed_file.pk,
            reason=f"Started {feed_file.deliveries - 1} times without finishing (FEEDS_MAX_DELIVERIES)",
            by=by,
        )
    try:
        with FeedFileHeartbeat(feed_file_id=feed_file.pk, delivery=delivery):
            return _ingest_from_cursor(feed_file=feed_file, path=path, by=by)
    except FeedFileUnsafe as unsafe:
        # A gzip bomb or a line no GRO record is as long as (FEEDS_MAX_DECOMPRESSED_BYTES,
        # FEEDS_MAX_LINE_BYTES): given up before it grows the worker, never retried.
        logger.warning("feed file %s refused while reading: %s", feed_file.pk, unsafe)
        return feed_file_fail(feed_file_id=feed_file.pk, reason=str(unsafe), by=by)
    except FeedFileUnreadable as error:
        # The file itself is bad (gzip truncated, a bad CRC, a damaged stream): retrying
        # cannot help. Chunks already committed stay; the rest is not ingested. Any other
        # error (the database, the broker) propagates, and the file is resumed later.
        done = FeedFile.objects.values_list("lines_committed", flat=True).get(pk=feed_file.pk)
        logger.warning("feed file %s unreadable after %s lines: %s", feed_file.pk, done, error)
        return feed_file_fail(
            feed_file_id=feed_file.pk,
            reason=f"The file cannot be read past data line {done} (truncated or damaged: {error})",
            by=by,
        )


class FeedFileHeartbeat:
    """While a worker holds a file, a thread records `heartbeat_at` every
    FEEDS_HEARTBEAT_SECONDS, so that the sweep can tell a worker that is gone (killed, its
    machine lost) from one that is slow (counting a large file's lines, a long chunk). Its
    own database connection; a database outage is logged and the next beat tries again.
    On a clean stop the heartbeat is cleared, so that a continuation starts at once."""

    def __init__(self, *, feed_file_id: Any, delivery: str) -> None:
        self.feed_file_id = feed_file_id
        self.delivery = delivery
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{feed_file_id}", daemon=True)

    def __enter__(self) -> "FeedFileHeartbeat":
        self._beat()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        self._thread.join()
        try:
            file_job_release(FeedFile.objects.filter(pk=self.feed_file_id), worker=self.delivery)
        except DatabaseError:
            logger.warning("feed file %s: heartbeat not cleared (database unavailable)", self.feed_file_id)

    def _run(self) -> None:
        try:
            while not self._stopped.wait(settings.FEEDS_HEARTBEAT_SECONDS):
                self._beat()
        finally:
            connections.close_all()  # this thread's own connection

    def _beat(self) -> None:
        try:
            file_job_heartbeat(FeedFile.objects.filter(pk=self.feed_file_id), worker=self.delivery)
        except DatabaseError as error:
            logger.warning("feed file %s: heartbeat failed (%s)", self.feed_file_id, type(error).__name__)
            if threading.current_thread() is self._thread:
                connections.close_all()  # reconnect at the next beat


def _ingest_from_cursor(*, feed_file: FeedFile, path: Path, by: Actor[User]) -> FeedFile:
    if feed_file.rows_total is None:
        total = data_line_count(path, feed_file.is_gzip)
        FeedFile.objects.filter(pk=feed_file.pk, rows_total__isnull=True).update(rows_total=total)
    feed_file.refresh_from_db()
    today = timezone.localdate()
    _, with_version = file_columns(path, feed_file.is_gzip)
    context = _Context(
        event_type=feed_file.event_type,
        today=today,
        born_after=born_after(today),
        by=by,
        with_version=with_version,
    )
    cursor = feed_file.lines_committed
    lines = data_lines(path, feed_file.is_gzip, after=cursor)  # raises FeedFileUnsafe, FeedFileUnreadable
    for chunks, chunk in enumerate(_chunks(lines, settings.FEEDS_CHUNK_SIZE), start=1):
        started = time.monotonic()
        if not _chunk_commit_retrying(feed_file_id=feed_file.pk, cursor=cursor, chunk=chunk, context=context):
            logger.info("feed file %s: stopped, or another worker holds the cursor", feed_file.pk)
            return FeedFile.objects.get(pk=feed_file.pk)
        cursor += len(chunk)
        after_chunk(feed_file.pk, chunks)
        give_way_to_searches(chunk_seconds=time.monotonic() - started)
    return _finish(feed_file_id=feed_file.pk, cursor=cursor, by=by)


def _chunks(lines: Iterator[tuple[int, bytes]], size: int) -> Iterator[list[tuple[int, bytes]]]:
    while chunk := list(islice(lines, size)):
        yield chunk


def _finish(*, feed_file_id: Any, cursor: int, by: Actor[User]) -> FeedFile:
    with transaction.atomic():
        feed_file = FeedFile.objects.select_for_update().get(pk=feed_file_id)
        if feed_file.state != FeedFile.State.RUNNING or feed_file.lines_committed != cursor:
            return feed_file
        stored = feed_file.stored_path
        file_job_finish(FeedFile.objects.filter(pk=feed_file_id), stored_path="")
        feed_file.refresh_from_db()
        audit_event_record(
            action=ACTION_FILE_INGESTED,
            actor=by,
            details={"feed_file": str(feed_file.pk), "sha256": feed_file.sha256, **_counts(feed_file)},
        )
        # The GRO's rows are personal data: the copy goes once every row is accounted for.
        transaction.on_commit(lambda: Path(stored).unlink(missing_ok=True))
    logger.info("feed file %s ingested: %s", feed_file.pk, _counts(feed_file))
    return feed_file


def _counts(feed_file: FeedFile) -> dict[str, int]:
    return {
        "rows_total": feed_file.rows_total or 0,
        "applied": feed_file.rows_applied,
        "for_review": feed_file.rows_for_review,
        "unmatched": feed_file.rows_unmatched,
        "duplicate": feed_file.rows_duplicate,
        "out_of_scope": feed_file.rows_out_of_scope,
        "quarantined": feed_file.rows_quarantined,
    }


@dataclass
class _Context:
    event_type: str
    today: datetime.date
    born_after: datetime.date
    by: Actor[User]  # the feed: Actor.system(channel=Channel.FEED)
    with_version: bool = False


@dataclass
class _ChunkOutcome:
    counts: Counter[str] = field(default_factory=Counter)
    register_ids: set[str] = field(default_factory=set)
    # Of those children, the authorities already known from reading them in the chunk.
    authority_codes: dict[str, str] = field(default_factory=dict)


def _chunk_commit_retrying(
    *, feed_file_id: Any, cursor: int, chunk: list[tuple[int, bytes]], context: _Context
) -> bool:
    # Another file carrying the same registration, ingested at the same moment by another
    # worker, can win the race to insert it: the chunk rolls back and, read again, finds the
    # registration already there.
    for attempt in range(3):
        try:
            return _chunk_commit(feed_file_id=feed_file_id, cursor=cursor, chunk=chunk, context=context)
        except IntegrityError:
            if attempt == 2:
                raise
            logger.info("feed file %s: a registration was inserted concurrently; retrying the chunk", feed_file_id)
    return False


def _chunk_commit(*, feed_file_id: Any, cursor: int, chunk: list[tuple[int, bytes]], context: _Context) -> bool:
    # The chunk's audit events (deaths recorded, matches) are written together at its end,
    # so that the chain's lock is not held while the chunk works (audit_events_deferred).
    with transaction.atomic(), audit_events_deferred():
        _commit_without_waiting_for_disk()
        feed_file = FeedFile.objects.select_for_update().get(pk=feed_file_id)
        if feed_file.state != FeedFile.State.RUNNING or feed_file.lines_committed != cursor:
            return False
        outcome = _ChunkOutcome()
        records: list[Record] = []
        quarantined: list[QuarantinedRow] = []
        for line_number, raw in chunk:
            parsed = parse_line(
                event_type=context.event_type,
                line_number=line_number,
                raw=raw,
                today=context.today,
                born_after=context.born_after,
                with_version=context.with_version,
            )
            if isinstance(parsed, Quarantine):
                quarantined.append(
                    QuarantinedRow(feed_file_id=feed_file_id, line_number=parsed.line_number, reason=parsed.reason)
                )
            elif isinstance(parsed, OutOfScope):
                outcome.counts["out_of_scope"] += 1
            else:
                records.append(parsed)
        QuarantinedRow.objects.bulk_create(quarantined, ignore_conflicts=True)
        outcome.counts["quarantined"] += len(quarantined)
        if records:
            _Applier(feed_file=feed_file, context=context, outcome=outcome).apply(records)
        FeedFile.objects.filter(pk=feed_file_id).update(
            lines_committed=cursor + len(chunk),
            progress_at=timezone.now(),
            rows_applied=F("rows_applied") + outcome.counts["applied"],
            rows_for_review=F("rows_for_review") + outcome.counts["for_review"],
            rows_unmatched=F("rows_unmatched") + outcome.counts["unmatched"],
            rows_duplicate=F("rows_duplicate") + outcome.counts["duplicate"],
            rows_out_of_scope=F("rows_out_of_scope") + outcome.counts["out_of_scope"],
            rows_quarantined=F("rows_quarantined") + outcome.counts["quarantined"],
        )
        if outcome.register_ids:
            # Matching reads the register on the feed's behalf: audited as the feed's action,
            # naming the children it found (register IDs only), not as a practitioner lookup.
            audit_event_record(
                action=ACTION_RECORDS_MATCHED,
                actor=context.by,
                register_ids=sorted(outcome.register_ids),
                child_authority_codes=_authority_codes(outcome),
                details={"feed_file": str(feed_file_id), "first_line": chunk[0][0], "last_line": chunk[-1][0]},
            )
    return True


def _commit_without_waiting_for_disk() -> None:
    """With FEEDS_CHUNK_ASYNC_COMMIT, the chunk's commit does not wait for its WAL to reach
    the disk (PostgreSQL `synchronous_commit = off`, this transaction only). Why: the chunk
    holds the audit chain's lock from its audit events to the end of its commit, and every
    search, which appends its own event, waits; the flush of the chunk's WAL is part of
    that. Safe because the cursor commits with the chunk: a database crash
    within a fraction of a second after the commit loses the chunk's effects and its cursor
    together (never one without the other, nor a hole in the chain: WAL is replayed in order
    and any later synchronous commit flushes it first), and the file is resumed from the
    cursor (docs/feeds.md, "Giving way to searches")."""
    if settings.FEEDS_CHUNK_ASYNC_COMMIT and connections["default"].vendor == "postgresql":
        with connections["default"].cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _authority_codes(outcome: _ChunkOutcome) -> dict[str, str]:
    """Each child's responsible authority now: read again only for those the chunk has not
    just read under lock."""
    codes = {key: code for key, code in outcome.authority_codes.items() if key in outcome.register_ids}
    unread = sorted(outcome.register_ids - codes.keys())
    if unread:
        codes.update(child_authority_codes(register_ids=unread))
    return codes


@dataclass(frozen=True)
class _Candidate:
    child: Child
    method: str
    grade: str
    reasons: list[str]
    unborn_status: ProtectionStatus | None = None


@dataclass(frozen=True)
class _DeathToApply:
    registration: Registration
    record: Record
    candidate: _Candidate


class _Applier:
    """Decides and applies each record of one chunk, inside the chunk's transaction."""

    def __init__(self, *, feed_file: FeedFile, context: _Context, outcome: _ChunkOutcome) -> None:
        self.feed_file = feed_file
        self.context = context
        self.outcome = outcome
        self.registrations: dict[tuple[str, str, str, int], Registration] = {}
        self.new: dict[tuple[str, str, str, int], Registration] = {}
        self.children_by_nhs_number: dict[str, Child] = {}
        self.unborn_plans: list[ProtectionStatus] = []
        self.dates_without_nhs_number: set[datetime.date] = set()
        # Registrations inserted during this chunk, with the outcome they were inserted with:
        # they have no earlier matches, and need no second write if the outcome held.
        self.inserted: dict[int, str] = {}
        # Children whose death a correction reversed, with the date they showed before: told
        # the net change once, at the end of the chunk, not "cancelled" then "registered".
        self.corrected_deaths: dict[int, tuple[Child, datetime.date | None]] = {}
        # Deaths of new registrations, applied together (_deaths_flush) in a number of
        # queries that does not grow with them, before anything else touches their children
        # and at the end of the chunk: the effects, and their order, are those of one by one.
        self.deaths_to_apply: dict[int, _DeathToApply] = {}  # by child
        # The name matcher's answers for the chunk's deaths that need it, read together.
        self.matched: dict[tuple[str, str, str, int], SearchOutcome] = {}
        # Children whose death this chunk recorded or reversed.
        self.deaths_changed: set[int] = set()

    def apply(self, records: list[Record]) -> None:
        newest = _newest_versions(records)
        self.outcome.counts["duplicate"] += len(records) - len(newest)
        self._prefetch(newest)
        for record in newest:
            self._apply_one(record)
        # The chunk's other new registrations are written with the last batch's.
        self._deaths_flush(also=list(self.new.values()))
        self.new = {}
        for child, before in self.corrected_deaths.values():
            child_death_correction_notify(child=child, before=before)

    def _prefetch(self, records: list[Record]) -> None:
        entries = {record.details["entry_number"] for record in records}
        for registration in Registration.objects.filter(
            event_type=self.context.event_type, entry_number__in=entries
        ).iterator():
            key = (
                registration.event_type,
                registration.registration_district,
                registration.entry_number,
                registration.registration_year,
            )
            self.registrations[key] = registration
        numbers = {record.details["nhs_number"] for record in records if record.details["nhs_number"]}
        if numbers:
            self.children_by_nhs_number = {
                child.nhs_number: child
                for child in Child.objects.filter(nhs_number__in=numbers).select_related("responsible_local_authority")
                if child.nhs_number
            }
        # A registration with an NHS number no child has can only be a child recorded
        # without one: the name matcher runs only where such a child shares the date of
        # birth (or it with day and month swapped), which spares it most of a deaths file.
        unfound = [record for record in records if record.details["nhs_number"] not in self.children_by_nhs_number]
        dates = {date for record in unfound if record.details["nhs_number"] for date in _dates_of(record)}
        if dates:
            self.dates_without_nhs_number = {
                date
                for date in Child.objects.filter(nhs_number__isnull=True, date_of_birth__in=dates).values_list(
                    "date_of_birth", flat=True
                )
                if date is not None
            }
        if self.context.event_type == EventType.DEATH:
            self._name_matches_prefetch(records)
        if self.context.event_type == EventType.BIRTH:
            # One read of the plans for the chunk; each record then looks among them.
            born = [record.date_of_birth for record in records]
            self.unborn_plans = unborn_plans(born_between=(min(born), max(born)))

    def _name_matches_prefetch(self, records: list[Record]) -> None:
        """Ask the name matcher about every death of the chunk that will need it, in one
        query: those not already recorded in this version (a replay asks nothing) nor
        cancelled, whose NHS number no child has. The matcher reads names and dates of
        birth, which applying deaths does not change, so asking first answers the same."""
        asking = []
        for record in records:
            if _already_known(record, self.registrations.get(record.natural_key)):
                continue
            if record.record_status != RecordStatus.CANCELLED and self._asks_name_matcher(record):
                asking.append(record)
        if asking:
            outcomes = candidates_many([death_criteria(record) for record in asking], purpose=Purpose.FEED)
            self.matched = {record.natural_key: outcome for record, outcome in zip(asking, outcomes, strict=True)}

    def _asks_name_matcher(self, record: Record) -> bool:
        number = record.details["nhs_number"]
        if number in self.children_by_nhs_number:
            return False
        return not number or bool(self.dates_without_nhs_number.intersection(_dates_of(record)))

    def _apply_one(self, record: Record) -> None:
        key = record.natural_key
        registration = self.registrations.get(key)
        if _already_known(record, registration):
            self.outcome.counts["duplicate"] += 1
            return
        if registration is None:
            registration = Registration(
                event_type=record.event_type,
                registration_district=record.details["registration_district"],
                entry_number=record.details["entry_number"],
                registration_year=record.registration_date.year,
            )
            self.registrations[key] = registration
            self.new[key] = registration
        elif registration.pk is not None:
            self.inserted.pop(registration.pk, None)  # it may have matches now
            self._undo(registration, record=record)
        registration.record_status = record.record_status
        registration.version = record.version
        registration.content_sha256 = record.content_sha256
        registration.feed_file = self.feed_file
        registration.line_number = record.line_number
        if record.record_status == RecordStatus.CANCELLED:
            registration.outcome = Registration.Outcome.CANCELLED
            self.outcome.counts["unmatched"] += 1
        else:
            registration.outcome = self._match(registration, record)
            self.outcome.counts[_OUTCOME_COUNTERS.get(str(registration.outcome), "unmatched")] += 1
        if registration.pk is not None and self.inserted.get(registration.pk) != registration.outcome:
            registration.save()

    def _saved(self, registration: Registration, *, outcome: str) -> Registration:
        if registration.pk is None:
            registration.outcome = outcome
            registration.save()
            self.inserted[registration.pk] = outcome
            self.new = {key: value for key, value in self.new.items() if value is not registration}
        return registration

    def _match_write(self, registration: Registration, child: Child, fields: dict[str, Any]) -> None:
        if registration.pk in self.inserted:
            FeedMatch.objects.create(registration=registration, child=child, **fields)
        else:
            FeedMatch.objects.update_or_create(registration=registration, child=child, defaults=fields)

    def _undo(self, registration: Registration, *, record: Record) -> None:
        """Reverse what the registration's earlier version did, before the new version is
        matched afresh. A birth confirmed into a record cannot be undone here: it goes back
        to the review queue (RECHECK) with the new version's details, and its register
        managers are told to check the record."""
        cancelled = record.record_status == RecordStatus.CANCELLED
        source = self._source(registration, status="cancelled" if cancelled else "corrected")
        # The earlier version's effects, and the dates it restores, must be written first.
        self._deaths_flush()
        for match in FeedMatch.objects.filter(registration=registration, state__in=_ACTIVE_MATCH_STATES).select_related(
            "child__responsible_local_authority"
        ):
            if match.state == FeedMatch.State.PENDING:
                match.state = FeedMatch.State.WITHDRAWN
            elif registration.event_type == EventType.DEATH:
                if not cancelled:
                    self.corrected_deaths.setdefault(match.child.pk, (match.child, match.child.date_of_death))
                self.deaths_changed.add(match.child.pk)
                child_death_reverse(
                    child=match.child,
                    restore_to=_date_of_death_without(match),
                    by=self.context.by,
                    source=source,
                    notify=cancelled,
                )
                match.state = FeedMatch.State.REVERSED
                self.outcome.register_ids.add(match.child.register_id)
            else:
                # A confirmed birth is not undone here: it waits in the review queue, showing
                # the version the GRO sent now beside the record.
                match.state = FeedMatch.State.RECHECK
                match.details = self._details(record)
                register_managers_notify_review(
                    child=match.child,
                    message=f"The birth registration confirmed into child {match.child.register_id}'s record "
                    f"has been {'cancelled' if cancelled else 'corrected'} by the GRO. Check the record "
                    "in the registrations waiting for review.",
                )
                # The chunk's audit event names the child whose confirmed birth changed.
                self.outcome.register_ids.add(match.child.register_id)
            match.save(update_fields=["state", "details", "updated_at"])

    def _source(self, registration: Registration, *, status: str) -> dict[str, Any]:
        return {
            "feed_file": str(self.feed_file.pk),
            "event_type": registration.event_type,
            "registration_district": registration.registration_district,
            "entry_number": registration.entry_number,
            "registration_year": registration.registration_year,
            "record_status": status,
        }

    # --- Matching ----------------------------------------------------------------------

    def _match(self, registration: Registration, record: Record) -> str:
        if record.event_type == EventType.DEATH:
            certain, found = self._death_candidates(record)
        else:
            certain, found = None, self._birth_candidates(record)
        if certain is not None:
            self._death_apply(registration, record, certain)
            return Registration.Outcome.APPLIED
        if not found:
            return Registration.Outcome.UNMATCHED
        for candidate in found[:REVIEW_CANDIDATES_LIMIT]:
            self._review_queue(registration, record, candidate)
        return Registration.Outcome.FOR_REVIEW

    def _death_candidates(self, record: Record) -> tuple[_Candidate | None, list[_Candidate]]:
        number = record.details["nhs_number"]
        child = self.children_by_nhs_number.get(number) if number else None
        if child is not None:
            if child.date_of_birth == record.date_of_birth:
                return _Candidate(child, FeedMatch.Method.NHS_NUMBER, Grade.EXACT, ["NHS number matches"]), []
            reasons = ["NHS number matches", "date of birth is different"]
            return None, [_Candidate(child, FeedMatch.Method.NHS_NUMBER, Grade.POSSIBLE, reasons)]
        if not self._asks_name_matcher(record):
            return None, []
        # Exact and likely matches only (the FEED purpose's policy); normally asked already.
        outcome = self.matched.pop(record.natural_key, None) or candidates(death_criteria(record), purpose=Purpose.FEED)
        matches = [
            match
            for match in outcome.matches
            # A child with another NHS number is another person, however alike the names.
            if not (number and match.child.nhs_number and match.child.nhs_number != number)
        ]
        found = [_Candidate(match.child, FeedMatch.Method.MATCHER, match.grade, match.reasons) for match in matches]
        if len(matches) == 1 and self._certain(matches[0].child, matches[0].grade, record):
            return found[0], []
        return None, found

    @staticmethod
    def _certain(child: Child, grade: str, record: Record) -> bool:
        """The strict threshold: names and date of birth exactly as recorded, and the same
        postcode. A shielded child's postcode never counts, so a shielded child is only ever
        matched by NHS number or by a register manager."""
        postcode = record.details["postcode"]
        return grade == Grade.EXACT and bool(postcode) and not child.is_shielded and child.postcode == postcode

    def _birth_candidates(self, record: Record) -> list[_Candidate]:
        details = record.details
        mother = MotherIdentity(
            given_names=details["mother_forenames"],
            family_names=(details["mother_surname"], details["mother_maiden_surname"]),
            date_of_birth=record.mother_date_of_birth,
        )
        return [
            _Candidate(match.child, FeedMatch.Method.UNBORN_PLAN, match.grade, match.reasons, unborn_status=match.plan)
            for match in unborn_candidates(mother, born_on=record.date_of_birth, plans=self.unborn_plans)
        ]

    # --- Effects -----------------------------------------------------------------------

    def _details(self, record: Record) -> dict[str, str]:
        return dict(record.details)

    def _death_apply(self, registration: Registration, record: Record, candidate: _Candidate) -> None:
        child = candidate.child
        assert record.date_of_death is not None
        if (
            registration.pk is None
            and child.pk not in self.corrected_deaths
            and child.pk not in self.deaths_to_apply
            and not (child.date_of_birth and record.date_of_death < child.date_of_birth)
        ):
            # A new registration has no earlier matches to read or undo: its death joins the
            # chunk's batch. Its registration is written with the batch.
            self.new = {key: value for key, value in self.new.items() if value is not registration}
            registration.outcome = Registration.Outcome.APPLIED
            self.deaths_to_apply[child.pk] = _DeathToApply(registration, record, candidate)
            return
        self._deaths_flush()
        if candidate.method == FeedMatch.Method.MATCHER and child.pk in self.deaths_changed:
            # Asked before the chunk changed this child's death: the date it shows now.
            child.refresh_from_db(fields=["date_of_death"])
        registration = self._saved(registration, outcome=Registration.Outcome.APPLIED)
        match = (
            None
            if registration.pk in self.inserted
            else FeedMatch.objects.filter(registration=registration, child=child).first()
        )
        previous = match.previous_date_of_death if match else child.date_of_death
        try:
            child_death_record(
                child=child,
                date_of_death=record.date_of_death,
                by=self.context.by,
                source={**self._source(registration, status=record.record_status), "method": candidate.method},
                notify=child.pk not in self.corrected_deaths,
            )
        except ValidationError:
            # The registered date cannot be this child's (before their birth): let a person decide.
            self._review_queue(registration, record, candidate)
            registration.outcome = Registration.Outcome.FOR_REVIEW
            return
        self.deaths_changed.add(child.pk)
        self._match_write(registration, child, self._applied_match_fields(record, candidate, previous=previous))
        self.outcome.register_ids.add(child.register_id)

    def _applied_match_fields(
        self, record: Record, candidate: _Candidate, *, previous: datetime.date | None
    ) -> dict[str, Any]:
        return {
            "local_authority": candidate.child.responsible_local_authority,
            "method": candidate.method,
            "state": FeedMatch.State.APPLIED,
            "grade": candidate.grade,
            "reasons": candidate.reasons,
            "details": self._details(record),
            "previous_date_of_death": previous,
        }

    def _deaths_flush(self, *, also: list[Registration] | None = None) -> None:
        """Apply the deaths waiting in the batch: their registrations, the deaths (locked,
        updated, audited and told in `child_deaths_record`) and their matches, each written
        once for the whole batch. A death the locked record refuses (a date of death before
        the date of birth, changed since the chunk read it) goes for review, as alone."""
        batch = list(self.deaths_to_apply.values())
        self.deaths_to_apply = {}
        Registration.objects.bulk_create([*(item.registration for item in batch), *(also or [])])
        if not batch:
            return
        for item in batch:
            self.inserted[item.registration.pk] = Registration.Outcome.APPLIED
        by_child = {item.candidate.child.pk: item for item in batch}
        recorded, refused = child_deaths_record(
            deaths=[
                DeathToRecord(
                    child=item.candidate.child,
                    date_of_death=item.record.date_of_death,
                    source={
                        **self._source(item.registration, status=item.record.record_status),
                        "method": item.candidate.method,
                    },
                )
                for item in batch
                if item.record.date_of_death is not None
            ],
            by=self.context.by,
        )
        FeedMatch.objects.bulk_create(
            FeedMatch(
                registration=by_child[done.child.pk].registration,
                child=done.child,
                **self._applied_match_fields(
                    by_child[done.child.pk].record,
                    by_child[done.child.pk].candidate,
                    previous=done.previous_date_of_death,
                ),
            )
            for done in recorded
        )
        self.outcome.register_ids.update(done.child.register_id for done in recorded)
        self.deaths_changed.update(done.child.pk for done in recorded)
        self.outcome.authority_codes.update(
            (done.child.register_id, done.child.responsible_local_authority.gss_code) for done in recorded
        )
        for death in refused:
            item = by_child[death.child.pk]
            self._review_queue(item.registration, item.record, item.candidate)
            item.registration.outcome = Registration.Outcome.FOR_REVIEW
            item.registration.save(update_fields=["outcome"])
            self.inserted[item.registration.pk] = Registration.Outcome.FOR_REVIEW
            self.outcome.counts["applied"] -= 1
            self.outcome.counts["for_review"] += 1

    def _review_queue(self, registration: Registration, record: Record, candidate: _Candidate) -> None:
        child = candidate.child
        if child.pk in self.deaths_to_apply:
            self._deaths_flush()
        registration = self._saved(registration, outcome=Registration.Outcome.FOR_REVIEW)
        self._match_write(
            registration,
            child,
            {
                "local_authority": child.responsible_local_authority,
                "unborn_status": candidate.unborn_status,
                "method": candidate.method,
                "state": FeedMatch.State.PENDING,
                "grade": candidate.grade,
                "reasons": candidate.reasons,
                "details": self._details(record),
                "decided_by": None,
                "decided_at": None,
            },
        )
        event = "birth" if record.event_type == EventType.BIRTH else "death"
        register_managers_notify_review(
            child=child,
            message=f"A registered {event} may concern child {child.register_id}. "
            "Confirm or reject it in the registrations waiting for review.",
        )
        self.outcome.register_ids.add(child.register_id)


def _newest_versions(records: list[Record]) -> list[Record]:
    """Of the rows of one chunk about the same registration, only the newest version (by
    version number where both rows have one, else by _STATUS_ORDER; between equals, the
    later row): the chunk applies each registration's net change once, so that the same
    rows in any order, or repeated, do the same and tell people the same, and a
    registration corrected or cancelled in the same chunk is never first applied and then
    undone."""
    newest: dict[tuple[str, str, str, int], Record] = {}
    for record in records:
        kept = newest.get(record.natural_key)
        if kept is None or not _older(record, version=kept.version, status=kept.record_status):
            newest[record.natural_key] = record
    return sorted(newest.values(), key=lambda record: record.line_number)


def _already_known(record: Record, registration: Registration | None) -> bool:
    """This version of the registration is the one already recorded, or one the GRO has
    since superseded (the registration arriving after its correction, either of them after
    its cancellation, a lower version number: a replay, or rows out of order), which must
    not undo the later decision: nothing to do."""
    return registration is not None and (
        registration.content_sha256 == record.content_sha256
        or _older(record, version=registration.version, status=registration.record_status)
    )


def _older(record: Record, *, version: int | None, status: str) -> bool:
    """Whether `record` is an older version than the one described by `version`/`status`."""
    if record.version is not None and version is not None and record.version != version:
        return record.version < version
    return _STATUS_ORDER[record.record_status] < _STATUS_ORDER[status]


def _date_of_death_without(match: FeedMatch) -> datetime.date | None:
    """The child's date of death once this death match is reversed. Another registration of
    the same death may still be in force (the GRO registered it twice): its date stands.
    Otherwise the date the child had before any feed recorded a death: what the first death
    match found, not this one's, which may be another registration's date."""
    deaths = FeedMatch.objects.filter(child=match.child, registration__event_type=EventType.DEATH).exclude(pk=match.pk)
    standing = deaths.filter(state__in=_IN_FORCE).order_by("-updated_at", "-id").first()
    if standing is not None:
        return datetime.date.fromisoformat(standing.details["date_of_death"])
    first = deaths.filter(created_at__lte=match.created_at).order_by("created_at", "id").first()
    return first.previous_date_of_death if first is not None else match.previous_date_of_death


def death_criteria(record: Record) -> SearchCriteria:
    """What the matcher is asked for a death registration no child's NHS number matched:
    the GRO's names for the fields, renamed. The NHS number is left out (no child has it)."""
    details = record.details
    return SearchCriteria.from_values(
        {
            "family_name": details["surname"],
            "given_names": details["forenames"],
            "date_of_birth": record.date_of_birth,
            "sex": details["sex"] if details["sex"] in (Sex.MALE, Sex.FEMALE) else "",
            "postcode": details["postcode"],
        }
    )


def _dates_of(record: Record) -> list[datetime.date]:
    born = record.date_of_birth
    try:
        return [born, born.replace(day=born.month, month=born.day)]
    except ValueError:
        return [born]


def stalled_files(*, now: datetime.datetime | None = None) -> list[FeedFile]:
    """Files waiting or running with no sign of life (heartbeat, progress, receipt, or the
    sweep's last hand-out: FeedFile.SIGNS_OF_LIFE) for FEEDS_STALLED_AFTER_SECONDS: their
    worker died, or their message was lost with the broker, and they need handing out again."""
    stale = file_jobs_stale(
        FeedFile.objects.all(), seconds=settings.FEEDS_STALLED_AFTER_SECONDS, waiting_too=True, now=now
    )
    return list(stale.order_by("received_at"))


# Hand-outs by the sweep are not a sign that a worker took the file up.
_WORKER_SIGNS = tuple(sign for sign in FeedFile.SIGNS_OF_LIFE if sign != "swept_at")


def unrecovered_files(*, now: datetime.datetime | None = None) -> list[FeedFile]:
    """For monitoring: files with no heartbeat or progress for FEEDS_STALLED_AFTER_SECONDS
    plus two sweeps, by which time a working sweep and worker would have taken them up
    again. Hand-outs do not count: a file handed out to no worker is still stuck."""
    limit = settings.FEEDS_STALLED_AFTER_SECONDS + 2 * settings.FEEDS_SWEEP_EVERY_SECONDS
    stale = file_jobs_stale(FeedFile.objects.all(), seconds=limit, waiting_too=True, now=now, signs=_WORKER_SIGNS)
    return list(stale.order_by("received_at"))


def stalled_file_claim(*, feed_file_id: Any, now: datetime.datetime | None = None) -> bool:
    """The sweep's claim on a stalled file (a conditional UPDATE of `swept_at`): of two
    sweeps at once, one hands the file out, and the next hand-out waits another
    FEEDS_STALLED_AFTER_SECONDS."""
    now = now or timezone.now()
    stale = file_jobs_stale(
        FeedFile.objects.filter(pk=feed_file_id),
        seconds=settings.FEEDS_STALLED_AFTER_SECONDS,
        waiting_too=True,
        now=now,
    )
    return bool(stale.update(swept_at=now))
