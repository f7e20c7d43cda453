import datetime

import pytest
from django.core.exceptions import ValidationError

from accounts.roles import Role
from audit.actor import Actor, Channel
from audit.models import AuditEvent
from feeds.models import FeedMatch, Registration
from feeds.services import feed_match_confirm, feed_match_reject
from registry.models import Child, Notification, ProtectionStatus
from tests.factories import ChildFactory, InvolvementFactory, ProtectionStatusFactory, UserFactory, nhs_number_for
from tests.feeds.factories_feeds import birth_row, births_file, death_row, deaths_file, ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(westminster):
    return UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])


@pytest.fixture
def amelia(westminster):
    child = ChildFactory(
        responsible_local_authority=westminster,
        nhs_number=None,
        given_names="Amelia",
        family_name="Oneil",
        date_of_birth=datetime.date(2019, 4, 12),
        postcode="SW1A 1AA",
    )
    ProtectionStatusFactory(child=child)
    return child


def test_names_date_of_birth_and_postcode_exactly_as_recorded_are_applied(amelia):
    feed_file = ingest(deaths_file(death_row()))
    assert feed_file.rows_applied == 1
    amelia.refresh_from_db()
    assert amelia.date_of_death == datetime.date(2026, 11, 1)
    assert FeedMatch.objects.get().method == "matcher"


@pytest.mark.parametrize(
    "overrides",
    [
        {"postcode": ""},  # no postcode to agree
        {"postcode": "B1 1AA"},  # another postcode
        {"forenames": "Amelie"},  # a name spelt differently
    ],
)
def test_anything_less_certain_goes_to_the_review_queue_and_is_not_applied(amelia, manager, overrides):
    feed_file = ingest(deaths_file(death_row(**overrides)))
    assert (feed_file.rows_applied, feed_file.rows_for_review) == (0, 1)
    amelia.refresh_from_db()
    assert amelia.date_of_death is None
    match = FeedMatch.objects.get()
    assert (match.state, match.child, match.local_authority) == ("pending", amelia, amelia.responsible_local_authority)
    told = Notification.objects.get(kind=Notification.Kind.FEED_REVIEW)
    assert told.recipient == manager and "Oneil" not in told.message


def test_an_nhs_number_match_is_applied_whatever_the_names(amelia):
    Child.objects.filter(pk=amelia.pk).update(nhs_number=nhs_number_for(5))
    ingest(deaths_file(death_row(nhs_number=nhs_number_for(5), forenames="Mia", surname="Smith", postcode="")))
    amelia.refresh_from_db()
    assert amelia.date_of_death == datetime.date(2026, 11, 1)
    assert FeedMatch.objects.get().method == "nhs_number"


def test_an_nhs_number_match_with_another_date_of_birth_is_only_proposed(amelia):
    Child.objects.filter(pk=amelia.pk).update(nhs_number=nhs_number_for(5))
    feed_file = ingest(deaths_file(death_row(nhs_number=nhs_number_for(5), date_of_birth="2019-05-12")))
    assert feed_file.rows_for_review == 1
    amelia.refresh_from_db()
    assert amelia.date_of_death is None


def test_a_registration_with_an_nhs_number_still_finds_a_child_recorded_without_one(amelia):
    assert ingest(deaths_file(death_row(nhs_number=nhs_number_for(7)))).rows_applied == 1
    amelia.refresh_from_db()
    assert amelia.date_of_death == datetime.date(2026, 11, 1)


def test_a_child_with_a_different_nhs_number_is_another_person(amelia):
    Child.objects.filter(pk=amelia.pk).update(nhs_number=nhs_number_for(5))
    feed_file = ingest(deaths_file(death_row(nhs_number=nhs_number_for(6))))
    assert (feed_file.rows_unmatched, FeedMatch.objects.count()) == (1, 0)


def test_a_shielded_child_is_never_matched_on_names_alone_and_keeps_their_address(amelia):
    Child.objects.filter(pk=amelia.pk).update(is_shielded=True, shielding_reason="refuge", address_line_1="Secret")
    ingest(deaths_file(death_row(address="99 Other Road", postcode="SW1A 1AA")))
    amelia.refresh_from_db()
    assert amelia.date_of_death is None
    assert FeedMatch.objects.get().state == "pending"
    assert (amelia.address_line_1, amelia.postcode) == ("Secret", "SW1A 1AA")


