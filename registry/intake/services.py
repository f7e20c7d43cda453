"""Every write intake makes, each with its audit event in the same transaction:

- the CSV import (docs/import-format.md), shared by the `import_children` command and
  bulk uploads: valid rows written in batches, one transaction per batch; re-importing the
  same file changes nothing (a child is keyed on NHS number when present, otherwise on the
  authority's code and its own reference, and a status on (child, kind, start date));
- bulk uploads in the browser: stored, claimed by one worker with a conditional UPDATE,
  processed with the importer, progress on the BulkUpload row;
- the case-management API's writes (registry.intake.api): a case-management system account
  holds the register-manager role over exactly one authority and names children by that
  authority's own reference, so every lookup here is made within that authority. New
  children, statuses and involvements go through registry.children.services; changing a
  known status's or contact's details is written here (field names and register IDs only
  in the audit, never values); answers are kept per Idempotency-Key.

Parsing and validating the file's rows is registry.intake.importing; reads for the pages
are registry.intake.selectors.
"""

import csv
import dataclasses
import datetime
import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from uuid import UUID, uuid4

from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import LocalAuthority, User
from audit.actor import Actor, Channel
from audit.models import AuditEvent, LookupOutcome
from audit.services import audit_event_record
from registry.children.selectors import child_authority_codes
from registry.children.services import (
    child_create,
    child_identity_update,
    involvement_add,
    name_keys_apply,
    other_name_build,
    other_names_date_of_birth_follow,
    status_add,
)
from registry.children.status_rules import (
    StatusDates,
    status_overlap_check,
    status_overlap_find,
    status_overlap_message,
)
from registry.file_jobs.services import file_job_claim, file_job_fail, file_job_finish, file_job_heartbeat
from registry.identity import involvement_sensitivity, register_id_generate
from registry.intake.importing import (
    IDENTITY_FIELDS,
    REQUIRED_COLUMNS,
    STATUS_UPDATE_FIELDS,
    ImportResult,
    ImportRow,
    Rejection,
    RowError,
    csv_rows,
    row_parse,
)
from registry.intake.selectors import upload_authorities_for_user
from registry.matching.keys import NameKeys, name_keys
from registry.models import BulkUpload, Child, IdempotencyRecord, Involvement, OtherName, ProtectionStatus

logger = logging.getLogger(__name__)

# --- The CSV import ---------------------------------------------------------------------


# Every matching key name_keys computes (registry.matching.keys.NameKeys), so that a corrected
# name is stored with all of its keys.
KEY_FIELDS = [key_field.name for key_field in dataclasses.fields(NameKeys)]


def _set_identity(child: Child, identity: dict[str, object]) -> bool:
    """Apply identity values; an empty value never erases a known one. True if changed."""
    changed = False
    for name, value in identity.items():
        if value in (None, "") and getattr(child, name) not in (None, ""):
            continue
        if getattr(child, name) != value:
            setattr(child, name, value)
            changed = True
    if changed:
        name_keys_apply(child)
    return changed


# Field types whose Python values psycopg writes to COPY exactly as Django would write them
# to an INSERT. A model with any other kind of field is inserted with bulk_create.
_COPY_FIELD_TYPES = frozenset({
    "AutoField", "BigAutoField", "SmallAutoField", "BooleanField", "CharField", "TextField", "DateField",
    "DateTimeField", "IntegerField", "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
    "PositiveBigIntegerField", "PositiveSmallIntegerField", "ForeignKey",
})  # fmt: skip


def _can_copy(model: type[models.Model]) -> bool:
    return (
        connection.vendor == "postgresql"
        and getattr(getattr(connection, "Database", None), "__name__", "") == "psycopg"  # 3, not psycopg2
        and all(
            field.get_internal_type() in _COPY_FIELD_TYPES and not getattr(field, "generated", False)
            for field in model._meta.concrete_fields
        )
    )


def _is_auto_now(model_field: models.Field[Any, Any]) -> bool:
    return bool(getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False))


def _copy_insert(model: type[models.Model], rows: list[dict[str, Any]]) -> tuple[list[int], datetime.datetime]:
    """Insert new rows (attribute name -> value; a missing field takes its default, as in
    Model()) with PostgreSQL's COPY, several times faster than INSERT for thousands of rows.
    Returns the new primary keys, in order, and the time written to auto_now fields. A
    constraint violation raises IntegrityError, as bulk_create would."""
    meta = model._meta
    assert meta.pk is not None
    now = timezone.now()
    fields = meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model_field.column) for model_field in fields)
    # Per column: the new primary key, the time for auto_now fields, or the row's value.
    plan: list[tuple[int, str, models.Field[Any, Any]]] = [
        (0 if model_field is meta.pk else 1 if _is_auto_now(model_field) else 2, model_field.attname, model_field)
        for model_field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [new_id for (new_id,) in cursor.fetchall()]
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy,
        ):
            for new_id, row in zip(ids, rows, strict=True):
                copy.write_row([
                    new_id if kind == 0
                    else now if kind == 1
                    else row[attname] if attname in row
                    else model_field.get_default()
                    for kind, attname, model_field in plan
                ])  # fmt: skip
    return ids, now


def _insert_children(children: list[Child]) -> None:
    """Insert new children and give each its primary key (bulk_create, or COPY on PostgreSQL)."""
    if not children:
        return
    if not _can_copy(Child):
        Child.objects.bulk_create(children)
        return
    ids, now = _copy_insert(Child, [vars(child) for child in children])
    auto_now = [model_field.attname for model_field in Child._meta.concrete_fields if _is_auto_now(model_field)]
    for child, new_id in zip(children, ids, strict=True):
        child.pk = new_id
        for attname in auto_now:
            setattr(child, attname, now)
        child._state.adding = False
        child._state.db = connection.alias


