import re
from typing import Any

from django import forms

from registry.identity import REGISTER_ID_PATTERN
from registry.models import LegalHold, ManualRemovalReason


class ManualRemovalForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why are you removing this child from the register?",
        choices=ManualRemovalReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select why you are removing this child"},
    )
    explanation = forms.CharField(
        label="Explain why",
        help_text="Do not include the child's name or other personal details. Recorded in the audit trail.",
        max_length=200,
        required=False,
        error_messages={"max_length": "Explanation must be 200 characters or fewer"},
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("reason") == ManualRemovalReason.OTHER and not cleaned.get("explanation", "").strip():
            self.add_error("explanation", "Explain why you are removing this child")
        if cleaned.get("reason") != ManualRemovalReason.OTHER:
            cleaned["explanation"] = ""
        return cleaned


class LegalHoldForm(forms.Form):
    register_id = forms.CharField(
        label="Register ID",
        help_text="For example, 7KQ2-MXW9-4DHT",
        max_length=20,
        error_messages={"required": "Enter the child's register ID"},
    )
    reference = forms.CharField(
        label="Reference",
        help_text="The inquiry's or court's reference, for example the inquiry name and document number",
        max_length=LegalHold._meta.get_field("reference").max_length,
        error_messages={"required": "Enter the reference", "max_length": "Reference must be 120 characters or fewer"},
    )
    reason = forms.CharField(
        label="Why the child's record must be kept",
        help_text="Do not include the child's name or other personal details",
        max_length=LegalHold._meta.get_field("reason").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Enter why the record must be kept",
            "max_length": "Reason must be 300 characters or fewer",
        },
    )

    def clean_register_id(self) -> str:
        value = str(self.cleaned_data["register_id"]).strip().upper().replace(" ", "")
        if not re.fullmatch(REGISTER_ID_PATTERN, value):
            raise forms.ValidationError("Enter a register ID in the format 7KQ2-MXW9-4DHT")
        return value


class LegalHoldLiftForm(forms.Form):
    lift_reason = forms.CharField(
        label="Why is the hold being lifted?",
        help_text="For example, the inquiry has reported. The child may be removed at the next daily run.",
        max_length=LegalHold._meta.get_field("lift_reason").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Enter why the hold is being lifted",
            "max_length": "Reason must be 300 characters or fewer",
        },
    )
