"""Identifiers the register reads and writes: NHS numbers, postcodes, register IDs."""

import re
import secrets

from django.core.exceptions import ValidationError

# Crockford's base32 without I, L, O, U: readable aloud over the phone, no ambiguous glyphs.
REGISTER_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REGISTER_ID_PATTERN = r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}"


def register_id_generate() -> str:
    """A random, non-guessable register ID such as "7KQ2-MXW9-4DHT" (60 bits of randomness,
    so a collision among millions of children is vanishingly rare and still caught by the
    unique index). It carries no information about the child and is the only identifier
    put in URLs. Twelve characters from one read of the random source: the import calls
    this once per new child."""
    bits = secrets.randbits(60)
    characters = "".join(REGISTER_ID_ALPHABET[(bits >> shift) & 31] for shift in range(0, 60, 5))
    return f"{characters[:4]}-{characters[4:8]}-{characters[8:]}"


def nhs_number_normalise(value: str) -> str:
    """Strip the spaces and hyphens people type ("943 476 5919" -> "9434765919")."""
    return re.sub(r"[\s-]", "", value or "")


def nhs_number_is_valid(value: str) -> bool:
    """Modulus 11: weights 10..2 on the first nine digits; 11 -> 0; 10 is never valid."""
    if not re.fullmatch(r"\d{10}", value):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:9], range(10, 1, -1), strict=True))
    check = 11 - (total % 11)
    if check == 11:
        check = 0
    return check != 10 and check == int(value[9])


def validate_nhs_number(value: str) -> None:
    if not nhs_number_is_valid(value):
        raise ValidationError("Enter a valid 10-digit NHS number", code="invalid_nhs_number")


_POSTCODE_PATTERN = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")


def postcode_normalise(value: str) -> str:
    """Upper case with one space before the inward code ("sw1a1aa" -> "SW1A 1AA").
    Raises ValidationError for anything that is not shaped like a UK postcode."""
    compact = re.sub(r"\s+", "", value or "").upper()
    match = _POSTCODE_PATTERN.match(compact)
    if not match:
        raise ValidationError("Enter a full UK postcode, like SW1A 1AA", code="invalid_postcode")
    return f"{match.group(1)} {match.group(2)}"


def postcode_district(postcode: str) -> str:
    """The outward code only ("SW1A 1AA" -> "SW1A"): enough to confirm an area."""
    return postcode.split(" ")[0] if postcode else ""