def _insert_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert new rows given as attribute name -> value (bulk_create, or COPY on PostgreSQL)."""
    if not rows:
        return
    if _can_copy(model):
        _copy_insert(model, rows)
    else:
        model._default_manager.bulk_create([model(**row) for row in rows])


def _children_with_nhs_numbers(nhs_numbers: list[str]) -> Iterable[Child]:
    if connection.vendor == "postgresql":
        keys = [(number,) for number in nhs_numbers]
        sql, params = _pg_lookup(Child, {"nhs_number": "text"}, keys, {"nhs_number": "IS NOT NULL"})
        return Child.objects.raw(sql, params)
    return Child.objects.filter(nhs_number__in=nhs_numbers)


def _children_with_references(references: list[tuple[int, str]]) -> Iterable[Child]:
    """Children by (authority id, reference): a reference is unique only within its authority."""
    if connection.vendor == "postgresql":
        types = {"responsible_local_authority_id": "bigint", "la_reference": "text"}
        sql, params = _pg_lookup(Child, types, references, {"la_reference": "<> ''"})
        return Child.objects.raw(sql, params)
    by_authority: dict[int, list[str]] = defaultdict(list)
    for authority_id, reference in references:
        by_authority[authority_id].append(reference)
    # The partial index's condition is repeated in each alternative: SQLite plans each
    # alternative of an OR on its own, and uses the index only where it sees the condition.
    query = Q()
    for authority_id, authority_references in by_authority.items():
        query |= Q(responsible_local_authority_id=authority_id, la_reference__in=authority_references) & ~Q(
            la_reference=""
        )
    return Child.objects.filter(query)


def _known_statuses(keys: list[tuple[int, str, Any]]) -> dict[tuple[int, str, Any], tuple[object, ...]]:
    """Of these (child id, kind, start date) keys, the statuses on the register, with the
    values an import may change (STATUS_UPDATE_FIELDS)."""
    if not keys:
        return {}
    fields = ["child_id", "kind", "start_date", *STATUS_UPDATE_FIELDS]
    if connection.vendor == "postgresql":
        types = {"child_id": "bigint", "kind": "text", "start_date": "date"}
        rows = _pg_lookup_values(ProtectionStatus, types, keys, fields)
    else:
        rows = list(
            ProtectionStatus.objects.filter(child_id__in={key[0] for key in keys}).order_by().values_list(*fields)
        )
    return {(child_id, kind, start): tuple(values) for child_id, kind, start, *values in rows}


def _known_other_names(keys: list[tuple[int, str, str, str]]) -> set[tuple[int, str, str, str]]:
    """Of these (child id, kind, given names, family name) keys, the other names on the register."""
    if not keys:
        return set()
    fields = ["child_id", "kind", "given_names", "family_name"]
    if connection.vendor == "postgresql":
        types = {"child_id": "bigint", "kind": "text", "given_names": "text", "family_name": "text"}
        return set(_pg_lookup_values(OtherName, types, keys, fields))
    return set(OtherName.objects.filter(child_id__in={key[0] for key in keys}).order_by().values_list(*fields))


def _column(model: type[models.Model], name: str) -> str:
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, models.Field)
    return connection.ops.quote_name(model_field.column)


def _pg_lookup(
    model: type[models.Model],
    key_types: dict[str, str],
    keys: list[tuple[Any, ...]],
    index_conditions: dict[str, str] | None = None,
) -> tuple[str, list[list[Any]]]:
    """SQL and parameters for the rows of `model` whose unique key (the fields of key_types,
    in order, each with its PostgreSQL type) is one of `keys`. index_conditions repeats the
    condition of a partial unique index (field name -> SQL after the column), without which
    PostgreSQL cannot use it.

    The keys are passed as arrays and each is looked up on its own (LATERAL ... OFFSET 0
    keeps the planner from turning the lookups into a join), so that PostgreSQL probes the
    unique index once per key whatever its statistics say. An IN list is planned from the
    statistics: on a table never analysed (autovacuum off, or a fresh bulk load) that can be a
    scan of every row for each batch."""
    columns = [_column(model, name) for name in key_types]
    conditions = [f"known.{column} = wanted.{column}" for column in columns]
    conditions += [f"known.{_column(model, name)} {sql}" for name, sql in (index_conditions or {}).items()]
    arrays = ", ".join(f"%s::{key_type}[]" for key_type in key_types.values())
    table = connection.ops.quote_name(model._meta.db_table)
    # Table and column names come from the model; every value is a parameter.
    sql = (
        f"SELECT known.* FROM unnest({arrays}) AS wanted({', '.join(columns)}) CROSS JOIN LATERAL "  # noqa: S608
        f"(SELECT * FROM {table} AS known WHERE {' AND '.join(conditions)} OFFSET 0) AS known"
    )
    return sql, [[key[index] for key in keys] for index in range(len(key_types))]


def _pg_lookup_values(
    model: type[models.Model], key_types: dict[str, str], keys: list[tuple[Any, ...]], fields: list[str]
) -> list[tuple[Any, ...]]:
    sql, params = _pg_lookup(model, key_types, keys)
    selected = ", ".join(f"found.{_column(model, name)}" for name in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {selected} FROM ({sql}) AS found", params)  # noqa: S608
        return list(cursor.fetchall())


class ChildImporter:
    """Imports one file. Use `run(rows)` with the file's rows as dictionaries. `by` is the
    actor context every batch's audit event records: the register's own work
    (`Actor.system()`), for the user who ran the command or uploaded the file if any."""

    def __init__(self, *, by: Actor[User], source_name: str, batch_size: int | None = None) -> None:
        self.by = by
        self.source_name = source_name
        self.batch_size = batch_size or settings.IMPORT_BATCH_SIZE
        self.today = timezone.localdate()
        self.authorities = {authority.gss_code: authority for authority in LocalAuthority.objects.all()}
        self.result = ImportResult()

    def run(self, rows: Iterable[tuple[int, dict[str | None, object]]]) -> ImportResult:
        batch: list[ImportRow] = []
        for line, raw in rows:
            self.result.rows_read += 1
            try:
                batch.append(row_parse(raw, line=line, authorities=self.authorities, today=self.today))
            except RowError as error:
                self.result.rejections.append(Rejection(line, error.field, error.reason, error.value))
            if len(batch) >= self.batch_size:
                self._write_batch(batch)
                batch = []
        if batch:
            self._write_batch(batch)
        self.result.rejections.sort(key=lambda rejection: rejection.line)
        return self.result

    def _write_batch(self, batch: list[ImportRow]) -> None:
        try:
            with transaction.atomic():
                self._write(batch)
        except IntegrityError:
            # A row broke a database rule that validation did not foresee: write the batch
            # row by row so that only the offending rows are rejected.
            logger.warning("import batch failed as a whole; retrying row by row", exc_info=True)
            for row in batch:
                try:
                    with transaction.atomic():
                        self._write([row])
                except IntegrityError as error:
                    self.result.rejections.append(Rejection(row.line, "(row)", f"refused by the database: {error}"))

    @staticmethod
    def _status_dates(children: list[Child]) -> dict[int, dict[tuple[str, object], StatusDates]]:
        """The statuses on the register of the batch's existing children, one query."""
        by_pk = {child.pk: child for child in children}
        dates: dict[int, dict[tuple[str, object], StatusDates]] = {}
        rows = ProtectionStatus.objects.filter(child_id__in=sorted(by_pk)).values_list(
            "child_id", "kind", "start_date", "end_date"
        )
        for child_id, kind, start_date, end_date in rows.order_by():
            dates.setdefault(id(by_pk[child_id]), {})[(kind, start_date)] = StatusDates(kind, start_date, end_date)
        return dates

    def _existing_children(self, batch: list[ImportRow]) -> tuple[dict[str, Child], dict[str, Child]]:
        """The children on the register that the batch's rows name, by NHS number and by
        "authority id:reference". A row is matched on its NHS number first, so references
        are looked up only for the rows that no NHS number matched."""
        by_nhs: dict[str, Child] = {}
        by_reference: dict[str, Child] = {}
        found: set[int] = set()

        def add(children: Iterable[Child]) -> None:
            for child in children:
                if child.pk in found:
                    continue
                found.add(child.pk)
                if child.nhs_number:
                    by_nhs[child.nhs_number] = child
                if child.la_reference:
                    by_reference[f"{child.responsible_local_authority_id}:{child.la_reference}"] = child

        nhs_numbers = sorted({str(row.identity["nhs_number"]) for row in batch if row.identity["nhs_number"]})
        if nhs_numbers:
            add(_children_with_nhs_numbers(nhs_numbers))
        references = sorted(
            {
                (row.local_authority.pk, str(row.identity["la_reference"]))
                for row in batch
                if row.identity["la_reference"]
                and str(row.identity["nhs_number"] or "") not in by_nhs
                and f"{row.local_authority.pk}:{row.identity['la_reference']}" not in by_reference
            }
        )
        if references:
            add(_children_with_references(references))
        return by_nhs, by_reference

    def _write(self, batch: list[ImportRow]) -> None:
        by_nhs, by_reference = self._existing_children(batch)
        to_create: list[Child] = []
        to_update: dict[int, Child] = {}
        born_changed: set[int] = set()  # children whose date of birth this batch changes
        touched: set[int] = set()
        row_children: list[tuple[ImportRow, Child]] = []
        rejected_lines: set[int] = set()
        # Each child's statuses as this batch leaves them, keyed by the Child object, for the
        # one rule against overlapping statuses of a kind (registry.children.status_rules).
        status_dates = self._status_dates([*by_nhs.values(), *by_reference.values()])
        for row in batch:
            nhs_number = str(row.identity["nhs_number"] or "")
            reference_key = (
                f"{row.local_authority.pk}:{row.identity['la_reference']}" if row.identity["la_reference"] else ""
            )
            child = by_nhs.get(nhs_number) if nhs_number else None
            child = child or (by_reference.get(reference_key) if reference_key else None)
            if child is not None and child.responsible_local_authority_id != row.local_authority.pk:
                self.result.rejections.append(
                    Rejection(
                        row.line,
                        "nhs_number",
                        "belongs to a child of another local authority (a transfer, not an import)",
                    )
                )
                rejected_lines.add(row.line)
                continue
            new_dates = StatusDates(
                str(row.status["kind"]),
                row.status["start_date"],  # type: ignore[arg-type]
                row.status["end_date"],  # type: ignore[arg-type]
            )
            if child is not None:
                # The status with the same kind and start date is this row's own, being updated.
                others = [
                    dates
                    for key, dates in status_dates.get(id(child), {}).items()
                    if key != (new_dates.kind, new_dates.start_date)
                ]
                clash = status_overlap_find(new_dates, others)
                if clash is not None:
                    self.result.rejections.append(Rejection(row.line, "status", status_overlap_message(clash)))
                    rejected_lines.add(row.line)
                    continue
            if child is None:
                child = Child(responsible_local_authority=row.local_authority, register_id=register_id_generate())
                _set_identity(child, row.identity)
                to_create.append(child)
            else:
                born = child.date_of_birth
                if _set_identity(child, row.identity) and child.pk:
                    child.version += 1
                    to_update[child.pk] = child
                    if child.date_of_birth != born:
                        born_changed.add(child.pk)
            if child.pk:
                touched.add(child.pk)
            # Later rows in this batch for the same child find it by either key.
            if child.nhs_number:
                by_nhs[child.nhs_number] = child
            if child.la_reference:
                by_reference[f"{row.local_authority.pk}:{child.la_reference}"] = child
            row_children.append((row, child))
            status_dates.setdefault(id(child), {})[(new_dates.kind, new_dates.start_date)] = new_dates

        _insert_children(to_create)
        if to_update:
            Child.objects.bulk_update(
                list(to_update.values()), [*IDENTITY_FIELDS, *KEY_FIELDS, "version", "updated_at"]
            )
        if born_changed:
            other_names_date_of_birth_follow(child_ids=born_changed)
        self.result.children_created += len(to_create)
        self.result.children_updated += len(to_update)
        self.result.children_unchanged += len(touched - set(to_update))

        # Statuses and other names the children already on the register have: an unchanged
        # one is not written again, a changed status is updated, a new one inserted.
        known_statuses: dict[tuple[int, str, object], tuple[object, ...]] = {}
        known_names: set[tuple[int, str, str, str]] = set()
        if touched:
            existing = [(row, child) for row, child in row_children if child.pk in touched]
            known_statuses = _known_statuses(
                sorted({(child.pk, str(row.status["kind"]), row.status["start_date"]) for row, child in existing})
            )
            known_names = _known_other_names(
                sorted({(child.pk, *other_name) for row, child in existing for other_name in row.other_names})
            )
        new_names: dict[tuple[int, str, str, str], dict[str, Any]] = {}
        new_statuses: dict[tuple[int, str, object], dict[str, Any]] = {}
        changed_statuses: dict[tuple[int, str, object], ProtectionStatus] = {}
        for row, child in row_children:
            for kind, given, family in row.other_names:
                name_key = (child.pk, kind, given, family)
                if name_key in known_names or name_key in new_names:
                    continue
                new_names[name_key] = {
                    "child_id": child.pk, "kind": kind, "given_names": given, "family_name": family,
                    "child_date_of_birth": child.date_of_birth,
                    **vars(name_keys(given_names=given, family_name=family)),
                }  # fmt: skip
            status = row.status
            status_key = (child.pk, str(status["kind"]), status["start_date"])
            known = known_statuses.get(status_key)
            if known is None:
                # A repeated status in one batch: the last row's dates win, as an upsert would.
                new_statuses[status_key] = {
                    "child_id": child.pk, "responsible_local_authority_id": row.local_authority.pk, **status
                }  # fmt: skip
            elif known != tuple(status[name] for name in STATUS_UPDATE_FIELDS):
                changed_statuses[status_key] = ProtectionStatus(
                    child=child, responsible_local_authority=row.local_authority, **status
                )
            else:
                changed_statuses.pop(status_key, None)  # a later row puts back what is on the register
        _insert_rows(OtherName, list(new_names.values()))
        _insert_rows(ProtectionStatus, list(new_statuses.values()))
        if changed_statuses:
            ProtectionStatus.objects.bulk_create(
                list(changed_statuses.values()),
                update_conflicts=True,
                unique_fields=["child", "kind", "start_date"],
                update_fields=[*STATUS_UPDATE_FIELDS, "updated_at"],
            )
        self.result.statuses_written += len(row_children)
        written = sorted({child.register_id for _, child in row_children})
        audit_event_record(
            action=AuditEvent.Action.CHILDREN_IMPORTED,
            actor=self.by,
            register_ids=written,
            child_authority_codes=child_authority_codes(register_ids=written),
            details={
                "source": self.source_name,
                "first_line": batch[0].line,
                "last_line": batch[-1].line,
                "created": len(to_create),
                "updated": len(to_update),
                "rejected": len(rejected_lines),
            },
        )


