"""The input contract for a child's identity: one rule, one message, one place.

Every way a child's details come in (search and maintenance forms, both APIs, the CSV
import, GRO feeds, auditors' finders) calls these pure functions and only translates
IdentityValueError into its own kind of error (a form's ValidationError, a serializer's,
an import RowError, a feed Quarantine). Nothing here reads the database.

Register IDs live here too: they are the one identifier the register itself gives a child."""

import datetime
import re
import secrets

from django.core.exceptions import ValidationError
from django.db import models

from accounts.models import SensitiveCategory
from signposting.govuk import (
    DATE_MONTH_FIRST,
    DATE_WHOLE_IN_ONE_BOX,
    POSTCODE_SHAPE,
    InputValueError,
    date_from_parts,
    postcode_clean,
)

# The date rule is kept with the GOV.UK date field (see "Dates" below) and exported from
# here as part of the identity contract.
__all__ = [
    "DATE_MONTH_FIRST",
    "DATE_NOT_ISO",
    "DATE_WHOLE_IN_ONE_BOX",
    "NHS_NUMBER_CHECK_DIGIT",
    "NHS_NUMBER_SHAPE",
    "POSTCODE_SHAPE",
    "REGISTER_ID_ALPHABET",
    "REGISTER_ID_PATTERN",
    "SENSITIVE_UNKNOWN",
    "SEX_UNKNOWN_CODE",
    "IdentityValueError",
    "Sex",
    "date_from_parts",
    "date_from_text",
    "involvement_sensitivity",
    "nhs_number_check_digit",
    "nhs_number_clean",
    "nhs_number_is_valid",
    "postcode_clean",
    "postcode_district",
    "register_id_generate",
    "sex_choices",
    "sex_from_code",
    "validate_nhs_number",
]  # fmt: skip

# Crockford's base32 without I, L, O, U: readable aloud over the phone, no ambiguous glyphs.
REGISTER_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REGISTER_ID_PATTERN = r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}"


# The one error every rule here raises: `field` names the input at fault ("nhs_number",
# "postcode", "sex", "day", "month", "year", "date", "service_type"); `message` is the one
# GOV.UK-style sentence for that rule, shown to the user as it is. It is the GOV.UK
# module's input error, so that the date rule kept there raises the same type.
IdentityValueError = InputValueError


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INDETERMINATE = "indeterminate", "Indeterminate"
    NOT_KNOWN = "not_known", "Not known"


def register_id_generate() -> str:
    """A random, non-guessable register ID such as "7KQ2-MXW9-4DHT" (60 bits of randomness,
    so a collision among millions of children is vanishingly rare and still caught by the
    unique index). It carries no information about the child and is the only identifier
    put in URLs. Twelve characters from one read of the random source: the import calls
    this once per new child."""
    bits = secrets.randbits(60)
    characters = "".join(REGISTER_ID_ALPHABET[(bits >> shift) & 31] for shift in range(0, 60, 5))
    return f"{characters[:4]}-{characters[4:8]}-{characters[8:]}"


# --- NHS number ------------------------------------------------------------------------

NHS_NUMBER_SHAPE = "Enter a valid NHS number: it has 10 digits, like 943 476 5919"
NHS_NUMBER_CHECK_DIGIT = "Enter a valid NHS number: the last digit does not match — check it for typing errors"


def nhs_number_check_digit(first_nine: str) -> int | None:
    """Modulus 11: weights 10..2 on the first nine digits; 11 -> 0; 10 means no ten-digit
    number starting with these nine is valid (None)."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - (total % 11)
    if check == 11:
        return 0
    return None if check == 10 else check


def nhs_number_clean(value: str | None) -> str:
    """The NHS number as ten digits without the spaces and hyphens people type
    ("943 476 5919" -> "9434765919"), or "" if none was given."""
    number = re.sub(r"[\s-]", "", value or "")
    if not number:
        return ""
    if not re.fullmatch(r"\d{10}", number):
        raise IdentityValueError("nhs_number", NHS_NUMBER_SHAPE)
    if nhs_number_check_digit(number[:9]) != int(number[9]):
        raise IdentityValueError("nhs_number", NHS_NUMBER_CHECK_DIGIT)
    return number


def nhs_number_is_valid(value: str) -> bool:
    """Whether `value` is already a clean, valid NHS number (ten digits, nothing else)."""
    try:
        return bool(value) and nhs_number_clean(value) == value
    except IdentityValueError:
        return False


def validate_nhs_number(value: str) -> None:
    """The model field's validator (referenced by migrations): translates the rule above."""
    try:
        nhs_number_clean(value)
    except IdentityValueError as error:
        raise ValidationError(error.message, code="invalid_nhs_number") from None
    if re.sub(r"[\s-]", "", value) != value:
        raise ValidationError(NHS_NUMBER_SHAPE, code="invalid_nhs_number")


