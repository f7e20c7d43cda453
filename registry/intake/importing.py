"""Bulk import of children from a local authority's CSV file (docs/import-format.md).

Every row is validated; valid rows are written in batches, one transaction per batch;
rejected rows are reported with their line number, field and reason. Re-importing the same
file changes nothing: a child is keyed on NHS number when present, otherwise on the
authority's code and its own reference, and a status on (child, kind, start date).
"""

import csv
import dataclasses
import datetime
import hashlib
import io
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import LocalAuthority, User
from audit.models import AuditEvent
from audit.services import audit_event_record
from registry.children.eligibility import child_eligibility
from registry.children.selectors import child_authority_codes
from registry.children.services import name_keys_apply
from registry.children.status_rules import StatusDates, status_overlap_find, status_overlap_message
from registry.identity import (
    IdentityValueError,
    nhs_number_clean,
    postcode_clean,
    register_id_generate,
    sex_from_code,
)
from registry.matching.keys import NameKeys, name_keys
from registry.models import Child, OtherName, ProtectionStatus

logger = logging.getLogger(__name__)
T = TypeVar("T")

COLUMNS = [
    "local_authority_code", "la_reference", "nhs_number", "given_names", "family_name", "other_names",
    "date_of_birth", "sex", "address_line_1", "town", "postcode", "status_kind", "status_start",
    "status_end", "legal_basis", "expected_delivery_date",
]  # fmt: skip
REQUIRED_COLUMNS = frozenset(COLUMNS)

STATUS_KINDS = {choice.value for choice in ProtectionStatus.Kind}
LEGAL_BASES = {choice.value for choice in ProtectionStatus.LegalBasis}
OTHER_NAME_KINDS = {choice.value for choice in OtherName.Kind}
# Identity fields an import may set or correct on an existing child.
IDENTITY_FIELDS = [
    "nhs_number", "la_reference", "given_names", "family_name", "date_of_birth", "sex",
    "address_line_1", "town", "postcode",
]  # fmt: skip
# What an import may change on a status it finds again (same child, kind and start date).
STATUS_UPDATE_FIELDS = ["end_date", "legal_basis", "expected_delivery_date"]
# Every matching key name_keys computes (registry.matching.keys.NameKeys), so that a corrected
# name is stored with all of its keys.
KEY_FIELDS = [key_field.name for key_field in dataclasses.fields(NameKeys)]


class _StatusDates(NamedTuple):
    """The dates child_eligibility reads, without building a model instance for every row."""

    start_date: datetime.date
    end_date: datetime.date | None


class RowError(Exception):
    """A row refused. `reason` never contains the file's value: the offending value, where
    it helps the person fixing their own file, travels apart in `value`, so that a report
    for someone else (the bulk upload's) can leave it out without parsing the text."""

    def __init__(self, field: str, reason: str, *, value: str | None = None) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
        self.value = value


@dataclass(frozen=True)
class Rejection:
    line: int
    field: str
    reason: str
    value: str | None = None

    @property
    def described(self) -> str:
        """The reason with the offending value quoted, for the file's own operator."""
        return self.reason if self.value is None else f"'{self.value}' {self.reason}"


@dataclass
class ImportRow:
    line: int
    local_authority: LocalAuthority
    identity: dict[str, object]
    other_names: list[tuple[str, str, str]]
    status: dict[str, object]

    @property
    def key(self) -> tuple[str, str]:
        if self.identity["nhs_number"]:
            return ("nhs", str(self.identity["nhs_number"]))
        return ("ref", f"{self.local_authority.pk}:{self.identity['la_reference']}")


@dataclass
class ImportResult:
    rows_read: int = 0
    children_created: int = 0
    children_updated: int = 0
    children_unchanged: int = 0
    statuses_written: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return len({rejection.line for rejection in self.rejections})


