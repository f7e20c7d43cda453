import datetime

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from registry.identity import NHS_NUMBER_CHECK_DIGIT
from registry.intake.importing import COLUMNS
from registry.models import Child, OtherName, ProtectionStatus
from tests.registry.import_helpers import GOOD, run_import, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def authorities(westminster, birmingham):
    return westminster, birmingham


def test_a_good_file_imports_children_statuses_and_other_names(tmp_path, authorities):
    path = write_csv(
        tmp_path / "children.csv",
        [
            {},
            {
                "la_reference": "WCC-2", "nhs_number": "", "given_names": "Siobhán", "family_name": "O'Neill",
                "other_names": "",
            },
            {
                "la_reference": "WCC-3", "nhs_number": "", "date_of_birth": "", "sex": "", "given_names": "",
                "other_names": "", "status_kind": "unborn_cpp", "expected_delivery_date": "2027-01-15",
            },
            {
                "local_authority_code": "E08000025", "la_reference": "BCC-1", "nhs_number": "9434765870",
                "other_names": "", "status_kind": "looked_after", "legal_basis": "s31",
            },
        ],
    )  # fmt: skip
    output, report = run_import(path)
    assert "Read 4 rows: 4 children added" in output
    assert report == []
    victoria = Child.objects.get(nhs_number="9434765919")
    assert victoria.postcode == "N17 9EX"
    assert victoria.la_reference == "WCC-1"
    assert {(o.kind, o.family_name) for o in victoria.other_names.all()} == {
        (OtherName.Kind.ALIAS, "Kouao"),
        (OtherName.Kind.PREVIOUS_SURNAME, "Climbie"),
    }
    assert Child.objects.get(la_reference="WCC-2").family_name_normalised == "oneill"
    unborn = Child.objects.get(la_reference="WCC-3")
    assert unborn.date_of_birth is None
    assert unborn.statuses.get().expected_delivery_date == datetime.date(2027, 1, 15)
    assert Child.objects.get(la_reference="BCC-1").statuses.get().legal_basis == "s31"
    event = AuditEvent.objects.get(action=AuditEvent.Action.CHILDREN_IMPORTED)
    assert sorted(event.register_ids) == sorted(Child.objects.values_list("register_id", flat=True))
    assert event.details["created"] == 4


def test_bad_rows_are_reported_with_line_field_and_reason_and_the_rest_imported(tmp_path, authorities):
    path = write_csv(
        tmp_path / "children.csv",
        [
            {"la_reference": "OK-1", "nhs_number": ""},
            {"la_reference": "B-1", "nhs_number": "9434765918"},
            {"la_reference": "B-2", "nhs_number": "", "date_of_birth": "02/11/2016"},
            {"la_reference": "B-3", "nhs_number": "", "family_name": ""},
            {"la_reference": "B-4", "nhs_number": "", "local_authority_code": "E09999999"},
            {"la_reference": "B-5", "nhs_number": "", "status_kind": "looked_after"},
            {"la_reference": "B-6", "nhs_number": "", "status_start": "2026-06-01", "status_end": "2026-05-01"},
            {"la_reference": "B-7", "nhs_number": "", "date_of_birth": "2005-01-01"},
            {"la_reference": "B-8", "nhs_number": "", "status_start": "2023-01-01", "status_end": "2024-01-01"},
            {"la_reference": "B-9", "nhs_number": "", "postcode": "NOT A POSTCODE"},
            {"la_reference": "", "nhs_number": ""},
            {"la_reference": "OK-2", "nhs_number": ""},
            {"la_reference": "B-10", "nhs_number": "", "date_of_birth": "2016-02-30"},
        ],
    )
    output, report = run_import(path)
    assert "2 children added" in output
    assert "11 rows rejected" in output
    reasons = {(int(row["line"]), row["field"]): row["reason"] for row in report}
    assert reasons[(3, "nhs_number")] == NHS_NUMBER_CHECK_DIGIT
    assert reasons[(4, "date_of_birth")] == "date_of_birth is not a date in the form YYYY-MM-DD"
    assert reasons[(5, "family_name")] == "is required"
    assert "not a local authority" in reasons[(6, "local_authority_code")]
    assert "required for looked_after" in reasons[(7, "legal_basis")]
    assert reasons[(8, "status_end")] == "is before status_start"
    assert "18 or over" in reasons[(9, "(row)")]
    assert "more than 12 months ago" in reasons[(10, "(row)")]
    assert reasons[(11, "postcode")] == "Enter a full UK postcode, like SW1A 1AA"
    assert "required when there is no NHS number" in reasons[(12, "la_reference")]
    # The one date rule (date_from_parts), as for a date typed into the three boxes.
    assert reasons[(14, "date_of_birth")] == "date_of_birth must be a real date"
    assert set(Child.objects.values_list("la_reference", flat=True)) == {"OK-1", "OK-2"}


