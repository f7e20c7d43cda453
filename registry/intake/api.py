"""The API for local authorities' case-management systems (docs/cms-api.md).

Serializers list every field they accept: a field they do not list (the local authority,
register ID, version, audit fields, or any other) is refused with a 400, never ignored, so a
system that thinks it set one finds out. Views parse, then call registry.intake.services; each write is
audited there in the same transaction. Errors are 4xx with a message.
"""

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import LocalAuthority, User
from audit.actor import Actor
from registry.children.api_fields import date_not_future, nhs_number_validated, postcode_validated
from registry.intake.selectors import cms_account_authority, cms_child_for_reference, request_fingerprint
from registry.intake.services import (
    CmsRefused,
    IdempotencyKeyReused,
    cms_child_upsert,
    cms_refusal_record,
    idempotent_call,
    involvement_upsert,
    status_upsert,
)
from registry.models import OtherName, ProtectionStatus, ServiceType, Sex

# Printable ASCII, as HTTP headers carry it; long enough for a UUID or a hash.
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,100}$")
REFERENCE_PATTERN = re.compile(r"^[^\x00-\x1f\x7f/]{1,64}$")


def _encodable(value: str) -> None:
    # A lone surrogate decodes from JSON but cannot be stored as UTF-8.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise serializers.ValidationError("Contains characters that are not valid text") from None


def _text(max_length: int, *, required: bool = False) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length, required=required, allow_blank=not required, validators=[_encodable]
    )


