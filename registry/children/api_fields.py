"""Checks shared by the serializers of both APIs (practitioners' search and case-management
systems), so that a bad NHS number, postcode or date is refused with the same message."""

import datetime
from collections.abc import Callable
from typing import TypeVar

from django.utils import timezone
from rest_framework import serializers

from registry.identity import IdentityValueError, nhs_number_clean, postcode_clean, sex_from_code

T = TypeVar("T")


def identity_validated(clean: Callable[[str | None], T], value: str | None) -> T:
    """Apply one rule of registry.identity, its message becoming the field's error."""
    try:
        return clean(value)
    except IdentityValueError as error:
        raise serializers.ValidationError(error.message) from None


def nhs_number_validated(value: str | None) -> str:
    """The NHS number without spaces or hyphens, or "" if none was given."""
    return identity_validated(nhs_number_clean, value)


def postcode_validated(value: str | None) -> str:
    """The postcode in its standard form, or "" if none was given."""
    return identity_validated(postcode_clean, value)


def sex_validated(value: str | None) -> str:
    """The sex from any code the register accepts; blank is not known."""
    return identity_validated(sex_from_code, value)


def date_not_future(value: datetime.date | None, *, message: str = "Must be today or in the past") -> None:
    """A serializer field validator: dates of birth, starts and ends cannot be after today."""
    if value is not None and value > timezone.localdate():
        raise serializers.ValidationError(message)
