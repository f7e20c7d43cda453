"""The practitioners' search API: the same rules, scope and audit as the search page."""

import math
from typing import Any, NoReturn

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError, Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import lookup_refusal
from audit.actor import Actor
from audit.models import LookupReason
from registry.children.api_fields import date_not_future, nhs_number_validated, postcode_validated
from registry.lookups.forms import SEX_CHOICES
from registry.lookups.services import (
    LookupReasonGiven,
    LookupRefused,
    search_invalid_record,
    search_perform,
    search_throttled_record,
    unborn_search_perform,
)
from registry.lookups.throttling import SEARCH_THROTTLES
from registry.matching.selectors import SearchCriteria, SearchMatch, UnbornSearchCriteria


class MotherSerializer(serializers.Serializer[dict[str, Any]]):
    """The mother of an unborn child on a pre-birth plan: her NHS number, or her family
    name and date of birth (given name to narrow)."""

    nhs_number = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")
    family_name = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    given_names = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)

    def validate_nhs_number(self, value: str) -> str:
        return nhs_number_validated(value)

    def validate_date_of_birth(self, value: Any) -> Any:
        date_not_future(value, message="The mother's date of birth must be today or in the past")
        return value


class SearchRequestSerializer(serializers.Serializer[dict[str, Any]]):
    nhs_number = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")
    family_name = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    given_names = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
    sex = serializers.ChoiceField(choices=SEX_CHOICES, required=False, allow_blank=True, default="")
    postcode = serializers.CharField(required=False, allow_blank=True, max_length=10, default="")
    widen_date_of_birth = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The date of birth may be wrong: also return children whose names agree born up to 2 years "
        "either side, as possible matches",
    )
    mother = MotherSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text="To search for an unborn child on a pre-birth plan by the mother's details, instead of the "
        "child's: her NHS number, or her family name and date of birth. Give no child's details with it.",
    )
    expected_delivery_date = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Only with `mother`: narrows an unborn search"
    )
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
        mother = attrs.get("mother") or {}
        if any(mother.values()):
            child_given = [name for name in CHILD_ONLY_FIELDS if attrs.get(name)]
            if child_given:
                raise serializers.ValidationError(
                    {"mother": "Search by the mother's details or by the child's, not both: remove "
                     + ", ".join(child_given)}
                )  # fmt: skip
        elif attrs.get("expected_delivery_date"):
            raise serializers.ValidationError(
                {"expected_delivery_date": "Give the mother's details with an expected delivery date"}
            )
        return attrs

    def unborn_criteria(self) -> UnbornSearchCriteria | None:
        """The criteria of a search by the mother, or None for a search for a child."""
        data = self.validated_data
        mother = data.get("mother") or {}
        if not any(mother.values()):
            return None
        return UnbornSearchCriteria.from_values(
            {
                **{f"mother_{name}": value for name, value in mother.items()},
                "expected_delivery_date": data.get("expected_delivery_date"),
                "postcode": data.get("postcode"),
            }
        )


CRITERIA_FIELDS = (
    "nhs_number", "family_name", "given_names", "date_of_birth", "sex", "postcode", "widen_date_of_birth",
)  # fmt: skip
# The child's own details, which a search by the mother does not take (the postcode it does).
CHILD_ONLY_FIELDS = ("nhs_number", "family_name", "given_names", "date_of_birth", "sex", "widen_date_of_birth")


SHIELDED_MAY_MATCH = "A shielded record may match: contact the responsible authority"


class AuthorityContactSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    office_hours_phone = serializers.CharField()
    out_of_hours_phone = serializers.CharField()
    secure_email = serializers.CharField()


class MatchSerializer(serializers.Serializer[Any]):
    """One result. A withheld result (a shielded child found through another name) has
    only `withheld`, `message` and the responsible authority's contact; every field that
    could identify the child is null. The NHS number is returned only for the child whose
    number was the search key (context `nhs_number_searched`)."""

    withheld = serializers.BooleanField(help_text="A shielded record may match: only whom to contact is given")
    message = serializers.CharField(allow_null=True)
    responsible_authority = AuthorityContactSerializer(allow_null=True, help_text="Only on a withheld result")
    register_id = serializers.CharField(source="child.register_id", allow_null=True)
    given_names = serializers.CharField(source="child.given_names", allow_null=True)
    family_name = serializers.CharField(source="child.family_name", allow_null=True)
    date_of_birth = serializers.DateField(source="child.date_of_birth", allow_null=True)
    sex = serializers.CharField(source="child.sex", allow_null=True)
    nhs_number = serializers.CharField(
        allow_null=True, help_text="Only when the search was by NHS number, and only for that child"
    )
    is_shielded = serializers.BooleanField(source="child.is_shielded")
    is_deceased = serializers.BooleanField(source="child.is_deceased", allow_null=True)
    grade = serializers.CharField(allow_null=True)
    score = serializers.FloatField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())

    def to_representation(self, instance: Any) -> dict[str, Any]:
        match: SearchMatch = instance
        if match.withheld:
            authority = match.child.responsible_local_authority
            contact = AuthorityContactSerializer(authority).data
            identifying = ("register_id", "given_names", "family_name", "date_of_birth", "sex", "nhs_number")
            return {
                "withheld": True,
                "message": SHIELDED_MAY_MATCH,
                "responsible_authority": contact,
                **dict.fromkeys(identifying),
                "is_shielded": True,
                "is_deceased": None,
                "grade": None,
                "score": None,
                "reasons": [],
            }
        searched = self.context.get("nhs_number_searched", "")
        return {
            "withheld": False,
            "message": None,
            "responsible_authority": None,
            "register_id": match.child.register_id,
            "given_names": match.child.given_names,
            "family_name": match.child.family_name,
            "date_of_birth": match.child.date_of_birth.isoformat() if match.child.date_of_birth else None,
            "sex": match.child.sex,
            # A possible match may be another child: its NHS number is not the searcher's to learn.
            "nhs_number": match.child.nhs_number if searched and match.child.nhs_number == searched else None,
            "is_shielded": match.child.is_shielded,
            "is_deceased": match.child.is_deceased,
            "grade": str(match.grade),
            "score": match.score,
            "reasons": list(match.reasons),
        }