def test_a_shielded_child_matched_by_nhs_number_is_marked_deceased_without_any_address_change(amelia):
    Child.objects.filter(pk=amelia.pk).update(is_shielded=True, shielding_reason="refuge", nhs_number=nhs_number_for(5))
    ingest(deaths_file(death_row(nhs_number=nhs_number_for(5), address="99 Other Road", postcode="B1 1AA")))
    amelia.refresh_from_db()
    assert amelia.date_of_death == datetime.date(2026, 11, 1)
    assert (amelia.address_line_1, amelia.postcode, amelia.is_shielded) == ("1 High Street", "SW1A 1AA", True)
    assert Child.objects.count() == 1  # a feed never creates a child


def test_a_correction_reapplies_with_the_new_date(amelia):
    ingest(deaths_file(death_row()))
    ingest(deaths_file(death_row(date_of_death="2026-10-30", record_status="corrected")), name="corrections.csv")
    amelia.refresh_from_db()
    assert amelia.date_of_death == datetime.date(2026, 10, 30)
    assert Registration.objects.get().record_status == "corrected"
    actions = (
        AuditEvent.objects.filter(action__startswith="child_death").order_by("id").values_list("action", flat=True)
    )
    assert list(actions) == ["child_death_recorded", "child_death_reversed", "child_death_recorded"]


def test_a_registration_and_its_correction_in_the_same_file_end_with_the_correction(amelia):
    feed_file = ingest(deaths_file(death_row(), death_row(date_of_death="2026-10-30", record_status="corrected")))
    amelia.refresh_from_db()
    assert amelia.date_of_death == datetime.date(2026, 10, 30)
    # The counters say what the file did: one registration applied, in its corrected form.
    assert (feed_file.rows_applied, feed_file.rows_duplicate) == (1, 1)
    assert (Registration.objects.get().record_status, FeedMatch.objects.get().state) == ("corrected", "applied")
    assert AuditEvent.objects.filter(action="child_death_recorded").count() == 1


def test_a_cancellation_reverses_the_death_and_tells_those_told(amelia, manager):
    practitioner = UserFactory(roles=[Role.PRACTITIONER])
    InvolvementFactory(child=amelia, practitioner=practitioner)
    ingest(deaths_file(death_row()))
    feed_file = ingest(deaths_file(death_row(record_status="cancelled")), name="cancellations.csv")
    amelia.refresh_from_db()
    assert amelia.date_of_death is None
    assert FeedMatch.objects.get().state == "reversed"
    assert feed_file.rows_unmatched == 1
    cancelled = Notification.objects.filter(kind=Notification.Kind.DEATH_CANCELLED)
    assert set(cancelled.values_list("recipient", flat=True)) == {practitioner.pk, manager.pk}
    reversed_event = AuditEvent.objects.get(action="child_death_reversed")
    assert reversed_event.register_ids == [amelia.register_id]
    assert reversed_event.details["record_status"] == "cancelled"
    # A stale first registration arriving afterwards does not bring the death back.
    ingest(deaths_file(death_row(place_of_death="elsewhere")), name="late.csv")
    amelia.refresh_from_db()
    assert amelia.date_of_death is None


def test_a_cancellation_withdraws_a_match_waiting_for_review(amelia):
    ingest(deaths_file(death_row(postcode="")))
    ingest(deaths_file(death_row(postcode="", record_status="cancelled")), name="cancel.csv")
    assert FeedMatch.objects.get().state == "withdrawn"


def test_a_manager_confirms_a_death_from_the_queue(amelia, manager):
    ingest(deaths_file(death_row(postcode="")))
    match = feed_match_confirm(match=FeedMatch.objects.get(), by=Actor(user=manager, channel=Channel.WEB))
    amelia.refresh_from_db()
    assert amelia.date_of_death == datetime.date(2026, 11, 1)
    assert (match.state, match.decided_by) == ("confirmed", manager)
    assert AuditEvent.objects.filter(action="feed_review_confirmed", actor=manager).exists()
    assert AuditEvent.objects.filter(action="child_death_recorded", actor=manager).exists()
    with pytest.raises(ValidationError):
        feed_match_reject(match=match, by=Actor(user=manager, channel=Channel.WEB))


