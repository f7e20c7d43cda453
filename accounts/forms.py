from django import forms
from django.contrib.auth.forms import AuthenticationForm


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
