"""Matching keys stored with every name, so that search can find variants by index.

Keys are computed in Python (jellyfish) on write and on search, never by the database, so
that SQLite and PostgreSQL agree exactly.
"""

import re
import unicodedata
from dataclasses import dataclass

import jellyfish


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


@dataclass(frozen=True)
class NameKeys:
    given_names_normalised: str
    family_name_normalised: str
    given_name_phonetic: str
    family_name_phonetic: str


def name_keys(*, given_names: str, family_name: str) -> NameKeys:
    """The stored keys for one name. Only the first given name is keyed phonetically: it is
    the one people are called by and the one searched for."""
    given = name_normalise(given_names)
    family = name_normalise(family_name)
    first_given = given.split(" ")[0] if given else ""
    return NameKeys(
        given_names_normalised=given,
        family_name_normalised=family,
        given_name_phonetic=_phonetic(first_given),
        family_name_phonetic=_phonetic(family),
    )
