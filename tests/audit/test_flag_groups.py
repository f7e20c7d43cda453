"""Issue 14 item 10: anomaly flags are not raised for look-ups that showed nothing or for a
register manager's look-ups of their own children, and auditors see and review them
grouped per user per UK day."""

import datetime
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from audit.actor import Actor, Channel
from audit.models import AnomalyFlag, AnomalyRule, AuditEvent, LookupOutcome
from audit.selectors import AuditorScope, anomaly_flag_groups
from audit.services import anomaly_flags_review, audit_event_record, personal_data_read_record
from audit.services_anomalies import anomalies_scan
from tests.audit.factories_audit import authority_auditor, national_auditor, practitioner_of, search_recorded
from tests.factories import ChildFactory
from tests.registry.factories_maintenance import register_manager

pytestmark = pytest.mark.django_db

# A Monday night: every look-up here is out of hours (UK time is UTC in November).
NIGHT = datetime.datetime(2026, 11, 23, 22, 30, tzinfo=datetime.UTC)
NATIONAL = AuditorScope(None)


def _search(actor: Any, *, at: datetime.datetime = NIGHT, **fields: Any) -> AuditEvent:
    values: dict[str, Any] = {
        "action": AuditEvent.Action.SEARCH,
        "actor": actor,
        "criteria": {"family_name": "Oneil", "date_of_birth": "2019-04-12"},
        "reason": "assessment",
        "outcome": LookupOutcome.NO_RESULTS,
        "channel": "web",
    }
    values.update(fields)
    with time_machine.travel(at, tick=False):
        return audit_event_record(**values)


def test_refused_and_failed_searches_raise_no_flag_even_out_of_hours(westminster):
    worker = practitioner_of(westminster, full_name="Rhiannon Oneil", home_postcode="SW1A 1AA")
    refused = _search(
        worker,
        reason="",
        outcome=LookupOutcome.REFUSED,
        criteria={"family_name": "Oneil", "postcode": "SW1A 1AA"},
        details={"refusal": "throttled: too many searches"},
    )
    failed = _search(worker, reason="emergency", outcome=LookupOutcome.FAILED)
    shown = _search(worker)
    anomalies_scan()
    assert not AnomalyFlag.objects.filter(event__in=[refused, failed]).exists()
    # The same look-up that did show something is still flagged, so the rules still work.
    assert set(AnomalyFlag.objects.filter(event=shown).values_list("rule", flat=True)) == {
        AnomalyRule.OUT_OF_HOURS,
        AnomalyRule.OWN_FAMILY_NAME,
    }


def test_refused_searches_do_not_count_towards_the_daily_volume(westminster, settings):
    settings.AUDIT_DAILY_SEARCH_LIMIT = 5
    worker = practitioner_of(westminster)
    office = datetime.datetime(2026, 11, 23, 10, tzinfo=datetime.UTC)
    for minute in range(8):
        _search(worker, at=office + datetime.timedelta(minutes=minute), outcome=LookupOutcome.REFUSED)
    _search(worker, at=office + datetime.timedelta(minutes=9))
    anomalies_scan()
    assert not AnomalyFlag.objects.filter(rule=AnomalyRule.DAILY_VOLUME).exists()


def test_a_register_managers_finds_and_own_duplicate_checks_raise_no_flag(westminster, birmingham):
    manager = register_manager(westminster, full_name="Maria Oneil")
    own = ChildFactory(responsible_local_authority=westminster, family_name="Oneil")
    theirs = ChildFactory(responsible_local_authority=birmingham)
    find = _search(manager, reason="", register_ids=[own.register_id], details={"purpose": "manager_find"})
    own_check = _search(
        manager,
        reason="",
        register_ids=[own.register_id],
        child_authority_codes={own.register_id: "E09000033"},
        details={"purpose": "duplicate_check"},
    )
    elsewhere = _search(
        manager,
        reason="",
        register_ids=[theirs.register_id],
        child_authority_codes={theirs.register_id: "E08000025"},
        details={"purpose": "duplicate_check"},
    )
    anomalies_scan()
    assert not AnomalyFlag.objects.filter(event__in=[find, own_check]).exists()
    # A duplicate check that named another authority's child is still looked at.
    assert AnomalyFlag.objects.filter(event=elsewhere, rule=AnomalyRule.OUT_OF_HOURS).exists()


def test_flags_are_grouped_per_user_per_uk_day_with_the_rules_that_fired(westminster):
    sam = practitioner_of(westminster, full_name="Sam Night")
    kim = practitioner_of(westminster, full_name="Kim Late")
    # 23:30 UTC on 1 July is 00:30 on 2 July in the UK (BST): it belongs to 2 July.
    for minute in range(3):
        _search(sam, at=datetime.datetime(2026, 7, 1, 23, 30 + minute, tzinfo=datetime.UTC))
    _search(sam, at=datetime.datetime(2026, 7, 2, 20, 0, tzinfo=datetime.UTC), reason="emergency")
    _search(sam, at=datetime.datetime(2026, 7, 1, 20, 0, tzinfo=datetime.UTC))
    _search(kim, at=datetime.datetime(2026, 7, 2, 21, 0, tzinfo=datetime.UTC))
    anomalies_scan()

    groups = anomaly_flag_groups(scope=NATIONAL)
    assert [(group.actor.full_name, group.day.isoformat(), group.count) for group in groups] == [
        ("Kim Late", "2026-07-02", 1),
        ("Sam Night", "2026-07-02", 4),
        ("Sam Night", "2026-07-01", 1),
    ]
    assert groups[1].rule_labels == [
        "Out-of-hours look-up without the emergency reason (3)",
        "Used the emergency reason (1)",
    ]
    only_emergency = anomaly_flag_groups(scope=NATIONAL, rule=AnomalyRule.EMERGENCY_REASON)
    assert [(group.actor.full_name, group.count) for group in only_emergency] == [("Sam Night", 1)]


