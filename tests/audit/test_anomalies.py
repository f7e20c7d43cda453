import datetime

import pytest

from audit.actor import Actor, Channel
from audit.models import AnomalyFlag, AnomalyRule, AuditEvent
from audit.services import FlagAlreadyReviewed, anomaly_flag_review
from audit.services_anomalies import anomalies_scan
from audit.tasks import anomalies_detect
from tests.audit.factories_audit import national_auditor, practitioner_of, search_recorded, view_recorded
from tests.factories import ChildFactory, InvolvementFactory

pytestmark = pytest.mark.django_db

# A Monday in office hours (UK time is UTC in November).
OFFICE_HOURS = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)


def _rules(event: AuditEvent) -> set[str]:
    return set(AnomalyFlag.objects.filter(event=event).values_list("rule", flat=True))


def test_an_ordinary_lookup_in_office_hours_raises_nothing(westminster):
    worker = practitioner_of(westminster, full_name="Sam Carter", home_postcode="B15 2TT")
    child = ChildFactory(responsible_local_authority=westminster)
    search = search_recorded(worker, register_ids=[child.register_id], at=OFFICE_HOURS)
    view = view_recorded(worker, child, at=OFFICE_HOURS)
    anomalies_scan()
    assert _rules(search) == set() and _rules(view) == set()


def test_searching_for_ones_own_family_name_is_flagged_with_an_explanation(westminster):
    worker = practitioner_of(westminster, full_name="Siobhan Mary O'Neill")
    event = search_recorded(worker, criteria={"family_name": "ONEILL", "date_of_birth": "2019-04-12"}, at=OFFICE_HOURS)
    anomalies_scan()
    flag = AnomalyFlag.objects.get(event=event)
    assert flag.rule == AnomalyRule.OWN_FAMILY_NAME
    assert "their own family name" in flag.explanation


def test_opening_the_record_of_a_child_with_ones_own_family_name_is_flagged(westminster):
    worker = practitioner_of(westminster, full_name="Priya Shah")
    child = ChildFactory(family_name="Shah", responsible_local_authority=westminster)
    event = view_recorded(worker, child, at=OFFICE_HOURS)
    anomalies_scan()
    assert _rules(event) == {AnomalyRule.OWN_FAMILY_NAME}


def test_searching_by_ones_own_home_postcode_is_flagged_however_it_is_typed(westminster):
    worker = practitioner_of(westminster, home_postcode="SW1A 1AA")
    event = search_recorded(
        worker, criteria={"family_name": "Jones", "date_of_birth": "2019-04-12", "postcode": "sw1a1aa"}, at=OFFICE_HOURS
    )
    anomalies_scan()
    assert _rules(event) == {AnomalyRule.HOME_POSTCODE}


def test_out_of_hours_searches_are_flagged_unless_the_emergency_reason_was_given(westminster):
    worker = practitioner_of(westminster)
    late = datetime.datetime(2026, 11, 23, 22, 30, tzinfo=datetime.UTC)
    weekend = datetime.datetime(2026, 11, 21, 11, 0, tzinfo=datetime.UTC)
    summer_evening = datetime.datetime(2026, 7, 6, 17, 30, tzinfo=datetime.UTC)  # 18:30 in London (BST)
    flagged = [search_recorded(worker, at=when) for when in (late, weekend, summer_evening)]
    emergency = search_recorded(worker, reason="emergency", at=late)
    anomalies_scan()
    for event in flagged:
        assert AnomalyRule.OUT_OF_HOURS in _rules(event)
    assert (
        "outside office hours" in AnomalyFlag.objects.get(event=flagged[0], rule=AnomalyRule.OUT_OF_HOURS).explanation
    )
    assert _rules(emergency) == {AnomalyRule.EMERGENCY_REASON}


def test_every_use_of_the_emergency_reason_is_flagged(westminster):
    worker = practitioner_of(westminster)
    event = search_recorded(worker, reason="emergency", at=OFFICE_HOURS)
    anomalies_scan()
    assert _rules(event) == {AnomalyRule.EMERGENCY_REASON}