class StrictSerializer(serializers.Serializer[dict[str, Any]]):
    """Refuses any key it does not declare: protected fields cannot be slipped in."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {
                        key: ["This field is not accepted: it cannot be set by a case-management system"]
                        for key in unknown
                    }
                )
        value: dict[str, Any] = super().to_internal_value(data)
        return value


class OtherNameSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=OtherName.Kind.choices, default=OtherName.Kind.ALIAS)
    given_names = _text(100)
    family_name = _text(100)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("given_names", "")
        attrs.setdefault("family_name", "")
        attrs["given_names"], attrs["family_name"] = attrs["given_names"].strip(), attrs["family_name"].strip()
        if not attrs["given_names"] and not attrs["family_name"]:
            raise serializers.ValidationError("Give a given name, a family name or both")
        return attrs


class StatusSerializer(StrictSerializer):
    """One protection status, found again by its kind and start date."""

    kind = serializers.ChoiceField(choices=ProtectionStatus.Kind.choices)
    start_date = serializers.DateField(validators=[date_not_future])
    end_date = serializers.DateField(required=False, allow_null=True, default=None)
    legal_basis = serializers.ChoiceField(
        choices=ProtectionStatus.LegalBasis.choices, required=False, allow_blank=True, default=""
    )
    expected_delivery_date = serializers.DateField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, str] = {}
        if attrs["end_date"] and attrs["end_date"] < attrs["start_date"]:
            errors["end_date"] = "Must be the same as or after start_date"
        if attrs["kind"] == ProtectionStatus.Kind.LOOKED_AFTER and not attrs["legal_basis"]:
            errors["legal_basis"] = "Is required for a looked_after status"
        if attrs["kind"] != ProtectionStatus.Kind.LOOKED_AFTER and attrs["legal_basis"]:
            errors["legal_basis"] = "Is only for looked_after statuses"
        unborn = attrs["kind"] == ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN
        if unborn and not attrs["expected_delivery_date"]:
            errors["expected_delivery_date"] = "Is required for an unborn_cpp status"
        if not unborn and attrs["expected_delivery_date"]:
            errors["expected_delivery_date"] = "Is only for unborn_cpp statuses"
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class InvolvementSerializer(StrictSerializer):
    """An external contact working with the child, found again by service, contact name and
    start date. Practitioners with accounts record their own involvement in the browser."""

    service_type = serializers.ChoiceField(choices=ServiceType.choices)
    contact_name = _text(150, required=True)
    start_date = serializers.DateField(validators=[date_not_future])
    end_date = serializers.DateField(required=False, allow_null=True, default=None)
    contact_organisation_name = _text(200)
    contact_role = _text(120)
    contact_phone = _text(32)
    contact_email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    is_lead = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end_date"] and attrs["end_date"] < attrs["start_date"]:
            raise serializers.ValidationError({"end_date": "Must be the same as or after start_date"})
        attrs["contact_name"] = attrs["contact_name"].strip()
        if not attrs["contact_name"]:
            raise serializers.ValidationError({"contact_name": "This field may not be blank."})
        return attrs


class ChildRecordSerializer(StrictSerializer):
    """A child as the authority's system holds it. Identity fields left out are unchanged;
    other names, statuses and involvements are added or updated, never removed."""

    nhs_number = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=20)
    given_names = _text(100)
    family_name = _text(100)
    date_of_birth = serializers.DateField(required=False, allow_null=True, validators=[date_not_future])
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    address_line_1 = _text(200)
    address_line_2 = _text(200)
    town = _text(100)
    postcode = serializers.CharField(required=False, allow_blank=True, max_length=10)
    other_names: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=OtherNameSerializer(), required=False, max_length=20
    )
    statuses: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=StatusSerializer(), required=False, max_length=50
    )
    involvements: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=InvolvementSerializer(), required=False, max_length=50
    )

    def validate_nhs_number(self, value: str | None) -> str:
        return nhs_number_validated(value)

    def validate_postcode(self, value: str) -> str:
        return postcode_validated(value)

    def validate_family_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value.strip()


class BatchRecordSerializer(ChildRecordSerializer):
    la_reference = serializers.CharField(max_length=64, validators=[_encodable])

    def validate_la_reference(self, value: str) -> str:
        if not REFERENCE_PATTERN.match(value):
            raise serializers.ValidationError("Must be 1 to 64 characters with no control characters or '/'")
        return value


class BatchRequestSerializer(serializers.Serializer[dict[str, Any]]):
    """Read for the schema only: the view validates each record on its own so that one bad
    record does not refuse the others."""

    records: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=BatchRecordSerializer(), max_length=1000, min_length=1
    )


class RecordResultSerializer(serializers.Serializer[Any]):
    register_id = serializers.CharField()
    version = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged"])


class BatchResultSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField(help_text="The record's position in `records`, from 0")
    la_reference = serializers.CharField(allow_null=True)
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged", "rejected"])
    register_id = serializers.CharField(required=False)
    version = serializers.IntegerField(required=False)
    reasons = serializers.DictField(required=False, help_text="Why the record was rejected, by field")


class BatchResponseSerializer(serializers.Serializer[Any]):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = BatchResultSerializer(many=True)


class CmsErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN.pattern, "minLength": 1, "maxLength": 100},
    OpenApiParameter.HEADER,
    required=True,
    description="Up to 100 printable ASCII characters, unique per request (a UUID). Sending the same key with "
    f"the same request within {settings.CMS_IDEMPOTENCY_KEY_HOURS} hours returns the stored answer without "
    "writing again; the same key with a different request is refused with 422.",
)
LA_REFERENCE = OpenApiParameter(
    "la_reference", OpenApiTypes.STR, OpenApiParameter.PATH, description="Your authority's own case reference"
)
COMMON_ERRORS = {
    400: OpenApiResponse(description="Invalid record, or a missing or malformed Idempotency-Key"),
    401: OpenApiResponse(CmsErrorSerializer, description="No valid token"),
    403: OpenApiResponse(CmsErrorSerializer, description="Not a case-management system account"),
    409: OpenApiResponse(CmsErrorSerializer, description="Refused: the record conflicts with the register"),
    413: OpenApiResponse(CmsErrorSerializer, description="The request body is too large"),
    422: OpenApiResponse(CmsErrorSerializer, description="The Idempotency-Key was used for a different request"),
}


class SystemTokenAuthentication(KnoxTokenAuthentication):
    """A case-management system account's token: stored as a hash, expiring, revocable
    (django-rest-knox; issued by `manage.py issue_cms_token`). A person's account is
    refused even if it somehow holds one: tokens are for systems only, and only here."""

    def validate_user(self, auth_token: Any) -> tuple[User, Any]:
        user, token = super().validate_user(auth_token)
        if not user.is_system_account:
            raise AuthenticationFailed("Invalid token.")
        return user, token


# drf-spectacular registers extensions in an untyped __init_subclass__, which strict mypy reports.
class SystemTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """How the schema describes the case-management API's token, so that its callers (and
    `check --deploy`, which reports an undescribed authenticator) know what to send."""

    target_class = SystemTokenAuthentication
    name = "systemAccountToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'A case-management system account\'s token, prefixed "Token " (docs/cms-api.md)',
        }


class IsCaseManagementAccount(BasePermission):
    message = "This API is for case-management system accounts: a register manager of exactly one local authority."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and user.is_active and cms_account_authority(user=user) is not None


def _errors(error: DjangoValidationError) -> dict[str, Any]:
    if hasattr(error, "error_dict"):
        return {field: [str(message) for message in messages] for field, messages in error.message_dict.items()}
    return {"detail": "; ".join(error.messages)}


class CmsView(APIView):
    # System accounts' tokens only: a browser session (and so a person at a browser) can
    # never call these, and these tokens are accepted nowhere else.
    authentication_classes = [SystemTokenAuthentication]
    permission_classes = [IsCaseManagementAccount]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, RequestDataTooBig):
            return Response(
                {"detail": "The request body is too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
            )
        return super().handle_exception(exc)

    def account(self) -> tuple[User, LocalAuthority]:
        user = self.request.user
        assert isinstance(user, User)
        authority = cms_account_authority(user=user)
        assert authority is not None  # IsCaseManagementAccount
        return user, authority

    def write_once(self, request: Request, perform: Any) -> Response:
        """Answer through the Idempotency-Key ledger (registry.intake.services.idempotent_call)."""
        key = request.headers.get("Idempotency-Key", "")
        if not IDEMPOTENCY_KEY_PATTERN.match(key):
            return Response(
                {"detail": "Send an Idempotency-Key header: 1 to 100 printable ASCII characters, such as a UUID."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        user, _ = self.account()
        fingerprint = request_fingerprint(method=request.method or "", path=request.path, body=request.data)
        try:
            code, body, replayed = idempotent_call(account=user, key=key, fingerprint=fingerprint, perform=perform)
        except IdempotencyKeyReused:
            return Response(
                {"detail": "This Idempotency-Key was already used for a different request. Use a new key."},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        except CmsRefused as refused:
            return Response({"detail": refused.message}, status=refused.status)
        return Response(body, status=code, headers={"Idempotent-Replayed": "true"} if replayed else None)

    def reference_error(self, la_reference: str) -> Response | None:
        if REFERENCE_PATTERN.match(la_reference):
            return None
        return Response(
            {"detail": "la_reference must be 1 to 64 characters with no control characters or '/'"},
            status=status.HTTP_400_BAD_REQUEST,
        )


def _record_write(write: Any, *, by: Actor[User]) -> tuple[int, Any]:
    """Run one record's write in its own savepoint; a refusal undoes only that record (and
    a refusal that says an NHS number is held elsewhere is audited after the undo)."""
    try:
        with transaction.atomic():
            return status.HTTP_200_OK, write()
    except DjangoValidationError as error:
        return status.HTTP_400_BAD_REQUEST, _errors(error)
    except CmsRefused as refused:
        cms_refusal_record(by=by, refused=refused)
        return refused.status, {"detail": refused.message}
    except IntegrityError:
        return status.HTTP_409_CONFLICT, {"detail": "The register refused this record: it conflicts with one held."}


class ChildUpsertView(CmsView):
    @extend_schema(
        operation_id="cms_child_upsert",
        summary="Add or update a child by your authority's reference",
        parameters=[LA_REFERENCE, IDEMPOTENCY_KEY],
        request=ChildRecordSerializer,
        responses={200: RecordResultSerializer, 201: RecordResultSerializer, **COMMON_ERRORS},
    )
    def put(self, request: Request, la_reference: str) -> Response:
        if (refused := self.reference_error(la_reference)) is not None:
            return refused
        user, authority = self.account()
        by = Actor.from_request(request._request, user=user)

        def perform() -> tuple[int, Any]:
            serializer = ChildRecordSerializer(data=request.data)
            if not serializer.is_valid():
                return status.HTTP_400_BAD_REQUEST, serializer.errors
            code, body = _record_write(
                lambda: cms_child_upsert(
                    by=by,
                    local_authority=authority,
                    la_reference=la_reference,
                    record=dict(serializer.validated_data),
                ),
                by=by,
            )
            if code != status.HTTP_200_OK:
                return code, body
            result = RecordResultSerializer(body).data
            return (status.HTTP_201_CREATED if body.outcome == "created" else status.HTTP_200_OK), dict(result)

        return self.write_once(request, perform)


class _ChildPartView(CmsView):
    """Writes one status or involvement of a child the authority already has."""

    part_serializer: type[StrictSerializer]

    def upsert(self, request: Request, la_reference: str, write: Any) -> Response:
        if (refused := self.reference_error(la_reference)) is not None:
            return refused
        user, authority = self.account()
        by = Actor.from_request(request._request, user=user)

        def perform() -> tuple[int, Any]:
            child = cms_child_for_reference(local_authority=authority, la_reference=la_reference)
            if child is None:
                return status.HTTP_404_NOT_FOUND, {"detail": "Your authority has no child with this reference."}
            serializer = self.part_serializer(data=request.data)
            if not serializer.is_valid():
                return status.HTTP_400_BAD_REQUEST, serializer.errors
            values = dict(serializer.validated_data)
            code, body = _record_write(
                lambda: write(by=by, child=child, values=values),
                by=by,
            )
            if code != status.HTTP_200_OK:
                return code, body
            child.refresh_from_db(fields=["version"])
            outcome = "updated" if body else "unchanged"
            return code, {"register_id": child.register_id, "version": child.version, "outcome": outcome}

        return self.write_once(request, perform)


class StatusUpsertView(_ChildPartView):
    part_serializer = StatusSerializer

    @extend_schema(
        operation_id="cms_status_upsert",
        summary="Add or update a status (found by kind and start date) of one of your children",
        parameters=[LA_REFERENCE, IDEMPOTENCY_KEY],
        request=StatusSerializer,
        responses={200: RecordResultSerializer, 404: CmsErrorSerializer, **COMMON_ERRORS},
    )
    def put(self, request: Request, la_reference: str) -> Response:
        return self.upsert(
            request,
            la_reference,
            lambda *, by, child, values: status_upsert(by=by, child=child, status=values),
        )


class InvolvementUpsertView(_ChildPartView):
    part_serializer = InvolvementSerializer

    @extend_schema(
        operation_id="cms_involvement_upsert",
        summary="Add or update an involvement (found by service, contact name and start date) of one of your children",
        parameters=[LA_REFERENCE, IDEMPOTENCY_KEY],
        request=InvolvementSerializer,
        responses={200: RecordResultSerializer, 404: CmsErrorSerializer, **COMMON_ERRORS},
    )
    def put(self, request: Request, la_reference: str) -> Response:
        return self.upsert(
            request,
            la_reference,
            lambda *, by, child, values: involvement_upsert(by=by, child=child, involvement=values),
        )


class BatchUpsertView(CmsView):
    @extend_schema(
        operation_id="cms_children_batch",
        summary="Add or update up to 1,000 children, with a result for each record",
        parameters=[IDEMPOTENCY_KEY],
        request=BatchRequestSerializer,
        responses={200: BatchResponseSerializer, **COMMON_ERRORS},
    )
    def post(self, request: Request) -> Response:
        user, authority = self.account()
        by = Actor.from_request(request._request, user=user)
        data = request.data
        records = data.get("records") if isinstance(data, dict) else None
        limit = settings.CMS_BATCH_MAX_RECORDS
        if not isinstance(records, list) or not records or set(data) != {"records"}:
            return Response(
                {"detail": "Send a JSON object with one field, records: a list of 1 to 1,000 children."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if len(records) > limit:
            return Response(
                {"detail": f"A batch holds at most {limit:,} records; this one has {len(records):,}. Split it."},
                status=status.HTTP_400_BAD_REQUEST,
            )

        def perform() -> tuple[int, Any]:
            results: list[dict[str, Any]] = []
            for index, raw in enumerate(records):
                reference = raw.get("la_reference") if isinstance(raw, dict) else None
                result: dict[str, Any] = {
                    "index": index,
                    "la_reference": reference if isinstance(reference, str) else None,
                }
                serializer = BatchRecordSerializer(data=raw)
                if not serializer.is_valid():
                    results.append({**result, "outcome": "rejected", "reasons": serializer.errors})
                    continue
                values = dict(serializer.validated_data)
                code, body = _record_write(
                    lambda values=values: cms_child_upsert(
                        by=by,
                        local_authority=authority,
                        la_reference=values.pop("la_reference"),
                        record=values,
                    ),
                    by=by,
                )
                if code != status.HTTP_200_OK:
                    results.append({**result, "outcome": "rejected", "reasons": body})
                else:
                    results.append({**result, **RecordResultSerializer(body).data})
            counts = {name: sum(1 for r in results if r["outcome"] == name) for name in BATCH_OUTCOMES}
            return status.HTTP_200_OK, {**counts, "results": results}

        return self.write_once(request, perform)


BATCH_OUTCOMES = ("created", "updated", "unchanged", "rejected")
