"""Building GRO feed files for tests: one row at a time, with overrides."""

import csv
import gzip
import io
from typing import Any

from audit.actor import Actor, Channel
from feeds.ingestion import feed_file_ingest_run
from feeds.models import FeedFile
from feeds.parsing import BIRTH_COLUMNS, DEATH_COLUMNS
from feeds.services import Receipt, feed_file_receive

DEATH_DEFAULTS = {
    "registration_district": "Westminster",
    "sub_district": "Westminster",
    "entry_number": "1",
    "registration_date": "2026-11-10",
    "forenames": "Amelia",
    "surname": "Oneil",
    "aliases": "",
    "sex": "F",
    "date_of_birth": "2019-04-12",
    "date_of_death": "2026-11-01",
    "place_of_death": "St Mary's Hospital",
    "address": "1 High Street, London",
    "postcode": "SW1A 1AA",
    "nhs_number": "",
    "record_status": "registered",
}
BIRTH_DEFAULTS = {
    "registration_district": "Westminster",
    "sub_district": "Westminster",
    "entry_number": "1",
    "registration_date": "2026-11-10",
    "forenames": "Noah",
    "surname": "Baker",
    "sex": "M",
    "date_of_birth": "2026-11-02",
    "place_of_birth": "St Mary's Hospital",
    "mother_forenames": "Jade",
    "mother_surname": "Baker",
    "mother_maiden_surname": "Hill",
    "mother_date_of_birth": "1998-05-06",
    "mother_postcode": "SW1A 1AA",
    "father_forenames": "",
    "father_surname": "",
    "nhs_number": "",
    "record_status": "registered",
}


def _line(columns: tuple[str, ...], defaults: dict[str, str], overrides: dict[str, Any]) -> str:
    values = {**defaults, **{key: str(value) for key, value in overrides.items()}}
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([values[column] for column in columns])
    return out.getvalue()


def death_row(**overrides: Any) -> str:
    return _line(DEATH_COLUMNS, DEATH_DEFAULTS, overrides)


def birth_row(**overrides: Any) -> str:
    return _line(BIRTH_COLUMNS, BIRTH_DEFAULTS, overrides)


def deaths_file(*rows: str | bytes) -> bytes:
    return _file(DEATH_COLUMNS, rows)


def births_file(*rows: str | bytes) -> bytes:
    return _file(BIRTH_COLUMNS, rows)


def _file(columns: tuple[str, ...], rows: tuple[str | bytes, ...]) -> bytes:
    body = [(",".join(columns) + "\n").encode()]
    body += [row if isinstance(row, bytes) else row.encode() for row in rows]
    return b"".join(body)


def gzipped(content: bytes) -> bytes:
    return gzip.compress(content)


def receive(content: bytes, *, name: str = "deaths.csv", actor: Any = None, enqueue: bool = False) -> Receipt:
    return feed_file_receive(
        stream=io.BytesIO(content),
        size=len(content),
        original_name=name,
        source=FeedFile.Source.COMMAND,
        by=Actor.system(channel=Channel.WEB if actor else Channel.FEED, user=actor),
        enqueue=enqueue,
    )


def ingest(content: bytes, *, name: str = "deaths.csv") -> FeedFile:
    """Receive and ingest in this process; returns the file with its counts."""
    receipt = receive(content, name=name)
    feed_file = feed_file_ingest_run(feed_file_id=receipt.feed_file.pk)
    assert feed_file is not None
    return feed_file


def versioned_death_row(version: int | str, **overrides: Any) -> str:
    """A deaths row for a file with the optional `version` column."""
    return death_row(**overrides).rstrip("\n") + f",{version}\n"


def versioned_deaths_file(*rows: str | bytes) -> bytes:
    return _file((*DEATH_COLUMNS, "version"), rows)