def test_a_rejected_match_changes_nothing(amelia, manager):
    ingest(deaths_file(death_row(postcode="")))
    feed_match_reject(match=FeedMatch.objects.get(), by=Actor(user=manager, channel=Channel.WEB))
    amelia.refresh_from_db()
    assert amelia.date_of_death is None
    assert Registration.objects.get().outcome == "unmatched"
    assert AuditEvent.objects.filter(action="feed_review_rejected", actor=manager).exists()


# --- Births ---------------------------------------------------------------------------------


@pytest.fixture
def unborn(westminster):
    child = ChildFactory(
        responsible_local_authority=westminster,
        nhs_number=None,
        given_names="",
        family_name="Baker",
        date_of_birth=None,
        address_line_1="Refuge",
        is_shielded=True,
        shielding_reason="refuge",
    )
    ProtectionStatusFactory(
        child=child,
        kind=ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN,
        start_date=datetime.date(2026, 6, 1),
        expected_delivery_date=datetime.date(2026, 11, 20),
        mother_given_names="Jade",
        mother_family_name="Baker",
        mother_date_of_birth=datetime.date(1998, 5, 6),
    )
    return child


def test_a_birth_matching_an_unborn_plan_is_proposed_and_confirmed_into_the_record(unborn, manager):
    number = nhs_number_for(42)
    feed_file = ingest(births_file(birth_row(nhs_number=number, mother_postcode="E1 6AN")), name="births.csv")
    assert feed_file.rows_for_review == 1
    unborn.refresh_from_db()
    assert unborn.date_of_birth is None  # never applied without a person
    match = FeedMatch.objects.get()
    assert (match.method, match.state) == ("unborn_plan", "pending")
    feed_match_confirm(match=match, by=Actor(user=manager, channel=Channel.WEB))
    unborn.refresh_from_db()
    assert (unborn.date_of_birth, unborn.given_names, unborn.family_name) == (
        datetime.date(2026, 11, 2),
        "Noah",
        "Baker",
    )
    assert (unborn.sex, unborn.nhs_number) == ("male", number)
    assert (unborn.address_line_1, unborn.is_shielded) == ("Refuge", True)
    plans = {status.kind: status for status in unborn.statuses.all()}
    assert plans["unborn_cpp"].end_date == datetime.date(2026, 11, 2)
    assert (plans["cpp"].start_date, plans["cpp"].end_date) == (datetime.date(2026, 11, 2), None)
    assert unborn.given_name_phonetic  # searchable by the new name
    assert AuditEvent.objects.filter(action="child_birth_confirmed", register_ids=[unborn.register_id]).exists()


def test_a_confirmed_birth_cancelled_later_tells_the_managers_and_is_audited_naming_the_child(unborn, manager):
    # Issue 16 item 7: a birth cancelled after confirmation left no audit event naming the child.
    number = nhs_number_for(42)
    ingest(births_file(birth_row(nhs_number=number, mother_postcode="E1 6AN")), name="births.csv")
    feed_match_confirm(match=FeedMatch.objects.get(), by=Actor(user=manager, channel=Channel.WEB))
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    ingest(
        births_file(birth_row(nhs_number=number, mother_postcode="E1 6AN", record_status="cancelled")),
        name="births-cancelled.csv",
    )
    assert Notification.objects.filter(recipient=manager, message__contains="has been cancelled").exists()
    matched = AuditEvent.objects.filter(action="feed_records_matched", id__gt=before)
    assert [event.register_ids for event in matched] == [[unborn.register_id]]