def test_reimporting_the_same_file_changes_nothing_and_a_changed_file_updates(tmp_path, authorities):
    rows = [{}, {"la_reference": "WCC-2", "nhs_number": "", "given_names": "Kai"}]
    path = write_csv(tmp_path / "children.csv", rows)
    run_import(path)
    first = {c.register_id: c.version for c in Child.objects.all()}
    assert OtherName.objects.count() == 4
    output, _ = run_import(path)
    assert "0 children added, 0 updated, 2 unchanged" in output
    assert {c.register_id: c.version for c in Child.objects.all()} == first
    assert ProtectionStatus.objects.count() == 2
    assert OtherName.objects.count() == 4

    rows[0] = {"family_name": "Adjo-Mensah", "status_end": "2026-10-01"}
    output, _ = run_import(write_csv(tmp_path / "children.csv", rows))
    assert "0 children added, 1 updated, 1 unchanged" in output
    victoria = Child.objects.get(nhs_number="9434765919")
    assert victoria.family_name_normalised == "adjo mensah"
    assert victoria.version == first[victoria.register_id] + 1
    assert victoria.statuses.get().end_date == datetime.date(2026, 10, 1)
    assert Child.objects.count() == 2


def test_a_second_status_for_the_same_child_in_one_file_joins_the_same_child(tmp_path, authorities):
    path = write_csv(
        tmp_path / "children.csv",
        [
            {},
            {
                "nhs_number": "9434765919",
                "status_kind": "looked_after",
                "legal_basis": "s20",
                "status_start": "2026-08-01",
            },
        ],
    )
    _, report = run_import(path)
    assert report == []
    assert Child.objects.count() == 1
    assert Child.objects.get().statuses.count() == 2


def test_an_nhs_number_held_by_another_authority_is_not_taken_over(tmp_path, authorities):
    run_import(write_csv(tmp_path / "a.csv", [{}]))
    _, report = run_import(
        write_csv(tmp_path / "b.csv", [{"local_authority_code": "E08000025", "la_reference": "B-1"}])
    )
    assert "another local authority" in report[0]["reason"]
    assert Child.objects.get().responsible_local_authority.gss_code == "E09000033"


def test_rows_with_the_wrong_number_of_values_or_bad_bytes_are_rejected_alone(tmp_path, authorities):
    header = ",".join(COLUMNS)
    good = ",".join(str(GOOD[column]) for column in COLUMNS).replace("943 476 5919", "")
    lines = [
        header,
        good.replace("WCC-1", "OK-1"),
        good.replace("WCC-1", "SHORT-1").rsplit(",", 2)[0],
        good.replace("WCC-1", "LONG-1") + ",extra",
        good.replace("WCC-1", "BYTES-1").replace("Victoria", "Vict\udcffria"),
        good.replace("WCC-1", "OK-2"),
    ]
    path = tmp_path / "mixed.csv"
    path.write_bytes("\n".join(lines).encode("utf-8", errors="surrogateescape") + b"\n")
    _, report = run_import(path)
    assert [(row["line"], row["reason"]) for row in report] == [
        ("3", "has fewer values than the header has columns"),
        ("4", "has more values than the header has columns"),
        ("5", "contains bytes that are not UTF-8 text"),
    ]
    assert set(Child.objects.values_list("la_reference", flat=True)) == {"OK-1", "OK-2"}


def test_a_file_without_the_import_columns_is_refused_before_anything_is_written(tmp_path, authorities):
    path = tmp_path / "wrong.csv"
    path.write_text("name,dob\nVictoria,2016-11-02\n", encoding="utf-8")
    with pytest.raises(CommandError, match="missing these columns"):
        call_command("import_children", str(path))
    assert not Child.objects.exists()


def test_a_nul_byte_in_one_row_rejects_that_row_not_the_import(tmp_path, authorities):
    header = ",".join(COLUMNS)
    good = ",".join(str(GOOD[column]) for column in COLUMNS).replace("943 476 5919", "")
    lines = [
        header,
        good.replace("WCC-1", "OK-1"),
        good.replace("WCC-1", "NUL-1").replace("Victoria", "Vict\x00ria"),
        good.replace("WCC-1", "OK-2"),
    ]
    path = tmp_path / "nul.csv"
    path.write_bytes("\n".join(lines).encode() + b"\n")
    _, report = run_import(path)
    assert [(row["line"], row["reason"]) for row in report] == [("3", "contains a NUL byte, which is not text")]
    assert set(Child.objects.values_list("la_reference", flat=True)) == {"OK-1", "OK-2"}
