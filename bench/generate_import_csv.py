"""Generate a synthetic children CSV in the import format (registry/intake/importing.py COLUMNS).

    .venv/bin/python bench/generate_import_csv.py --rows 1000000 --out bench/out/children-1000000.csv

Deterministic: the same --rows, --seed and --today always give the same bytes. Plain
`random.Random(seed)` and fixed word lists, no Faker, so a million rows take seconds.

What is in the file:

* one row per status; about 3% of children have a second row (an earlier plan that ended
  and a current one), written a little later in the file with the same identity;
* valid NHS numbers from the 999 test range (never issued to patients) for about 90% of
  children, each child a different number; unborn children never have one. The 999 range
  holds about 909,000 valid numbers: beyond that, children are keyed on la_reference only;
* an la_reference for every child, unique within its local authority;
* the four demo local authorities (E09000033 E08000025 E08000035 E06000052);
* names with accents, apostrophes and hyphens; about 8% of children have other names
  (`kind:given|family;...`);
* dates of birth within the last 17 years; postcodes shaped like the authority's own;
* status kinds cpp, looked_after (with a legal basis s31/s38/s20/other) and unborn_cpp
  (expected_delivery_date, no date of birth, no NHS number); most statuses are current,
  some ended within the last 11 months (so still inside the 12-month retention period);
* about 0.5% deliberately bad rows (bad NHS check digit, impossible or badly written date,
  missing family name), each a child of its own, so rejections are exercised.

Next to the CSV it writes FILE.manifest.json with the expected outcome (rows, bad rows,
distinct children, statuses, other names), which bench/import_children.py checks the
database against.
"""

import argparse
import csv
import datetime
import json
import random
import sys
import time
from pathlib import Path

COLUMNS = [
    "local_authority_code", "la_reference", "nhs_number", "given_names", "family_name", "other_names",
    "date_of_birth", "sex", "address_line_1", "town", "postcode", "status_kind", "status_start",
    "status_end", "legal_basis", "expected_delivery_date",
]  # fmt: skip

# (GSS code, la_reference format, towns, postcode outward codes)
AUTHORITIES = [
    ("E09000033", "WCC/{:07d}", ["London"],
     ["W1D", "W1F", "W2", "W9", "SW1A", "SW1P", "SW1V", "NW1", "NW8", "WC2N", "WC2H"]),
    ("E08000025", "BCC-{:08d}", ["Birmingham", "Sutton Coldfield"],
     ["B1", "B5", "B6", "B8", "B10", "B11", "B12", "B13", "B21", "B23", "B29", "B31", "B44", "B73"]),
    ("E08000035", "LCC{:09d}", ["Leeds", "Morley", "Otley", "Wetherby"],
     ["LS1", "LS6", "LS7", "LS8", "LS9", "LS11", "LS12", "LS14", "LS15", "LS27", "LS21", "LS22"]),
    ("E06000052", "CC/CS/{:07d}", ["Truro", "Falmouth", "Penzance", "Bodmin", "Newquay", "St Austell"],
     ["TR1", "TR11", "TR18", "PL31", "TR7", "PL25", "PL15", "TR15", "PL12"]),
]  # fmt: skip
AUTHORITY_WEIGHTS = [18, 40, 30, 12]

