"""Register managers' forms. Each declares exactly the fields a manager may set: the
responsible authority (beyond the ones they manage), the register ID, the version and the
audit fields are never taken from a form. Messages follow the GOV.UK error message style."""

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict

from accounts.models import LocalAuthority, User
from registry.children.form_fields import NhsNumberField, PostcodeField
from registry.children.selectors import practitioner_for_involvement
from registry.identity import involvement_sensitivity, sex_choices
from registry.lookups.services import ManagerFind
from registry.maintenance.duplicates import DIFFERENT_CHILD, DuplicateCheck, ProposedChild
from registry.matching.selectors import SearchCriteria, criteria_sufficient
from registry.models import Child, Involvement, OtherName, ProtectionStatus, ServiceType, Sex
from signposting.govuk import GovukDateField


class ManageForm(forms.Form):
    """A register manager's form (dates are signposting.govuk.GovukDateField)."""


class VersionedForm(ManageForm):
    """Carries the version of the child's record the manager was looking at. It is only
    ever compared with the current one (registry.children.services), never written."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, child: Child, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("version", child.version)
        super().__init__(*args, **kwargs)
        self.child = child

    def refresh_version(self, version: int) -> None:
        """After a conflict: keep what the manager typed, but carry the current version so
        that submitting again, having read the record, saves it."""
        data = QueryDict(mutable=True)
        data.update(self.data)
        data["version"] = str(version)
        self.data = data


SEX_CHOICES = sex_choices()


class ChildIdentityFields(ManageForm):
    la_reference = forms.CharField(
        label="Your authority's reference (optional)",
        max_length=64,
        required=False,
        help_text="The child's case reference in your own system",
    )
    nhs_number = NhsNumberField(label="NHS number (optional)", required=False)
    given_names = forms.CharField(label="Given names", max_length=100, required=False)
    family_name = forms.CharField(
        label="Family name", max_length=100, error_messages={"required": "Enter the child's family name"}
    )
    date_of_birth = GovukDateField(
        label="Date of birth",
        required=False,
        past_only=True,
        help_text="For example, 27 3 2016. Leave empty for an unborn child",
    )
    sex = forms.ChoiceField(label="Sex", choices=SEX_CHOICES, widget=forms.RadioSelect, initial=Sex.NOT_KNOWN)
    address_line_1 = forms.CharField(label="Address line 1 (optional)", max_length=200, required=False)
    address_line_2 = forms.CharField(label="Address line 2 (optional)", max_length=200, required=False)
    town = forms.CharField(label="Town or city (optional)", max_length=100, required=False)
    postcode = PostcodeField(label="Postcode (optional)", required=False)

    IDENTITY_FIELDS = (
        "la_reference", "nhs_number", "given_names", "family_name", "date_of_birth", "sex",
        "address_line_1", "address_line_2", "town", "postcode",
    )  # fmt: skip

    def identity(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            name: (data[name].strip() if isinstance(data[name], str) else data[name]) for name in self.IDENTITY_FIELDS
        }


class ChildIdentityForm(VersionedForm, ChildIdentityFields):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.child.date_of_birth and "date_of_birth" in cleaned and cleaned["date_of_birth"] is None:
            self.add_error("date_of_birth", "Enter the date of birth. A child who has been born cannot be made unborn")
        return cleaned


class StatusFields(ManageForm):
    kind = forms.ChoiceField(
        label="Status",
        choices=ProtectionStatus.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the child's status"},
    )
    legal_basis = forms.ChoiceField(
        label="Legal basis",
        choices=ProtectionStatus.LegalBasis.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    start_date = GovukDateField(label="Start date", past_only=True, help_text="For example, 1 9 2026")
    expected_delivery_date = GovukDateField(
        label="Expected delivery date", required=False, help_text="For example, 14 2 2027"
    )
    mother_given_names = forms.CharField(label="Mother's given names", max_length=100, required=False)
    mother_family_name = forms.CharField(label="Mother's family name", max_length=100, required=False)
    mother_date_of_birth = GovukDateField(
        label="Mother's date of birth", required=False, past_only=True, help_text="For example, 3 7 1998"
    )
    mother_nhs_number = NhsNumberField(label="Mother's NHS number", required=False)

    UNBORN_FIELDS = (
        "expected_delivery_date", "mother_given_names", "mother_family_name", "mother_date_of_birth",
        "mother_nhs_number",
    )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        if kind == ProtectionStatus.Kind.LOOKED_AFTER:
            if not cleaned.get("legal_basis"):
                self.add_error("legal_basis", "Select the legal basis on which the child is looked after")
        else:
            cleaned["legal_basis"] = ""
        if kind == ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN:
            if not cleaned.get("expected_delivery_date") and "expected_delivery_date" not in self.errors:
                self.add_error("expected_delivery_date", "Enter the expected delivery date")
            if not (cleaned.get("mother_family_name") or "").strip():
                self.add_error("mother_family_name", "Enter the mother's family name")
            if (
                not cleaned.get("mother_date_of_birth")
                and not cleaned.get("mother_nhs_number")
                and not {"mother_date_of_birth", "mother_nhs_number"} & set(self.errors)
            ):
                self.add_error("mother_date_of_birth", "Enter the mother's date of birth or NHS number")
        else:
            for name in self.UNBORN_FIELDS:
                cleaned[name] = None if name.endswith("date") or name.endswith("birth") else ""
        return cleaned

    def status(self) -> ProtectionStatus:
        data = self.cleaned_data
        return ProtectionStatus(
            kind=data["kind"],
            legal_basis=data["legal_basis"],
            start_date=data["start_date"],
            expected_delivery_date=data.get("expected_delivery_date"),
            mother_given_names=(data.get("mother_given_names") or "").strip(),
            mother_family_name=(data.get("mother_family_name") or "").strip(),
            mother_date_of_birth=data.get("mother_date_of_birth"),
            mother_nhs_number=data.get("mother_nhs_number") or "",
        )


def _unborn_agrees(form: forms.Form, *, born: bool, kind: str | None) -> None:
    unborn_plan = kind == ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN
    if born and unborn_plan:
        form.add_error("kind", "An unborn child protection plan is only for a child not yet born")
    if not born and kind and not unborn_plan:
        form.add_error("kind", "An unborn child can only have an unborn child protection plan")


class ChildAddForm(ChildIdentityFields, StatusFields):
    responsible_local_authority = forms.ModelChoiceField(
        label="Local authority responsible",
        queryset=LocalAuthority.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Select one of the authorities you manage"},
    )

    def __init__(self, *args: Any, authorities: QuerySet[LocalAuthority], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["responsible_local_authority"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = authorities
        if len(authorities) == 1:
            field.initial = authorities[0].pk
        self.single_authority = authorities[0] if len(authorities) == 1 else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "date_of_birth" not in self.errors:
            _unborn_agrees(self, born=cleaned.get("date_of_birth") is not None, kind=cleaned.get("kind"))
        return cleaned

    def proposed(self) -> ProposedChild:
        data = self.cleaned_data
        return ProposedChild(
            family_name=data["family_name"].strip(),
            given_names=data["given_names"].strip(),
            nhs_number=data["nhs_number"],
            date_of_birth=data["date_of_birth"],
            sex=data["sex"] if data["sex"] != Sex.NOT_KNOWN else "",
            postcode=data["postcode"],
            mother_nhs_number=data.get("mother_nhs_number") or "",
            mother_given_names=(data.get("mother_given_names") or "").strip(),
            mother_family_name=(data.get("mother_family_name") or "").strip(),
            mother_date_of_birth=data.get("mother_date_of_birth"),
        )


class ChildFindForm(ManageForm):
    """A register manager finding one of their own authority's children: by register ID
    or their reference, by NHS number, or by family name and date of birth (the register's
    matcher, so misspellings and mistyped dates are found as in practitioner search)."""

    NOTHING_TO_FIND = "Enter a register ID or your reference, an NHS number, or a family name and date of birth"

    q = forms.CharField(
        label="Register ID or your reference", required=False, max_length=64, help_text="For example, R7K2-M9QX-4HTP"
    )
    nhs_number = NhsNumberField(label="NHS number", required=False, help_text="For example, 943 476 5919")
    family_name = forms.CharField(label="Family name", required=False, max_length=100)
    given_names = forms.CharField(label="Given name (optional)", required=False, max_length=100)
    date_of_birth = GovukDateField(label="Date of birth", required=False, past_only=True)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or cleaned.get("q"):
            return cleaned
        refusal = criteria_sufficient(self._criteria())
        if refusal is None:
            return cleaned
        if cleaned.get("family_name") and not cleaned.get("date_of_birth"):
            self.add_error("date_of_birth", "Enter a date of birth as well as a family name, or find by NHS number")
        elif cleaned.get("date_of_birth") and not cleaned.get("family_name"):
            self.add_error("family_name", "Enter a family name as well as a date of birth, or find by NHS number")
        else:
            self.add_error(None, self.NOTHING_TO_FIND)
        return cleaned

    def _criteria(self) -> SearchCriteria:
        return SearchCriteria.from_values(self.cleaned_data)

    def find(self) -> ManagerFind:
        """What to find. A register ID or reference, if one is given, is looked up exactly
        and the other boxes are not used."""
        reference = self.cleaned_data["q"].strip()
        return ManagerFind(reference=reference) if reference else ManagerFind(criteria=self._criteria())


class DuplicateDecisionForm(forms.Form):
    """Shown with the possible matches: the manager must say which child this is."""

    decision = forms.ChoiceField(
        label="Is the child you are adding one of these children?",
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether this is a child already on the register or a different child"},
    )
    checked = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, check: DuplicateCheck, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.check = check
        choices = [
            (
                candidate.choice,
                f"Yes: the child whose record {candidate.local_authority.name} holds"
                if candidate.hidden
                else f"Yes: {candidate.given_names} {candidate.family_name}, {candidate.register_id}",
            )
            for candidate in check.candidates
        ]
        choices.append((DIFFERENT_CHILD, "No, this is a different child: add a new record"))
        field = self.fields["decision"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
        self.initial["checked"] = check.fingerprint

    def clean_checked(self) -> str:
        value: str = self.cleaned_data["checked"]
        if value != self.check.fingerprint:
            raise ValidationError("The possible matches have changed. Check them again")
        return value


class StatusAddForm(VersionedForm, StatusFields):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _unborn_agrees(self, born=self.child.date_of_birth is not None, kind=cleaned.get("kind"))
        return cleaned


class EndDateForm(VersionedForm):
    end_date = GovukDateField(label="End date", past_only=True, help_text="For example, 14 11 2026")

    def __init__(self, *args: Any, start_date: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.start_date = start_date

    def clean_end_date(self) -> datetime.date:
        value: datetime.date = self.cleaned_data["end_date"]
        if value < self.start_date:
            raise ValidationError(f"End date must be the same as or after the start date, {self.start_date:%-d %B %Y}")
        return value


OTHER_NAME_CHOICES = OtherName.Kind.choices


class OtherNameForm(VersionedForm):
    kind = forms.ChoiceField(
        label="What kind of name is it?",
        choices=OTHER_NAME_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what kind of name it is"},
    )
    given_names = forms.CharField(label="Given names", max_length=100, required=False)
    family_name = forms.CharField(label="Family name", max_length=100, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not (cleaned.get("given_names") or "").strip() and not (cleaned.get("family_name") or "").strip():
            self.add_error("family_name", "Enter a family name or given names")
        return cleaned


class ConfirmForm(VersionedForm):
    """A confirmation with nothing to fill in but the version (removing a name)."""


class ShieldingForm(VersionedForm):
    reason = forms.CharField(
        label="Why is this change being made?",
        max_length=200,
        help_text="For example, the family is in a refuge. Seen only by your authority's register managers",
        error_messages={
            "required": "Enter why the shielding is being changed",
            "max_length": "Reason must be 200 characters or fewer",
        },
    )


class InvolvementAddForm(VersionedForm):
    who = forms.ChoiceField(
        label="Who is working with the child?",
        choices=[("practitioner", "A practitioner with an account on the register"), ("contact", "Someone else")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select who is working with the child"},
    )
    practitioner_email = forms.EmailField(
        label="Practitioner's work email address",
        required=False,
        error_messages={"invalid": "Enter an email address in the correct format, like name@example.gov.uk"},
    )
    contact_name = forms.CharField(label="Name", max_length=150, required=False)
    contact_organisation_name = forms.CharField(label="Organisation", max_length=200, required=False)
    contact_role = forms.CharField(label="Role (optional)", max_length=120, required=False)
    contact_phone = forms.CharField(label="Phone number", max_length=32, required=False)
    contact_email = forms.EmailField(
        label="Email address (optional)",
        required=False,
        error_messages={"invalid": "Enter an email address in the correct format, like name@example.gov.uk"},
    )
    service_type = forms.ChoiceField(
        label="Service",
        choices=[("", "Select the service"), *ServiceType.choices],
        error_messages={"required": "Select the service"},
    )
    is_lead = forms.BooleanField(label="This is the child's lead practitioner", required=False)
    start_date = GovukDateField(label="Start date", past_only=True, help_text="For example, 1 9 2026")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        practitioner: User | None = None
        if cleaned.get("who") == "practitioner":
            email = cleaned.get("practitioner_email")
            if not email and "practitioner_email" not in self.errors:
                self.add_error("practitioner_email", "Enter the practitioner's work email address")
            elif email:
                practitioner = practitioner_for_involvement(email=email)
                if practitioner is None:
                    self.add_error(
                        "practitioner_email",
                        "No practitioner on the register has this email address. Record them as someone else",
                    )
                elif Involvement.objects.filter(
                    child=self.child, practitioner=practitioner, end_date__isnull=True
                ).exists():
                    self.add_error("practitioner_email", "This practitioner is already working with the child")
        elif cleaned.get("who") == "contact":
            if not (cleaned.get("contact_name") or "").strip():
                self.add_error("contact_name", "Enter the name of the person working with the child")
            if not (cleaned.get("contact_organisation_name") or "").strip():
                self.add_error("contact_organisation_name", "Enter their organisation")
            if not (cleaned.get("contact_phone") or "").strip() and not cleaned.get("contact_email"):
                self.add_error("contact_phone", "Enter a phone number or an email address")
        if (
            cleaned.get("is_lead")
            and Involvement.objects.filter(child=self.child, is_lead=True, end_date__isnull=True).exists()
        ):
            self.add_error("is_lead", "The child already has a lead practitioner. End that involvement first")
        cleaned["practitioner"] = practitioner
        return cleaned

    def involvement(self) -> Involvement:
        data = self.cleaned_data
        practitioner: User | None = data["practitioner"]
        service_type = data["service_type"]
        if practitioner is not None:
            organisation = practitioner.organisation
            return Involvement(
                practitioner=practitioner,
                service_type=service_type,
                sensitive_category=involvement_sensitivity(
                    service_type=service_type,
                    organisation_sensitive_service=organisation.sensitive_service if organisation else "",
                ),
                is_lead=data["is_lead"],
                start_date=data["start_date"],
            )
        sensitive = involvement_sensitivity(service_type=service_type)
        return Involvement(
            contact_name=data["contact_name"].strip(),
            contact_organisation_name=data["contact_organisation_name"].strip(),
            contact_role=data["contact_role"].strip(),
            contact_phone=data["contact_phone"].strip(),
            contact_email=data["contact_email"],
            service_type=service_type,
            sensitive_category=sensitive,
            is_lead=data["is_lead"],
            start_date=data["start_date"],
        )


class TransferForm(VersionedForm):
    to_local_authority = forms.ModelChoiceField(
        label="Which local authority is now responsible?",
        queryset=LocalAuthority.objects.none(),
        empty_label="Select the local authority",
        error_messages={
            "required": "Select the local authority now responsible",
            "invalid_choice": "Select the local authority now responsible",
        },
    )
    transferred_on = GovukDateField(label="Date of the move", past_only=True, help_text="For example, 20 11 2026")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_local_authority"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = LocalAuthority.objects.exclude(pk=self.child.responsible_local_authority_id).order_by("name")
