from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import QuerySet

from accounts.models import Organisation
from accounts.roles import Role
from accounts.validators import validate_work_email
from signposting.govuk import GOVUK_SUFFIXES, POSTCODE_SHAPE, GovukDateField, InputValueError, postcode_clean


class SignInForm(AuthenticationForm):
    """Email and password. The messages say what to do, as the GOV.UK pattern asks."""

    username = forms.EmailField(label="Email address", max_length=254)
    password = forms.CharField(label="Password", strip=False)

    error_messages = {
        "invalid_login": "Enter a correct email address and password",
        "inactive": "This account has been deactivated. Contact your local authority's user admin",
    }

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages = {
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.gov.uk",
        }
        self.fields["password"].error_messages = {"required": "Enter your password"}

    def clean_username(self) -> str:
        return str(self.cleaned_data["username"]).lower()


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label="Security code",
        max_length=16,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes",
        error_messages={"required": "Enter the security code"},
    )

    def clean_code(self) -> str:
        return "".join(str(self.cleaned_data["code"]).split()).lower()


class TwoFactorEnrolForm(forms.Form):
    code = forms.CharField(
        label="Security code from your app",
        max_length=10,
        help_text="After you scan the QR code, your app shows a 6-digit code",
        error_messages={"required": "Enter the 6-digit code from your authenticator app"},
    )

    def clean_code(self) -> str:
        code = "".join(str(self.cleaned_data["code"]).split())
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError("The code must be 6 digits, like 123456")
        return code


class NewPasswordForm(forms.Form):
    """Choose a password (invitation) or a new one (password change)."""

    new_password1 = forms.CharField(
        label="Create a password",
        strip=False,
        help_text="At least 12 characters. Avoid common passwords and your name",
        error_messages={"required": "Enter a password"},
    )
    new_password2 = forms.CharField(
        label="Confirm your password", strip=False, error_messages={"required": "Confirm your password"}
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_new_password2(self) -> str:
        first = self.cleaned_data.get("new_password1")
        second = str(self.cleaned_data["new_password2"])
        if first and first != second:
            raise forms.ValidationError("The passwords do not match")
        return second

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("new_password1")
        if password and "new_password2" not in self.errors:
            try:
                password_validation.validate_password(str(password), self.user)
            except forms.ValidationError as error:
                self.add_error("new_password1", error)
        return cleaned


class PasswordChangeForm(NewPasswordForm):
    old_password = forms.CharField(
        label="Current password", strip=False, error_messages={"required": "Enter your current password"}
    )
    field_order = ["old_password", "new_password1", "new_password2"]

    def clean_old_password(self) -> str:
        password = str(self.cleaned_data["old_password"])
        if not self.user.check_password(password):
            raise forms.ValidationError("Your current password is not correct")
        return password


class InviteForm(forms.Form):
    full_name = forms.CharField(label="Full name", max_length=150, error_messages={"required": "Enter a full name"})
    email = forms.EmailField(
        label="Work email address",
        max_length=254,
        error_messages={
            "required": "Enter a work email address",
            "invalid": "Enter an email address in the correct format, like name@example.gov.uk",
        },
    )
    job_title = forms.CharField(label="Job title (optional)", max_length=120, required=False)
    phone = forms.CharField(label="Work phone (optional)", max_length=32, required=False)
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        label="Organisation",
        empty_label="Choose an organisation",
        error_messages={"required": "Choose the organisation they work for"},
    )
    roles = forms.MultipleChoiceField(
        label="Roles",
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="A practitioner can search the register once their training is recorded",
    )
    # Optional: a practitioner often finishes their training before the account is made.
    training_completed_on = GovukDateField(
        label="Date training was completed",
        required=False,
        past_only=True,
        suffixes=GOVUK_SUFFIXES,
        help_text="Leave this blank if they have not finished it yet. For example, 27 3 2026",
    )

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], roles: list[Role], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = organisations
        roles_field = self.fields["roles"]
        assert isinstance(roles_field, forms.MultipleChoiceField)
        roles_field.choices = [(role.value, role.label) for role in roles]

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).lower()
        validate_work_email(email)
        return email

    def chosen_roles(self) -> list[Role]:
        return [Role(value) for value in self.cleaned_data["roles"]]


class RoleForm(forms.Form):
    role = forms.ChoiceField(error_messages={"required": "Choose a role"})

    def __init__(self, *args: Any, roles: list[Role], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["role"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(role.value, role.label) for role in roles]
        # An unknown or refused role reads as "not one of the choices": say it plainly.
        field.error_messages["invalid_choice"] = "You cannot change that role"


class DateForm(forms.Form):
    """One GOV.UK date input (day, month, year), posted as <prefix>-date-day and so on."""

    label = "Date"
    allow_blank = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date"] = GovukDateField(
            label=self.label, required=not self.allow_blank, suffixes=("-day", "-month", "-year")
        )


class TrainingForm(DateForm):
    label = "Date training was completed"


class ExpiryForm(DateForm):
    label = "Access expiry date"
    allow_blank = True


class HomePostcodeForm(forms.Form):
    """A user's own home postcode: compared with the postcodes they search for and the
    records they open, so that a look-up near home is flagged to the auditors. It follows
    the children's postcode rule (signposting.govuk.postcode_clean), so the two compare."""

    home_postcode = forms.CharField(
        label="Your home postcode",
        required=False,
        max_length=10,
        error_messages={"max_length": POSTCODE_SHAPE},
        help_text="Used only to flag look-ups of children who live near your home, for your authority's auditors. "
        "Leave it empty to remove it.",
    )

    def clean_home_postcode(self) -> str:
        try:
            return postcode_clean(self.cleaned_data["home_postcode"])
        except InputValueError as error:
            raise forms.ValidationError(error.message) from None
