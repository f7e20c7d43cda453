"""Estimate the Fellegi-Sunter parameters search grades by (registry/matching/fs_params.json).

    .venv/bin/python bench/fs_estimate.py            # writes registry/matching/fs_params.json
    .venv/bin/python bench/fs_estimate.py --check    # exits 1 if the shipped file differs

Deterministic: the same input always gives the same file, byte for byte
(tests/registry/test_fs_params.py checks the shipped file is this script's output).

The input (documented in the file it writes, "input"):

* a register of CHILDREN synthetic children from bench/search_quality.py's Population
  (seed SEED): names drawn with the frequencies of Faker's published en_GB surname list
  and the ONS lists of popular given names of children born in England and Wales, a long
  tail of other names, twins, siblings sharing a surname and postcode;
* SEARCHES searches for children on it, written down wrongly in the ways of that
  script's generator (typos, phonetic spellings, short forms, swapped names, a date's day
  and month swapped or a digit mistyped, a former surname or an alias, a given name left
  out), and SEARCHES searches for people not on it (strangers, siblings, namesakes).

No FEBRL corpus is read: FEBRL1-3 are what the weights are measured on, and FEBRL4 is
held out. Nothing is labelled: the searches' targets are not used.

How (as Splink and fastLink do):

* u (how often a different child agrees at each level, by chance): counted directly on
  random pairs of a search and a register child; for the date of birth, worked out from
  how many children are born on each date; for a postcode, also among children who share
  a family name (siblings share a postcode, so a shared surname and postcode are not two
  independent coincidences: `postcode_with_family`).
* m (how often the same child agrees at each level): by EM (expectation maximisation) on
  the pairs a search's blocks produce, u held fixed. Names, sex and postcode from the
  pairs blocked on the date of birth (born on the date searched or with day and month
  swapped); the date of birth from the pairs blocked on the family name (its first
  phonetic key agreeing, born within 2 years; the family name itself left out of that EM,
  and chance agreement on the date taken among dates within those years), so that no
  field is estimated on pairs chosen for agreeing on it.
* No level is taken as impossible for the same child: m is at least M_FLOOR, because the
  generator never makes some errors real records do (a sex recorded wrongly).
* Name frequencies: the share of the register's children with each family name and first
  given name, for names held by at least TABLE_MINIMUM of them; a rarer name is taken as
  the average of those (`default`).
* Thresholds: a candidate's total weight W gives the odds that it is the child searched
  for, 2^W times the prior odds that one child of a register of REGISTER_SIZE is the one
  searched for when the child is on the register with probability ON_REGISTER. Likely
  needs odds of at least LIKELY_ODDS, possible at least POSSIBLE_ODDS, and a child whose
  family or given name is different at least NAME_DIFFERS_ODDS.
"""

import argparse
import datetime
import functools
import json
import math
import os
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

OUTPUT = ROOT / "registry" / "matching" / "fs_params.json"
VERSION = 1
SEED = 20261130
TODAY = datetime.date(2026, 11, 30)  # fixed, so that the register's dates are too
CHILDREN = 30_000
SEARCHES = 3_000
RANDOM_PAIRS_PER_SEARCH = 20
EM_ITERATIONS = 200
M_FLOOR = 0.01
TABLE_MINIMUM = 10
REGISTER_SIZE = 1_000_000
ON_REGISTER = 0.5
LIKELY_ODDS = 10.0
POSSIBLE_ODDS = 1 / 20
NAME_DIFFERS_ODDS = 1.0
DATE_WINDOW_YEARS = 2

Vector = tuple[str | None, ...]


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signposting.settings.test")
    import django

    django.setup()


class Record:
    """A search or a register child, as the matcher compares them."""

    __slots__ = ("date_of_birth", "family", "family_key", "given", "given_key", "postcode", "sex")

    def __init__(self, *, given: str, family: str, date_of_birth: datetime.date, sex: str, postcode: str) -> None:
        from registry.matching.keys import name_keys

        keys = name_keys(given_names=given, family_name=family)
        self.given = keys.given_names_normalised
        self.family = keys.family_name_normalised
        self.family_key = keys.family_name_first_phonetic
        self.given_key = keys.given_name_phonetic
        self.date_of_birth = date_of_birth
        self.sex = sex
        self.postcode = postcode


def _first(given: str) -> str:
    return given.split(" ", 1)[0] if given else ""