# --- Postcode --------------------------------------------------------------------------
# postcode_clean and its message are kept with the GOV.UK pieces (signposting.govuk), like
# the date rule, because a user's own home postcode (accounts) follows the same rule and
# accounts never imports registry; they are part of this contract all the same.


def postcode_district(postcode: str) -> str:
    """The outward code only ("SW1A 1AA" -> "SW1A"): enough to confirm an area."""
    return postcode.split(" ")[0] if postcode else ""


# --- Sex -------------------------------------------------------------------------------

SEX_UNKNOWN_CODE = "Sex must be female, male, indeterminate or not known (F, M, I or U)"
# Every code a way in uses: our own values, the CSV import's words and letters, and the
# GRO's letters and NHS Data Dictionary digits (1 male, 2 female, 9 indeterminate, 0 not known).
_SEX_CODES = {
    "female": Sex.FEMALE, "f": Sex.FEMALE, "2": Sex.FEMALE,
    "male": Sex.MALE, "m": Sex.MALE, "1": Sex.MALE,
    "indeterminate": Sex.INDETERMINATE, "i": Sex.INDETERMINATE, "9": Sex.INDETERMINATE,
    "not_known": Sex.NOT_KNOWN, "not known": Sex.NOT_KNOWN, "unknown": Sex.NOT_KNOWN, "u": Sex.NOT_KNOWN,
    "0": Sex.NOT_KNOWN, "": Sex.NOT_KNOWN,
}  # fmt: skip


def sex_from_code(value: str | None) -> Sex:
    """The child's sex from any code the register is sent, in any case; blank is not known."""
    sex = _SEX_CODES.get((value or "").strip().lower())
    if sex is None:
        raise IdentityValueError("sex", SEX_UNKNOWN_CODE)
    return sex


def sex_choices(*, not_known_label: str | None = None) -> list[tuple[str, str]]:
    """Choices for a sex question. Search asks with "not known" as the blank choice (it is
    not a search criterion); maintenance records "not known" as a value of its own."""
    if not_known_label is None:
        return [(sex.value, sex.label) for sex in Sex]
    return [("", not_known_label), *[(sex.value, sex.label) for sex in Sex if sex != Sex.NOT_KNOWN]]


# --- Dates ---------------------------------------------------------------------------
# date_from_parts (and its messages) live in the leaf module signposting.govuk with the
# GOV.UK date field, because accounts and audit forms use them and never import registry.
# They are part of this contract all the same, and raise this contract's one error type.

# A date a file writes as text: ISO (YYYY-MM-DD) from the CSV import and the GRO, and the
# GRO's day-first DD/MM/YYYY. Only the shape is read here; whether it is a real date is
# date_from_parts's rule, the same as for a date typed into the three boxes.
DATE_NOT_ISO = "is not a date in the form YYYY-MM-DD"
_DATE_ISO = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})")
_DATE_DAY_FIRST = re.compile(r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})")


def date_from_text(
    value: str | None, *, label: str, not_after: datetime.date | None = None, day_first: bool = False
) -> datetime.date | None:
    """The date a file wrote as YYYY-MM-DD (or, with `day_first`, DD/MM/YYYY), or None if
    empty. A value of another shape is refused with "<label> is not a date in the form
    YYYY-MM-DD" (field "date"); the parts then go through date_from_parts, so "2019-02-30"
    gets the one message "<label> must be a real date"."""
    text = (value or "").strip()
    if not text:
        return None
    match = _DATE_ISO.fullmatch(text) or (_DATE_DAY_FIRST.fullmatch(text) if day_first else None)
    if match is None:
        raise IdentityValueError("date", f"{label} {DATE_NOT_ISO}")
    return date_from_parts(day=match["day"], month=match["month"], year=match["year"], label=label, not_after=not_after)


# --- Sensitive services ----------------------------------------------------------------

SENSITIVE_UNKNOWN = "Sensitive service must be sexual health, mental health, substance misuse or none"


def involvement_sensitivity(*, service_type: str, organisation_sensitive_service: str = "") -> str:
    """The sensitive category of an involvement ("" if not sensitive): the service itself
    when it is a sensitive one (a sexual health involvement is sensitive whoever records
    it), otherwise what the practitioner's organisation provides (a worker of a flagged
    mental health trust is sensitive in any service). Hidden from users outside it."""
    if organisation_sensitive_service not in SensitiveCategory.values:
        raise IdentityValueError("service_type", SENSITIVE_UNKNOWN)
    if service_type and service_type in SensitiveCategory.values:
        return service_type
    return organisation_sensitive_service
