import re

from django.core.exceptions import ValidationError

# GSS codes for English local authorities: E06 unitary, E07 district, E08 metropolitan
# district, E09 London borough, E10 county.
GSS_CODE_PATTERN = re.compile(r"^E(06|07|08|09|10)\d{6}$")


def validate_gss_code(value: str) -> None:
    if not GSS_CODE_PATTERN.match(value or ""):
        raise ValidationError(
            "Enter a GSS code for an English local authority, like E09000033",
            code="invalid_gss_code",
        )