class Comparer:
    """The matcher's own comparisons (registry.matching.keys), as levels."""

    def __init__(self) -> None:
        from registry.identity import postcode_district
        from registry.matching.keys import family_name_compare, given_name_compare, surname_profile
        from registry.matching.weights import FAMILY_LEVELS, GIVEN_LEVELS

        self.postcode_district = postcode_district
        self.family_name_compare = family_name_compare
        self.given_name_compare = given_name_compare
        self.surname_profile = surname_profile
        self.family_levels = FAMILY_LEVELS
        self.given_levels = GIVEN_LEVELS

    def family(self, search: Record, child: Record) -> str:
        agreement, _ = self.family_name_compare(self.surname_profile(search.family), self.surname_profile(child.family))
        return self.family_levels[agreement]

    def given(self, search: Record, child: Record) -> str | None:
        level = self.given_levels[self.given_name_compare(search.given, child.given)[0]]
        return None if level == "missing" else level

    @staticmethod
    def sex(search: Record, child: Record) -> str | None:
        known = ("female", "male")
        if search.sex not in known or child.sex not in known:
            return None
        return "agree" if search.sex == child.sex else "differ"

    def postcode(self, search: Record, child: Record) -> str | None:
        if not search.postcode or not child.postcode:
            return None
        if search.postcode == child.postcode:
            return "same"
        if self.postcode_district(search.postcode) == self.postcode_district(child.postcode):
            return "district"
        return "different"

    def date_of_birth(self, search: Record, child: Record) -> str | None:
        from registry.matching.weights import DATE_OF_BIRTH_LEVELS, wrong_date_level

        searched, recorded = search.date_of_birth, child.date_of_birth
        if searched == recorded:
            return "exact"
        variant = _date_variants(searched).get(recorded)
        if variant is not None:
            return DATE_OF_BIRTH_LEVELS[variant]
        if abs(searched.year - recorded.year) > DATE_WINDOW_YEARS:
            return None
        return wrong_date_level(
            same_day_and_month=(searched.month, searched.day) == (recorded.month, recorded.day),
            same_year=searched.year == recorded.year,
        )


@functools.cache
def _date_variants(searched: datetime.date) -> dict[datetime.date, Any]:
    from registry.matching.keys import date_of_birth_variants

    return date_of_birth_variants(searched, earliest=datetime.date(1900, 1, 1), latest=TODAY)


NAME_FIELDS = ("family_name", "given_name", "sex", "postcode")


def _name_vector(comparer: Comparer, search: Record, child: Record) -> Vector:
    return (
        comparer.family(search, child),
        comparer.given(search, child),
        comparer.sex(search, child),
        comparer.postcode(search, child),
    )


def em(
    vectors: Counter[Vector], u: list[dict[str, float]], *, fields: Iterable[str]
) -> tuple[list[dict[str, float]], float]:
    """m for each field and level, and the share of pairs that match, by EM with u fixed.
    `vectors` counts each pattern of levels (None: not compared)."""
    names = list(fields)
    levels = [sorted(field_u) for field_u in u]
    # Start: the same child mostly agrees exactly.
    m = [{level: (0.9 if level in ("exact", "agree", "same") else 0.1 / len(lv)) for level in lv} for lv in levels]
    share = 0.1
    patterns = sorted(vectors.items(), key=lambda item: [str(level) for level in item[0]])
    for _ in range(EM_ITERATIONS):
        expected: list[dict[str, float]] = [defaultdict(float) for _ in names]
        observed: list[float] = [0.0 for _ in names]
        matches = 0.0
        total = 0.0
        for pattern, count in patterns:
            match_p, other_p = share, 1 - share
            for index, level in enumerate(pattern):
                if level is not None:
                    match_p *= m[index][level]
                    other_p *= u[index][level]
            posterior = match_p / (match_p + other_p)
            matches += posterior * count
            total += count
            for index, level in enumerate(pattern):
                if level is not None:
                    expected[index][level] += posterior * count
                    observed[index] += posterior * count
        share = matches / total
        m = [
            {level: expected[index][level] / observed[index] if observed[index] else 0.0 for level in levels[index]}
            for index in range(len(names))
        ]
    return m, share


def _floored(m: dict[str, float]) -> dict[str, float]:
    """At least M_FLOOR for every level, the rest scaled to keep the sum 1."""
    low = [level for level, value in m.items() if value < M_FLOOR]
    rest = sum(value for level, value in m.items() if level not in low)
    scale = (1 - M_FLOOR * len(low)) / rest
    return {level: (M_FLOOR if level in low else value * scale) for level, value in m.items()}


def _shares(counts: Counter[str], levels: Iterable[str]) -> dict[str, float]:
    """Shares of each level, with half a count added to each so none is 0."""
    levels = list(levels)
    total = sum(counts[level] for level in levels) + 0.5 * len(levels)
    return {level: (counts[level] + 0.5) / total for level in levels}