@pytest.mark.parametrize("change", ["cancelled", "corrected"])
def test_a_confirmed_birth_the_gro_changes_later_waits_in_the_managers_review_queue(client, unborn, manager, change):
    # Issue 16 item 7: a birth cancelled after confirmation left no review item to work through.
    number = nhs_number_for(42)
    ingest(births_file(birth_row(nhs_number=number, mother_postcode="E1 6AN")), name="births.csv")
    feed_match_confirm(match=FeedMatch.objects.get(), by=Actor(user=manager, channel=Channel.WEB))
    client.force_login(manager)
    assert "There are no registrations waiting for review" in client.get("/feeds/review/").content.decode()
    changed = birth_row(nhs_number=number, mother_postcode="E1 6AN", record_status=change, forenames="Lily")
    ingest(births_file(changed), name="births-changed.csv")
    match = FeedMatch.objects.get()
    queue = client.get("/feeds/review/").content.decode()
    assert unborn.register_id in queue and f"/feeds/review/{match.pk}/" in queue
    assert f"{change.capitalize()} after confirmation: check the record" in queue
    page = client.get(f"/feeds/review/{match.pk}/").content.decode()
    assert f"the GRO has {change} the birth registration" in page and "I have checked the record" in page
    assert "Lily" in page  # the version the GRO sent now, beside the record
    response = client.post(f"/feeds/review/{match.pk}/", {})
    assert response.status_code == 302 and response["Location"] == "/feeds/review/"
    queue = client.get("/feeds/review/").content.decode()
    assert "has left the queue" in queue and "There are no registrations waiting for review" in queue
    checked = AuditEvent.objects.get(action="feed_review_checked")
    assert (checked.actor, checked.register_ids, checked.details["record_status"]) == (
        manager,
        [unborn.register_id],
        change,
    )
    # Checked twice (another tab): said, not recorded again.
    assert client.post(f"/feeds/review/{match.pk}/", {}).status_code == 302
    assert AuditEvent.objects.filter(action="feed_review_checked").count() == 1


def test_a_checked_birth_the_gro_changes_again_comes_back_to_the_queue(client, unborn, manager):
    number = nhs_number_for(42)
    ingest(births_file(birth_row(nhs_number=number, mother_postcode="E1 6AN")), name="births.csv")
    feed_match_confirm(match=FeedMatch.objects.get(), by=Actor(user=manager, channel=Channel.WEB))
    ingest(
        births_file(birth_row(nhs_number=number, mother_postcode="E1 6AN", record_status="corrected")),
        name="births-corrected.csv",
    )
    client.force_login(manager)
    match = FeedMatch.objects.get()
    client.post(f"/feeds/review/{match.pk}/", {})
    ingest(
        births_file(birth_row(nhs_number=number, mother_postcode="E1 6AN", record_status="cancelled")),
        name="births-cancelled.csv",
    )
    assert f"/feeds/review/{match.pk}/" in client.get("/feeds/review/").content.decode()


@pytest.mark.parametrize(
    "overrides",
    [
        {"date_of_birth": "2026-09-20", "registration_date": "2026-09-30"},  # more than 8 weeks early
        {"mother_surname": "Smith", "mother_maiden_surname": "Jones"},
        {"mother_date_of_birth": "1999-05-06"},
    ],
)
def test_a_birth_that_does_not_fit_the_plan_is_not_proposed(unborn, overrides):
    feed_file = ingest(births_file(birth_row(**overrides)), name="births.csv")
    assert (feed_file.rows_unmatched, FeedMatch.objects.count()) == (1, 0)


def test_a_birth_matched_by_maiden_surname_within_eight_weeks_is_proposed(unborn):
    row = birth_row(mother_surname="Khan", mother_maiden_surname="Baker", date_of_birth="2026-09-26",
                    registration_date="2026-10-01")  # fmt: skip
    assert ingest(births_file(row), name="births.csv").rows_for_review == 1


def test_a_birth_cannot_be_confirmed_with_an_nhs_number_already_on_the_register(unborn, manager):
    ChildFactory(nhs_number=nhs_number_for(42))
    ingest(births_file(birth_row(nhs_number=nhs_number_for(42))), name="births.csv")
    with pytest.raises(ValidationError, match="already has this NHS number"):
        feed_match_confirm(match=FeedMatch.objects.get(), by=Actor(user=manager, channel=Channel.WEB))
    unborn.refresh_from_db()
    assert unborn.date_of_birth is None
    assert FeedMatch.objects.get().state == "pending"
