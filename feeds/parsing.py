"""Reading GRO feed files: the two formats (docs/feeds.md), one line at a time.

Parsing is pure: a line becomes a Registration record, a Quarantine (line number and
reason) or an OutOfScope marker. It never raises for anything in the file."""

import csv
import datetime
import gzip
import hashlib
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

from django.conf import settings

from feeds.models import EventType, RecordStatus
from registry.identity import IdentityValueError, date_from_text, nhs_number_clean, postcode_clean, sex_from_code

DEATH_COLUMNS = (
    "registration_district", "sub_district", "entry_number", "registration_date", "forenames", "surname",
    "aliases", "sex", "date_of_birth", "date_of_death", "place_of_death", "address", "postcode", "nhs_number",
    "record_status",
)  # fmt: skip
BIRTH_COLUMNS = (
    "registration_district", "sub_district", "entry_number", "registration_date", "forenames", "surname", "sex",
    "date_of_birth", "place_of_birth", "mother_forenames", "mother_surname", "mother_maiden_surname",
    "mother_date_of_birth", "mother_postcode", "father_forenames", "father_surname", "nhs_number", "record_status",
)  # fmt: skip
COLUMNS: dict[str, tuple[str, ...]] = {EventType.DEATH: DEATH_COLUMNS, EventType.BIRTH: BIRTH_COLUMNS}
# Optional last column of either feed: the GRO's version number of the registration (1 for
# the first registration, higher for each correction or cancellation). When present, a
# registration's versions are ordered by it rather than by record_status (docs/feeds.md).
VERSION_COLUMN = "version"
REQUIRED: dict[str, tuple[str, ...]] = {
    EventType.DEATH: (
        "registration_district", "entry_number", "registration_date", "surname", "date_of_birth", "date_of_death",
        "record_status",
    ),
    EventType.BIRTH: (
        "registration_district", "entry_number", "registration_date", "surname", "date_of_birth", "mother_surname",
        "record_status",
    ),
}  # fmt: skip
DATE_COLUMNS = ("registration_date", "date_of_birth", "date_of_death", "mother_date_of_birth")
# The longest value each column may hold; longer means the row is not what it claims to be.
MAX_LENGTHS = {"registration_district": 100, "sub_district": 100, "entry_number": 20, "aliases": 300}
DEFAULT_MAX_LENGTH = 100
LONG_COLUMNS = ("address", "place_of_death", "place_of_birth")
LONG_MAX_LENGTH = 300
GZIP_MAGIC = b"\x1f\x8b"


class HeaderRefused(ValueError):
    """The file is not a GRO deaths or births file: refused before any row is read."""


@dataclass(frozen=True)
class Quarantine:
    line_number: int
    reason: str


@dataclass(frozen=True)
class OutOfScope:
    line_number: int


@dataclass(frozen=True)
class Record:
    """One well-formed registration. `details` holds every column, normalised, as text."""

    event_type: str
    line_number: int
    details: dict[str, str]
    registration_date: datetime.date
    date_of_birth: datetime.date
    date_of_death: datetime.date | None
    mother_date_of_birth: datetime.date | None
    content_sha256: str = field(default="")

    @property
    def natural_key(self) -> tuple[str, str, str, int]:
        return (
            self.event_type,
            self.details["registration_district"],
            self.details["entry_number"],
            self.registration_date.year,
        )

    @property
    def record_status(self) -> str:
        return self.details["record_status"]

    @property
    def version(self) -> int | None:
        """The GRO's version number, if the file has the column and the row a value."""
        value = self.details.get(VERSION_COLUMN, "")
        return int(value) if value else None


Parsed = Record | Quarantine | OutOfScope


def file_is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def _open(path: Path, is_gzip: bool) -> IO[bytes]:
    # GzipFile reads like any binary file; typeshed does not call it an IO[bytes].
    return cast(IO[bytes], gzip.open(path, "rb")) if is_gzip else path.open("rb")


def header_event_type(header: bytes) -> str:
    """The event type a header row announces. Raises HeaderRefused if it is neither."""
    return header_columns(header)[0]


def header_columns(header: bytes) -> tuple[str, bool]:
    """The event type a header row announces, and whether it ends with the optional
    `version` column. Raises HeaderRefused if it is neither feed's."""
    try:
        text = header.decode("utf-8-sig").strip("\r\n")
    except UnicodeDecodeError as error:
        raise HeaderRefused("The header row is not UTF-8 text") from error
    names = tuple(name.strip().lower() for name in next(csv.reader([text]), []))
    for event_type, columns in COLUMNS.items():
        if names == columns:
            return event_type, False
        if names == (*columns, VERSION_COLUMN):
            return event_type, True
    raise HeaderRefused("The header row is not that of a GRO deaths or births file (see the feed formats)")


