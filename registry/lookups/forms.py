import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import LookupReason
from registry.identity import nhs_number_is_valid, nhs_number_normalise, postcode_normalise
from registry.matching.selectors import SearchCriteria
from registry.models import ServiceType, Sex

SEX_CHOICES = [("", "Not known or not given"), *[(sex.value, sex.label) for sex in Sex if sex != Sex.NOT_KNOWN]]


class LookupReasonForm(forms.Form):
    """Why the user is looking: asked before every search and record view."""

    reason = forms.ChoiceField(
        label="Why are you looking for this child?",
        help_text="Your reason is recorded with your search and can be checked by auditors.",
        choices=LookupReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select why you are looking for this child"},
    )
    reason_detail = forms.CharField(
        label="Give the reason",
        max_length=200,
        required=False,
        error_messages={"max_length": "Reason must be 200 characters or fewer"},
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("reason") == LookupReason.OTHER and not cleaned.get("reason_detail", "").strip():
            self.add_error("reason_detail", "Enter why you are looking for this child")
        return cleaned


class SearchForm(LookupReasonForm):
    nhs_number = forms.CharField(
        label="NHS number", required=False, max_length=20, help_text="For example, 943 476 5919"
    )
    family_name = forms.CharField(label="Family name", required=False, max_length=100)
    given_names = forms.CharField(label="Given name (optional)", required=False, max_length=100)
    dob_day = forms.IntegerField(label="Day", required=False, min_value=1, max_value=31)
    dob_month = forms.IntegerField(label="Month", required=False, min_value=1, max_value=12)
    dob_year = forms.IntegerField(label="Year", required=False, min_value=1900, max_value=2100)
    sex = forms.ChoiceField(label="Sex", choices=SEX_CHOICES, required=False, widget=forms.RadioSelect)
    postcode = forms.CharField(
        label="Postcode (optional)", required=False, max_length=10, help_text="For example, SW1A 1AA"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("dob_day", "dob_month", "dob_year"):
            self.fields[name].error_messages = {
                "invalid": "Date of birth must be a real date",
                "min_value": "Date of birth must be a real date",
                "max_value": "Date of birth must be a real date",
            }

    def clean_nhs_number(self) -> str:
        number = nhs_number_normalise(self.cleaned_data["nhs_number"])
        if number and not nhs_number_is_valid(number):
            raise ValidationError("Enter a valid NHS number. It has 10 digits, like 943 476 5919")
        return number

    def clean_postcode(self) -> str:
        value = self.cleaned_data["postcode"].strip()
        return postcode_normalise(value) if value else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        parts = [cleaned.get("dob_day"), cleaned.get("dob_month"), cleaned.get("dob_year")]
        cleaned["date_of_birth"] = None
        if any(part is not None for part in parts) and not any(
            f"dob_{p}" in self.errors for p in ("day", "month", "year")
        ):
            missing = [name for name, part in zip(("day", "month", "year"), parts, strict=True) if part is None]
            if missing:
                self.add_error("dob_day", f"Date of birth must include a {' and '.join(missing)}")
            else:
                try:
                    born = datetime.date(parts[2], parts[1], parts[0])  # type: ignore[arg-type]
                except ValueError:
                    self.add_error("dob_day", "Date of birth must be a real date")
                else:
                    if born > timezone.localdate():
                        self.add_error("dob_day", "Date of birth must be today or in the past")
                    cleaned["date_of_birth"] = born
        return cleaned

    def criteria(self) -> SearchCriteria:
        return SearchCriteria.from_values(self.cleaned_data)

    def submitted_criteria(self) -> dict[str, str]:
        """What was typed, for the audit of a search refused because of a bad field."""
        names = ("nhs_number", "family_name", "given_names", "dob_day", "dob_month", "dob_year", "sex", "postcode")
        return {name: str(self.data.get(name, ""))[:100] for name in names if self.data.get(name)}


class InvolvementStartForm(forms.Form):
    # No service is chosen for the practitioner unless their organisation says which
    # (registry.children.selectors.service_type_for_user): a wrong one is told to everyone.
    service_type = forms.ChoiceField(
        label="Which service are you working with the child for?",
        choices=[("", "Select a service"), *ServiceType.choices],
        error_messages={"required": "Select the service you are working with the child for"},
    )
    lookup = forms.IntegerField(required=False, widget=forms.HiddenInput)
