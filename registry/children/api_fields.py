"""Checks shared by the serializers of both APIs (practitioners' search and case-management
systems), so that a bad NHS number, postcode or date is refused with the same message."""

import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from registry.identity import nhs_number_is_valid, nhs_number_normalise, postcode_normalise


def nhs_number_validated(value: str | None) -> str:
    """The NHS number without spaces or hyphens, or "" if none was given; refuses one whose
    check digit is wrong."""
    number = nhs_number_normalise(value or "")
    if number and not nhs_number_is_valid(number):
        raise serializers.ValidationError("Enter a valid NHS number: 10 digits with a correct check digit")
    return number


def postcode_validated(value: str) -> str:
    """The postcode in its standard form, or "" if none was given."""
    try:
        return postcode_normalise(value) if value.strip() else ""
    except DjangoValidationError:
        raise serializers.ValidationError("Enter a full UK postcode, like SW1A 1AA") from None


def date_not_future(value: datetime.date | None, *, message: str = "Must be today or in the past") -> None:
    """A serializer field validator: dates of birth, starts and ends cannot be after today."""
    if value is not None and value > timezone.localdate():
        raise serializers.ValidationError(message)