def import_children_file(*, path: Path, by: Actor[User], batch_size: int | None = None) -> ImportResult:
    """Import a CSV file from disk. Raises ValueError if the header row is not the import
    format; every other problem rejects only the rows it affects."""
    with path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    importer = ChildImporter(by=by, source_name=f"{path.name} sha256:{digest}", batch_size=batch_size)
    with path.open("rb") as stream:
        return importer.run(csv_rows(stream))


# --- Bulk uploads in the browser -------------------------------------------------------


def _header_check(stream: IO[bytes]) -> None:
    first_line = stream.readline(64 * 1024).removeprefix(b"\xef\xbb\xbf")
    try:
        header = next(csv.reader([first_line.decode("utf-8")]), [])
    except UnicodeDecodeError:
        raise ValidationError("The file must be a CSV file saved as UTF-8 text") from None
    missing = REQUIRED_COLUMNS - {column.strip() for column in header}
    if missing:
        raise ValidationError(
            "The file's first row must name the import columns. Missing: " + ", ".join(sorted(missing))
        )


def bulk_upload_create(*, by: Actor[User], local_authority: LocalAuthority, file: UploadedFile) -> BulkUpload:
    """Store an uploaded import file for `local_authority` and queue its processing once the
    upload is committed. Raises ValidationError for a file that is too large, empty, or not
    in the import format, and PermissionDenied if the actor does not manage the authority."""
    actor = by.user
    if actor is None or not upload_authorities_for_user(user=actor).filter(pk=local_authority.pk).exists():
        raise PermissionDenied
    size = file.size or 0
    if size == 0:
        raise ValidationError("The selected file is empty")
    if size > settings.BULK_UPLOAD_MAX_BYTES:
        limit = settings.BULK_UPLOAD_MAX_BYTES // (1024 * 1024)
        raise ValidationError(f"The selected file must be smaller than {limit} MB")
    file.seek(0)
    _header_check(file)
    file.seek(0)
    digest = hashlib.file_digest(file, "sha256").hexdigest()
    file.seek(0)
    upload = BulkUpload(
        local_authority=local_authority, uploaded_by=actor, original_name=(file.name or "")[:200], sha256=digest
    )
    # A random stored name: the original may name a child.
    upload.file.save(f"{upload.pk}.csv", file, save=False)
    try:
        _upload_record(upload=upload, by=by, size=size)
    except Exception:
        upload.file.delete(save=False)  # nothing refers to it: the row was rolled back
        raise
    return upload