def test_a_bulk_review_claims_each_open_flag_once_and_audits_each_as_a_single_review(westminster):
    worker = practitioner_of(westminster)
    for minute in range(3):
        _search(worker, at=NIGHT + datetime.timedelta(minutes=minute))
    anomalies_scan()
    auditor, other = national_auditor(), national_auditor()
    flags = list(AnomalyFlag.objects.order_by("pk"))
    assert (
        anomaly_flags_review(flag_ids=[flags[0].pk], by=Actor(user=other, channel=Channel.WEB), note="Checked first")
        == 1
    )

    with pytest.raises(ValueError, match="note"):
        anomaly_flags_review(
            flag_ids=[flag.pk for flag in flags], by=Actor(user=auditor, channel=Channel.WEB), note=" "
        )
    count = anomaly_flags_review(
        flag_ids=[flag.pk for flag in flags],
        by=Actor(user=auditor, channel=Channel.WEB),
        note="Night duty rota confirmed",
    )
    assert count == 2
    for flag in flags:
        flag.refresh_from_db()
    assert flags[0].reviewed_by == other and flags[0].review_note == "Checked first"
    assert {flag.reviewed_by for flag in flags[1:]} == {auditor}
    reviews = AuditEvent.objects.filter(action=AuditEvent.Action.ANOMALY_FLAG_REVIEWED, actor=auditor)
    assert sorted(event.details["flag"] for event in reviews) == [flags[1].pk, flags[2].pk]
    assert {event.details["reviewed_together"] for event in reviews} == {2}
    assert {event.subject_user_id for event in reviews} == {worker.pk}


def test_an_auditor_reviews_the_chosen_groups_from_the_list_with_one_note(client, westminster):
    sam = practitioner_of(westminster, full_name="Sam Night")
    kim = practitioner_of(westminster, full_name="Kim Late")
    for minute in range(3):
        _search(sam, at=NIGHT + datetime.timedelta(minutes=minute))
    _search(kim, at=NIGHT)
    anomalies_scan()
    auditor = national_auditor()
    client.force_login(auditor)

    page = client.get(reverse("audit:flags")).content.decode()
    assert page.count('name="groups"') == 2 and "Sam Night" in page and "Kim Late" in page

    missing = client.post(reverse("audit:flags"), {"note": "Checked"}).content.decode()
    assert "Select the flags to review" in missing and 'href="#id_groups"' in missing
    response = client.post(reverse("audit:flags"), {"groups": [f"{sam.pk}:2026-11-23"], "note": "Rota checked"})
    assert response.status_code == 302
    assert set(AnomalyFlag.objects.filter(actor=sam).values_list("review_note", flat=True)) == {"Rota checked"}
    assert AnomalyFlag.objects.get(actor=kim).reviewed_at is None
    assert "3 flags marked as reviewed" in client.get(reverse("audit:flags")).content.decode()


def test_a_group_page_reviews_all_its_flags_and_is_out_of_reach_outside_scope(client, westminster, birmingham):
    worker = practitioner_of(westminster, full_name="Sam Night")
    for minute in range(2):
        _search(worker, at=NIGHT + datetime.timedelta(minutes=minute))
    search_recorded(worker, reason="emergency", at=NIGHT + datetime.timedelta(days=1))
    anomalies_scan()
    url = reverse("audit:flag_group", args=[worker.pk, "2026-11-23"])

    client.force_login(authority_auditor(birmingham))
    assert client.get(url).status_code == 404
    client.force_login(national_auditor())
    page = client.get(url).content.decode()
    assert page.count("Out-of-hours look-up without the emergency reason") == 2
    client.post(url, {"note": "Both on the duty rota"})
    assert AnomalyFlag.objects.filter(reviewed_at__isnull=False).count() == 2
    # The next day's flag is another group, still to review.
    assert AnomalyFlag.objects.get(reviewed_at__isnull=True).rule == AnomalyRule.EMERGENCY_REASON
    assert client.get(reverse("audit:flag_group", args=[worker.pk, "not-a-day"])).status_code == 404


def test_a_register_managers_reads_of_their_own_childrens_pages_raise_no_flag(westminster, birmingham):
    manager = register_manager(westminster, full_name="Maria Oneil")
    own = ChildFactory(responsible_local_authority=westminster, family_name="Oneil")
    theirs = ChildFactory(responsible_local_authority=birmingham, family_name="Oneil")

    def read(child):
        with time_machine.travel(NIGHT, tick=False):
            return personal_data_read_record(
                by=Actor(user=manager, channel=Channel.WEB),
                register_ids=[child.register_id],
                page="manage_child",
                child_authority_codes={child.register_id: child.responsible_local_authority.gss_code},
            )

    own_read, other_read = read(own), read(theirs)
    anomalies_scan()
    assert not AnomalyFlag.objects.filter(event=own_read).exists()
    assert AnomalyFlag.objects.filter(event=other_read, rule=AnomalyRule.OUT_OF_HOURS).exists()
