"""Export of a filtered set of audit events: a ZIP file holding the events (CSV or JSON) and
a manifest (row count, SHA-256 of the events file, the filter, who exported it and when).
The events keep their chain hashes, so a recipient can match them against the trail."""

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from audit.actor import Actor
from audit.chain import CONTENT_FIELDS
from audit.models import AuditEvent
from audit.selectors import AuditorScope, AuditQuery, audit_events_find
from audit.services import audit_event_record

FORMATS = ("csv", "json")
COLUMNS = ("id", *CONTENT_FIELDS, "actor_email", "previous_hash", "chain_hash")
JSON_COLUMNS = {"actor_roles", "register_ids", "details", "criteria"}
# A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV
# injection"): free text such as a reason's detail could run =HYPERLINK(...) on an
# auditor's machine. A leading apostrophe makes the cell text again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportTooLarge(Exception):
    """More events match than one export may hold: the auditor must narrow the filter."""


@dataclass(frozen=True)
class AuditExport:
    filename: str
    content: bytes
    manifest: dict[str, Any]


def _rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for event in events:
        event["occurred_at"] = event["occurred_at"].isoformat()
    return events


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: strings that would start a formula get a
    leading apostrophe; every other value is written as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    # CRLF (RFC 4180): the writer then quotes any field holding a carriage return or a line
    # feed, so typed text can never split a row.
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {key: csv_cell(json.dumps(value) if key in JSON_COLUMNS else value) for key, value in row.items()}
        )
    return buffer.getvalue().encode()


def audit_events_export(*, by: Actor[User], scope: AuditorScope, query: AuditQuery, file_format: str) -> AuditExport:
    """Export the events matching the filter within the auditor's scope, and audit the export
    (with the file's SHA-256) in the same transaction. Raises ExportTooLarge."""
    if file_format not in FORMATS:
        raise ValueError(f"unknown export format {file_format}")
    limit = settings.AUDIT_EXPORT_MAX_ROWS
    with transaction.atomic():
        events = audit_events_find(scope=scope, query=query).values(
            *(column for column in COLUMNS if column != "actor_email"), actor_email=F("actor__email")
        )
        rows = _rows(list(events[: limit + 1]))
        if len(rows) > limit:
            raise ExportTooLarge(f"More than {limit:,} events match. Narrow the dates or add a filter.")
        data = _csv(rows) if file_format == "csv" else json.dumps(rows, indent=1, ensure_ascii=False).encode()
        digest = hashlib.sha256(data).hexdigest()
        exported_at = timezone.now()
        event = audit_event_record(
            action=AuditEvent.Action.AUDIT_EXPORTED,
            actor=by,
            criteria=query.as_criteria(),
            details={"format": file_format, "row_count": len(rows), "sha256": digest},
        )
    data_name = f"audit-events.{file_format}"
    manifest = {
        "file": data_name,
        "format": file_format,
        "row_count": len(rows),
        "sha256": digest,
        "filter": query.as_criteria(),
        "scope": "national" if scope.national else sorted(scope.authority_codes or ()),
        "exported_by_user_id": event.actor_id,
        "exported_at": exported_at.isoformat(),
        "export_audit_event_id": event.pk,
    }
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(data_name, data)
        bundle.writestr("manifest.json", json.dumps(manifest, indent=2))
    return AuditExport(f"audit-export-{exported_at:%Y%m%dT%H%M%S}.zip", archive.getvalue(), manifest)