def _upload_record(*, upload: BulkUpload, by: Actor[User], size: int) -> None:
    with transaction.atomic():
        upload.save()
        audit_event_record(
            action=AuditEvent.Action.CHILDREN_IMPORTED,
            actor=by,
            local_authority_code=upload.local_authority.gss_code,
            details={"bulk_upload": str(upload.pk), "stage": "uploaded", "sha256": upload.sha256, "bytes": size},
        )
        # By the task's registered name, not by import: registry.intake.tasks imports this
        # module to process the upload, and the import would close a cycle. celery-types
        # does not know delay_on_commit (Celery 5.4+) yet.
        current_app.tasks["registry.intake.tasks.bulk_upload_process_task"].delay_on_commit(  # type: ignore[attr-defined]
            str(upload.pk)
        )


class _UploadImporter(ChildImporter):
    """The import command's importer, held to one authority and reporting progress."""

    def __init__(self, *, upload: BulkUpload, worker: str, by: Actor[User]) -> None:
        super().__init__(
            by=by,
            source_name=f"bulk upload {upload.pk} sha256:{upload.sha256}",
            batch_size=settings.BULK_UPLOAD_BATCH_SIZE,
        )
        self.upload = upload
        self.worker = worker
        self.gss_code = upload.local_authority.gss_code
        # Defence in depth: the parser knows no other authority, even if a row slipped past.
        self.authorities = {self.gss_code: upload.local_authority}

    def own_rows(
        self, rows: Iterable[tuple[int, dict[str | None, object]]]
    ) -> Iterator[tuple[int, dict[str | None, object]]]:
        for line, raw in rows:
            code = raw.get("local_authority_code")
            if isinstance(code, str) and code.strip() and code.strip().upper() != self.gss_code:
                self.result.rows_read += 1
                self.result.rejections.append(
                    Rejection(
                        line,
                        "local_authority_code",
                        f"is for another local authority: this file was uploaded for {self.gss_code} only",
                    )
                )
                continue
            yield line, raw

    def _write_batch(self, batch: list[ImportRow]) -> None:
        super()._write_batch(batch)
        # Each batch is the worker's heartbeat. A worker that no longer holds the upload
        # stops: the batch it wrote is one the new holder writes again, unchanged.
        held = BulkUpload.objects.filter(pk=self.upload.pk)
        if not file_job_heartbeat(held, worker=self.worker, rows_done=self.result.rows_read):
            raise _ClaimLost


