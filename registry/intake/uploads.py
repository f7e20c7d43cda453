"""Bulk upload of the import CSV (docs/import-format.md) in the browser by a register
manager, for one authority they manage.

The file is stored and a Celery task processes it with the import command's own importer
(registry.intake.importing), so validation and idempotency are the same: uploading the same file
again changes nothing. Rows for any other authority are rejected with a reason. The
browser reads progress from the BulkUpload row; the validation report (line, field,
reason) never copies a value from the file.
"""

import csv
import datetime
import hashlib
import io
import logging
from collections.abc import Iterable, Iterator
from typing import IO, Any
from uuid import UUID

from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from accounts.models import LocalAuthority, User
from audit.models import AuditEvent
from audit.services import audit_event_record
from registry.children.selectors import authorities_managed_by
from registry.intake.importing import REQUIRED_COLUMNS, ChildImporter, ImportRow, Rejection, csv_rows
from registry.models import BulkUpload

logger = logging.getLogger(__name__)


# --- Selectors ------------------------------------------------------------------------------


def upload_authorities_for_user(*, user: User) -> QuerySet[LocalAuthority]:
    """The authorities this user may upload files for: those they manage the register of."""
    return authorities_managed_by(user=user)


def bulk_uploads_for_user(*, user: User) -> QuerySet[BulkUpload]:
    """Uploads for the authorities the user manages, newest first."""
    return BulkUpload.objects.filter(local_authority__in=upload_authorities_for_user(user=user)).select_related(
        "local_authority", "uploaded_by"
    )


def bulk_upload_for_user(*, user: User, upload_id: UUID) -> BulkUpload:
    """One upload, if it belongs to an authority the user manages; otherwise Http404, so
    that another authority's uploads are indistinguishable from none at all."""
    upload = bulk_uploads_for_user(user=user).filter(pk=upload_id).first()
    if upload is None:
        raise Http404("No such upload")
    return upload


