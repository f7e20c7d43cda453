"""The nickname table, read from registry/matching/nicknames.csv once at import."""

import pytest

from registry.matching.nicknames import (
    NICKNAME_GROUPS,
    NicknameTableError,
    given_names_are_variants,
    nickname_groups_read,
)

# The groups the table held while it was a Python literal (before it became a data file).
GROUPS_BEFORE_THE_DATA_FILE = 428


def test_the_data_file_gives_the_groups_the_literal_gave():
    assert len(NICKNAME_GROUPS) == GROUPS_BEFORE_THE_DATA_FILE
    assert given_names_are_variants("trev", "trevor")
    assert given_names_are_variants("bill", "william")
    assert given_names_are_variants("liam", "william")
    assert given_names_are_variants("mohammed", "muhammad")
    assert not given_names_are_variants("alexander", "alexandra")
    assert {"trevor", "trev"} <= next(group for group in NICKNAME_GROUPS if "trevor" in group)


def test_the_reader_skips_comments_and_blank_rows():
    groups = nickname_groups_read(["# boys", "", "william,bill,will", "  # girls", "margaret,maggie,peggy"])
    assert groups == (frozenset({"william", "bill", "will"}), frozenset({"margaret", "maggie", "peggy"}))


@pytest.mark.parametrize(
    ("row", "problem"),
    [("William,Bill", "not normalised: William"), ("zoë,zoe", "not normalised: zoë"), ("william", "at least two")],
)
def test_a_malformed_row_stops_the_load_with_where_it_is(row, problem):
    with pytest.raises(NicknameTableError, match=problem) as raised:
        nickname_groups_read(["anne,annie", row])
    assert "group 2" in str(raised.value)