def _report_entry(rejection: Rejection) -> dict[str, Any]:
    # The reason alone: the offending value (Rejection.value) is the file's content, which
    # may be personal data, and the database's own message quotes the key it refused.
    reason = rejection.reason
    if reason.startswith("refused by the database"):
        reason = "refused by the database: it conflicts with a record already held"
    return {"line": rejection.line, "field": rejection.field, "reason": reason}


class _ClaimLost(Exception):
    """This worker's hold on the upload was taken over (its heartbeat was judged stale):
    the worker that holds it now does the import, so this one stops."""


def _claim(upload_id: UUID | str, *, worker: str) -> BulkUpload | None:
    """Mark the upload running and held by `worker`, unless it is finished or another worker
    holds it (registry.file_jobs). A worker silent for BULK_UPLOAD_STALLED_AFTER_SECONDS
    was lost and its upload may be taken over: the import is idempotent, so doing it again
    from the start is safe."""
    claimed = file_job_claim(
        BulkUpload.objects.filter(pk=upload_id),
        worker=worker,
        stale_after=settings.BULK_UPLOAD_STALLED_AFTER_SECONDS,
        rows_done=0,
    )
    if not claimed:
        return None
    return BulkUpload.objects.select_related("local_authority", "uploaded_by").get(pk=upload_id)


def _count_rows(upload: BulkUpload) -> int | None:
    try:
        with upload.file.open("rb") as stream:
            return sum(1 for _ in csv_rows(stream))
    except ValueError:
        return None


_RESULT_FIELDS = (
    "rows_total",
    "rows_done",
    "rows_created",
    "rows_updated",
    "rows_unchanged",
    "rows_rejected",
    "report",
)