def test_opening_another_authoritys_child_without_involvement_is_flagged(westminster, birmingham):
    worker = practitioner_of(birmingham)
    stranger = ChildFactory(responsible_local_authority=westminster)
    known = ChildFactory(responsible_local_authority=westminster)
    InvolvementFactory(child=known, practitioner=worker)
    flagged = view_recorded(worker, stranger, at=OFFICE_HOURS)
    involved = view_recorded(worker, known, at=OFFICE_HOURS)
    anomalies_scan()
    assert _rules(flagged) == {AnomalyRule.OUTSIDE_AUTHORITY}
    assert "never recorded working with the child" in AnomalyFlag.objects.get(event=flagged).explanation
    assert _rules(involved) == set()


def test_a_day_above_the_limit_is_flagged_once(westminster, settings):
    settings.AUDIT_DAILY_SEARCH_LIMIT = 5
    worker = practitioner_of(westminster)
    for minute in range(7):
        search_recorded(worker, at=OFFICE_HOURS + datetime.timedelta(minutes=minute))
    anomalies_scan(chunk=3)
    flag = AnomalyFlag.objects.get(rule=AnomalyRule.DAILY_VOLUME)
    assert "above the daily limit of 5" in flag.explanation
    assert flag.actor == worker


def test_a_day_far_above_the_users_own_usual_volume_is_flagged(westminster, settings):
    settings.AUDIT_DAILY_SEARCH_LIMIT = 1000
    settings.AUDIT_USUAL_VOLUME_MINIMUM = 5
    settings.AUDIT_USUAL_VOLUME_FACTOR = 5
    steady, busy = practitioner_of(westminster), practitioner_of(westminster)
    for days_ago in range(1, 29):
        # steady: 2 searches a day for four weeks; busy has no history.
        for n in range(2):
            search_recorded(steady, at=OFFICE_HOURS - datetime.timedelta(days=days_ago, minutes=n))
    for minute in range(8):
        search_recorded(steady, at=OFFICE_HOURS + datetime.timedelta(minutes=minute))
        search_recorded(busy, at=OFFICE_HOURS + datetime.timedelta(minutes=minute))
    anomalies_scan()
    flagged = set(AnomalyFlag.objects.filter(rule=AnomalyRule.DAILY_VOLUME).values_list("actor", flat=True))
    # 8 is four times the steady user's usual 2 (not flagged); for the new user it is above the floor of 5.
    assert flagged == {busy.pk}
    assert "averaged 0.0 a day" in AnomalyFlag.objects.get(rule=AnomalyRule.DAILY_VOLUME).explanation


def test_the_scan_is_safe_to_run_twice_and_resumes_where_it_stopped(westminster):
    worker = practitioner_of(westminster)
    search_recorded(worker, reason="emergency", at=OFFICE_HOURS)
    assert anomalies_detect() == 1
    assert anomalies_detect() == 0
    search_recorded(worker, reason="emergency", at=OFFICE_HOURS)
    anomalies_detect()
    assert AnomalyFlag.objects.filter(rule=AnomalyRule.EMERGENCY_REASON).count() == 2


def test_an_auditor_reviews_a_flag_with_a_note_and_the_review_is_audited(westminster):
    worker = practitioner_of(westminster)
    search_recorded(worker, reason="emergency", at=OFFICE_HOURS)
    anomalies_scan()
    flag = AnomalyFlag.objects.get()
    auditor = national_auditor()
    with pytest.raises(ValueError, match="note"):
        anomaly_flag_review(flag=flag, by=Actor(user=auditor, channel=Channel.WEB), note="  ")
    anomaly_flag_review(
        flag=flag, by=Actor(user=auditor, channel=Channel.WEB), note="Called the duty team: genuine emergency."
    )
    flag.refresh_from_db()
    assert flag.reviewed_by == auditor and flag.review_note.startswith("Called")
    review = AuditEvent.objects.get(action=AuditEvent.Action.ANOMALY_FLAG_REVIEWED)
    assert review.actor == auditor and review.details["flag"] == flag.pk and review.subject_user_id == worker.pk
    with pytest.raises(FlagAlreadyReviewed):
        anomaly_flag_review(flag=flag, by=Actor(user=auditor, channel=Channel.WEB), note="Again")
