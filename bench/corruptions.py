"""The error model of the record-linkage literature, for bench/search_quality.py: each
function writes a name or a date of birth down wrongly in one named way, and
`change_types` names the ways a typed record differs from the registered one.

Sources (docs/search.md, "The error model", cites them per rule):
- FEBRL's data generator: P. Christen, "Probabilistic data generation for deduplication
  and data linkage", IDEAL 2005, and the FEBRL manual's generate.py, whose modifications
  per field are: insert, delete, substitute and transpose a character, insert or delete a
  space, swap words, replace the value by another from a look-up table, make it missing,
  and swap two fields.
- GeCo, FEBRL's successor: P. Christen and D. Vatsalan, "Flexible and extensible
  generation and corruption of personal data", CIKM 2013. Its corruptors are
  CorruptValueEdit (insert/delete/substitute/transpose), CorruptValueKeyboard (a key next
  to the intended one on a QWERTY keyboard, in its row or its column), CorruptValueOCR and
  CorruptValuePhonetic (variations from look-up files: ocr-variations.csv and
  phonetic-variations.csv, the latter after the Phonix rules of T. Gadd, 1990),
  CorruptCategoricalValue (another value of the same attribute) and CorruptMissingValue.

The OCR and phonetic lists below are written here after those kinds of rule (the pairs
the literature names: rn/m, cl/d, vv/w, ph/f, ck/k, a silent letter at the start or the
end, ...); they are not a copy of GeCo's files.

Everything here is plain Python with no Django, so that tests can check each function.
"""

import datetime
import difflib
import random
import re
from collections.abc import Callable

# --- Keyboard: a key next to the intended one (GeCo CorruptValueKeyboard) ------------------

QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _qwerty_neighbours() -> dict[str, str]:
    """Each letter's neighbours on a QWERTY keyboard: left and right in its row, and the
    two keys touching it in the row above and the row below (rows are staggered by half a
    key: "a" touches "q", "w" above and "z" below)."""
    neighbours: dict[str, str] = {}
    for row_number, row in enumerate(QWERTY_ROWS):
        for column, key in enumerate(row):
            near: list[str] = []
            for other_row, columns in ((row_number, (column - 1, column + 1)),
                                       (row_number - 1, (column, column + 1)),
                                       (row_number + 1, (column - 1, column))):  # fmt: skip
                if 0 <= other_row < len(QWERTY_ROWS):
                    near += [QWERTY_ROWS[other_row][c] for c in columns if 0 <= c < len(QWERTY_ROWS[other_row])]
            neighbours[key] = "".join(near)
    return neighbours


KEYBOARD_NEIGHBOURS = _qwerty_neighbours()

# --- OCR: characters a reader of a scanned form confuses (GeCo CorruptValueOCR) -------------
# (as written, as read); each is used in both directions.
OCR_CONFUSIONS = [
    ("m", "rn"), ("w", "vv"), ("d", "cl"), ("h", "li"), ("u", "ii"), ("n", "ri"), ("e", "c"),
    ("g", "q"), ("o", "0"), ("l", "1"), ("i", "1"), ("s", "5"), ("b", "8"), ("z", "2"), ("a", "o"),
]  # fmt: skip
# Digits confused on a scanned date of birth.
OCR_DIGIT_CONFUSIONS = [("1", "7"), ("3", "8"), ("5", "6"), ("0", "8"), ("6", "8"), ("4", "9"), ("0", "6")]

# --- Phonetic: spelt as heard (GeCo CorruptValuePhonetic, after Gadd's Phonix rules) --------
# (where: "start", "end" or "any", the spelling, the spelling heard); used in both
# directions where the reverse is also a way of writing the sound.
PHONETIC_SUBSTITUTIONS = [
    ("any", "ph", "f"), ("any", "ck", "k"), ("any", "dg", "g"), ("any", "tch", "ch"), ("any", "sch", "sh"),
    ("any", "cq", "k"), ("any", "qu", "kw"), ("any", "x", "ks"), ("any", "gh", "g"), ("any", "ght", "t"),
    ("any", "ough", "off"), ("any", "augh", "arf"), ("any", "ee", "ea"), ("any", "ey", "ay"), ("any", "ai", "ay"),
    ("any", "ou", "ow"), ("any", "oo", "u"), ("any", "ie", "y"), ("any", "c", "k"), ("any", "z", "s"),
    ("any", "v", "w"), ("start", "kn", "n"), ("start", "wr", "r"), ("start", "wh", "w"), ("start", "ps", "s"),
    ("start", "pn", "n"), ("start", "gn", "n"), ("start", "ch", "k"), ("end", "mb", "m"), ("end", "gn", "n"),
    ("end", "y", "ie"), ("end", "e", ""), ("end", "son", "sen"), ("end", "ck", "c"),
]  # fmt: skip

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _with_case_of(original: str, changed: str) -> str:
    """Changed text with the original's capital first letter, if it had one."""
    if original[:1].isupper() and changed[:1].isalpha():
        return changed[:1].upper() + changed[1:]
    return changed


