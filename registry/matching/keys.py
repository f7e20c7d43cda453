"""Matching keys stored with every name, and the comparisons search ranks candidates by.

Keys are computed in Python (jellyfish) on write and on search, never by the database, so
that SQLite and PostgreSQL agree exactly (their metaphones differ on Leigh, Knight, Wright,
Ghosh and Hughes). Keys only find candidates; rapidfuzz's Jaro-Winkler similarity and the
nickname table (registry.matching.nicknames) then decide how well each candidate agrees.
"""

import datetime
import enum
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from rapidfuzz.distance import OSA, JaroWinkler

from registry.matching.nicknames import given_names_are_variants

# Words that belong to the part after them: "O Neill", "Mac Giolla Phadraig", "van der Berg".
# Read together they make one part, so that "Ó Briain" and "O'Brien" share a key.
SURNAME_PARTICLES = frozenset(
    {
        "o", "mc", "mac", "de", "da", "di", "du", "del", "della", "der", "den", "van", "von", "la", "le", "st",
        "ap", "ab", "al", "el", "bin", "ben", "ibn", "bint", "ni", "nic", "ui", "ter", "ten",
    }
)  # fmt: skip


def name_normalise(value: str) -> str:
    """Lower case, accents removed, apostrophes dropped, other punctuation to spaces:
    "Zoë O'Neill-Smith" -> "zoe oneill smith"."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    without_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    lowered = without_accents.casefold().replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", lowered).split())


def _phonetic(normalised: str) -> str:
    # Key each part of a multi-part name and join them: "oneill smith" -> "ONL SM0".
    return " ".join(jellyfish.metaphone(part) for part in normalised.split() if part)


def surname_units(normalised: str) -> tuple[str, ...]:
    """The parts of a normalised family name with particles joined to the word after them:
    "van der berg" -> ("vanderberg",); "smith jones" -> ("smith", "jones")."""
    units: list[str] = []
    pending = ""
    for part in normalised.split():
        if part in SURNAME_PARTICLES:
            pending += part
        else:
            units.append(pending + part)
            pending = ""
    if pending:
        units.append(pending)
    return tuple(units)


@dataclass(frozen=True)
class NameKeys:
    given_names_normalised: str
    family_name_normalised: str
    given_name_phonetic: str
    family_name_phonetic: str
    # Blocking keys (indexed with the date of birth): either half of a double-barrelled
    # name finds the child, and the initials catch misspellings that change the sound.
    family_name_first_phonetic: str
    family_name_last_phonetic: str
    name_initials: str


def name_keys(*, given_names: str, family_name: str) -> NameKeys:
    """The stored keys for one name. Only the first given name is keyed phonetically: it is
    the one people are called by and the one searched for."""
    given = name_normalise(given_names)
    family = name_normalise(family_name)
    first_given = given.split(" ")[0] if given else ""
    units = surname_units(family)
    return NameKeys(
        given_names_normalised=given,
        family_name_normalised=family,
        given_name_phonetic=_phonetic(first_given),
        family_name_phonetic=_phonetic(family),
        family_name_first_phonetic=jellyfish.metaphone(units[0]) if units else "",
        family_name_last_phonetic=jellyfish.metaphone(family.split()[-1]) if family else "",
        name_initials=name_initials(given_normalised=given, family_normalised=family),
    )


def name_initials(*, given_normalised: str, family_normalised: str) -> str:
    """Initial of the family name then of the first given name: ("william", "smith") -> "sw"."""
    return family_normalised[:1] + given_normalised[:1]


def surname_search_keys(*names_normalised: str) -> set[str]:
    """Every phonetic key a searched name could be stored under, as the first or last part
    of a family name: the whole name run together, each part, and each particle-joined part.
    Given names are passed too, so that a child whose names were entered the wrong way
    round is still found."""
    keys: set[str] = set()
    for normalised in names_normalised:
        if not normalised:
            continue
        words = {normalised.replace(" ", ""), *normalised.split(), *surname_units(normalised)}
        keys.update(jellyfish.metaphone(word) for word in words if word)
    keys.discard("")
    return keys


# --- Comparing a searched name with a stored one -----------------------------------------


class FamilyNameAgreement(enum.IntEnum):
    """How well two family names agree, strongest last (so they can be compared)."""

    DIFFERENT = 0
    WEAK = 1  # somewhat alike: enough only with everything else agreeing
    SIMILAR = 2  # a likely misspelling
    PART = 3  # one part of a double-barrelled or multi-part name
    PHONETIC = 4  # spelt differently, sounds the same
    SPACING = 5  # the same letters, spaced or punctuated differently
    EXACT = 6


class GivenNameAgreement(enum.IntEnum):
    MISSING = -1  # nothing searched for, or nothing recorded: no evidence either way
    DIFFERENT = 0
    WEAK = 1
    INITIAL = 2
    SIMILAR = 3
    PHONETIC = 4
    MIDDLE = 5  # the searched name is one of the child's middle names
    NICKNAME = 6  # a short form or another spelling of the same name (registry.matching.nicknames)
    EXACT = 7


# Jaro-Winkler similarities: above the first a name is taken as misspelt, above the second
# as only loosely alike. Chosen on the benchmark (bench/search_quality.py).
FAMILY_SIMILAR = 0.9
FAMILY_WEAK = 0.8
GIVEN_SIMILAR = 0.88
GIVEN_WEAK = 0.78
PHONETIC_SPELLING_MINIMUM = 0.8
PART_SPELLING_MINIMUM = 0.85
# Below this Jaro-Winkler similarity two names can only agree loosely: they neither sound
# the same nor pass for a two-letter misspelling (which needs FAMILY_SIMILAR).
CLEARLY_DIFFERENT = 0.65


@dataclass(frozen=True)
class SurnameProfile:
    normalised: str
    compact: str
    units: tuple[str, ...]
    pieces: frozenset[str]  # units and bare words: the halves a searcher might type
    phonetic: str


@lru_cache(maxsize=65536)
def surname_profile(normalised: str) -> SurnameProfile:
    """Everything the comparison needs about one family name, computed once per name."""
    units = surname_units(normalised)
    compact = normalised.replace(" ", "")
    return SurnameProfile(
        normalised=normalised,
        compact=compact,
        units=units,
        pieces=frozenset(units) | frozenset(word for word in normalised.split() if word not in SURNAME_PARTICLES),
        phonetic=jellyfish.metaphone(compact) if compact else "",
    )


def family_name_compare(searched: SurnameProfile, recorded: SurnameProfile) -> tuple[FamilyNameAgreement, float]:
    """How well the searched family name agrees with a recorded one, and their similarity."""
    if not searched.compact or not recorded.compact:
        return FamilyNameAgreement.DIFFERENT, 0.0
    if searched.normalised == recorded.normalised:
        return FamilyNameAgreement.EXACT, 1.0
    if searched.compact == recorded.compact:
        return FamilyNameAgreement.SPACING, 1.0
    if (len(recorded.units) > 1 and searched.compact in recorded.pieces) or (
        len(searched.units) > 1 and recorded.compact in searched.pieces
    ):
        return FamilyNameAgreement.PART, 0.95
    similarity = JaroWinkler.similarity(searched.compact, recorded.compact)
    sounds_alike = searched.phonetic == recorded.phonetic
    if similarity < CLEARLY_DIFFERENT and not sounds_alike:
        # Most candidates end here, after the few checks that can still succeed.
        return _family_name_loosely(searched, recorded, similarity)
    if sounds_alike and _spelt_alike(searched.compact, recorded.compact, similarity=similarity):
        return FamilyNameAgreement.PHONETIC, max(similarity, 0.9)
    if _misspelling(searched.compact, recorded.compact, similarity=similarity, threshold=FAMILY_SIMILAR):
        return FamilyNameAgreement.SIMILAR, similarity
    if (len(recorded.units) > 1 or len(searched.units) > 1) and _a_part_alike(searched, recorded):
        # "Smyth" for "Smith-Jones": one part sounds the same and is spelt much the same.
        return FamilyNameAgreement.SIMILAR, 0.9
    if (
        similarity >= FAMILY_WEAK
        or sounds_alike
        or _one_typo_apart(searched.compact, recorded.compact, shortest=2)
        or _one_typo_apart(searched.phonetic, recorded.phonetic, shortest=2)
    ):
        return FamilyNameAgreement.WEAK, similarity
    return FamilyNameAgreement.DIFFERENT, similarity


def family_names_clearly_different(searched: SurnameProfile, recorded: SurnameProfile) -> bool:
    """A quick test, for search's candidates: True only where family_name_compare would say
    DIFFERENT. False means "compare them" (most names it lets through are different too).
    Single names not alike by any of family_name_compare's tests: the same sound, one slip
    apart in spelling or in sound, or a Jaro-Winkler similarity of CLEARLY_DIFFERENT."""
    first, second = searched.compact, recorded.compact
    if not first or not second:
        return True
    if len(searched.units) > 1 or len(recorded.units) > 1 or searched.phonetic == recorded.phonetic:
        return False
    # One slip apart needs lengths at most one apart (an OSA distance is at least that).
    if -1 <= len(first) - len(second) <= 1 and _one_typo_apart(first, second, shortest=2):
        return False
    first_sound, second_sound = searched.phonetic, recorded.phonetic
    if -1 <= len(first_sound) - len(second_sound) <= 1 and _one_typo_apart(first_sound, second_sound, shortest=2):
        return False
    return JaroWinkler.similarity(first, second, score_cutoff=CLEARLY_DIFFERENT) < CLEARLY_DIFFERENT


def _family_name_loosely(
    searched: SurnameProfile, recorded: SurnameProfile, similarity: float
) -> tuple[FamilyNameAgreement, float]:
    # Letters swapped in a short name ("Ady" for "Day") leave almost no similarity.
    if _one_typo_apart(searched.compact, recorded.compact, shortest=4):
        return FamilyNameAgreement.SIMILAR, similarity
    if (len(recorded.units) > 1 or len(searched.units) > 1) and _a_part_alike(searched, recorded):
        return FamilyNameAgreement.SIMILAR, 0.9
    if _one_typo_apart(searched.compact, recorded.compact, shortest=2) or _one_typo_apart(
        searched.phonetic, recorded.phonetic, shortest=2
    ):
        return FamilyNameAgreement.WEAK, similarity
    return FamilyNameAgreement.DIFFERENT, similarity


def _a_part_alike(searched: SurnameProfile, recorded: SurnameProfile) -> bool:
    return any(
        jellyfish.metaphone(mine) == jellyfish.metaphone(theirs)
        and JaroWinkler.similarity(mine, theirs) >= PART_SPELLING_MINIMUM
        for mine in searched.units
        for theirs in recorded.units
    )


def _spelt_alike(first: str, second: str, *, similarity: float) -> bool:
    # Metaphone alone is too coarse for short names (White and Wood are both "WT"): the
    # spelling must be close too, as in Fry and Phry or Cox and Kox.
    return similarity >= PHONETIC_SPELLING_MINIMUM or OSA.distance(first, second, score_cutoff=2) <= 2


def _misspelling(first: str, second: str, *, similarity: float, threshold: float) -> bool:
    """Close enough to be the same name mistyped. Jaro-Winkler favours a shared start, so
    a different name that merely begins the same (Harris, Harrison) must also be no more
    than two slips of the keyboard away, and about as long."""
    if _one_typo_apart(first, second, shortest=4):
        return True
    return (
        similarity >= threshold
        and abs(len(first) - len(second)) <= 1
        and OSA.distance(first, second, score_cutoff=2) <= 2
    )


def _one_typo_apart(first: str, second: str, *, shortest: int) -> bool:
    """One letter wrong, missing, added or two swapped, in names of at least `shortest`."""
    if min(len(first), len(second)) < shortest or abs(len(first) - len(second)) > 1:
        return False
    return OSA.distance(first, second, score_cutoff=1) <= 1


@lru_cache(maxsize=65536)
def _given_phonetic(name: str) -> str:
    return jellyfish.metaphone(name) if name else ""


def given_name_compare(searched: str, recorded: str) -> tuple[GivenNameAgreement, float]:
    """How well the searched given names agree with the recorded ones (both normalised).
    The first searched name is the one compared: it is the name the child is known by."""
    if not searched or not recorded:
        return GivenNameAgreement.MISSING, 0.0
    searched_first = searched.split(" ", 1)[0]
    recorded_names = recorded.split()
    recorded_first = recorded_names[0]
    if searched_first == recorded_first or searched.replace(" ", "") == recorded.replace(" ", ""):
        return GivenNameAgreement.EXACT, 1.0
    if given_names_are_variants(searched_first, recorded_first):
        return GivenNameAgreement.NICKNAME, 0.95
    if searched_first in recorded_names[1:]:
        return GivenNameAgreement.MIDDLE, 0.9
    if len(searched_first) == 1:
        if recorded_first.startswith(searched_first):
            return GivenNameAgreement.INITIAL, 0.6
        return GivenNameAgreement.DIFFERENT, 0.0
    similarity = JaroWinkler.similarity(searched_first, recorded_first)
    sounds_alike = _given_phonetic(searched_first) == _given_phonetic(recorded_first)
    if sounds_alike and _spelt_alike(searched_first, recorded_first, similarity=similarity):
        return GivenNameAgreement.PHONETIC, max(similarity, 0.9)
    if _misspelling(searched_first, recorded_first, similarity=similarity, threshold=GIVEN_SIMILAR):
        return GivenNameAgreement.SIMILAR, similarity
    if similarity >= GIVEN_WEAK or sounds_alike or _one_typo_apart(searched_first, recorded_first, shortest=2):
        return GivenNameAgreement.WEAK, similarity
    return GivenNameAgreement.DIFFERENT, similarity


# --- Dates of birth ----------------------------------------------------------------------


class DateOfBirthAgreement(enum.IntEnum):
    # Further off than WRONG (another day and month in another year, or beyond the window):
    # compared only for a child whose family name and first given name are the ones searched,
    # as written, when those names alone are rare enough to make it as likely as not the
    # child (registry.matching.selectors: the names-alone block). A date replaced altogether.
    DIFFERENT = -1
    # Neither a slip nor a swap, but within DATE_OF_BIRTH_WINDOW_YEARS of the date searched:
    # a wrong day or month altogether, a year off by one or two, an estimated date. Only
    # children whose family and given name keys both agree are looked at for it.
    WRONG = 0
    ONE_DIGIT = 1  # one digit of DD/MM/YYYY mistyped
    SWAPPED = 2  # day and month the wrong way round
    EXACT = 3


def date_of_birth_variants(
    date_of_birth: datetime.date, *, earliest: datetime.date, latest: datetime.date
) -> dict[datetime.date, DateOfBirthAgreement]:
    """The real dates a mistyped date of birth could have been meant as, between earliest
    and latest: the day and month swapped, and every date one digit of DD/MM/YYYY away.
    The searched date itself is not included. About 30 dates for a child's birthday."""
    variants: dict[datetime.date, DateOfBirthAgreement] = {}
    digits = f"{date_of_birth.day:02d}{date_of_birth.month:02d}{date_of_birth.year:04d}"
    for position, digit in enumerate(digits):
        for replacement in "0123456789":
            if replacement == digit:
                continue
            typed = digits[:position] + replacement + digits[position + 1 :]
            candidate = _date_or_none(year=int(typed[4:]), month=int(typed[2:4]), day=int(typed[:2]))
            if candidate is not None and earliest <= candidate <= latest:
                variants[candidate] = DateOfBirthAgreement.ONE_DIGIT
    swapped = _date_or_none(year=date_of_birth.year, month=date_of_birth.day, day=date_of_birth.month)
    if swapped is not None and swapped != date_of_birth and earliest <= swapped <= latest:
        variants[swapped] = DateOfBirthAgreement.SWAPPED
    return variants