def file_event_type(path: Path, is_gzip: bool) -> str:
    """Read only the header row. Raises HeaderRefused, also for an unreadable gzip stream."""
    return file_columns(path, is_gzip)[0]


def file_columns(path: Path, is_gzip: bool) -> tuple[str, bool]:
    """The header row's event type and whether the file has the `version` column."""
    try:
        with _open(path, is_gzip) as handle:
            return header_columns(handle.readline(64 * 1024))
    except (OSError, EOFError, zlib.error) as error:
        raise HeaderRefused("The file cannot be read (a damaged gzip file?)") from error


class FeedFileUnsafe(Exception):
    """The file cannot be read within the limits (FEEDS_MAX_DECOMPRESSED_BYTES,
    FEEDS_MAX_LINE_BYTES): a decompression bomb, or a line no GRO record is as long as.
    The message says which, without any of the file's content."""


def _bounded_lines(handle: IO[bytes]) -> Iterator[bytes]:
    """The handle's lines, reading at most FEEDS_MAX_LINE_BYTES (+1) at a time and at most
    FEEDS_MAX_DECOMPRESSED_BYTES in all, so that neither a gzip bomb nor a file with no
    line breaks makes the worker hold more than one bounded line. Raises FeedFileUnsafe."""
    max_line = settings.FEEDS_MAX_LINE_BYTES
    max_total = settings.FEEDS_MAX_DECOMPRESSED_BYTES
    total = 0
    number = 0
    while line := handle.readline(max_line + 1):
        number += 1
        total += len(line)
        if total > max_total:
            raise FeedFileUnsafe(
                f"The file is larger than {max_total // (1024 * 1024):,} MB once decompressed "
                "(FEEDS_MAX_DECOMPRESSED_BYTES): not ingested"
            )
        if len(line) > max_line and not line.endswith(b"\n"):
            raise FeedFileUnsafe(
                f"Line {number} is longer than {max_line:,} bytes (FEEDS_MAX_LINE_BYTES): not a GRO record, "
                "so the file was not ingested"
            )
        yield line


class FeedFileUnreadable(Exception):
    """Reading the stored file itself failed (gzip truncated, a bad CRC, a damaged stream,
    the copy gone): retrying cannot help. Raised only by the reading, so that an OSError
    from anything else done while a file ingests (the broker, the network) is never taken
    for a damaged file. The message is the underlying error's type, never file content."""


def data_lines(path: Path, is_gzip: bool, *, after: int = 0) -> Iterator[tuple[int, bytes]]:
    """(line number in the file, raw bytes) for each data line after the first `after`
    data lines. Streams: never holds more than one line. Raises FeedFileUnsafe or
    FeedFileUnreadable."""
    try:
        with _open(path, is_gzip) as handle:
            lines = _bounded_lines(handle)
            next(lines, None)  # the header
            for index, line in enumerate(lines, start=1):
                if index > after:
                    yield index + 1, line
    except (OSError, EOFError, zlib.error) as error:
        raise FeedFileUnreadable(type(error).__name__) from error


def data_line_count(path: Path, is_gzip: bool) -> int:
    """Data lines in the file. Raises FeedFileUnsafe or FeedFileUnreadable (this is the
    first full read)."""
    try:
        with _open(path, is_gzip) as handle:
            return max(0, sum(1 for _ in _bounded_lines(handle)) - 1)  # less the header
    except (OSError, EOFError, zlib.error) as error:
        raise FeedFileUnreadable(type(error).__name__) from error


class _Refused(Exception):
    pass


def _checked_date(name: str, value: str, today: datetime.date) -> datetime.date | None:
    # The one date rule (registry.identity.date_from_text, through date_from_parts): the
    # GRO writes YYYY-MM-DD or DD/MM/YYYY; its message becomes the quarantine reason.
    try:
        parsed = date_from_text(value, label=name, day_first=True)
    except IdentityValueError as error:
        raise _Refused(error.message) from None
    if parsed is not None and parsed > today:
        raise _Refused(f"{name} is in the future")
    return parsed