def _letter_positions(name: str) -> list[int]:
    return [index for index, character in enumerate(name) if character.isalpha()]


def keyboard_typo(name: str, rng: random.Random) -> str | None:
    """One letter replaced by a key next to it on a QWERTY keyboard ("Smith" -> "Snith")."""
    positions = [index for index in _letter_positions(name) if name[index].lower() in KEYBOARD_NEIGHBOURS]
    if not positions:
        return None
    index = rng.choice(positions)
    replacement = rng.choice(KEYBOARD_NEIGHBOURS[name[index].lower()])
    if name[index].isupper():
        replacement = replacement.upper()
    return name[:index] + replacement + name[index + 1 :]


def _substitute_one(name: str, rng: random.Random, pairs: list[tuple[str, str]]) -> str | None:
    """One occurrence of a pair's one side replaced by its other side, case-blind."""
    lowered = name.lower()
    options = [
        (match.start(), match.end(), replacement)
        for first, second in pairs
        for seen, replacement in ((first, second), (second, first))
        for match in re.finditer(re.escape(seen), lowered)
    ]
    if not options:
        return None
    start, end, replacement = rng.choice(options)
    return _with_case_of(name, lowered[:start] + replacement + lowered[end:])


def ocr_error(name: str, rng: random.Random) -> str | None:
    """Characters a scanner misreads: "Hammond" -> "Harnrnond" is two; this makes one
    ("Hamrnond"), in either direction ("rn" read as "m" too)."""
    return _substitute_one(name, rng, OCR_CONFUSIONS)


def phonetic_error(name: str, rng: random.Random) -> str | None:
    """The name spelt as it sounds by one rule ("Philips" -> "Filips", "Knight" -> "Night",
    "Jackson" -> "Jakson"); None if no rule applies."""
    lowered = name.lower()
    options: list[tuple[int, int, str]] = []
    for where, spelling, heard in PHONETIC_SUBSTITUTIONS:
        for seen, replacement in ((spelling, heard), (heard, spelling)):
            if not seen:
                continue
            if where == "start":
                if lowered.startswith(seen):
                    options.append((0, len(seen), replacement))
            elif where == "end":
                if lowered.endswith(seen) and len(lowered) > len(seen) + 1:
                    options.append((len(lowered) - len(seen), len(lowered), replacement))
            else:
                options += [(m.start(), m.end(), replacement) for m in re.finditer(re.escape(seen), lowered)]
            if where != "any":
                break  # a position rule is not reversed: "Nigh" is not written "Knigh"
    options = [option for option in options if lowered[: option[0]] + option[2] + lowered[option[1] :] != lowered]
    if not options:
        return None
    start, end, replacement = rng.choice(options)
    changed = lowered[:start] + replacement + lowered[end:]
    return _with_case_of(name, changed) if len(changed.replace(" ", "")) >= 2 else None


def character_inserted(name: str, rng: random.Random) -> str:
    """A letter typed twice or one too many ("Smith" -> "Smiith", "Smoith")."""
    index = rng.randrange(1, len(name) + 1)
    letter = name[index - 1].lower() if rng.random() < 0.5 and name[index - 1].isalpha() else rng.choice(LETTERS)
    return name[:index] + letter + name[index:]


def character_deleted(name: str, rng: random.Random) -> str | None:
    """A letter left out ("Smith" -> "Smth"); not for names of two letters."""
    positions = _letter_positions(name)
    if len(positions) < 3:
        return None
    index = rng.choice(positions)
    return _with_case_of(name, name[:index] + name[index + 1 :])