# How far a wrong date of birth may be from the one recorded, in years of birth, for a child
# whose names agree (registry.matching.selectors: the wrong-date block).
DATE_OF_BIRTH_WINDOW_YEARS = 2


def date_of_birth_window(date_of_birth: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last dates of the years of birth within DATE_OF_BIRTH_WINDOW_YEARS of
    this one: 2015-06-21 -> (2013-01-01, 2017-12-31)."""
    first = max(date_of_birth.year - DATE_OF_BIRTH_WINDOW_YEARS, datetime.MINYEAR)
    last = min(date_of_birth.year + DATE_OF_BIRTH_WINDOW_YEARS, datetime.MAXYEAR)
    return datetime.date(first, 1, 1), datetime.date(last, 12, 31)


def date_of_birth_wrong_plausibly(searched: datetime.date, recorded: datetime.date, *, same_district: bool) -> bool:
    """A wrong date of birth worth showing for a child whose names agree: the same day and
    month with the year off by one or two; or a wrong day or month (or both) in the same
    year, when the postcode district searched is the child's too (`same_district`). Any
    other date, and a same-year date with nothing else in common, is as likely a namesake
    as the child: measured on bench/search_quality.py, showing them all put a namesake or
    a stranger in front of the practitioner in up to a fifth of the searches for children
    not on the register (docs/search.md)."""
    if searched.year == recorded.year:
        return same_district
    return (searched.month, searched.day) == (recorded.month, recorded.day) and (
        abs(searched.year - recorded.year) <= DATE_OF_BIRTH_WINDOW_YEARS
    )


def date_of_birth_difference(searched: datetime.date, recorded: datetime.date) -> str:
    """How a wrong date of birth differs, in words a practitioner can check against what
    they know: "date of birth different by 2 years", "date of birth different: same year,
    different day and month"."""
    years = abs(searched.year - recorded.year)
    if years:
        return f"date of birth different by {years} year{'s' if years > 1 else ''}"
    if searched.month == recorded.month:
        return "date of birth different: same month and year, different day"
    if searched.day == recorded.day:
        return "date of birth different: same day and year, different month"
    return "date of birth different: same year, different day and month"


def _date_or_none(*, year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None