def _finish(upload: BulkUpload, *, worker: str, by: Actor[User], failure: str = "") -> None:
    """Record the outcome (done, or failed with `failure`) if `worker` still holds the
    upload, with its audit event in the same transaction."""
    results = {name: getattr(upload, name) for name in _RESULT_FIELDS}
    with transaction.atomic():
        held = BulkUpload.objects.filter(pk=upload.pk, state=BulkUpload.State.RUNNING, heartbeat_by=worker)
        ended = file_job_fail(held, reason=failure, **results) if failure else file_job_finish(held, **results)
        if not ended:
            return  # taken over: the outcome is the new holder's to record
        upload.refresh_from_db(fields=["state", "failure", "finished_at", "heartbeat_at", "heartbeat_by"])
        audit_event_record(
            action=AuditEvent.Action.CHILDREN_IMPORTED,
            actor=by,
            local_authority_code=upload.local_authority.gss_code,
            details={
                "bulk_upload": str(upload.pk),
                "stage": upload.state,
                "sha256": upload.sha256,
                "rows": upload.rows_done,
                "created": upload.rows_created,
                "updated": upload.rows_updated,
                "unchanged": upload.rows_unchanged,
                "rejected": upload.rows_rejected,
            },
        )
    # The rows are on the register (or refused): the file itself is not kept.
    if upload.file:
        upload.file.delete(save=False)
        BulkUpload.objects.filter(pk=upload.pk).update(file="")


def bulk_upload_process(*, upload_id: UUID | str, worker: str = "") -> BulkUpload | None:
    """Import an uploaded file, updating rows_done (the worker's heartbeat) as batches are
    written. Safe to run twice: a finished upload, or one another worker holds, is left
    alone; an upload started BULK_UPLOAD_MAX_DELIVERIES times without finishing is failed.
    `worker` names this delivery (the Celery task id); a redelivery of the same task takes
    its own upload back at once. Returns the upload if this call processed it."""
    worker = worker or uuid4().hex
    upload = _claim(upload_id, worker=worker)
    if upload is None:
        return None
    # The worker's import is the register's own work, on behalf of the manager who uploaded.
    by: Actor[User] = Actor.system(channel=Channel.SYSTEM, user=upload.uploaded_by)
    if upload.deliveries > settings.BULK_UPLOAD_MAX_DELIVERIES:
        _finish(
            upload,
            worker=worker,
            by=by,
            failure=f"Started {upload.deliveries - 1} times without finishing: upload it again",
        )
        return upload
    if not upload.file:
        _finish(upload, worker=worker, by=by, failure="The uploaded file is no longer available: upload it again")
        return upload
    upload.rows_total = _count_rows(upload)
    file_job_heartbeat(BulkUpload.objects.filter(pk=upload.pk), worker=worker, rows_total=upload.rows_total)
    importer = _UploadImporter(upload=upload, worker=worker, by=by)
    try:
        with upload.file.open("rb") as stream:
            result = importer.run(importer.own_rows(csv_rows(stream)))
    except _ClaimLost:
        logger.warning("bulk upload %s taken over by another worker; this one stops", upload.pk)
        return None
    except ValueError as error:  # the header is not the import format
        _finish(upload, worker=worker, by=by, failure=str(error))
        return upload
    except Exception:
        logger.exception("bulk upload %s failed", upload.pk)
        _finish(
            upload,
            worker=worker,
            by=by,
            failure="The file could not be processed because of a problem in the service. Upload it again",
        )
        return upload
    upload.rows_done = result.rows_read
    upload.rows_total = result.rows_read
    upload.rows_created = result.children_created
    upload.rows_updated = result.children_updated
    upload.rows_unchanged = result.children_unchanged
    upload.rows_rejected = result.rows_rejected
    upload.report = [_report_entry(rejection) for rejection in result.rejections]
    _finish(upload, worker=worker, by=by)
    return upload


# --- Case-management API writes --------------------------------------------------------


# Identity fields a case-management system may set. Everything else on Child (the
# authority, register ID, version, shielding, date of death, timestamps, matching keys) is
# out of its reach.
CMS_IDENTITY_FIELDS = (
    "nhs_number", "given_names", "family_name", "date_of_birth", "sex",
    "address_line_1", "address_line_2", "town", "postcode",
)  # fmt: skip


CMS_STATUS_UPDATE_FIELDS = ("end_date", "legal_basis", "expected_delivery_date")


CMS_INVOLVEMENT_UPDATE_FIELDS = (
    "contact_organisation_name", "contact_role", "contact_phone", "contact_email", "is_lead", "end_date",
)  # fmt: skip