def _parse_date(value: str, field_name: str, *, required: bool) -> datetime.date | None:
    if not value:
        if required:
            raise RowError(field_name, "is required")
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise RowError(field_name, "is not a date in the form YYYY-MM-DD", value=value) from None


def _identity(clean: Callable[[str], T], value: str) -> T:
    """One rule of registry.identity; its message becomes the row's rejection."""
    try:
        return clean(value)
    except IdentityValueError as error:
        raise RowError(error.field, error.message) from None


def _parse_other_names(value: str) -> list[tuple[str, str, str]]:
    names = []
    for entry in filter(None, (part.strip() for part in value.split(";"))):
        kind, _, name = entry.partition(":") if ":" in entry else (OtherName.Kind.ALIAS.value, "", entry)
        if kind not in OTHER_NAME_KINDS:
            raise RowError("other_names", f"is not a kind of name ({', '.join(sorted(OTHER_NAME_KINDS))})", value=kind)
        given, separator, family = name.partition("|")
        if not separator:
            raise RowError("other_names", "each name must be written 'given names|family name'")
        if not given.strip() and not family.strip():
            raise RowError("other_names", "a name is empty")
        names.append((kind, given.strip()[:100], family.strip()[:100]))
    return names


def row_parse(
    raw: dict[str | None, object], *, line: int, authorities: dict[str, LocalAuthority], today: datetime.date
) -> ImportRow:
    """Validate one CSV row; raise RowError naming the first bad field."""
    if raw.get(None) == "undecodable":
        raise RowError("(row)", "contains bytes that are not UTF-8 text")
    if raw.get(None) == "nul":
        raise RowError("(row)", "contains a NUL byte, which is not text")
    if None in raw:
        raise RowError("(row)", "has more values than the header has columns")
    if any(value is None for value in raw.values()):
        raise RowError("(row)", "has fewer values than the header has columns")
    row = {str(key): str(value).strip() for key, value in raw.items()}

    authority = authorities.get(row["local_authority_code"].upper())
    if authority is None:
        raise RowError(
            "local_authority_code", "is not a local authority on the register", value=row["local_authority_code"]
        )
    nhs_number = _identity(nhs_number_clean, row["nhs_number"])
    if not nhs_number and not row["la_reference"]:
        raise RowError("la_reference", "is required when there is no NHS number")
    if len(row["la_reference"]) > 64:
        raise RowError("la_reference", "is longer than 64 characters")
    if not row["family_name"]:
        raise RowError("family_name", "is required")
    for name_field in ("given_names", "family_name"):
        if len(row[name_field]) > 100:
            raise RowError(name_field, "is longer than 100 characters")
    sex = _identity(sex_from_code, row["sex"])
    kind = row["status_kind"].lower()
    if kind not in STATUS_KINDS:
        raise RowError("status_kind", f"is not one of {', '.join(sorted(STATUS_KINDS))}", value=row["status_kind"])
    unborn = kind == ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN
    date_of_birth = _parse_date(row["date_of_birth"], "date_of_birth", required=not unborn)
    if date_of_birth and date_of_birth > today:
        raise RowError("date_of_birth", "is in the future")
    postcode = _identity(postcode_clean, row["postcode"])
    start = _parse_date(row["status_start"], "status_start", required=True)
    assert start is not None
    if start > today:
        raise RowError("status_start", "is in the future")
    end = _parse_date(row["status_end"], "status_end", required=False)
    if end and end < start:
        raise RowError("status_end", "is before status_start")
    legal_basis = row["legal_basis"].lower()
    if kind == ProtectionStatus.Kind.LOOKED_AFTER:
        if legal_basis not in LEGAL_BASES:
            raise RowError("legal_basis", f"is required for looked_after: one of {', '.join(sorted(LEGAL_BASES))}")
    elif legal_basis:
        raise RowError("legal_basis", "is only for looked_after statuses")
    expected = _parse_date(row["expected_delivery_date"], "expected_delivery_date", required=unborn)
    if expected and not unborn:
        raise RowError("expected_delivery_date", "is only for unborn_cpp statuses")
    other_names = _parse_other_names(row["other_names"])

    status = {
        "kind": kind,
        "legal_basis": legal_basis,
        "start_date": start,
        "end_date": end,
        "expected_delivery_date": expected,
    }
    eligibility = child_eligibility(date_of_birth=date_of_birth, statuses=[_StatusDates(start, end)], today=today)
    if not eligibility.in_scope:
        raise RowError("(row)", f"out of the register's scope: {eligibility.reason.lower()}")
    identity: dict[str, object] = {
        "nhs_number": nhs_number or None,
        "la_reference": row["la_reference"],
        "given_names": row["given_names"],
        "family_name": row["family_name"],
        "date_of_birth": date_of_birth,
        "sex": sex,
        "address_line_1": row["address_line_1"][:200],
        "town": row["town"][:100],
        "postcode": postcode,
    }
    return ImportRow(line=line, local_authority=authority, identity=identity, other_names=other_names, status=status)


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
    """Imports one file. Use `run(rows)` with the file's rows as dictionaries."""

    def __init__(self, *, actor: User | None, source_name: str, batch_size: int | None = None) -> None:
        self.actor = actor
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
            elif _set_identity(child, row.identity) and child.pk:
                child.version += 1
                to_update[child.pk] = child
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
            actor=self.actor,
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


