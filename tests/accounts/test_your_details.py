"""A user records their own home postcode on "Your details"; from then on the anomaly rule
that flags look-ups near home can fire (issue 12: before, nothing could set it)."""

import datetime

import pytest
from django.urls import reverse

from audit.models import AnomalyFlag, AnomalyRule, AuditEvent
from audit.services_anomalies import anomalies_scan
from tests.audit.factories_audit import practitioner_of, search_recorded

pytestmark = pytest.mark.django_db

OFFICE_HOURS = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)


def test_a_user_records_their_home_postcode_and_a_search_for_it_is_then_flagged(client, westminster):
    worker = practitioner_of(westminster)
    client.force_login(worker)
    page = client.get(reverse("accounts:your_details"))
    assert page.status_code == 200
    assert "Used only to flag look-ups of children who live near your home" in page.content.decode()

    response = client.post(reverse("accounts:your_details"), {"home_postcode": " sw1a1aa "})

    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.home_postcode == "SW1A 1AA"
    recorded = AuditEvent.objects.get(action=AuditEvent.Action.HOME_POSTCODE_SET, actor=worker)
    assert recorded.details == {"home_postcode_held": True}  # never the postcode itself
    assert recorded.channel == "web"
    search = search_recorded(
        worker,
        criteria={"family_name": "Jones", "date_of_birth": "2019-04-12", "postcode": "SW1A 1AA"},
        at=OFFICE_HOURS,
    )
    anomalies_scan()
    assert AnomalyFlag.objects.filter(event=search, rule=AnomalyRule.HOME_POSTCODE).exists()


def test_a_postcode_that_is_not_one_is_refused_and_nothing_is_saved(client, westminster):
    worker = practitioner_of(westminster)
    client.force_login(worker)
    response = client.post(reverse("accounts:your_details"), {"home_postcode": "not a postcode"})
    assert response.status_code == 200
    assert "Enter a full UK postcode, like SW1A 1AA" in response.content.decode()
    worker.refresh_from_db()
    assert worker.home_postcode == ""
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.HOME_POSTCODE_SET).exists()


def test_an_empty_postcode_removes_the_one_held(client, westminster):
    worker = practitioner_of(westminster, home_postcode="B15 2TT")
    client.force_login(worker)
    client.post(reverse("accounts:your_details"), {"home_postcode": ""})
    worker.refresh_from_db()
    assert worker.home_postcode == ""
    assert AuditEvent.objects.get(action=AuditEvent.Action.HOME_POSTCODE_SET).details == {"home_postcode_held": False}
