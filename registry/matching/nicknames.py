"""Given names that are the same name to a practitioner: short forms (Bill, Will and Liam
for William) and spellings of one name across alphabets (Mohammed, Muhammad, Mohamed).

The table is kept by hand in nicknames.csv beside this module (shipped with the package as
package data), one group per row, the formal name first, written as
registry.matching.keys.name_normalise gives it (lower case, no accents or punctuation). A
short form may sit in several groups (Alex: Alexander, Alexandra, Alexis); two names are
variants of each other only when they share a group, so Alexander and Alexandra are not.
Groups are deliberately conservative: linking names that belong to different people (Ian
and John, say) would raise the rate at which a different child is shown as a likely match.

The file is read once, when this module is first imported; a malformed row stops the
import with its line number rather than quietly matching fewer names.
"""

import csv
import re
from collections.abc import Iterable
from importlib.resources import files

NICKNAMES_FILE = "nicknames.csv"
# What name_normalise leaves of a single given name. Checked here rather than by calling
# name_normalise, which lives in registry.matching.keys, the module that imports this one.
_NORMALISED_NAME = re.compile(r"[a-z0-9]+")


class NicknameTableError(ValueError):
    """The nickname file has a row that is not a group of normalised given names."""


def nickname_groups_read(lines: Iterable[str]) -> tuple[frozenset[str], ...]:
    """The groups in the file's lines, in order: comment (#) and blank rows skipped, each
    name checked to be written as name_normalise would write it."""
    groups: list[frozenset[str]] = []
    rows = (line for line in lines if line.strip() and not line.lstrip().startswith("#"))
    for row in csv.reader(rows):
        names = [name.strip() for name in row if name.strip()]
        bad = [name for name in names if not _NORMALISED_NAME.fullmatch(name)]
        if bad or len(names) < 2:
            problem = f"not normalised: {', '.join(bad)}" if bad else "a group needs at least two names"
            raise NicknameTableError(f"{NICKNAMES_FILE}: group {len(groups) + 1} ({','.join(row)}): {problem}")
        groups.append(frozenset(names))
    return tuple(groups)


def _load() -> tuple[frozenset[str], ...]:
    text = files(__package__).joinpath(NICKNAMES_FILE).read_text(encoding="utf-8")
    return nickname_groups_read(text.splitlines())


NICKNAME_GROUPS = _load()


def _index(groups: tuple[frozenset[str], ...]) -> dict[str, frozenset[int]]:
    by_name: dict[str, set[int]] = {}
    for number, group in enumerate(groups):
        for name in group:
            by_name.setdefault(name, set()).add(number)
    return {name: frozenset(numbers) for name, numbers in by_name.items()}


_GROUPS_BY_NAME = _index(NICKNAME_GROUPS)


def _groups_by_name() -> dict[str, frozenset[int]]:
    """Each name's group numbers (bench/search_quality.py draws short forms from these)."""
    return _GROUPS_BY_NAME


def given_name_groups(name: str) -> frozenset[int]:
    """The groups a normalised given name belongs to; empty if the table does not know it."""
    return _GROUPS_BY_NAME.get(name, frozenset())


def given_name_variants(name: str) -> frozenset[str]:
    """The other forms of a normalised given name: every name sharing a group with it."""
    return frozenset(other for number in given_name_groups(name) for other in NICKNAME_GROUPS[number]) - {name}


def given_names_are_variants(first: str, second: str) -> bool:
    """True when two different normalised given names are forms of the same name."""
    return first != second and not given_name_groups(first).isdisjoint(given_name_groups(second))
