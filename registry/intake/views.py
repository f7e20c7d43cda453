"""Register managers' bulk upload pages (registry.intake.services): upload an import file, watch it
being processed, download its validation report. An upload of another authority is a 404."""

from typing import Any
from uuid import UUID

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import LocalAuthority, User
from audit.actor import Actor
from registry.intake.selectors import (
    bulk_upload_for_user,
    bulk_upload_report_csv,
    bulk_upload_status,
    bulk_uploads_for_user,
    upload_authorities_for_user,
)
from registry.intake.services import bulk_upload_create

UPLOADS_LISTED = 20


class BulkUploadForm(forms.Form):
    local_authority = forms.ModelChoiceField(
        queryset=LocalAuthority.objects.none(),
        label="Which local authority is this file for?",
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the local authority this file is for"},
    )
    file = forms.FileField(
        label="Upload a file",
        help_text="A CSV file in the import format, saved as UTF-8",
        error_messages={"required": "Select a CSV file", "empty": "The selected file is empty"},
    )

    def __init__(self, *args: Any, authorities: QuerySet[LocalAuthority], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["local_authority"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = authorities
        # A manager of one authority is not asked: the file can only be for it.
        self.only_authority = authorities[0] if len(authorities) == 1 else None
        if self.only_authority is not None:
            field.required = False

    def clean_local_authority(self) -> LocalAuthority | None:
        chosen: LocalAuthority | None = self.cleaned_data.get("local_authority")
        return chosen or self.only_authority


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _new_page(request: HttpRequest, form: BulkUploadForm) -> HttpResponse:
    context = {"form": form, "max_megabytes": settings.BULK_UPLOAD_MAX_BYTES // (1024 * 1024)}
    return render(request, "registry/uploads/new.html", context)


def _authorities_or_403(user: User) -> QuerySet[LocalAuthority]:
    authorities = upload_authorities_for_user(user=user)
    if not authorities.exists():
        raise PermissionDenied
    return authorities


@never_cache
@require_GET
def upload_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _authorities_or_403(user)
    uploads = bulk_uploads_for_user(user=user)[:UPLOADS_LISTED]
    return render(request, "registry/uploads/list.html", {"uploads": uploads})


@never_cache
@require_http_methods(["GET", "POST"])
def upload_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    authorities = _authorities_or_403(user)
    if request.method == "GET":
        return _new_page(request, BulkUploadForm(authorities=authorities))
    form = BulkUploadForm(request.POST, request.FILES, authorities=authorities)
    if form.is_valid():
        try:
            upload = bulk_upload_create(
                by=Actor.from_request(request, user=user),
                local_authority=form.cleaned_data["local_authority"],
                file=form.cleaned_data["file"],
            )
        except ValidationError as invalid:
            for message in invalid.messages:
                form.add_error("file", message)
        except DatabaseError:
            return render(request, "registry/unavailable.html", status=503)
        else:
            return redirect("registry:upload", upload_id=upload.pk)
    return _new_page(request, form)


@never_cache
@require_GET
def upload_detail(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    upload = bulk_upload_for_user(user=_user(request), upload_id=upload_id)
    status = bulk_upload_status(upload=upload)
    return render(request, "registry/uploads/detail.html", {"upload": upload, "status": status})


@never_cache
@require_GET
def upload_status(request: HttpRequest, upload_id: UUID) -> JsonResponse:
    upload = bulk_upload_for_user(user=_user(request), upload_id=upload_id)
    return JsonResponse(bulk_upload_status(upload=upload))


@never_cache
@require_GET
def upload_report(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    upload = bulk_upload_for_user(user=_user(request), upload_id=upload_id)
    response = HttpResponse(bulk_upload_report_csv(upload=upload), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="upload-{upload.pk}-report.csv"'
    return response