def characters_transposed(name: str, rng: random.Random) -> str | None:
    """Two neighbouring letters the wrong way round ("Smith" -> "Smtih")."""
    positions = [
        index
        for index in range(len(name) - 1)
        if name[index].isalpha() and name[index + 1].isalpha() and name[index].lower() != name[index + 1].lower()
    ]
    if not positions:
        return None
    index = rng.choice(positions)
    swapped = name[:index] + name[index + 1] + name[index] + name[index + 2 :]
    return _with_case_of(name, swapped.lower() if index == 0 else swapped)


def character_substituted(name: str, rng: random.Random) -> str | None:
    """One letter replaced by any other ("Smith" -> "Smxth")."""
    positions = _letter_positions(name)
    if not positions:
        return None
    index = rng.choice(positions)
    replacement = rng.choice([letter for letter in LETTERS if letter != name[index].lower()])
    return name[:index] + (replacement.upper() if name[index].isupper() else replacement) + name[index + 1 :]


def space_changed(name: str, rng: random.Random) -> str | None:
    """Words run together or split (FEBRL's space insertion and deletion): "Van der Berg"
    -> "Vander Berg", "O'Neill-Smith" -> "O'NeillSmith", "Macdonald" -> "Mac donald"."""
    gaps = [index for index, character in enumerate(name) if character in " -"]
    if gaps:
        index = rng.choice(gaps)
        return name[:index] + name[index + 1 :]
    if len(name) < 5:
        return None
    index = rng.randrange(2, len(name) - 2)
    return name[:index] + " " + name[index:]


NAME_ERRORS: dict[str, Callable[[str, random.Random], str | None]] = {
    "keyboard_typo": keyboard_typo,
    "ocr_error": ocr_error,
    "phonetic_error": phonetic_error,
    "character_inserted": character_inserted,
    "character_deleted": character_deleted,
    "characters_transposed": characters_transposed,
    "character_substituted": character_substituted,
    "space_changed": space_changed,
}


# --- Dates of birth ------------------------------------------------------------------------


