"""FEBRL does not say which errors it put in a duplicate: the benchmark names them by
comparing the duplicate with its original, and reports its figures by those names."""

import datetime

import febrl
import pytest

ORIGINAL = febrl.FebrlRecord(
    rec_id="rec-7-org", number=7, original=True, given="james", family="hammond", date_text="19620309"
)


def duplicate(**changes: str) -> febrl.FebrlRecord:
    values = {"given": "james", "family": "hammond", "date_text": "19620309", **changes}
    return febrl.FebrlRecord(rec_id="rec-7-dup-0", number=7, original=False, **values)


@pytest.mark.parametrize(
    ("changes", "types"),
    [
        ({}, ()),
        ({"family": "hamnond"}, ("keyboard_typo",)),
        ({"family": "harnmond"}, ("ocr_error",)),
        ({"given": "jmaes"}, ("characters_transposed",)),
        ({"given": "", "date_text": "19620903"}, ("given_name_missing", "dob_day_month_swap")),
        ({"given": "hammond", "family": "james"}, ("swapped_names",)),
        ({"family": "okafor"}, ("family_name_replaced",)),
        ({"date_text": "19620307"}, ("dob_digit_typo",)),
        ({"date_text": "19640309"}, ("dob_year_wrong",)),
        ({"date_text": "19870802"}, ("dob_replaced",)),
        ({"date_text": "19620230"}, ("dob_not_a_date",)),
        ({"date_text": ""}, ("dob_missing",)),
    ],
)
def test_each_duplicate_is_named_by_what_febrl_changed(changes, types):
    assert febrl._corruption_types(ORIGINAL, duplicate(**changes)) == types


def test_the_held_out_acceptance_set_is_never_a_corpus():
    assert not set(febrl.CORPORA.values()) & set(febrl.HELD_OUT)
    assert febrl._date("19620309") == datetime.date(1962, 3, 9)


def test_an_australian_postcode_becomes_the_same_uk_postcode_with_its_errors_kept():
    def uk(australian: str) -> str:
        return febrl.uk_postcode(australian, outward_codes=["LS6", "M1", "N13", "SW2"], inward_letters="ABDEF")

    assert uk("2617") == uk("2617")
    assert uk("") == ""
    # A typo in the last digit stays in the district; the postcode itself differs.
    assert uk("2617").split()[0] == uk("2619").split()[0]
    assert len({uk(f"261{digit}") for digit in range(10)}) > 1
    assert {uk(f"{first}617").split()[0] for first in range(10)} != {uk("2617").split()[0]}
