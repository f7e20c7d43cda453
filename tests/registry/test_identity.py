"""The input contract for a child's identity (registry.identity): each rule, its
one message, and the values it gives back. Pure functions: no database."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError

from accounts.models import SensitiveCategory
from registry.identity import (
    DATE_MONTH_FIRST,
    DATE_WHOLE_IN_ONE_BOX,
    NHS_NUMBER_CHECK_DIGIT,
    NHS_NUMBER_SHAPE,
    POSTCODE_SHAPE,
    REGISTER_ID_PATTERN,
    SENSITIVE_UNKNOWN,
    SEX_UNKNOWN_CODE,
    IdentityValueError,
    Sex,
    date_from_parts,
    date_from_text,
    involvement_sensitivity,
    nhs_number_check_digit,
    nhs_number_clean,
    nhs_number_is_valid,
    postcode_clean,
    postcode_district,
    register_id_generate,
    sex_choices,
    sex_from_code,
    validate_nhs_number,
)
from registry.models import ServiceType


def refusal(call, **kwargs) -> IdentityValueError:
    with pytest.raises(IdentityValueError) as caught:
        call(**kwargs) if kwargs else call()
    assert isinstance(caught.value, ValueError)
    return caught.value


# --- NHS number ------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["9434765919", "9434765870", "4010232137"])
def test_published_valid_nhs_numbers_are_clean_as_they_are(number):
    assert nhs_number_clean(number) == number
    assert nhs_number_is_valid(number)


@pytest.mark.parametrize("typed", ["943 476 5919", "943-476-5919", " 9434765919 ", "943 476\t5919"])
def test_nhs_numbers_written_3_3_4_are_cleaned_to_ten_digits(typed):
    assert nhs_number_clean(typed) == "9434765919"


@pytest.mark.parametrize("typed", ["", None, "   ", " - "])
def test_no_nhs_number_is_an_empty_string(typed):
    assert nhs_number_clean(typed) == ""


@pytest.mark.parametrize("typed", ["943476591", "94347659199", "943476591X", "nine four three", "+449434765919"])
def test_a_number_that_is_not_ten_digits_is_told_its_shape(typed):
    error = refusal(nhs_number_clean, value=typed)
    assert (error.field, error.message) == ("nhs_number", NHS_NUMBER_SHAPE)
    assert error.message == "Enter a valid NHS number: it has 10 digits, like 943 476 5919"


@pytest.mark.parametrize("typed", ["9434765918", "943 476 5910", "4010232138"])
def test_ten_digits_with_a_wrong_check_digit_are_told_the_last_digit_does_not_match(typed):
    error = refusal(nhs_number_clean, value=typed)
    assert (error.field, error.message) == ("nhs_number", NHS_NUMBER_CHECK_DIGIT)
    assert error.message == "Enter a valid NHS number: the last digit does not match — check it for typing errors"
    assert "10 digits" not in error.message


def test_a_number_whose_check_digit_would_be_10_is_never_valid():
    # 6 x weight 2 = 12, 12 mod 11 = 1, 11 - 1 = 10: no digit can complete this number.
    assert nhs_number_check_digit("000000006") is None
    for digit in range(10):
        assert refusal(nhs_number_clean, value=f"000000006{digit}").message == NHS_NUMBER_CHECK_DIGIT


def test_a_check_digit_of_11_is_written_0():
    # 1 x weight 10 + 6 x weight 2 = 22, a multiple of 11: 11 - 0 = 11, written 0.
    assert nhs_number_check_digit("100000006") == 0
    assert nhs_number_clean("100 000 0060") == "1000000060"


def test_the_model_validator_accepts_only_a_stored_form():
    validate_nhs_number("9434765919")
    for stored in ("943 476 5919", "9434765918"):
        with pytest.raises(ValidationError):
            validate_nhs_number(stored)


# --- Postcode --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("sw1a1aa", "SW1A 1AA"), ("  B1   1BB ", "B1 1BB"), ("ls11 5dt", "LS11 5DT"), ("M1 1AE", "M1 1AE")],
)
def test_postcodes_are_cleaned_to_upper_case_with_one_space(typed, stored):
    assert postcode_clean(typed) == stored
    assert postcode_district(stored) == stored.split()[0]


@pytest.mark.parametrize("typed", ["", None, "   "])
def test_no_postcode_is_an_empty_string(typed):
    assert postcode_clean(typed) == ""


@pytest.mark.parametrize("typed", ["SW1A", "12345", "not a postcode", "SW1A 1A", "SW1A 1AAA"])
def test_malformed_postcodes_are_refused_with_one_message(typed):
    error = refusal(postcode_clean, value=typed)
    assert (error.field, error.message) == ("postcode", POSTCODE_SHAPE)
    assert error.message == "Enter a full UK postcode, like SW1A 1AA"


# --- Sex -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "sex"),
    [
        ("female", Sex.FEMALE), ("F", Sex.FEMALE), ("2", Sex.FEMALE),
        ("Male", Sex.MALE), ("m", Sex.MALE), ("1", Sex.MALE),
        ("indeterminate", Sex.INDETERMINATE), ("I", Sex.INDETERMINATE), ("9", Sex.INDETERMINATE),
        ("not_known", Sex.NOT_KNOWN), ("Not known", Sex.NOT_KNOWN), ("unknown", Sex.NOT_KNOWN),
        ("U", Sex.NOT_KNOWN), ("0", Sex.NOT_KNOWN), ("", Sex.NOT_KNOWN), (None, Sex.NOT_KNOWN), (" f ", Sex.FEMALE),
    ],
)  # fmt: skip
def test_every_sex_code_the_register_is_sent_is_read(code, sex):
    assert sex_from_code(code) == sex


@pytest.mark.parametrize("code", ["x", "boy", "3", "fem"])
def test_an_unknown_sex_code_is_refused_with_one_message(code):
    error = refusal(sex_from_code, value=code)
    assert (error.field, error.message) == ("sex", SEX_UNKNOWN_CODE)
    assert error.message == "Sex must be female, male, indeterminate or not known (F, M, I or U)"


def test_sex_choices_for_recording_and_for_searching():
    assert [value for value, _ in sex_choices()] == ["female", "male", "indeterminate", "not_known"]
    assert sex_choices(not_known_label="Not known or not given") == [
        ("", "Not known or not given"), ("female", "Female"), ("male", "Male"), ("indeterminate", "Indeterminate"),
    ]  # fmt: skip


# --- Dates -----------------------------------------------------------------------------

TODAY = datetime.date(2026, 11, 30)


def date(day, month, year, **kwargs):
    return date_from_parts(day=day, month=month, year=year, label="Date of birth", **kwargs)


def test_a_real_date_from_text_or_numbers():
    assert date("21", "6", "2024") == datetime.date(2024, 6, 21)
    assert date(" 03 ", "07", "1998") == datetime.date(1998, 7, 3)
    assert date(21, 6, 2024) == datetime.date(2024, 6, 21)


def test_three_empty_boxes_are_no_date():
    assert date("", " ", None) is None


@pytest.mark.parametrize(
    ("parts", "field", "message"),
    [
        (("", "6", "2024"), "day", "Date of birth must include a day"),
        (("21", "", ""), "month", "Date of birth must include a month and year"),
        (("21", "6", ""), "year", "Date of birth must include a year"),
    ],
)
def test_a_missing_part_is_named(parts, field, message):
    error = refusal(date, day=parts[0], month=parts[1], year=parts[2])
    assert (error.field, error.message) == (field, message)


@pytest.mark.parametrize(
    ("parts", "field"),
    [
        (("31", "2", "2024"), "date"),
        (("0", "6", "2024"), "date"),
        (("21", "13", "2024"), "date"),  # 13 in the month with 21 in the day is no swap
        (("21", "6", "1899"), "year"),
        (("21", "six", "2024"), "month"),
        (("twenty", "6", "2024"), "day"),
        (("21", "6", "-2024"), "year"),
    ],
)
def test_an_impossible_date_must_be_a_real_date(parts, field):
    error = refusal(date, day=parts[0], month=parts[1], year=parts[2])
    assert (error.field, error.message) == (field, "Date of birth must be a real date")


def test_day_and_month_typed_the_american_way_get_a_hint():
    # The search's boxes read Day, Month, Year; 6 / 21 / 2024 is 21 June typed month first.
    error = refusal(date, day="6", month="21", year="2024")
    assert (error.field, error.message) == ("month", DATE_MONTH_FIRST)
    assert error.message == "Month must be between 1 and 12 — did you type the month first?"


@pytest.mark.parametrize("typed", ["6/21/2024", "21/6/2024", "21 6 2024", "2024-06-21", "21.06.2024"])
def test_a_whole_date_typed_in_one_box_gets_a_hint(typed):
    error = refusal(date, day=typed, month="", year="")
    assert (error.field, error.message) == ("day", DATE_WHOLE_IN_ONE_BOX)
    assert error.message == "Enter the date as day, month, year, for example 21 6 2024"


def test_a_date_after_not_after_is_refused():
    assert date("30", "11", "2026", not_after=TODAY) == TODAY
    error = refusal(date, day="1", month="12", year="2026", not_after=TODAY)
    assert (error.field, error.message) == ("date", "Date of birth must be today or in the past")


def test_the_label_names_the_date_in_every_message():
    with pytest.raises(IdentityValueError, match=r"^Start date must be a real date$"):
        date_from_parts(day="30", month="2", year="2026", label="Start date")


@pytest.mark.parametrize(
    ("text", "day_first", "expected"),
    [
        ("2019-04-12", False, datetime.date(2019, 4, 12)),
        ("12/04/2019", True, datetime.date(2019, 4, 12)),
        ("", False, None),
    ],
)
def test_a_date_a_file_writes_is_read_in_its_shapes(text, day_first, expected):
    assert date_from_text(text, label="date_of_birth", day_first=day_first) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2019-02-30", "date_of_birth must be a real date"),
        ("2019-21-06", DATE_MONTH_FIRST),
        ("12/04/2019", "date_of_birth is not a date in the form YYYY-MM-DD"),
        ("yesterday", "date_of_birth is not a date in the form YYYY-MM-DD"),
    ],
)
def test_a_date_a_file_writes_follows_the_one_date_rule(text, message):
    with pytest.raises(IdentityValueError) as raised:
        date_from_text(text, label="date_of_birth")
    assert raised.value.message == message


# --- Sensitive services ----------------------------------------------------------------


SENSITIVE_SERVICES = [ServiceType.SEXUAL_HEALTH, ServiceType.MENTAL_HEALTH, ServiceType.SUBSTANCE_MISUSE]


@pytest.mark.parametrize("service", SENSITIVE_SERVICES)
def test_a_sensitive_service_is_sensitive_whoever_records_it(service):
    assert involvement_sensitivity(service_type=service) == service
    assert involvement_sensitivity(service_type=service, organisation_sensitive_service="") == service
    # The service decides: a mental health trust's worker in a sexual health clinic is sexual health.
    assert (
        involvement_sensitivity(service_type=service, organisation_sensitive_service=SensitiveCategory.MENTAL_HEALTH)
        == service
    )


def test_an_ordinary_service_takes_the_organisations_flag():
    assert involvement_sensitivity(service_type=ServiceType.HEALTH_VISITING) == ""
    assert (
        involvement_sensitivity(
            service_type=ServiceType.HEALTH_VISITING, organisation_sensitive_service=SensitiveCategory.MENTAL_HEALTH
        )
        == SensitiveCategory.MENTAL_HEALTH
    )


def test_every_sensitive_category_is_a_service_of_its_own():
    assert {c.value for c in SensitiveCategory if c.value} <= set(ServiceType.values)


def test_an_unknown_organisation_flag_is_refused():
    error = refusal(involvement_sensitivity, service_type=ServiceType.GP, organisation_sensitive_service="gambling")
    assert (error.field, error.message) == ("service_type", SENSITIVE_UNKNOWN)


# --- Register IDs ----------------------------------------------------------------------


def test_register_ids_are_random_and_well_formed():
    ids = {register_id_generate() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(REGISTER_ID_PATTERN, value) for value in ids)
