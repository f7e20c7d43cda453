"""What the intake pages and the case-management API read: a register manager's bulk
uploads (scoped to the authorities they manage) and a case-management account's authority
and children. Nothing here writes; writes are in registry.intake.services."""

import csv
import datetime
import hashlib
import io
import json
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import LocalAuthority, User
from accounts.roles import Role
from accounts.selectors import local_authorities_for_role
from registry.children.selectors import authorities_managed_by
from registry.file_jobs.selectors import file_jobs_stale
from registry.models import BulkUpload, Child


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


def cms_account_authority(*, user: User) -> LocalAuthority | None:
    """The one authority a case-management account writes for, or None if the user is not
    a system account (accounts.models.User.is_system_account) holding the register manager
    role of exactly one authority (a national or multi-authority user cannot say which
    authority its references belong to)."""
    if not user.is_system_account:
        return None
    authorities = list(local_authorities_for_role(user=user, role=Role.REGISTER_MANAGER)[:2])
    return authorities[0] if len(authorities) == 1 else None


def cms_child_for_reference(*, local_authority: LocalAuthority, la_reference: str) -> Child | None:
    """The authority's own child with this reference; never another authority's."""
    if not la_reference:
        return None
    return Child.objects.filter(responsible_local_authority=local_authority, la_reference=la_reference).first()


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    """SHA-256 of the method, path and JSON body (keys sorted, so the order of keys in the
    body does not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def bulk_uploads_stalled(*, now: datetime.datetime | None = None) -> list[BulkUpload]:
    """Uploads running whose worker has shown no sign of life for
    BULK_UPLOAD_STALLED_AFTER_SECONDS: to be handed out again."""
    return list(file_jobs_stale(BulkUpload.objects.all(), seconds=settings.BULK_UPLOAD_STALLED_AFTER_SECONDS, now=now))
