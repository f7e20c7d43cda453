import csv
import datetime
import hashlib
import io
import json
import zipfile

import pytest
from django.urls import reverse

from audit.models import AnomalyFlag, AuditEvent
from audit.services_anomalies import anomalies_scan
from tests.audit.factories_audit import national_auditor, practitioner_of, search_recorded, view_recorded
from tests.factories import ChildFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor_client(client):
    auditor = national_auditor(full_name="Alex Auditor")
    client.force_login(auditor)
    client.auditor = auditor
    return client


def _audited(action: str, auditor) -> AuditEvent:
    return AuditEvent.objects.filter(action=action, actor=auditor).latest("id")


def test_only_auditors_open_the_audit_trail(client, westminster):
    client.force_login(practitioner_of(westminster))
    assert client.get(reverse("audit:events")).status_code == 403


def test_a_childs_access_history_shows_who_looked_and_why_and_is_itself_audited(auditor_client, westminster):
    child = ChildFactory(responsible_local_authority=westminster)
    other = ChildFactory(responsible_local_authority=westminster)
    worker = practitioner_of(westminster, full_name="Dana Looker")
    view_recorded(worker, child, reason="ongoing_work")
    view_recorded(worker, other)
    response = auditor_client.get(reverse("audit:child", args=[child.register_id]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Dana Looker" in page and "Ongoing work with the child" in page
    assert other.register_id not in page
    event = _audited(AuditEvent.Action.AUDIT_CHILD_HISTORY_VIEWED, auditor_client.auditor)
    assert event.register_ids == [child.register_id]


def test_events_filter_by_action_and_dates_and_each_search_is_audited(auditor_client, westminster):
    worker = practitioner_of(westminster, full_name="Evan Early")
    search_recorded(worker, at=datetime.datetime(2026, 11, 2, 10, tzinfo=datetime.UTC))
    search_recorded(worker, at=datetime.datetime(2026, 11, 20, 10, tzinfo=datetime.UTC))
    response = auditor_client.get(
        reverse("audit:events"),
        {
            "action": "search",
            **date_boxes("date_from", "15", "11", "2026"),
            **date_boxes("date_to", "21", "11", "2026"),
        },
    )
    assert response.status_code == 200
    assert "Showing 1 to 1 of 1 event" in response.content.decode()
    event = _audited(AuditEvent.Action.AUDIT_SEARCHED, auditor_client.auditor)
    assert event.criteria == {"action": "search", "date_from": "2026-11-15", "date_to": "2026-11-21"}
    # The export and page links keep the dates, as day, month and year boxes.
    page = response.content.decode()
    assert "date_from-day=15&amp;date_from-month=11&amp;date_from-year=2026" in page


def date_boxes(name, day, month, year):
    return {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}


def test_auditors_type_dates_in_the_govuk_date_input(auditor_client):
    page = auditor_client.get(reverse("audit:events")).content.decode()
    for box in ("date_from-day", "date_from-month", "date_from-year", "date_to-day"):
        assert f'name="{box}"' in page
    assert "yyyy-mm-dd" not in page.lower() and "For example, 23 11 2026" in page


@pytest.mark.parametrize(
    ("boxes", "message"),
    [
        (date_boxes("date_from", "31", "2", "2026"), "From date must be a real date"),
        (date_boxes("date_from", "23/11/2026", "", ""), "Enter the date as day, month, year, for example 21 6 2024"),
        (date_boxes("date_from", "11", "23", "2026"), "Month must be between 1 and 12 — did you type the month first?"),
        (date_boxes("date_from", "23", "11", ""), "From date must include a year"),
    ],
)
def test_a_bad_date_is_shown_next_to_its_field(auditor_client, boxes, message):
    page = auditor_client.get(reverse("audit:events"), boxes).content.decode()
    assert "There is a problem" in page
    assert 'id="id_date_from-error"' in page
    assert page.count(message) == 2  # in the error summary and next to the field


def test_events_are_paginated(auditor_client, westminster, settings):
    settings.AUDIT_PAGE_SIZE = 10
    worker = practitioner_of(westminster)
    for _ in range(15):
        search_recorded(worker)
    response = auditor_client.get(reverse("audit:events"), {"user": worker.pk, "page": 2})
    assert "Showing 11 to 15 of 15 events" in response.content.decode()


def test_an_auditor_finds_a_user_by_email_without_it_reaching_a_url(auditor_client, westminster):
    worker = practitioner_of(westminster, email="pat.worker@example.gov.uk", full_name="Pat Worker")
    search_recorded(worker)
    response = auditor_client.post(reverse("audit:user_find"), {"email": "Pat.Worker@example.gov.uk"})
    assert response.status_code == 302 and response["Location"] == reverse("audit:user", args=[worker.pk])
    page = auditor_client.get(response["Location"]).content.decode()
    assert "Pat Worker" in page and "Searched the register" in page
    assert _audited(AuditEvent.Action.AUDIT_USER_ACTIVITY_VIEWED, auditor_client.auditor).subject_user_id == worker.pk
    assert _audited(AuditEvent.Action.AUDIT_USER_FOUND, auditor_client.auditor).criteria == {
        "email": "Pat.Worker@example.gov.uk"
    }


def test_an_auditor_finds_a_child_by_name_and_the_search_is_audited_with_its_purpose(auditor_client, westminster):
    child = ChildFactory(family_name="Okafor", given_names="Ada", date_of_birth=datetime.date(2018, 5, 1))
    response = auditor_client.post(
        reverse("audit:child_find"),
        {"family_name": "Okafor", "given_names": "", **DATE_OF_BIRTH, "purpose": "Complaint C-17"},
    )
    assert reverse("audit:child", args=[child.register_id]) in response.content.decode()
    event = _audited(AuditEvent.Action.AUDIT_CHILD_FOUND, auditor_client.auditor)
    assert event.criteria["purpose"] == "Complaint C-17" and event.register_ids == [child.register_id]
    assert event.criteria["date_of_birth"] == "2018-05-01"


DATE_OF_BIRTH = {"date_of_birth_0": "1", "date_of_birth_1": "5", "date_of_birth_2": "2018"}


def test_an_auditors_child_search_refuses_a_date_of_birth_in_the_future(auditor_client):
    page = auditor_client.post(
        reverse("audit:child_find"),
        {"family_name": "Okafor", "date_of_birth_0": "1", "date_of_birth_1": "5", "date_of_birth_2": "2099",
         "purpose": "Complaint C-17"},
    ).content.decode()  # fmt: skip
    assert "Date of birth must be today or in the past" in page


def test_an_auditor_reviews_a_flag_in_the_browser_form(auditor_client, westminster):
    worker = practitioner_of(westminster)
    search_recorded(worker, reason="emergency", at=datetime.datetime(2026, 11, 23, 10, tzinfo=datetime.UTC))
    anomalies_scan()
    flag = AnomalyFlag.objects.get()
    assert "Used the emergency reason" in auditor_client.get(reverse("audit:flags")).content.decode()
    empty = auditor_client.post(reverse("audit:flag", args=[flag.pk]), {"note": ""})
    assert 'id="id_note-error"' in empty.content.decode()
    done = auditor_client.post(reverse("audit:flag", args=[flag.pk]), {"note": "Genuine: duty team confirmed"})
    assert done.status_code == 302
    flag.refresh_from_db()
    assert flag.reviewed_at is not None and flag.review_note == "Genuine: duty team confirmed"
    assert "No flags to review" in auditor_client.get(reverse("audit:flags")).content.decode()


def _unzip(response) -> tuple[bytes, dict]:
    bundle = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(bundle.read("manifest.json"))
    return bundle.read(manifest["file"]), manifest


def test_a_csv_export_carries_a_manifest_with_row_count_and_sha256(auditor_client, westminster):
    worker = practitioner_of(westminster)
    for _ in range(3):
        search_recorded(worker)
    response = auditor_client.get(reverse("audit:export"), {"user": worker.pk, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    data, manifest = _unzip(response)
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert manifest["row_count"] == len(rows) == 3
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert {row["actor_id"] for row in rows} == {str(worker.pk)}
    exported = _audited(AuditEvent.Action.AUDIT_EXPORTED, auditor_client.auditor)
    assert exported.details == {"format": "csv", "row_count": 3, "sha256": manifest["sha256"]}
    assert manifest["export_audit_event_id"] == exported.pk


def test_a_json_export_matches_its_manifest(auditor_client, westminster):
    child = ChildFactory(responsible_local_authority=westminster)
    view_recorded(practitioner_of(westminster), child)
    response = auditor_client.get(reverse("audit:export"), {"register_id": child.register_id, "format": "json"})
    data, manifest = _unzip(response)
    rows = json.loads(data)
    assert manifest["row_count"] == len(rows) == 1
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert rows[0]["register_ids"] == [child.register_id] and len(rows[0]["chain_hash"]) == 64


def test_an_export_too_large_is_refused_with_a_message(auditor_client, westminster, settings):
    settings.AUDIT_EXPORT_MAX_ROWS = 2
    worker = practitioner_of(westminster)
    for _ in range(3):
        search_recorded(worker)
    response = auditor_client.get(reverse("audit:export"), {"user": worker.pk, "format": "csv"})
    assert response.status_code == 400 and "Narrow the dates" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.AUDIT_EXPORTED).exists()


def test_an_unknown_user_answers_404(auditor_client):
    assert auditor_client.get(reverse("audit:user", args=[999999])).status_code == 404


def test_an_auditor_page_whose_own_audit_event_cannot_be_written_shows_nothing_and_answers_503(
    auditor_client, westminster, monkeypatch
):
    child = ChildFactory(responsible_local_authority=westminster)
    view_recorded(practitioner_of(westminster, full_name="Dana Looker"), child, reason="ongoing_work")

    def broken(**kwargs):
        from django.db import DatabaseError

        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr("audit.views.auditor_action_record", broken)
    response = auditor_client.get(reverse("audit:child", args=[child.register_id]))
    assert response.status_code == 503
    assert "Dana Looker" not in response.content.decode()
    assert "could not be recorded" in response.content.decode()


def test_a_csv_export_writes_formula_like_text_as_text(auditor_client, westminster):
    # Free text typed by a practitioner must not run as a formula in the auditor's spreadsheet.
    from audit.services import audit_event_record

    worker = practitioner_of(westminster)
    typed = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tindented", "\rreturn"]
    for detail in typed:
        audit_event_record(
            action=AuditEvent.Action.SEARCH, actor=worker, reason="other", reason_detail=detail, channel="web"
        )
    response = auditor_client.get(reverse("audit:export"), {"user": worker.pk, "format": "csv"})
    data, manifest = _unzip(response)
    rows = list(csv.DictReader(io.StringIO(data.decode(), newline="")))
    assert sorted(row["reason_detail"] for row in rows) == sorted("'" + detail for detail in typed)
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
