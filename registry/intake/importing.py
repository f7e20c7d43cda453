"""Reading a local authority's import CSV (docs/import-format.md): its rows, each parsed
and validated into an ImportRow or refused with a RowError (field and reason). Nothing
here writes: registry.intake.services.ChildImporter writes the valid rows in batches."""

import csv
import datetime
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, NamedTuple, TypeVar

from accounts.models import LocalAuthority
from registry.children.eligibility import child_eligibility
from registry.identity import (
    IdentityValueError,
    date_from_text,
    nhs_number_clean,
    postcode_clean,
    sex_from_code,
)
from registry.models import OtherName, ProtectionStatus

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
        return date_from_text(value, label=field_name)
    except IdentityValueError as error:
        # The message names the field ("date_of_birth must be a real date"), so it is the
        # whole reason, without the value quoted before it.
        raise RowError(field_name, error.message) from None


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


def rejection_report(rejections: list[Rejection]) -> str:
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(["line", "field", "reason"])
    for rejection in rejections:
        writer.writerow([rejection.line, rejection.field, rejection.described])
    return output.getvalue()
