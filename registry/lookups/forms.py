from typing import Any

from django import forms

from audit.models import LookupReason
from registry.children.form_fields import NhsNumberField, PostcodeField
from registry.identity import sex_choices
from registry.matching.selectors import SearchCriteria, UnbornSearchCriteria
from registry.models import ServiceType
from signposting.govuk import GovukDateField

SEX_CHOICES = sex_choices(not_known_label="Not known or not given")


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
    nhs_number = NhsNumberField(label="NHS number", required=False, help_text="For example, 943 476 5919")
    family_name = forms.CharField(label="Family name", required=False, max_length=100)
    given_names = forms.CharField(label="Given name (optional)", required=False, max_length=100)
    # Posted as dob_day, dob_month and dob_year (the names the search has always used).
    dob = GovukDateField(
        label="Date of birth",
        required=False,
        past_only=True,
        suffixes=("_day", "_month", "_year"),
        help_text="For example, 27 3 2016",
    )
    widen_date_of_birth = forms.BooleanField(
        label="The date of birth may be wrong",
        help_text="Also show children with the same name born up to 2 years either side",
        required=False,
    )
    sex = forms.ChoiceField(label="Sex", choices=SEX_CHOICES, required=False, widget=forms.RadioSelect)
    postcode = PostcodeField(label="Postcode (optional)", required=False, help_text="For example, SW1A 1AA")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        cleaned["date_of_birth"] = cleaned.get("dob")
        return cleaned

    def criteria(self) -> SearchCriteria:
        return SearchCriteria.from_values(self.cleaned_data)

    def submitted_criteria(self) -> dict[str, str]:
        """What was typed, for the audit of a search refused because of a bad field."""
        names = (
            "nhs_number", "family_name", "given_names", "dob_day", "dob_month", "dob_year", "widen_date_of_birth",
            "sex", "postcode",
        )  # fmt: skip
        return {name: str(self.data.get(name, ""))[:100] for name in names if self.data.get(name)}


class UnbornSearchForm(LookupReasonForm):
    """A search for an unborn child on a pre-birth plan by the mother's details."""

    mother_nhs_number = NhsNumberField(
        label="Mother's NHS number", required=False, help_text="For example, 943 476 5919"
    )
    mother_family_name = forms.CharField(label="Mother's family name", required=False, max_length=100)
    mother_given_names = forms.CharField(label="Mother's given name (optional)", required=False, max_length=100)
    mother_dob = GovukDateField(
        label="Mother's date of birth",
        required=False,
        past_only=True,
        suffixes=("_day", "_month", "_year"),
        help_text="For example, 14 8 1994",
    )
    expected_delivery = GovukDateField(
        label="Expected delivery date (optional)",
        required=False,
        suffixes=("_day", "_month", "_year"),
        help_text="If you know it. A baby born in the last few weeks is found too. For example, 3 2 2027",
    )
    postcode = PostcodeField(label="Postcode (optional)", required=False, help_text="For example, SW1A 1AA")

    SUBMITTED = (
        "mother_nhs_number", "mother_family_name", "mother_given_names", "mother_dob_day", "mother_dob_month",
        "mother_dob_year", "expected_delivery_day", "expected_delivery_month", "expected_delivery_year", "postcode",
    )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        cleaned["mother_date_of_birth"] = cleaned.get("mother_dob")
        cleaned["expected_delivery_date"] = cleaned.get("expected_delivery")
        return cleaned

    def criteria(self) -> UnbornSearchCriteria:
        return UnbornSearchCriteria.from_values(self.cleaned_data)

    def submitted_criteria(self) -> dict[str, str]:
        """What was typed, for the audit of a search refused because of a bad field."""
        return {name: str(self.data.get(name, ""))[:100] for name in self.SUBMITTED if self.data.get(name)}


class InvolvementStartForm(forms.Form):
    # No service is chosen for the practitioner unless their organisation says which
    # (registry.children.selectors.service_type_for_user): a wrong one is told to everyone.
    service_type = forms.ChoiceField(
        label="Which service are you working with the child for?",
        choices=[("", "Select a service"), *ServiceType.choices],
        error_messages={"required": "Select the service you are working with the child for"},
    )
    lookup = forms.IntegerField(required=False, widget=forms.HiddenInput)