class SearchResponseSerializer(serializers.Serializer[Any]):
    lookup = serializers.IntegerField(help_text="The audit event of this search")
    too_many = serializers.BooleanField(help_text="More than 10 children match: narrow the search")
    results = MatchSerializer(many=True)


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


def _submitted(raw: dict[str, Any]) -> dict[str, str]:
    """What was typed, for the audit of a search refused before it was made: the child's
    details, and the mother's (as mother_*) for a search for an unborn child."""
    submitted = {key: str(value)[:100] for key, value in raw.items() if key in CRITERIA_FIELDS and value}
    mother = raw.get("mother")
    if isinstance(mother, dict):
        for key in ("nhs_number", "family_name", "given_names", "date_of_birth"):
            if mother.get(key):
                submitted[f"mother_{key}"] = str(mother[key])[:100]
    if raw.get("expected_delivery_date"):
        submitted["expected_delivery_date"] = str(raw["expected_delivery_date"])[:100]
    return submitted


class SearchView(APIView):
    """Search the register by NHS number, or family name and date of birth (with given
    name, sex and postcode to narrow); or, for an unborn child on a pre-birth plan, by the
    mother's details (`mother`: her NHS number, or her family name and date of birth, with
    `expected_delivery_date` and `postcode` to narrow). A reason is required; the call is
    audited."""

    # The same per-user limits as the search page; an attempt over them is audited.
    throttle_classes = SEARCH_THROTTLES

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        user = request.user
        assert isinstance(user, User)
        seconds = math.ceil(wait) if wait else 60
        try:
            raw = request.data if isinstance(request.data, dict) else {}
        except ParseError:
            raw = {}
        stated = raw.get("reason")
        search_throttled_record(
            by=Actor.from_request(request._request, user=user),
            submitted=_submitted(raw),
            reason=LookupReasonGiven(str(stated) if stated in LookupReason.values else ""),
            retry_after=seconds,
        )
        raise Throttled(
            wait=seconds,
            detail=f"Too many searches: you have reached the search limit. Wait {seconds} seconds, then try again.",
        )

    @extend_schema(
        request=SearchRequestSerializer,
        responses={
            200: SearchResponseSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Invalid or insufficient criteria"),
            403: OpenApiResponse(ErrorSerializer, description="Not allowed to search (role, training, expiry)"),
            429: OpenApiResponse(ErrorSerializer, description="Too many searches: wait (Retry-After) and try again"),
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
                by=Actor.from_request(request._request, user=user),
                submitted=_submitted(raw),
                reason=LookupReasonGiven(str(stated) if stated in LookupReason.values else ""),
                errors=[f"{field}: {error}" for field, errors in serializer.errors.items() for error in errors],
            )
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        data = serializer.validated_data
        not_allowed = lookup_refusal(user=user)
        reason = LookupReasonGiven(data["reason"], data["reason_detail"].strip())
        unborn = serializer.unborn_criteria()
        try:
            by = Actor.from_request(request._request, user=user)
            if unborn is not None:
                outcome, event = unborn_search_perform(by=by, criteria=unborn, reason=reason)
            else:
                outcome, event = search_perform(by=by, criteria=SearchCriteria.from_values(data), reason=reason)
        except LookupRefused as refused:
            code = status.HTTP_403_FORBIDDEN if not_allowed else status.HTTP_400_BAD_REQUEST
            return Response({"detail": str(refused)}, status=code)
        body = {"lookup": event.pk, "too_many": outcome.too_many, "results": outcome.matches}
        context = {"nhs_number_searched": data["nhs_number"]}
        return Response(SearchResponseSerializer(body, context=context).data)
