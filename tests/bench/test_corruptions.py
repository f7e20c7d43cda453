"""The benchmark's error model (bench/corruptions.py) makes the errors it is named after:
a figure reported per corruption type means something only if each type is that error."""

import datetime
import random

import corruptions
import pytest

NAMES = ["Smith", "Philips", "Jackson", "Hammond", "Knight", "Wright", "Macdonald", "Van der Berg", "O'Neill-Smith"]
EARLIEST, LATEST = datetime.date(2009, 12, 1), datetime.date(2026, 11, 30)
TRIES = 200


def _differences(first: str, second: str) -> list[int]:
    return [index for index, (a, b) in enumerate(zip(first, second, strict=True)) if a != b]


@pytest.mark.parametrize("name", NAMES)
def test_a_keyboard_typo_is_one_letter_replaced_by_a_key_next_to_it(name):
    rng = random.Random(1)
    for _ in range(TRIES):
        typed = corruptions.keyboard_typo(name, rng)
        assert typed is not None
        [index] = _differences(name, typed)
        assert typed[index].lower() in corruptions.KEYBOARD_NEIGHBOURS[name[index].lower()]
        assert corruptions.name_change_type(name, typed) == "keyboard_typo"


def test_keyboard_neighbours_are_the_keys_touching_on_a_qwerty_keyboard():
    assert set(corruptions.KEYBOARD_NEIGHBOURS["a"]) == set("qwsz")
    assert set(corruptions.KEYBOARD_NEIGHBOURS["g"]) == set("fhtybv")
    assert set(corruptions.KEYBOARD_NEIGHBOURS["m"]) == set("njk")


def test_an_ocr_error_replaces_characters_a_scanner_confuses():
    rng = random.Random(2)
    seen = {corruptions.ocr_error("Hammond", rng) for _ in range(TRIES)}
    # "m" read as "rn" (either m), "d" as "cl", "o" as "0", "a" as "o", "n" as "ri".
    assert {"Harnmond", "Hamrnond", "Hammoncl", "Hamm0nd", "Hommond", "Hammorid"} <= seen
    for typed in seen:
        assert corruptions.name_change_type("Hammond", typed) == "ocr_error"
    assert corruptions.ocr_error("Barnes", random.Random(3)) is not None  # "rn" read back as "m" too
    assert "Bames" in {corruptions.ocr_error("Barnes", rng) for _ in range(TRIES)}


@pytest.mark.parametrize(
    ("name", "variant"),
    [("Philips", "Filips"), ("Knight", "Night"), ("Jackson", "Jakson"), ("Wright", "Right"), ("Thompson", "Tompson")],
)
def test_a_phonetic_error_spells_the_name_as_it_sounds(name, variant):
    rng = random.Random(4)
    seen = {corruptions.phonetic_error(name, rng) for _ in range(TRIES)}
    assert variant in seen or name == "Thompson"
    for typed in seen:
        assert typed is not None and typed.lower() != name.lower()
        # A one-letter rule is named by its edit, and s/z are neighbours on the keyboard too.
        assert corruptions.name_change_type(name, typed) in ("phonetic_error", "character_deleted",
                                                             "character_inserted", "keyboard_typo")  # fmt: skip


def test_a_phonetic_rule_for_the_start_of_a_name_is_not_applied_elsewhere():
    rng = random.Random(5)
    # "kn" at the start is heard as "n"; inside "Deakne" it is not a rule.
    assert all(corruptions.phonetic_error("Deakne", rng) != "Deane" for _ in range(TRIES))


