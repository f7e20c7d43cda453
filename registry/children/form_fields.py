"""Form fields for a child's identity: each applies one rule of registry.identity
and only turns its IdentityValueError into the form's ValidationError."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from registry.identity import IdentityValueError, nhs_number_clean, postcode_clean


class NhsNumberField(forms.CharField):
    """An NHS number as people type it ("943 476 5919"); cleaned to ten digits, or ""."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text: str = super().clean(value)
        try:
            return nhs_number_clean(text)
        except IdentityValueError as error:
            raise ValidationError(error.message, code="invalid_nhs_number") from None


class PostcodeField(forms.CharField):
    """A UK postcode in any case and spacing; cleaned to "SW1A 1AA", or ""."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 10)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text: str = super().clean(value)
        try:
            return postcode_clean(text)
        except IdentityValueError as error:
            raise ValidationError(error.message, code="invalid_postcode") from None
