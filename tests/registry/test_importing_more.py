import pytest

import registry.intake.services as importing
from audit.models import AuditEvent
from registry.models import Child, OtherName, ProtectionStatus
from tests.factories import LocalAuthorityFactory
from tests.registry.import_helpers import run_import, write_csv

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def authorities():
    return (
        LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council"),
        LocalAuthorityFactory(gss_code="E08000025", name="Birmingham City Council"),
    )


def test_values_written(tmp_path):
    run_import(write_csv(tmp_path / "a.csv", [{}, {"la_reference": "X", "nhs_number": "", "sex": "u"}]))
    child = Child.objects.get(nhs_number="9434765919")
    assert child.sex == "female"
    assert child.register_id and child.version == 1 and child.created_at and child.updated_at
    assert child.family_name_phonetic
    assert Child.objects.get(la_reference="X").sex == "not_known"
    status = child.statuses.get()
    assert status.responsible_local_authority.gss_code == "E09000033"
    assert status.mother_nhs_number == "" and status.mother_date_of_birth is None
    assert status.created_at and status.updated_at
    names = list(child.other_names.order_by("kind"))
    assert [(n.kind, n.given_names, n.family_name, n.family_name_normalised) for n in names] == [
        ("alias", "Anna", "Kouao", "kouao"),
        ("previous_surname", "", "Climbie", "climbie"),
    ]
    # a child created afterwards by the ORM gets the next id
    assert Child.objects.order_by("-pk").first().pk >= 2


def test_duplicate_status_and_names_in_one_batch(tmp_path):
    _output, report = run_import(write_csv(tmp_path / "a.csv", [{}, {"status_end": "2026-07-01"}]))
    assert report == []
    assert Child.objects.count() == 1
    assert ProtectionStatus.objects.get().end_date.isoformat() == "2026-07-01"
    assert OtherName.objects.count() == 2


def test_changed_status_in_a_later_batch_updates(tmp_path):
    rows = [{}] + [{"la_reference": f"F-{i}", "nhs_number": ""} for i in range(3)] + [{"status_end": "2026-07-01"}]
    output, report = run_import(write_csv(tmp_path / "a.csv", rows), batch_size=2)
    assert report == []
    assert Child.objects.count() == 4
    assert Child.objects.get(nhs_number="9434765919").statuses.get().end_date.isoformat() == "2026-07-01"
    assert AuditEvent.objects.filter(action="children_imported").count() == 3
    updated = ProtectionStatus.objects.get(child__la_reference="F-0").updated_at
    # an unchanged re-import writes nothing
    output, report = run_import(write_csv(tmp_path / "a.csv", rows), batch_size=2)
    assert ProtectionStatus.objects.get(child__la_reference="F-0").updated_at == updated
    assert "0 children added, 0 updated" in output


def test_database_refusal_falls_back_row_by_row(tmp_path, monkeypatch):
    run_import(write_csv(tmp_path / "a.csv", [{}]))
    taken = Child.objects.get().register_id
    ids = iter([f"AAAA-AAAA-AAA{i}" for i in range(1, 9)])
    calls = []

    def fake():
        calls.append(1)
        return taken if len(calls) in (2, 6) else next(ids)

    monkeypatch.setattr(importing, "register_id_generate", fake)
    rows = [{"la_reference": f"N-{i}", "nhs_number": ""} for i in range(4)]
    _output, report = run_import(write_csv(tmp_path / "b.csv", rows))
    assert [r["line"] for r in report] == ["3"]
    assert "refused by the database" in report[0]["reason"]
    assert set(Child.objects.values_list("la_reference", flat=True)) == {"WCC-1", "N-0", "N-2", "N-3"}
    assert ProtectionStatus.objects.count() == 4


def test_reference_match_sets_nhs_number_and_references_are_per_authority(tmp_path):
    run_import(write_csv(tmp_path / "a.csv", [{"nhs_number": ""}]))
    output, _report = run_import(
        write_csv(
            tmp_path / "b.csv", [{}, {"local_authority_code": "E08000025", "nhs_number": "", "family_name": "Other"}]
        )
    )
    assert "1 children added, 1 updated" in output, output
    assert Child.objects.get(responsible_local_authority__gss_code="E09000033").nhs_number == "9434765919"
    assert Child.objects.get(responsible_local_authority__gss_code="E08000025").family_name == "Other"


def test_a_row_joining_two_children_is_refused_by_the_database_alone(tmp_path):
    run_import(write_csv(tmp_path / "a.csv", [{}, {"la_reference": "WCC-2", "nhs_number": "9434765870"}]))
    _output, report = run_import(
        write_csv(
            tmp_path / "b.csv",
            [
                {"la_reference": "NEW-1", "nhs_number": ""},
                {"la_reference": "WCC-2"},
                {"la_reference": "NEW-2", "nhs_number": ""},
            ],
        )
    )
    assert [(r["line"], r["field"]) for r in report] == [("3", "(row)")]
    assert "refused by the database" in report[0]["reason"]
    assert Child.objects.count() == 4


def test_a_status_changed_and_changed_back_in_one_batch_keeps_the_last_row(tmp_path):
    run_import(write_csv(tmp_path / "a.csv", [{}]))
    _output, report = run_import(write_csv(tmp_path / "b.csv", [{"status_end": "2026-07-01"}, {}]))
    assert report == []
    assert ProtectionStatus.objects.get().end_date is None
    _output, report = run_import(write_csv(tmp_path / "c.csv", [{}, {"status_end": "2026-07-01"}]))
    assert ProtectionStatus.objects.get().end_date.isoformat() == "2026-07-01"