def bulk_upload_status(*, upload: BulkUpload) -> dict[str, Any]:
    """What the progress display shows, as JSON-ready values."""
    percent = 100 if upload.state == BulkUpload.State.DONE else 0
    if upload.state == BulkUpload.State.RUNNING and upload.rows_total:
        percent = min(99, upload.rows_done * 100 // upload.rows_total)
    return {
        "state": upload.state,
        "state_label": upload.get_state_display(),
        "finished": upload.state in (BulkUpload.State.DONE, BulkUpload.State.FAILED),
        "rows_total": upload.rows_total,
        "rows_done": upload.rows_done,
        "percent": percent,
        "rows_created": upload.rows_created,
        "rows_updated": upload.rows_updated,
        "rows_unchanged": upload.rows_unchanged,
        "rows_rejected": upload.rows_rejected,
        "failure": upload.failure,
    }


def bulk_upload_report_csv(*, upload: BulkUpload) -> str:
    """The validation report as CSV: line, field, reason."""
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(["line", "field", "reason"])
    for entry in upload.report:
        writer.writerow([entry["line"], entry["field"], entry["reason"]])
    return output.getvalue()


# --- Services -------------------------------------------------------------------------------


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


def bulk_upload_create(
    *, actor: User, local_authority: LocalAuthority, file: UploadedFile, request: HttpRequest | None = None
) -> BulkUpload:
    """Store an uploaded import file for `local_authority` and queue its processing once the
    upload is committed. Raises ValidationError for a file that is too large, empty, or not
    in the import format, and PermissionDenied if the actor does not manage the authority."""
    if not upload_authorities_for_user(user=actor).filter(pk=local_authority.pk).exists():
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
        _upload_record(upload=upload, actor=actor, size=size, request=request)
    except Exception:
        upload.file.delete(save=False)  # nothing refers to it: the row was rolled back
        raise
    return upload


def _upload_record(*, upload: BulkUpload, actor: User, size: int, request: HttpRequest | None) -> None:
    with transaction.atomic():
        upload.save()
        audit_event_record(
            action=AuditEvent.Action.CHILDREN_IMPORTED,
            actor=actor,
            request=request,
            local_authority_code=upload.local_authority.gss_code,
            details={"bulk_upload": str(upload.pk), "stage": "uploaded", "sha256": upload.sha256, "bytes": size},
            channel="web",
        )
        # By the task's registered name, not by import: registry.intake.tasks imports this
        # module to process the upload, and the import would close a cycle. celery-types
        # does not know delay_on_commit (Celery 5.4+) yet.
        current_app.tasks["registry.intake.tasks.bulk_upload_process_task"].delay_on_commit(  # type: ignore[attr-defined]
            str(upload.pk)
        )


class _UploadImporter(ChildImporter):
    """The import command's importer, held to one authority and reporting progress."""

    def __init__(self, *, upload: BulkUpload) -> None:
        super().__init__(
            actor=upload.uploaded_by,
            source_name=f"bulk upload {upload.pk} sha256:{upload.sha256}",
            batch_size=settings.BULK_UPLOAD_BATCH_SIZE,
        )
        self.upload = upload
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
        BulkUpload.objects.filter(pk=self.upload.pk).update(rows_done=self.result.rows_read)


def _report_entry(rejection: Rejection) -> dict[str, Any]:
    # The reason alone: the offending value (Rejection.value) is the file's content, which
    # may be personal data, and the database's own message quotes the key it refused.
    reason = rejection.reason
    if reason.startswith("refused by the database"):
        reason = "refused by the database: it conflicts with a record already held"
    return {"line": rejection.line, "field": rejection.field, "reason": reason}


def _claim(upload_id: UUID | str) -> BulkUpload | None:
    """Mark the upload running, unless it is finished or another worker is on it. A run
    older than the task time limit was lost with its worker and may be taken over: the
    import is idempotent, so doing it again from the start is safe."""
    now = timezone.now()
    stale = now - datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    claimed = (
        BulkUpload.objects.filter(pk=upload_id)
        .filter(Q(state=BulkUpload.State.WAITING) | Q(state=BulkUpload.State.RUNNING, started_at__lt=stale))
        .update(state=BulkUpload.State.RUNNING, started_at=now, rows_done=0)
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


def _finish(upload: BulkUpload, *, failure: str = "") -> None:
    upload.state = BulkUpload.State.FAILED if failure else BulkUpload.State.DONE
    upload.failure = failure[:300]
    upload.finished_at = timezone.now()
    with transaction.atomic():
        upload.save(
            update_fields=[
                "state", "failure", "finished_at", "rows_total", "rows_done", "rows_created", "rows_updated",
                "rows_unchanged", "rows_rejected", "report",
            ]
        )  # fmt: skip
        audit_event_record(
            action=AuditEvent.Action.CHILDREN_IMPORTED,
            actor=upload.uploaded_by,
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


def bulk_upload_process(*, upload_id: UUID | str) -> BulkUpload | None:
    """Import an uploaded file, updating rows_done as batches are written. Safe to run
    twice: a finished upload, or one another worker is processing, is left alone. Returns
    the upload if this call processed it."""
    upload = _claim(upload_id)
    if upload is None:
        return None
    if not upload.file:
        _finish(upload, failure="The uploaded file is no longer available: upload it again")
        return upload
    upload.rows_total = _count_rows(upload)
    BulkUpload.objects.filter(pk=upload.pk).update(rows_total=upload.rows_total)
    importer = _UploadImporter(upload=upload)
    try:
        with upload.file.open("rb") as stream:
            result = importer.run(importer.own_rows(csv_rows(stream)))
    except ValueError as error:  # the header is not the import format
        _finish(upload, failure=str(error))
        return upload
    except Exception:
        logger.exception("bulk upload %s failed", upload.pk)
        _finish(upload, failure="The file could not be processed because of a problem in the service. Upload it again")
        return upload
    upload.rows_done = result.rows_read
    upload.rows_total = result.rows_read
    upload.rows_created = result.children_created
    upload.rows_updated = result.children_updated
    upload.rows_unchanged = result.children_unchanged
    upload.rows_rejected = result.rows_rejected
    upload.report = [_report_entry(rejection) for rejection in result.rejections]
    _finish(upload)
    return upload