@pytest.mark.parametrize("name", NAMES)
def test_character_edits_insert_delete_transpose_and_substitute_exactly_one(name):
    rng = random.Random(6)
    for _ in range(TRIES):
        inserted = corruptions.character_inserted(name, rng)
        assert len(inserted) == len(name) + 1
        assert any(inserted[:i] + inserted[i + 1 :] == name for i in range(len(inserted)))
        deleted = corruptions.character_deleted(name, rng)
        assert deleted is not None and len(deleted) == len(name) - 1
        assert any((name[:i] + name[i + 1 :]).lower() == deleted.lower() for i in range(len(name)))
        transposed = corruptions.characters_transposed(name, rng)
        assert transposed is not None
        first, second = _differences(name.lower(), transposed.lower())
        assert second == first + 1 and transposed.lower()[first] == name.lower()[second]
        substituted = corruptions.character_substituted(name, rng)
        assert substituted is not None and len(_differences(name, substituted)) == 1
    assert corruptions.name_change_type("Smith", "Smiith") == "character_inserted"
    assert corruptions.name_change_type("Smith", "Smth") == "character_deleted"
    assert corruptions.name_change_type("Smith", "Smtih") == "characters_transposed"
    assert corruptions.name_change_type("Smith", "Smxth") == "character_substituted"


def test_a_space_change_runs_words_together_or_splits_one():
    rng = random.Random(7)
    assert {corruptions.space_changed("Van der Berg", rng) for _ in range(TRIES)} == {"Vander Berg", "Van derBerg"}
    assert corruptions.space_changed("O'Neill-Smith", rng) == "O'NeillSmith"
    split = corruptions.space_changed("Macdonald", rng)
    assert split is not None and split.replace(" ", "") == "Macdonald" and split.count(" ") == 1
    assert corruptions.name_change_type("Macdonald", split) == "space_changed"


def test_date_errors_change_only_the_day_the_month_or_the_year():
    rng = random.Random(8)
    born = datetime.date(2015, 3, 14)
    for _ in range(TRIES):
        day = corruptions.day_wrong(born, rng, earliest=EARLIEST, latest=LATEST)
        assert day is not None and (day.year, day.month) == (2015, 3) and day.day != 14
        month = corruptions.month_wrong(born, rng, earliest=EARLIEST, latest=LATEST)
        assert month is not None and (month.year, month.day) == (2015, 14) and month.month != 3
        year = corruptions.year_wrong(born, rng, earliest=EARLIEST, latest=LATEST)
        assert year is not None and (year.month, year.day) == (3, 14) and abs(year.year - 2015) in (1, 2)
        misread = corruptions.date_ocr_error(born, rng, earliest=EARLIEST, latest=LATEST)
        assert misread is not None and misread != born
    assert corruptions.date_change_type(born, datetime.date(2015, 3, 27)) == "dob_day_wrong"
    assert corruptions.date_change_type(born, datetime.date(2015, 11, 14)) == "dob_month_wrong"
    assert corruptions.date_change_type(born, datetime.date(2013, 3, 14)) == "dob_year_wrong"
    assert corruptions.date_change_type(born, datetime.date(2015, 3, 17)) == "dob_digit_typo"
    assert corruptions.date_change_type(born, datetime.date(1987, 8, 2)) == "dob_replaced"


def test_day_and_month_swap_only_when_the_day_could_be_a_month():
    assert corruptions.day_month_swapped(datetime.date(2015, 3, 9)) == datetime.date(2015, 9, 3)
    assert corruptions.day_month_swapped(datetime.date(2015, 3, 14)) is None
    assert corruptions.date_change_type(datetime.date(2015, 3, 9), datetime.date(2015, 9, 3)) == "dob_day_month_swap"


def test_date_errors_never_give_a_date_in_the_future_or_before_the_register():
    rng = random.Random(9)
    newborn = LATEST - datetime.timedelta(days=3)
    for _ in range(TRIES):
        for error in corruptions.DATE_ERRORS.values():
            typed = error(newborn, rng, earliest=EARLIEST, latest=LATEST)
            assert typed is None or EARLIEST <= typed <= LATEST


def test_a_name_far_from_the_registered_one_is_named_a_replacement():
    assert corruptions.name_change_type("Smith", "Okafor") == "name_replaced"
    assert corruptions.name_change_type("Smith", "") == "missing"
    assert corruptions.name_change_type("Smith", "SMITH") is None
    assert corruptions.date_change_type(datetime.date(2015, 3, 9), None, "") == "dob_missing"
    assert corruptions.date_change_type(datetime.date(2015, 3, 9), None, "20150230") == "dob_not_a_date"