class CmsRefused(Exception):
    """The record cannot be written by this account; the message says why, without
    revealing anything about another authority's children. `held_by` is the other
    authority's child whose NHS number the record gave: for the audit only."""

    def __init__(self, message: str, *, status: int = 409, held_by: Child | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.held_by = held_by


class _TrialOnly(Exception):
    """Ends a trial write whose only purpose was to find the record's other faults."""


NHS_NUMBER_HELD_ELSEWHERE = (
    "This NHS number is recorded for a child another local authority is responsible for. "
    "Moving a child between authorities is a transfer: contact that authority."
)


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was already used by this account for a different request."""


@dataclass(frozen=True)
class RecordOutcome:
    outcome: str  # created, updated or unchanged
    register_id: str
    version: int


def _nhs_number_holder(*, child: Child | None, nhs_number: str) -> Child | None:
    holders = Child.objects.select_related("responsible_local_authority").filter(nhs_number=nhs_number)
    if child is not None:
        holders = holders.exclude(pk=child.pk)
    return holders.first()


def _refuse_nhs_number_held_by_own(*, child: Child | None, holder: Child) -> Child:
    """Refuse an NHS number recorded for another of the authority's own children; return
    the holder if it has no reference yet (added in the browser): the record takes it over."""
    if child is None and not holder.la_reference:
        return holder
    raise CmsRefused("This NHS number is already recorded for another of your authority's children.")


def cms_refusal_record(*, by: Actor[User], refused: CmsRefused) -> None:
    """Audit a record refused because another authority's child has its NHS number: the
    refusal says the number is on the register, so it is a look-up like a search. Written
    by the caller after the refused write's savepoint is undone."""
    holder = refused.held_by
    if holder is None:
        return
    audit_event_record(
        action=AuditEvent.Action.SEARCH,
        actor=by,
        criteria={"nhs_number": holder.nhs_number},
        register_ids=[holder.register_id],
        local_authority_code=holder.responsible_local_authority.gss_code,
        outcome=LookupOutcome.REFUSED,
        details={"purpose": "cms_record", "refusal": "nhs_number_held_elsewhere"},
    )


def _audit_child_change(*, by: Actor[User], child: Child, details: dict[str, Any], action: AuditEvent.Action) -> None:
    audit_event_record(
        action=action,
        actor=by,
        register_ids=[child.register_id],
        local_authority_code=child.responsible_local_authority.gss_code,
        details=details,
    )


def other_names_add(*, by: Actor[User], child: Child, other_names: list[tuple[str, str, str]]) -> bool:
    """Add the (kind, given names, family name) entries the child does not have yet; names
    are never removed this way. True if any was added."""
    known = set(child.other_names.values_list("kind", "given_names", "family_name"))
    added = []
    with transaction.atomic():
        for kind, given, family in other_names:
            if (kind, given, family) in known:
                continue
            other = other_name_build(child=child, kind=kind, given_names=given, family_name=family)
            other.full_clean()
            other.save()
            known.add((kind, given, family))
            added.append(kind)
        if added:
            _audit_child_change(
                by=by, child=child, action=AuditEvent.Action.CHILD_UPDATED,
                details={"fields": ["other_names"], "other_names_added": len(added)},
            )  # fmt: skip
    return bool(added)


def status_upsert(*, by: Actor[User], child: Child, status: dict[str, Any]) -> bool:
    """Add the status, or bring the one with the same kind and start date up to date (end
    date, legal basis, expected delivery date). True if anything was written."""
    with transaction.atomic():
        known = (
            ProtectionStatus.objects.select_for_update()
            .filter(child=child, kind=status["kind"], start_date=status["start_date"])
            .first()
        )
        if known is None:
            status_add(by=by, child=child, status=ProtectionStatus(**status))
            return True
        changed = [name for name in CMS_STATUS_UPDATE_FIELDS if name in status and getattr(known, name) != status[name]]
        if not changed:
            return False
        ended = "end_date" in changed and known.end_date is None
        for name in changed:
            setattr(known, name, status[name])
        if "end_date" in changed:
            status_overlap_check(status=known)
        known.full_clean()
        known.save(update_fields=[*changed, "updated_at"])
        _audit_child_change(
            by=by, child=child,
            action=AuditEvent.Action.STATUS_ENDED if ended else AuditEvent.Action.CHILD_UPDATED,
            details={"status_kind": known.kind, "status_fields": sorted(changed)},
        )  # fmt: skip
    return True


def _lead_taken(*, child: Child, involvement: Involvement | None) -> bool:
    others = Involvement.objects.filter(child=child, is_lead=True, end_date__isnull=True)
    if involvement is not None and involvement.pk:
        others = others.exclude(pk=involvement.pk)
    return others.exists()


def involvement_upsert(*, by: Actor[User], child: Child, involvement: dict[str, Any]) -> bool:
    """Record an external contact working with the child, or update the one with the same
    service, contact name and start date. True if anything was written."""
    with transaction.atomic():
        known = (
            Involvement.objects.select_for_update()
            .filter(
                child=child,
                practitioner__isnull=True,
                service_type=involvement["service_type"],
                contact_name=involvement["contact_name"],
                start_date=involvement["start_date"],
            )
            .first()
        )
        current_lead = involvement.get("is_lead") and involvement.get("end_date") is None
        if current_lead and _lead_taken(child=child, involvement=known):
            raise ValidationError(
                {"is_lead": "Another current involvement is the lead: end it, or send it with is_lead false, first"}
            )
        if known is None:
            service = involvement["service_type"]
            record = Involvement(
                **involvement,
                sensitive_category=involvement_sensitivity(service_type=service),
            )
            involvement_add(by=by, child=child, involvement=record)
            return True
        changed = [
            name
            for name in CMS_INVOLVEMENT_UPDATE_FIELDS
            if name in involvement and getattr(known, name) != involvement[name]
        ]
        if not changed:
            return False
        ended = "end_date" in changed and known.end_date is None
        for name in changed:
            setattr(known, name, involvement[name])
        known.full_clean()
        known.save(update_fields=changed)
        _audit_child_change(
            by=by, child=child,
            action=AuditEvent.Action.INVOLVEMENT_ENDED if ended else AuditEvent.Action.CHILD_UPDATED,
            details={"involvement_id": known.pk, "involvement_fields": sorted(changed)},
        )  # fmt: skip
    return True


def cms_child_upsert(
    *,
    by: Actor[User],
    local_authority: LocalAuthority,
    la_reference: str,
    record: dict[str, Any],
    today: datetime.date | None = None,
) -> RecordOutcome:
    """Add or update the authority's child with this reference, then its other names,
    statuses and involvements, in one transaction. `record` holds validated values
    (registry.intake.api); an identity field left out is unchanged. A new child needs at
    least one status that puts it in the register's scope."""
    statuses: list[dict[str, Any]] = list(record.get("statuses", []))
    involvements: list[dict[str, Any]] = list(record.get("involvements", []))
    other_names = [(name["kind"], name["given_names"], name["family_name"]) for name in record.get("other_names", [])]
    identity = {name: record[name] for name in CMS_IDENTITY_FIELDS if name in record}
    with transaction.atomic():
        child = (
            Child.objects.select_for_update()
            .filter(responsible_local_authority=local_authority, la_reference=la_reference)
            .first()
        )
        nhs_number = identity.get("nhs_number")
        holder = _nhs_number_holder(child=child, nhs_number=nhs_number) if nhs_number else None
        if holder is not None and holder.responsible_local_authority_id != local_authority.pk:
            # Answer as if the number were free until the record is otherwise acceptable:
            # a record refused for any other fault gets the same answer whoever holds the
            # number, so a half-made record cannot probe the register (issue 15, finding 7).
            try:
                with transaction.atomic():
                    without_number = {name: value for name, value in identity.items() if name != "nhs_number"}
                    _upsert(
                        by=by, local_authority=local_authority, la_reference=la_reference, child=child,
                        identity=without_number, other_names=other_names, statuses=statuses,
                        involvements=involvements, today=today,
                    )  # fmt: skip
                    raise _TrialOnly
            except _TrialOnly:
                pass
            raise CmsRefused(NHS_NUMBER_HELD_ELSEWHERE, held_by=holder)
        if holder is not None:
            child = _refuse_nhs_number_held_by_own(child=child, holder=holder)
            identity["la_reference"] = la_reference
        return _upsert(
            by=by, local_authority=local_authority, la_reference=la_reference, child=child, identity=identity,
            other_names=other_names, statuses=statuses, involvements=involvements, today=today,
        )  # fmt: skip


def _upsert(
    *,
    by: Actor[User],
    local_authority: LocalAuthority,
    la_reference: str,
    child: Child | None,
    identity: dict[str, Any],
    other_names: list[tuple[str, str, str]],
    statuses: list[dict[str, Any]],
    involvements: list[dict[str, Any]],
    today: datetime.date | None,
) -> RecordOutcome:
    if child is None:
        if not statuses:
            raise ValidationError({"statuses": "A child new to the register needs at least one status"})
        if not identity.get("family_name"):
            raise ValidationError({"family_name": "A child new to the register needs a family name"})
        first, *statuses = statuses
        child = child_create(
            by=by,
            responsible_local_authority=local_authority,
            status=ProtectionStatus(**first),
            other_names=other_names,
            today=today,
            la_reference=la_reference,
            **identity,
        )
        other_names = []
        outcome = "created"
    else:
        version = child.version
        child_identity_update(by=by, child=child, changes=identity)
        outcome = "updated" if child.version != version else "unchanged"
    changed = other_names_add(by=by, child=child, other_names=other_names)
    for status in statuses:
        changed = status_upsert(by=by, child=child, status=status) or changed
    # Ended and non-lead involvements first, so that a new lead can take over in one record.
    for involvement in sorted(involvements, key=lambda item: bool(item.get("is_lead") and not item.get("end_date"))):
        changed = involvement_upsert(by=by, child=child, involvement=involvement) or changed
    if changed and outcome == "unchanged":
        outcome = "updated"
    return RecordOutcome(outcome=outcome, register_id=child.register_id, version=child.version)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class _KeyTakenMeanwhile(Exception):
    pass


def _storable(body: Any) -> Any:
    """The answer made storable and sendable: it may echo what the caller sent (an invalid
    choice, a reference), and neither NUL (refused by PostgreSQL's JSON) nor a lone
    surrogate (not UTF-8) can be stored or sent. Both become U+FFFD."""
    if isinstance(body, str):
        return _UNSTORABLE.sub("\ufffd", body)
    if isinstance(body, dict):
        return {_storable(key): _storable(value) for key, value in body.items()}
    if isinstance(body, list | tuple):
        return [_storable(value) for value in body]
    return body


def idempotent_call(
    *, account: User, key: str, fingerprint: str, perform: Callable[[], tuple[int, Any]]
) -> tuple[int, Any, bool]:
    """Run `perform` (which writes and returns the status and body of its answer) once per
    Idempotency-Key: the answer is stored in the same transaction as the writes, and the
    same key with the same request gets it back (third value True) without writing again.
    Raises IdempotencyKeyReused for the same key with a different request. Keys are kept
    for CMS_IDEMPOTENCY_KEY_HOURS."""
    for _attempt in range(2):
        try:
            with transaction.atomic():
                stored = IdempotencyRecord.objects.filter(account=account, key=key).first()
                cutoff = timezone.now() - datetime.timedelta(hours=settings.CMS_IDEMPOTENCY_KEY_HOURS)
                if stored is not None and stored.created_at >= cutoff:
                    if stored.request_fingerprint != fingerprint:
                        raise IdempotencyKeyReused
                    return stored.response_status, stored.response_body, True
                if stored is not None:
                    stored.delete()  # expired: the key may be used afresh
                status, answer = perform()
                body = _storable(answer)
                try:
                    with transaction.atomic():
                        IdempotencyRecord.objects.create(
                            account=account,
                            key=key,
                            request_fingerprint=fingerprint,
                            response_status=status,
                            response_body=body,
                        )
                except IntegrityError:
                    # The same key committed by a concurrent request: undo this one's
                    # writes and answer with what that one stored.
                    raise _KeyTakenMeanwhile from None
                return status, body, False
        except _KeyTakenMeanwhile:
            continue
    raise CmsRefused("A request with this Idempotency-Key is still being processed: try again shortly.")


def idempotency_records_purge(*, older_than_hours: int | None = None) -> int:
    """Delete stored API answers whose keys have expired. Returns how many."""
    hours = settings.CMS_IDEMPOTENCY_KEY_HOURS if older_than_hours is None else older_than_hours
    cutoff = timezone.now() - datetime.timedelta(hours=hours)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