GIVEN_NAMES = [
    "Olivia", "Amelia", "Isla", "Ava", "Ivy", "Freya", "Lily", "Florence", "Mia", "Willow", "Noah", "Oliver",
    "George", "Arthur", "Muhammad", "Mohammed", "Mohamed", "Leo", "Harry", "Oscar", "Archie", "Henry", "Jack",
    "Zoë", "Chloé", "Renée", "Anaïs", "Siân", "Siobhán", "Aoife", "Niamh", "Seán", "Eóin", "Dáithí", "José",
    "Inés", "Łucja", "Bartłomiej", "Wojciech", "Zuzanna", "Jakub", "Oluwaseun", "Chukwuemeka", "Ngozi",
    "Adaeze", "Kwame", "Amara", "Aaliyah", "Aliyah", "Fatima", "Fatimah", "Ayesha", "Aisha", "Yusuf", "Ibrahim",
    "Nguyen Thi", "Thi Hoa", "Mei", "Kai", "Liam", "William", "Jean-Luc", "Marie-Claire", "Anne-Marie",
    "Eloïse", "Noémie", "Björn", "Søren", "Dmitrij", "Ionuț", "Ștefan", "Mihaela", "Priya", "Arjun", "Harpreet",
]  # fmt: skip
MIDDLE_NAMES = ["Rose", "Grace", "May", "James", "Alexander", "Jane", "Louise", "Ali", "Elizabeth", "John", "Marie"]
FAMILY_NAMES = [
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson", "Roberts",
    "Walker", "Wright", "Robinson", "Thompson", "Thomson", "White", "Hughes", "Edwards", "Green", "Hall", "Wood",
    "O'Neill", "O'Brien", "O\u2019Connor", "MacDonald", "McDonald", "Ó Briain", "Ó Súilleabháin", "Mac Giolla Phádraig",
    "Khan", "Ahmed", "Ahmad", "Begum", "Hussain", "Hussein", "Patel", "Singh", "Kaur", "Ali", "Shah", "Iqbal",
    "Nowak", "Kowalski", "Kowalczyk", "Wiśniewski", "Wójcik", "Lewandowska", "Popescu", "Ionescu", "Müller",
    "Brontë", "García", "Pérez", "Núñez", "Nguyen", "Tran", "Van der Berg", "de la Cruz", "Okafor", "Mensah",
    "Adeyemi", "Kouao", "Mbeki", "Haaland", "Sørensen", "Ghosh", "Chowdhury", "Zhang", "Wang",
]  # fmt: skip
STREETS = [
    "High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Manor Road", "Park Avenue",
    "Queen's Road", "King Street", "Mill Lane", "The Crescent", "St John's Close", "Elm Grove", "Oak Way",
    "Chapel Street", "Albert Terrace", "Meadow View", "Brook Lane", "School Road", "Rue-de-Harbour Court",
]  # fmt: skip
OTHER_NAME_KINDS = ["alias", "former_name", "previous_surname", "birth_name"]
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters Royal Mail uses in inward codes
LEGAL_BASES = ["s31", "s38", "s20", "other"]
LEGAL_BASIS_WEIGHTS = [45, 20, 30, 5]

NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def nhs_check_digit(first_nine: str) -> int | None:
    """Modulus 11 check digit for nine digits, or None if the number is unusable (10)."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, NHS_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def valid_999_numbers(rng: random.Random) -> list[str]:
    """Every valid NHS number in the 999 test range, in a seeded random order."""
    # 9,9,9 weighted 10,9,8 contribute 243; add the six remaining digits' weights.
    numbers = []
    for serial in range(1_000_000):
        digits = f"{serial:06d}"
        total = 243 + sum(int(digit) * weight for digit, weight in zip(digits, NHS_WEIGHTS[3:], strict=True))
        check = 11 - total % 11
        if check == 10:
            continue
        numbers.append(f"999{digits}{0 if check == 11 else check}")
    rng.shuffle(numbers)
    return numbers


class Generator:
    def __init__(self, *, seed: int, today: datetime.date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.today_ordinal = today.toordinal()
        self.nhs_numbers = valid_999_numbers(self.rng)
        self.nhs_next = 0
        self.reference_next = [0] * len(AUTHORITIES)
        self.children = 0
        self.statuses = 0
        self.other_names = 0
        self.bad_rows = 0
        self.children_with_nhs = 0

    def _date(self, ordinal: int) -> str:
        return datetime.date.fromordinal(ordinal).isoformat()

    def _postcode(self, outward_codes: list[str]) -> str:
        rng = self.rng
        postcode = (
            f"{rng.choice(outward_codes)} {rng.randrange(10)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
        )
        roll = rng.random()
        if roll < 0.03:
            return postcode.replace(" ", "").lower()  # as some case systems export them
        if roll < 0.05:
            return ""
        return postcode

    def _name(self) -> tuple[str, str]:
        rng = self.rng
        given = rng.choice(GIVEN_NAMES)
        if rng.random() < 0.3:
            given = f"{given} {rng.choice(MIDDLE_NAMES)}"
        family = rng.choice(FAMILY_NAMES)
        if rng.random() < 0.07:
            family = f"{family}-{rng.choice(FAMILY_NAMES)}"
        return given, family

    def _other_names(self, given: str, family: str) -> tuple[str, int]:
        rng = self.rng
        if rng.random() >= 0.08:
            return "", 0
        entries = []
        for _ in range(1 if rng.random() < 0.8 else 2):
            kind = rng.choice(OTHER_NAME_KINDS)
            if kind in ("previous_surname", "birth_name"):
                entry = f"{kind}:{given}|{rng.choice(FAMILY_NAMES)}"
            elif kind == "former_name":
                entry = f"{kind}:{rng.choice(GIVEN_NAMES)}|{rng.choice(FAMILY_NAMES)}"
            else:
                entry = f"{kind}:{rng.choice(GIVEN_NAMES)}|{family}"
            entries.append(entry)
        unique = list(dict.fromkeys(entries))  # the importer ignores exact duplicates
        return ";".join(unique), len(unique)

    def child(self) -> tuple[list[str], list[list[str]]]:
        """A new child: its first row, and any later rows (a second status) to write after it."""
        rng = self.rng
        authority_index = rng.choices(range(len(AUTHORITIES)), AUTHORITY_WEIGHTS)[0]
        code, reference_format, towns, outward_codes = AUTHORITIES[authority_index]
        self.reference_next[authority_index] += 1
        reference = reference_format.format(self.reference_next[authority_index] * 7 + rng.randrange(7))
        given, family = self._name()
        other_names, other_count = self._other_names(given, family)
        sex = rng.choices(["F", "M", "female", "male", "U", "indeterminate"], [34, 34, 14, 14, 3, 1])[0]
        address = f"{rng.randrange(1, 240)} {rng.choice(STREETS)}"
        if rng.random() < 0.1:
            address = f"Flat {rng.randrange(1, 40)}, {address}"
        town = rng.choice(towns)
        postcode = self._postcode(outward_codes)
        today = self.today_ordinal

        kind_roll = rng.random()
        later_rows: list[list[str]] = []
        if kind_roll < 0.04:
            # Unborn: no date of birth, no NHS number; plan started in the last 6 months.
            start = today - rng.randrange(1, 180)
            expected = today + rng.randrange(7, 200)
            end = ""
            if rng.random() < 0.05:
                end = self._date(rng.randrange(start, today))
            nhs = ""
            row = [code, reference, nhs, given, family, other_names, "", "", address, town, postcode,
                   "unborn_cpp", self._date(start), end, "", self._date(expected)]  # fmt: skip
            self._count_child(other_count, nhs, statuses=1)
            return row, later_rows

        date_of_birth = today - rng.randrange(1, 17 * 365 - 4)
        nhs = ""
        if rng.random() < 0.92 and self.nhs_next < len(self.nhs_numbers):
            nhs = self.nhs_numbers[self.nhs_next]
            self.nhs_next += 1
            if rng.random() < 0.05:
                nhs = f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"  # typed with spaces
        kind = "looked_after" if kind_roll < 0.38 else "cpp"
        legal_basis = rng.choices(LEGAL_BASES, LEGAL_BASIS_WEIGHTS)[0] if kind == "looked_after" else ""
        earliest = max(date_of_birth, today - 4 * 365)
        start = rng.randrange(earliest, today) if earliest < today else today - 1
        end = ""
        if rng.random() < 0.15 and start < today - 1:
            # Ended within the last 11 months: still inside the retention period.
            end_ordinal = rng.randrange(max(start, today - 335), today)
            end = self._date(end_ordinal)
        identity = [code, reference, nhs, given, family, other_names, self._date(date_of_birth), sex, address, town,
                    postcode]  # fmt: skip
        row = [*identity, kind, self._date(start), end, legal_basis, ""]
        statuses = 1
        if rng.random() < 0.12 and start > today - 320 and start - date_of_birth > 120:
            # An earlier status that ended shortly before this one started. Each row must be in
            # scope on its own, so it ended within the last 11 months too.
            previous_end = rng.randrange(max(today - 335, start - 90), start)
            previous_start = rng.randrange(max(date_of_birth, previous_end - 600), previous_end - 27)
            previous_kind = "cpp" if kind == "looked_after" else rng.choice(["cpp", "looked_after"])
            previous_basis = rng.choice(LEGAL_BASES) if previous_kind == "looked_after" else ""
            later_rows.append([*identity, previous_kind, self._date(previous_start), self._date(previous_end),
                               previous_basis, ""])  # fmt: skip
            statuses += 1
        self._count_child(other_count, nhs, statuses=statuses)
        return row, later_rows

    def _count_child(self, other_count: int, nhs: str, *, statuses: int) -> None:
        self.children += 1
        self.statuses += statuses
        self.other_names += other_count
        self.children_with_nhs += bool(nhs)

    def bad_row(self) -> list[str]:
        """A row the importer must reject, for a child of its own."""
        rng = self.rng
        row, later = self.child()
        self._uncount(row, later)
        problem = rng.randrange(3)
        if problem == 0:
            serial = f"999{rng.randrange(1_000_000):06d}"
            check = nhs_check_digit(serial)
            wrong = rng.choice([digit for digit in range(10) if digit != check])
            row[2] = f"{serial}{wrong}"
            if not row[6]:  # unborn rows have no date of birth: make it a child's row
                row[6], row[11], row[15] = self._date(self.today_ordinal - 400), "cpp", ""
        elif problem == 1:
            field = 6 if row[6] else 12
            row[field] = rng.choice(["2015-02-30", "31/12/2014", "2016-13-01", "yesterday"])
        else:
            row[4] = ""
        self.bad_rows += 1
        return row

    def _uncount(self, row: list[str], later: list[list[str]]) -> None:
        # bad_row() builds on child(), which counted a child (and statuses) that will never exist.
        self.children -= 1
        self.statuses -= 1 + len(later)
        self.other_names -= len([part for part in row[5].split(";") if part])
        self.children_with_nhs -= bool(row[2])


def generate(*, rows: int, out: Path, seed: int, today: datetime.date) -> dict[str, object]:
    generator = Generator(seed=seed, today=today)
    rng = generator.rng
    out.parent.mkdir(parents=True, exist_ok=True)
    pending: list[tuple[int, list[str]]] = []  # (row number to write at, row)
    written = 0
    chunk: list[list[str]] = []
    with out.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(COLUMNS)
        while written < rows:
            if pending and pending[0][0] <= written:
                row = pending.pop(0)[1]
            elif rng.random() < 0.005:
                row = generator.bad_row()
            else:
                row, later = generator.child()
                if written + 1 + len(pending) + len(later) > rows:
                    # Not enough room left for the child's later rows: drop them.
                    generator.statuses -= len(later)
                    later = []
                for extra in later:
                    # Within a few thousand rows: sometimes the same batch, sometimes the next.
                    at = min(written + rng.randrange(1, 5000), rows - 1 - len(pending))
                    pending.append((at, extra))
                    pending.sort(key=lambda item: item[0])
            chunk.append(row)
            written += 1
            if len(chunk) >= 10_000:
                writer.writerows(chunk)
                chunk = []
        writer.writerows(chunk)
    assert not pending, "later rows left unwritten"
    manifest = {
        "rows": rows,
        "seed": seed,
        "today": today.isoformat(),
        "bad_rows": generator.bad_rows,
        "valid_rows": rows - generator.bad_rows,
        "children": generator.children,
        "children_with_nhs_number": generator.children_with_nhs,
        "statuses": generator.statuses,
        "other_names": generator.other_names,
    }
    out.with_suffix(".manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=20260)
    parser.add_argument(
        "--today", type=datetime.date.fromisoformat, default=datetime.date.today(),
        help="Date the file is generated as of (YYYY-MM-DD, default today); import it on that day",
    )  # fmt: skip
    args = parser.parse_args(argv)
    started = time.perf_counter()
    manifest = generate(rows=args.rows, out=args.out, seed=args.seed, today=args.today)
    elapsed = time.perf_counter() - started
    print(
        f"Wrote {args.rows:,} rows to {args.out} in {elapsed:.1f}s: {manifest['children']:,} children, "
        f"{manifest['statuses']:,} statuses, {manifest['other_names']:,} other names, "
        f"{manifest['bad_rows']:,} deliberately bad rows.",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