def _decoded_lines(stream: IO[bytes], bad_lines: dict[int, str]) -> Iterator[str]:
    """Decode line by line so that one line of bad bytes rejects one row, not the file.
    A NUL byte is taken out before the csv module sees it (it stops the whole reader with
    "line contains NUL") and marks its line bad, as undecodable bytes do."""
    for number, raw_line in enumerate(stream, start=1):
        if number == 1 and raw_line.startswith(b"\xef\xbb\xbf"):
            raw_line = raw_line[3:]
        if b"\x00" in raw_line:
            bad_lines[number] = "nul"
            raw_line = raw_line.replace(b"\x00", b"")
        try:
            yield raw_line.decode("utf-8")
        except UnicodeDecodeError:
            bad_lines.setdefault(number, "undecodable")
            yield raw_line.decode("utf-8", errors="replace")


def csv_rows(stream: IO[bytes]) -> Iterator[tuple[int, dict[str | None, object]]]:
    """The file's data rows with the line number each starts on (the header is line 1).
    A row containing bytes that are not UTF-8, or a NUL byte, comes back as
    {None: "undecodable"} or {None: "nul"}: rejected on its own."""
    bad_lines: dict[int, str] = {}
    reader = csv.DictReader(_decoded_lines(stream, bad_lines))
    missing = REQUIRED_COLUMNS - set(reader.fieldnames or [])
    if missing:
        raise ValueError(f"The header row is missing these columns: {', '.join(sorted(missing))}")
    if 1 in bad_lines:
        raise ValueError("The header row contains bytes that are not text")
    previous_end = reader.line_num
    for raw in reader:
        first_line = previous_end + 1
        previous_end = reader.line_num
        problems = [bad_lines[number] for number in range(first_line, reader.line_num + 1) if number in bad_lines]
        if problems:
            yield first_line, {None: problems[0]}
            continue
        yield first_line, raw


def import_children_file(*, path: Path, actor: User | None, batch_size: int | None = None) -> ImportResult:
    """Import a CSV file from disk. Raises ValueError if the header row is not the import
    format; every other problem rejects only the rows it affects."""
    with path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    importer = ChildImporter(actor=actor, source_name=f"{path.name} sha256:{digest}", batch_size=batch_size)
    with path.open("rb") as stream:
        return importer.run(csv_rows(stream))


def rejection_report(rejections: list[Rejection]) -> str:
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(["line", "field", "reason"])
    for rejection in rejections:
        writer.writerow([rejection.line, rejection.field, rejection.described])
    return output.getvalue()
