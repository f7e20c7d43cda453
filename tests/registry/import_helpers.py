"""A good import row and helpers to write a file and run the import command on it."""

import csv
import io

from django.core.management import call_command

from registry.intake.importing import COLUMNS

GOOD = {
    "local_authority_code": "E09000033",
    "la_reference": "WCC-1",
    "nhs_number": "943 476 5919",
    "given_names": "Victoria",
    "family_name": "Adjo",
    "other_names": "alias:Anna|Kouao;previous_surname:|Climbie",
    "date_of_birth": "2016-11-02",
    "sex": "F",
    "address_line_1": "1 Somerset Road",
    "town": "London",
    "postcode": "n17 9ex",
    "status_kind": "cpp",
    "status_start": "2026-06-01",
    "status_end": "",
    "legal_basis": "",
    "expected_delivery_date": "",
}


def write_csv(path, rows, columns=COLUMNS):
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({**GOOD, **row} if columns is COLUMNS else row)
    return path


def run_import(path, **options):
    out = io.StringIO()
    call_command("import_children", str(path), stdout=out, **options)
    report = list(csv.DictReader(path.with_suffix(".rejected.csv").open(encoding="utf-8")))
    return out.getvalue(), report
