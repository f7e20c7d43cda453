import pytest
from django.core.exceptions import ValidationError

from registry.identity import (
    REGISTER_ID_PATTERN,
    nhs_number_is_valid,
    nhs_number_normalise,
    postcode_district,
    postcode_normalise,
    register_id_generate,
)


@pytest.mark.parametrize("number", ["9434765919", "9434765870", "4010232137"])
def test_published_valid_nhs_numbers_pass_the_checksum(number):
    assert nhs_number_is_valid(number)


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("9434765918", "wrong check digit"),
        ("943476591", "nine digits"),
        ("94347659199", "eleven digits"),
        ("943476591X", "not all digits"),
    ],
)
def test_invalid_nhs_numbers_fail(number, why):
    assert not nhs_number_is_valid(number), why


def test_a_number_whose_check_digit_would_be_10_is_never_valid():
    # 6 x weight 2 = 12, 12 mod 11 = 1, 11 - 1 = 10: no digit can complete this number.
    assert not any(nhs_number_is_valid(f"000000006{digit}") for digit in range(10))


def test_nhs_numbers_written_3_3_4_are_accepted_after_normalising():
    assert nhs_number_normalise("943 476 5919") == "9434765919"
    assert nhs_number_is_valid(nhs_number_normalise("943-476-5919"))


@pytest.mark.parametrize(
    ("typed", "stored"), [("sw1a1aa", "SW1A 1AA"), ("  B1   1BB ", "B1 1BB"), ("ls11 5dt", "LS11 5DT")]
)
def test_postcodes_are_normalised(typed, stored):
    assert postcode_normalise(typed) == stored
    assert postcode_district(stored) == stored.split()[0]


@pytest.mark.parametrize("typed", ["SW1A", "12345", "not a postcode", ""])
def test_malformed_postcodes_are_refused(typed):
    with pytest.raises(ValidationError):
        postcode_normalise(typed)


def test_register_ids_are_random_and_well_formed():
    import re

    ids = {register_id_generate() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(REGISTER_ID_PATTERN, value) for value in ids)
