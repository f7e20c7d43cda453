"""Auditors' forms. The events filter travels in the URL, so it holds identifiers only;
anything personal (a user's email, a child's name) is sent by POST to a finder instead."""

import re
from typing import Any

from django import forms

from audit.models import AuditEvent
from audit.selectors import AuditorScope, AuditQuery, authorities_in_scope, organisations_in_scope
from signposting.govuk import GOVUK_SUFFIXES, GovukDateField

DATE_HINT = "For example, 23 11 2026"
# A register ID as the trail holds it: three groups of four capitals or digits. The register
# issues them from a narrower alphabet (registry.identity); the trail does not
# import the register, and needs only to refuse what cannot be an ID: one that names no
# child simply has no history.
REGISTER_ID_SHAPE = r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}"
_REGISTER_ID = re.compile(rf"^{REGISTER_ID_SHAPE}$")


def register_id_clean(value: str) -> str:
    register_id = value.strip().upper()
    if register_id and not _REGISTER_ID.match(register_id):
        raise forms.ValidationError("Enter a register ID as it is shown on the record, like 7K2M-9QXD-4TRB")
    return register_id


class AuditFilterForm(forms.Form):
    user = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    register_id = forms.CharField(label="Child's register ID", required=False, max_length=20)
    local_authority = forms.ChoiceField(label="Local authority", required=False)
    organisation = forms.TypedChoiceField(
        label="Organisation of the user", required=False, coerce=int, empty_value=None
    )
    action = forms.ChoiceField(label="What they did", required=False)
    date_from = GovukDateField(label="From date", required=False, help_text=DATE_HINT, suffixes=GOVUK_SUFFIXES)
    date_to = GovukDateField(label="To date", required=False, help_text=DATE_HINT, suffixes=GOVUK_SUFFIXES)

    def __init__(self, *args: Any, scope: AuditorScope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        authority, organisation, action = (self.fields[name] for name in ("local_authority", "organisation", "action"))
        assert isinstance(authority, forms.ChoiceField)
        assert isinstance(organisation, forms.ChoiceField)
        assert isinstance(action, forms.ChoiceField)
        authority.choices = [("", "Any authority")] + [
            (la.gss_code, la.name) for la in authorities_in_scope(scope=scope)
        ]
        organisation.choices = [("", "Any organisation")] + [
            (org.pk, f"{org.name} ({org.local_authority.name})") for org in organisations_in_scope(scope=scope)
        ]
        action.choices = [("", "Anything"), *AuditEvent.Action.choices]

    def clean_register_id(self) -> str:
        return register_id_clean(self.cleaned_data.get("register_id") or "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "The to date must be the same as or after the from date")
        return cleaned

    def query(self) -> AuditQuery:
        data = self.cleaned_data
        return AuditQuery(
            actor_id=data.get("user"),
            register_id=data.get("register_id") or "",
            local_authority_code=data.get("local_authority") or "",
            organisation_id=data.get("organisation"),
            action=data.get("action") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


class UserFindForm(forms.Form):
    email = forms.EmailField(
        label="User's email address",
        max_length=254,
        error_messages={
            "required": "Enter the user's email address",
            "invalid": "Enter an email address, like name@example.gov.uk",
        },
    )


class ChildFindForm(forms.Form):
    family_name = forms.CharField(
        label="Family name", max_length=100, error_messages={"required": "Enter the child's family name"}
    )
    given_names = forms.CharField(label="Given name (optional)", max_length=100, required=False)
    date_of_birth = GovukDateField(
        label="Date of birth",
        past_only=True,
        help_text="For example, 12 4 2019",
        error_messages={"required": "Enter the child's date of birth"},
    )
    purpose = forms.CharField(
        label="Why are you looking for this child?",
        max_length=200,
        help_text="For example, the reference of the complaint or investigation",
        error_messages={"required": "Enter why you are looking for this child"},
    )


class FlagReviewForm(forms.Form):
    note = forms.CharField(
        label="Review note",
        help_text="What you checked and what you found. Do not include the child's name.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter a note saying what you checked and found"},
    )


class FlagGroupsReviewForm(FlagReviewForm):
    """Review the flags of the chosen groups (a user's day each) with one note."""

    groups = forms.MultipleChoiceField(
        label="Flags to review",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Select the flags to review",
            "invalid_choice": "Those flags have changed. Select them again",
        },
    )
    field_order = ["groups", "note"]

    def __init__(self, *args: Any, group_keys: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["groups"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(key, key) for key in group_keys]
