"""The practitioners' search API: the same rules, scope and audit as the search page."""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import lookup_refusal
from audit.models import LookupReason
from registry.children.api_fields import date_not_future, nhs_number_validated, postcode_validated
from registry.lookups.forms import SEX_CHOICES
from registry.lookups.services import LookupReasonGiven, LookupRefused, search_invalid_record, search_perform
from registry.matching.selectors import SearchCriteria


class SearchRequestSerializer(serializers.Serializer[dict[str, Any]]):
    nhs_number = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")
    family_name = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    given_names = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
    sex = serializers.ChoiceField(choices=SEX_CHOICES, required=False, allow_blank=True, default="")
    postcode = serializers.CharField(required=False, allow_blank=True, max_length=10, default="")
    reason = serializers.ChoiceField(choices=LookupReason.choices)
    reason_detail = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    def validate_nhs_number(self, value: str) -> str:
        return nhs_number_validated(value)

    def validate_postcode(self, value: str) -> str:
        return postcode_validated(value)

    def validate_date_of_birth(self, value: Any) -> Any:
        date_not_future(value, message="Date of birth must be today or in the past")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["reason"] == LookupReason.OTHER and not attrs.get("reason_detail", "").strip():
            raise serializers.ValidationError({"reason_detail": "Give the reason when the reason is 'other'"})
        return attrs


CRITERIA_FIELDS = ("nhs_number", "family_name", "given_names", "date_of_birth", "sex", "postcode")


class MatchSerializer(serializers.Serializer[Any]):
    register_id = serializers.CharField(source="child.register_id")
    given_names = serializers.CharField(source="child.given_names")
    family_name = serializers.CharField(source="child.family_name")
    date_of_birth = serializers.DateField(source="child.date_of_birth", allow_null=True)
    sex = serializers.CharField(source="child.sex")
    nhs_number = serializers.CharField(source="child.nhs_number", allow_null=True)
    is_shielded = serializers.BooleanField(source="child.is_shielded")
    is_deceased = serializers.BooleanField(source="child.is_deceased")
    grade = serializers.CharField()
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())


class SearchResponseSerializer(serializers.Serializer[Any]):
    lookup = serializers.IntegerField(help_text="The audit event of this search")
    too_many = serializers.BooleanField(help_text="More than 10 children match: narrow the search")
    results = MatchSerializer(many=True)


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


class SearchView(APIView):
    """Search the register by NHS number, or family name and date of birth (with given
    name, sex and postcode to narrow). A reason is required; the call is audited."""

    @extend_schema(
        request=SearchRequestSerializer,
        responses={
            200: SearchResponseSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Invalid or insufficient criteria"),
            403: OpenApiResponse(ErrorSerializer, description="Not allowed to search (role, training, expiry)"),
            503: OpenApiResponse(ErrorSerializer, description="The search could not be audited"),
        },
    )
    def post(self, request: Request) -> Response:
        user = request.user
        assert isinstance(user, User)
        serializer = SearchRequestSerializer(data=request.data)
        if not serializer.is_valid():
            raw = request.data if isinstance(request.data, dict) else {}
            stated = raw.get("reason")
            search_invalid_record(
                actor=user,
                submitted={key: str(value)[:100] for key, value in raw.items() if key in CRITERIA_FIELDS and value},
                reason=LookupReasonGiven(str(stated) if stated in LookupReason.values else ""),
                errors=[f"{field}: {error}" for field, errors in serializer.errors.items() for error in errors],
                request=request._request,
                channel="api",
            )
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        data = serializer.validated_data
        not_allowed = lookup_refusal(user=user)
        try:
            outcome, event = search_perform(
                actor=user,
                criteria=SearchCriteria(
                    nhs_number=data["nhs_number"],
                    family_name=data["family_name"].strip(),
                    given_names=data["given_names"].strip(),
                    date_of_birth=data["date_of_birth"],
                    sex=data["sex"],
                    postcode=data["postcode"],
                ),
                reason=LookupReasonGiven(data["reason"], data["reason_detail"].strip()),
                request=request._request,
                channel="api",
            )
        except LookupRefused as refused:
            code = status.HTTP_403_FORBIDDEN if not_allowed else status.HTTP_400_BAD_REQUEST
            return Response({"detail": str(refused)}, status=code)
        body = {"lookup": event.pk, "too_many": outcome.too_many, "results": outcome.matches}
        return Response(SearchResponseSerializer(body).data)
