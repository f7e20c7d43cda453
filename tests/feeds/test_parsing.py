import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.models import EventType
from feeds.parsing import (
    BIRTH_COLUMNS,
    DEATH_COLUMNS,
    HeaderRefused,
    OutOfScope,
    Quarantine,
    Record,
    header_columns,
    header_event_type,
    parse_line,
)
from registry.identity import NHS_NUMBER_CHECK_DIGIT
from tests.factories import nhs_number_for
from tests.feeds.factories_feeds import birth_row, death_row, versioned_death_row

TODAY = datetime.date(2026, 11, 23)
BORN_AFTER = datetime.date(2007, 11, 23)


def parse(line: str | bytes, event_type: str = EventType.DEATH):
    raw = line.encode() if isinstance(line, str) else line
    return parse_line(event_type=event_type, line_number=7, raw=raw, today=TODAY, born_after=BORN_AFTER)


def test_a_well_formed_death_is_read_with_its_natural_key_and_normalised_fields():
    record = parse(death_row(nhs_number=nhs_number_for(1), postcode="sw1a1aa", sex="f"))
    assert isinstance(record, Record)
    assert record.natural_key == ("death", "Westminster", "1", 2026)
    assert record.details["postcode"] == "SW1A 1AA"
    assert record.details["sex"] == "female"
    assert record.date_of_death == datetime.date(2026, 11, 1)
    assert len(record.content_sha256) == 64


def test_day_month_year_dates_are_accepted_too():
    record = parse(death_row(date_of_birth="12/04/2019"))
    assert isinstance(record, Record)
    assert record.date_of_birth == datetime.date(2019, 4, 12)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (death_row(date_of_birth="2019-02-30"), "date_of_birth must be a real date"),
        (death_row(date_of_death="yesterday"), "date_of_death is not a date in the form YYYY-MM-DD"),
        (death_row(date_of_death="2026-12-25"), "date_of_death is in the future"),
        (death_row(date_of_birth="2020-01-01", date_of_death="2019-12-31"), "date_of_death is before date_of_birth"),
        (death_row(registration_date="2026-10-01"), "registration_date is before the date of death"),
        (death_row(nhs_number="9434765918"), f"nhs_number: {NHS_NUMBER_CHECK_DIGIT}"),
        (death_row(surname=""), "surname is missing"),
        (death_row(entry_number=""), "entry_number is missing"),
        (death_row(date_of_death=""), "date_of_death is missing"),
        (death_row(record_status="amended"), "record_status must be registered, corrected or cancelled"),
        (death_row(sex="X"), "sex: Sex must be female, male, indeterminate or not known (F, M, I or U)"),
        (death_row().replace(",registered", ""), "wrong number of columns: 14, expected 15"),
        (death_row().rstrip("\n") + ",extra\n", "wrong number of columns: 16, expected 15"),
        ("\n", "empty line"),
        (death_row(forenames="A" * 101), "forenames is longer than 100 characters"),
    ],
)
def test_each_malformed_row_is_quarantined_with_its_line_number_and_reason(line, reason):
    assert parse(line) == Quarantine(7, reason)


def test_undecodable_bytes_are_quarantined():
    assert parse(death_row(forenames="Zoë").encode("latin-1")) == Quarantine(
        7, "contains bytes that are not UTF-8 text"
    )


def test_a_birth_whose_mother_was_born_after_the_baby_is_quarantined():
    line = birth_row(mother_date_of_birth="2026-11-03")
    assert parse(line, EventType.BIRTH) == Quarantine(7, "mother_date_of_birth is not before the child's date_of_birth")


def test_someone_born_too_long_ago_is_out_of_scope_before_anything_else_is_checked():
    # Deaths of adults are most of the file: skipped on the date of birth alone.
    assert parse(death_row(date_of_birth="1950-01-01", nhs_number="123")) == OutOfScope(7)
    assert isinstance(parse(death_row(date_of_birth="2007-11-24")), Record)


def test_headers_name_the_file_type_and_anything_else_is_refused():
    assert header_event_type(b"\xef\xbb\xbf" + ",".join(DEATH_COLUMNS).encode() + b"\r\n") == "death"
    assert header_event_type(b"Registration_District, " + ",".join(BIRTH_COLUMNS[1:]).encode()) == "birth"
    with pytest.raises(HeaderRefused):
        header_event_type(b"name,date_of_birth\n")
    with pytest.raises(HeaderRefused):
        header_event_type(b"\xff\xfe")


def test_the_optional_version_column_orders_versions_and_is_not_content():
    assert header_columns(",".join((*DEATH_COLUMNS, "version")).encode()) == ("death", True)
    assert header_columns(",".join(BIRTH_COLUMNS).encode()) == ("birth", False)

    def versioned(version):
        raw = versioned_death_row(version).encode()
        return parse_line(
            event_type=EventType.DEATH, line_number=7, raw=raw, today=TODAY, born_after=BORN_AFTER, with_version=True
        )

    assert versioned("02").version == 2
    assert versioned("").version is None  # optional on each row too
    # The same details under another version number are the same content (a duplicate).
    assert versioned(3).content_sha256 == versioned(4).content_sha256 == parse(death_row()).content_sha256
    for bad in ("0", "two", "-1", "1.5", "1000000"):
        assert versioned(bad) == Quarantine(7, "version must be a whole number from 1 to 999999, or blank")
    # A file without the column: a row with one more value has the wrong number of columns.
    assert isinstance(parse(versioned_death_row(1)), Quarantine)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_are_read_or_quarantined_or_skipped_and_nothing_crashes(raw):
    assert isinstance(parse(raw), Record | Quarantine | OutOfScope)


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries(dict.fromkeys(DEATH_COLUMNS, _text)))
def test_any_row_of_the_right_shape_is_read_or_quarantined_never_raises(values):
    result = parse(death_row(**values))
    assert isinstance(result, Record | Quarantine | OutOfScope)
    if isinstance(result, Quarantine):
        assert result.line_number == 7 and result.reason


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=datetime.date(2008, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=4000),
    st.integers(min_value=0, max_value=999),
)
def test_valid_rows_are_always_read(born, days_lived, n):
    died = min(born + datetime.timedelta(days=days_lived), TODAY)
    line = death_row(date_of_birth=born, date_of_death=died, registration_date=TODAY, nhs_number=nhs_number_for(n))
    assert isinstance(parse(line), Record)