def _real(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _within(date: datetime.date | None, earliest: datetime.date, latest: datetime.date) -> datetime.date | None:
    # A date in the future, or before anyone on the register was born, is refused by the
    # form or noticed by the practitioner.
    return date if date is not None and earliest <= date <= latest else None


def day_wrong(
    date: datetime.date, rng: random.Random, *, earliest: datetime.date, latest: datetime.date
) -> datetime.date | None:
    """Another day of the same month and year ("a different day altogether")."""
    days = [day for day in range(1, 32) if day != date.day and _real(date.year, date.month, day)]
    return _within(date.replace(day=rng.choice(days)), earliest, latest)


def month_wrong(
    date: datetime.date, rng: random.Random, *, earliest: datetime.date, latest: datetime.date
) -> datetime.date | None:
    """Another month, the same day and year (None if the day does not exist in it)."""
    month = rng.choice([month for month in range(1, 13) if month != date.month])
    return _within(_real(date.year, month, date.day), earliest, latest)


def year_wrong(
    date: datetime.date, rng: random.Random, *, earliest: datetime.date, latest: datetime.date
) -> datetime.date | None:
    """The year off by one or two, day and month right."""
    return _within(_real(date.year + rng.choice([-2, -1, 1, 2]), date.month, date.day), earliest, latest)


def day_month_swapped(date: datetime.date) -> datetime.date | None:
    """Day and month the wrong way round (only possible when the day is 12 or less)."""
    if date.day > 12 or date.day == date.month:
        return None
    return datetime.date(date.year, date.day, date.month)


def date_ocr_error(
    date: datetime.date, rng: random.Random, *, earliest: datetime.date, latest: datetime.date
) -> datetime.date | None:
    """One digit of DDMMYYYY misread as a digit of like shape (1/7, 3/8, 5/6...)."""
    digits = f"{date.day:02d}{date.month:02d}{date.year:04d}"
    options = [
        (index, replacement)
        for index, digit in enumerate(digits)
        for first, second in OCR_DIGIT_CONFUSIONS
        for seen, replacement in ((first, second), (second, first))
        if digit == seen
    ]
    rng.shuffle(options)
    for index, replacement in options:
        typed = digits[:index] + replacement + digits[index + 1 :]
        changed = _within(_real(int(typed[4:]), int(typed[2:4]), int(typed[:2])), earliest, latest)
        if changed:
            return changed
    return None


DATE_ERRORS: dict[str, Callable[..., datetime.date | None]] = {
    "dob_day_wrong": day_wrong,
    "dob_month_wrong": month_wrong,
    "dob_year_wrong": year_wrong,
    "dob_ocr_error": date_ocr_error,
}


# --- Naming the differences between what was registered and what was typed ----------------


def _one_edit(registered: str, typed: str) -> str | None:
    """The kind of a single-character difference, or None if it is not one."""
    if len(typed) == len(registered) + 1:
        return next(("character_inserted" for i in range(len(typed)) if typed[:i] + typed[i + 1 :] == registered), None)
    if len(typed) == len(registered) - 1:
        return next(
            ("character_deleted" for i in range(len(registered)) if registered[:i] + registered[i + 1 :] == typed),
            None,
        )
    if len(typed) != len(registered):
        return None
    differ = [index for index in range(len(typed)) if typed[index] != registered[index]]
    if len(differ) == 1:
        was, now = registered[differ[0]], typed[differ[0]]
        if now in KEYBOARD_NEIGHBOURS.get(was, ""):
            return "keyboard_typo"
        if (was, now) in OCR_CONFUSIONS or (now, was) in OCR_CONFUSIONS:
            return "ocr_error"
        if {(was, now), (now, was)} & {(spelling, heard) for _, spelling, heard in PHONETIC_SUBSTITUTIONS}:
            return "phonetic_error"
        return "character_substituted"
    if len(differ) == 2 and differ[1] == differ[0] + 1:
        i, j = differ
        if typed[i] == registered[j] and typed[j] == registered[i]:
            return "characters_transposed"
    return None


def _by_substitution(registered: str, typed: str, pairs: list[tuple[str, str]]) -> bool:
    for first, second in pairs:
        for seen, replacement in ((first, second), (second, first)):
            for match in re.finditer(re.escape(seen), registered):
                if registered[: match.start()] + replacement + registered[match.end() :] == typed:
                    return True
    return False


def name_change_type(registered: str, typed: str) -> str | None:
    """How a typed name differs from the registered one, in the error model's words;
    None if only case differs. A keyboard slip or a transposition is named so; then a
    difference one OCR or phonetic rule explains ("Jacksen": son/sen); then a single
    inserted, deleted or substituted character; a difference no
    single rule explains is "name_replaced" when the two are far apart (difflib's ratio
    under 0.5: "Smith" and "Okafor"), else "several_edits"."""
    was, now = registered.strip().lower(), typed.strip().lower()
    if was == now:
        return None
    if not now:
        return "missing"
    if was.replace(" ", "").replace("-", "") == now.replace(" ", "").replace("-", ""):
        return "space_changed"
    single = _one_edit(was, now)
    if single in ("keyboard_typo", "characters_transposed", "ocr_error", "phonetic_error"):
        return single
    if _by_substitution(was, now, OCR_CONFUSIONS):
        return "ocr_error"
    if _by_substitution(was, now, [(spelling, heard) for _, spelling, heard in PHONETIC_SUBSTITUTIONS]):
        return "phonetic_error"
    if single:
        return single
    return "name_replaced" if difflib.SequenceMatcher(None, was, now).ratio() < 0.5 else "several_edits"


def date_change_type(registered: datetime.date, typed: datetime.date | None, typed_text: str = "x") -> str | None:
    """How a typed date of birth differs from the registered one; None if it does not.
    `typed_text` empty means nothing was typed; `typed` None with text means not a real date."""
    if typed is None:
        return "dob_missing" if not typed_text else "dob_not_a_date"
    if typed == registered:
        return None
    if day_month_swapped(registered) == typed:
        return "dob_day_month_swap"
    parts = [
        name
        for name, was, now in (
            ("day", registered.day, typed.day),
            ("month", registered.month, typed.month),
            ("year", registered.year, typed.year),
        )
        if was != now
    ]
    was_digits = f"{registered.day:02d}{registered.month:02d}{registered.year:04d}"
    now_digits = f"{typed.day:02d}{typed.month:02d}{typed.year:04d}"
    if sum(a != b for a, b in zip(was_digits, now_digits, strict=True)) == 1 and parts != ["year"]:
        return "dob_digit_typo"
    if len(parts) == 1:
        return f"dob_{parts[0]}_wrong"
    return "dob_replaced"