def estimate() -> dict[str, Any]:
    _setup()
    import search_quality

    population = search_quality.Population(seed=SEED, today=TODAY)
    people = population.register(CHILDREN)
    maker = search_quality.QueryMaker(population=population, people=people, seed=SEED)
    queries = maker.on_register(SEARCHES) + maker.not_on_register(SEARCHES)
    register = [
        Record(given=p.given, family=p.family, date_of_birth=p.date_of_birth, sex=p.sex, postcode=p.postcode)
        for p in people
    ]
    searches = [
        Record(
            given=q.criteria.given_names, family=q.criteria.family_name, date_of_birth=q.criteria.date_of_birth,
            sex=q.criteria.sex, postcode=q.criteria.postcode,
        )
        for q in queries
    ]  # fmt: skip
    comparer = Comparer()
    rng = random.Random(SEED)

    # u: random pairs.
    random_counts: list[Counter[str]] = [Counter() for _ in NAME_FIELDS]
    for search in searches:
        for child in rng.sample(register, RANDOM_PAIRS_PER_SEARCH):
            for index, level in enumerate(_name_vector(comparer, search, child)):
                if level is not None:
                    random_counts[index][level] += 1
    family_levels = ["exact", "variant", "similar", "weak", "different"]
    given_levels = ["exact", "variant", "middle", "similar", "initial", "weak", "different"]
    name_u = [
        _shares(random_counts[0], family_levels),
        _shares(random_counts[1], given_levels),
        _shares(random_counts[2], ["agree", "differ"]),
        _shares(random_counts[3], ["same", "district", "different"]),
    ]
    # Postcodes of children sharing a family name: siblings live together.
    by_family: dict[str, list[Record]] = defaultdict(list)
    for child in register:
        by_family[child.family].append(child)
    sharing: Counter[str] = Counter()
    for child in register:
        others = [other for other in by_family[child.family] if other is not child]
        if others:
            level = comparer.postcode(child, rng.choice(others))
            sharing[level or "different"] += 1
    postcode_with_family_u = _shares(sharing, ["same", "district", "different"])

    # u of the date of birth: how many children are born on each date.
    born_on = Counter(child.date_of_birth for child in register)
    born_in = Counter(child.date_of_birth.year for child in register)
    date_u_counts: Counter[str] = Counter()
    for search in searches:
        searched = search.date_of_birth
        variants = _date_variants(searched)
        date_u_counts["exact"] += born_on[searched]
        for date, agreement in variants.items():
            level = {2: "swapped", 1: "one_digit"}[int(agreement)]
            date_u_counts[level] += born_on[date]
        year_off = 0
        for years in (-2, -1, 1, 2):
            try:
                year_off += born_on[searched.replace(year=searched.year + years)]
            except ValueError:
                continue
        date_u_counts["year_off"] += year_off
        same_year_variants = sum(born_on[date] for date in variants if date.year == searched.year)
        date_u_counts["same_year"] += born_in[searched.year] - born_on[searched] - same_year_variants
        window = sum(born_in[searched.year + years] for years in range(-DATE_WINDOW_YEARS, DATE_WINDOW_YEARS + 1))
        other_year_variants = sum(born_on[date] for date in variants if date.year != searched.year)
        date_u_counts["window"] += window - born_in[searched.year] - year_off - other_year_variants
    pairs = len(searches) * len(register)
    date_levels = ["exact", "swapped", "one_digit", "year_off", "same_year", "window"]
    date_u = {level: (date_u_counts[level] + 0.5) / pairs for level in date_levels}

    # m: EM on blocked pairs. Names, sex and postcode: born on the date searched or with its
    # day and month swapped.
    by_date: dict[datetime.date, list[Record]] = defaultdict(list)
    for child in register:
        by_date[child.date_of_birth].append(child)
    name_pairs: Counter[Vector] = Counter()
    date_pairs: Counter[Vector] = Counter()
    by_family_key: dict[str, list[Record]] = defaultdict(list)
    for child in register:
        by_family_key[child.family_key].append(child)
    for search in searches:
        searched = search.date_of_birth
        swapped = searched.replace(month=searched.day, day=searched.month) if searched.day <= 12 else searched
        for date in {searched, swapped}:
            for child in by_date[date]:
                name_pairs[_name_vector(comparer, search, child)] += 1
        for child in by_family_key[search.family_key] if search.family_key else ():
            level = comparer.date_of_birth(search, child)
            if level is not None:
                date_pairs[
                    (
                        level,
                        comparer.given(search, child),
                        comparer.sex(search, child),
                        comparer.postcode(search, child),
                    )
                ] += 1
    name_m, name_share = em(name_pairs, name_u, fields=NAME_FIELDS)
    # The family name is what these pairs were chosen for: it takes no part (as Splink
    # deactivates a blocked comparison).
    # Only dates within the window are in these pairs: chance agreement given that.
    within = sum(date_u.values())
    date_u_within = {level: share / within for level, share in date_u.items()}
    date_m, date_share = em(date_pairs, [date_u_within, *name_u[1:]], fields=("date_of_birth", *NAME_FIELDS[1:]))

    comparisons = {
        "family_name": {"m": _floored(name_m[0]), "u": name_u[0]},
        "given_name": {"m": _floored(name_m[1]), "u": name_u[1]},
        "date_of_birth": {"m": _floored(date_m[0]), "u": date_u},
        "sex": {"m": _floored(name_m[2]), "u": name_u[2]},
        "postcode": {"m": _floored(name_m[3]), "u": name_u[3]},
        "postcode_with_family": {"m": _floored(name_m[3]), "u": postcode_with_family_u},
        "nhs_number": {
            "source": "fixed, not estimated: the synthetic population has no NHS numbers, and a number is "
            "unique (agreeing decides); differing is taken as 1 in 1,000 for the same child (a number mistyped "
            "so that its check digit still passes, or recorded against the wrong child)",
            "m": {"agree": 0.999, "differ": 0.001},
            "u": {"agree": 1e-9, "differ": 1.0},
        },
    }
    prior = math.log2(REGISTER_SIZE / ON_REGISTER)
    params = {
        "version": VERSION,
        "produced_by": "bench/fs_estimate.py (.venv/bin/python bench/fs_estimate.py)",
        "input": {
            "description": "bench/search_quality.py's synthetic population and its searches written down wrongly "
            "(on the register) and searches for people not on it; no FEBRL corpus",
            "seed": SEED,
            "today": TODAY.isoformat(),
            "children": CHILDREN,
            "searches_on_register": SEARCHES,
            "searches_not_on_register": SEARCHES,
            "random_pairs_per_search": RANDOM_PAIRS_PER_SEARCH,
        },
        "method": {
            "u": "random pairs (names, sex, postcode); births per date (date of birth); pairs of children "
            "sharing a family name (postcode_with_family)",
            "m": "EM with u fixed, "
            f"{EM_ITERATIONS} iterations: names, sex and postcode on pairs born on the date searched or with day "
            "and month swapped; the date of birth on pairs whose family name key agrees, born within "
            f"{DATE_WINDOW_YEARS} years (the family name left out). Every m at least {M_FLOOR}",
            "pairs_blocked_on_date": sum(name_pairs.values()),
            "share_matching_blocked_on_date": round(name_share, 6),
            "pairs_blocked_on_family_name": sum(date_pairs.values()),
            "share_matching_blocked_on_family_name": round(date_share, 6),
        },
        "comparisons": _rounded(comparisons),
        "name_frequencies": {
            "family_name": _frequencies(Counter(child.family for child in register)),
            "given_name": _frequencies(Counter(_first(child.given) for child in register if child.given)),
        },
        "thresholds": {
            "reasoning": f"odds that a candidate is the child searched for = 2^W / (register size / P(on register)) "
            f"= 2^(W - {prior:.2f}) with a register of {REGISTER_SIZE:,} children and P(on register) {ON_REGISTER}; "
            f"likely: odds at least {LIKELY_ODDS:g} to 1; possible: at least 1 to {1 / POSSIBLE_ODDS:g}",
            "register_size": REGISTER_SIZE,
            "on_register": ON_REGISTER,
            "likely_minimum": round(prior + math.log2(LIKELY_ODDS), 3),
            "possible_minimum": round(prior + math.log2(POSSIBLE_ODDS), 3),
            "name_differs_reasoning": "a child whose family or given name is different (a change of name, "
            "another given name) is shown only when at least as likely as not to be the child searched for: "
            "otherwise, with a register of this size, most such children shown would be strangers who share a "
            "date of birth and one name",
            "name_differs_minimum": round(prior + math.log2(NAME_DIFFERS_ODDS), 3),
        },
    }
    return params


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    return value


def _frequencies(counts: Counter[str]) -> dict[str, Any]:
    total = sum(counts.values())
    table = {name: count / total for name, count in sorted(counts.items()) if count >= TABLE_MINIMUM}
    rare = [count for count in counts.values() if count < TABLE_MINIMUM]
    default = (sum(rare) / len(rare)) / total if rare else 1 / total
    return {
        "source": f"share of the {total:,} synthetic children with each name; names held by fewer than "
        f"{TABLE_MINIMUM} take the default, the average share of those",
        "default": float(f"{default:.6g}"),
        "table": {name: float(f"{share:.6g}") for name, share in table.items()},
    }


def render(params: dict[str, Any]) -> str:
    return json.dumps(params, indent=1, sort_keys=False, ensure_ascii=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if the shipped file is not this output")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    text = render(estimate())
    if args.check:
        same = args.output.read_text(encoding="utf-8") == text
        print("The shipped parameters are this script's output." if same else f"{args.output} differs.")
        return 0 if same else 1
    args.output.write_text(text, encoding="utf-8")
    print(f"Wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