def _iso(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""


def parse_line(
    *,
    event_type: str,
    line_number: int,
    raw: bytes,
    today: datetime.date,
    born_after: datetime.date,
    with_version: bool = False,
) -> Parsed:
    """One data line. Records of people born before `born_after` are OutOfScope, decided
    from the date of birth alone so that most of a deaths file is skipped cheaply.
    `with_version`: the file's header ends with the `version` column."""
    try:
        return _parse(event_type, line_number, raw, today, born_after, with_version)
    except _Refused as refused:
        return Quarantine(line_number, str(refused))


def _parse(
    event_type: str, line_number: int, raw: bytes, today: datetime.date, born_after: datetime.date, with_version: bool
) -> Parsed:
    columns = (*COLUMNS[event_type], VERSION_COLUMN) if with_version else COLUMNS[event_type]
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise _Refused("contains bytes that are not UTF-8 text") from None
    if not text.strip():
        raise _Refused("empty line")
    try:
        values = next(csv.reader([text], strict=True), [])
    except csv.Error:
        raise _Refused("badly quoted field") from None
    if len(values) != len(columns):
        raise _Refused(f"wrong number of columns: {len(values)}, expected {len(columns)}")
    row = {name: value.strip() for name, value in zip(columns, values, strict=True)}
    try:
        date_of_birth = date_from_text(row["date_of_birth"], label="date_of_birth", day_first=True)
    except IdentityValueError:
        date_of_birth = None  # refused below, with the reason, unless out of scope otherwise
    if date_of_birth is not None and date_of_birth < born_after:
        return OutOfScope(line_number)
    for name in REQUIRED[event_type]:
        if not row[name]:
            raise _Refused(f"{name} is missing")
    for name, value in row.items():
        limit = LONG_MAX_LENGTH if name in LONG_COLUMNS else MAX_LENGTHS.get(name, DEFAULT_MAX_LENGTH)
        if len(value) > limit:
            raise _Refused(f"{name} is longer than {limit} characters")
        if any(ord(character) < 32 for character in value):
            raise _Refused(f"{name} contains control characters")
    dates: dict[str, datetime.date | None] = {}
    for name in DATE_COLUMNS:
        if name in row:
            dates[name] = _checked_date(name, row[name], today)
            row[name] = _iso(dates[name])
    born, registered = dates["date_of_birth"], dates["registration_date"]
    if born is None or registered is None:
        raise _Refused("date_of_birth or registration_date is missing")  # unreachable: both required
    died = dates.get("date_of_death")
    if died is not None and died < born:
        raise _Refused("date_of_death is before date_of_birth")
    event_date = died or born
    if registered < event_date:
        raise _Refused(f"registration_date is before the date of {'death' if died else 'birth'}")
    mother_born = dates.get("mother_date_of_birth")
    if mother_born is not None and mother_born >= born:
        raise _Refused("mother_date_of_birth is not before the child's date_of_birth")
    row["record_status"] = row["record_status"].lower()
    if row["record_status"] not in RecordStatus.values:
        raise _Refused("record_status must be registered, corrected or cancelled")
    if row.get(VERSION_COLUMN):
        if not row[VERSION_COLUMN].isdigit() or not 1 <= int(row[VERSION_COLUMN]) <= 999_999:
            raise _Refused("version must be a whole number from 1 to 999999, or blank")
        row[VERSION_COLUMN] = str(int(row[VERSION_COLUMN]))
    try:
        row["nhs_number"] = nhs_number_clean(row["nhs_number"])
        row["sex"] = sex_from_code(row["sex"])
    except IdentityValueError as error:
        raise _Refused(f"{error.field}: {error.message}") from None
    for name in ("postcode", "mother_postcode"):
        if row.get(name):
            try:
                row[name] = postcode_clean(row[name])
            except IdentityValueError:
                # An address the GRO holds in another shape is no reason to lose the record;
                # it only stops the postcode counting towards a match.
                row[name] = ""
    # The version number is not content: the same details under another version change nothing,
    # and a file without the column hashes a row as it always did.
    content_fields = {name: value for name, value in row.items() if name != VERSION_COLUMN}
    content = hashlib.sha256(json.dumps(content_fields, sort_keys=True).encode()).hexdigest()
    return Record(
        event_type=event_type,
        line_number=line_number,
        details=row,
        registration_date=registered,
        date_of_birth=born,
        date_of_death=died,
        mother_date_of_birth=mother_born,
        content_sha256=content,
    )
