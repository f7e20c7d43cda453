"""Fellegi-Sunter match weights for search, estimated from data (issue 13 item 3).

Each field a search compares (family name, given name, date of birth, sex, postcode, NHS
number) agrees at one of a few levels: exact, a variant (a short form, the same sound),
a misspelling, different, missing. For each level the parameters file gives

* m: how often a record of the *same* child agrees at that level (records are written
  wrongly in ordinary ways), and
* u: how often a record of a *different* child does (chance),

and the evidence a level gives is its weight, log2(m / u): positive when that agreement is
likelier for the same child, negative when likelier for another. A candidate's total
weight is the sum over the fields compared (a missing value counts nothing either way).

Names are adjusted for how common they are (Splink's term-frequency adjustment): for the
same name as written, u is the share of children with *that* name, so agreeing on
"Scantlebury" counts for more than agreeing on "Smith". A name not in the file's table is
taken as rare as the average rare name (`*_frequency_default`), never rarer.

The parameters are read from registry/matching/fs_params.json, which bench/fs_estimate.py
writes, deterministically, by EM on pairs from the project's synthetic population (see
that script and docs/search.md, "Weights from data"); tests/registry/test_fs_params.py checks
that the shipped file is what the script produces. Nothing here is set by hand except
what the file says is fixed (the NHS number, which is unique).
"""

import json
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib.resources import files
from typing import Any

from registry.matching.keys import DateOfBirthAgreement, FamilyNameAgreement, GivenNameAgreement

PARAMS_FILE = "fs_params.json"

# The matcher's agreements, grouped into the levels the parameters are estimated for.
FAMILY_LEVELS: dict[FamilyNameAgreement, str] = {
    FamilyNameAgreement.EXACT: "exact",
    FamilyNameAgreement.SPACING: "exact",  # the same letters: the same name as written
    FamilyNameAgreement.PHONETIC: "variant",
    FamilyNameAgreement.PART: "variant",
    FamilyNameAgreement.SIMILAR: "similar",
    FamilyNameAgreement.WEAK: "weak",
    FamilyNameAgreement.DIFFERENT: "different",
}
GIVEN_LEVELS: dict[GivenNameAgreement, str] = {
    GivenNameAgreement.EXACT: "exact",
    GivenNameAgreement.NICKNAME: "variant",
    GivenNameAgreement.PHONETIC: "variant",
    GivenNameAgreement.MIDDLE: "middle",
    GivenNameAgreement.SIMILAR: "similar",
    GivenNameAgreement.INITIAL: "initial",
    GivenNameAgreement.WEAK: "weak",
    GivenNameAgreement.DIFFERENT: "different",
    GivenNameAgreement.MISSING: "missing",
}
DATE_OF_BIRTH_LEVELS: dict[DateOfBirthAgreement, str] = {
    DateOfBirthAgreement.EXACT: "exact",
    DateOfBirthAgreement.SWAPPED: "swapped",
    DateOfBirthAgreement.ONE_DIGIT: "one_digit",
}
# A wrong date of birth (DateOfBirthAgreement.WRONG) is one of these, by how it differs.
WRONG_DATE_LEVELS = ("year_off", "same_year", "window")


def wrong_date_level(*, same_day_and_month: bool, same_year: bool) -> str:
    """The level of a date of birth that is neither the one searched, nor a slip or swap of
    it, within the window of years: the same day and month with the year off by one or two;
    the same year; or anything else in the window (only when the practitioner widened)."""
    if same_day_and_month:
        return "year_off"
    return "same_year" if same_year else "window"


@dataclass(frozen=True)
class MatchWeights:
    """The parameters file, read once: weights per field and level, name frequencies and
    the grade thresholds, each with the reasoning the file records."""

    params: dict[str, Any]

    @cached_property
    def _weights(self) -> dict[str, dict[str, float]]:
        weights: dict[str, dict[str, float]] = {}
        for name, comparison in self.params["comparisons"].items():
            m, u = comparison["m"], comparison["u"]
            weights[name] = {level: math.log2(m[level] / u[level]) for level in m if level in u}
        return weights

    def weight(self, comparison: str, level: str) -> float:
        """log2(m/u) of a level; a level missing from the file (a value not given) is 0."""
        return self._weights[comparison].get(level, 0.0)

    def m(self, comparison: str, level: str) -> float:
        return float(self.params["comparisons"][comparison]["m"][level])

    def family_exact(self, family_normalised: str) -> float:
        """The weight of the same family name as written, adjusted for how common it is."""
        return self._exact("family_name", family_normalised)

    def given_exact(self, first_given_normalised: str) -> float:
        """The weight of the same first given name, adjusted for how common it is."""
        return self._exact("given_name", first_given_normalised)

    def _exact(self, comparison: str, name: str) -> float:
        frequencies = self.params["name_frequencies"][comparison]
        frequency = frequencies["table"].get(name, frequencies["default"])
        return math.log2(self.m(comparison, "exact") / frequency)

    def uncommon(self, comparison: str, name: str) -> bool:
        """A name too rare for the file's table (fewer than its `table_minimum` children of
        the population it was counted in): agreeing on it counts for more than on most."""
        return name not in self.params["name_frequencies"][comparison]["table"]

    @property
    def likely_minimum(self) -> float:
        return float(self.params["thresholds"]["likely_minimum"])

    @property
    def possible_minimum(self) -> float:
        return float(self.params["thresholds"]["possible_minimum"])

    @property
    def name_differs_minimum(self) -> float:
        return float(self.params["thresholds"]["name_differs_minimum"])

    @property
    def version(self) -> int:
        return int(self.params["version"])


@lru_cache(maxsize=1)
def match_weights() -> MatchWeights:
    """The shipped parameters file, read once (not at import: bench/fs_estimate.py, which
    writes it, uses this module's levels)."""
    text = files("registry.matching").joinpath(PARAMS_FILE).read_text(encoding="utf-8")
    return MatchWeights(params=json.loads(text))
