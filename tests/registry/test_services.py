import datetime
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from audit.actor import Actor, Channel
from audit.models import AuditEvent
from registry.children.services import OutOfScope, child_create, child_identity_update, involvement_add, status_end
from registry.models import Child, OtherName, ProtectionStatus
from tests.factories import ChildFactory, InvolvementFactory, ProtectionStatusFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)


def plan(start=datetime.date(2026, 9, 1), end=None):
    return ProtectionStatus(kind=ProtectionStatus.Kind.CHILD_PROTECTION_PLAN, start_date=start, end_date=end)


def test_adding_a_child_stores_matching_keys_and_audits_only_the_register_id(westminster):
    manager = UserFactory()
    child = child_create(
        by=Actor(user=manager, channel=Channel.WEB),
        responsible_local_authority=westminster,
        given_names="Zoë",
        family_name="O'Neill-Smith",
        date_of_birth=datetime.date(2016, 4, 2),
        nhs_number="943 476 5919",
        postcode="sw1a1aa",
        status=plan(),
        other_names=[(OtherName.Kind.ALIAS, "Anna", "Kouao")],
        today=TODAY,
    )
    child.refresh_from_db()
    assert child.nhs_number == "9434765919"
    assert child.postcode == "SW1A 1AA"
    assert child.given_names_normalised == "zoe"
    assert child.family_name_normalised == "oneill smith"
    assert child.family_name_phonetic == "ONL SM0"
    alias = child.other_names.get()
    assert alias.family_name_normalised == "kouao" and alias.family_name_phonetic
    assert child.statuses.get().responsible_local_authority == westminster
    event = AuditEvent.objects.get(action=AuditEvent.Action.CHILD_CREATED)
    assert event.actor == manager
    assert event.register_ids == [child.register_id]
    assert "Neill" not in str(event.details) and "9434765919" not in str(event.details)


def test_a_child_out_of_scope_is_refused_with_a_clear_message(westminster):
    with pytest.raises(OutOfScope, match="every status ended more than 12 months ago"):
        child_create(
            by=Actor.system(),
            responsible_local_authority=westminster,
            family_name="Smith",
            date_of_birth=datetime.date(2016, 4, 2),
            status=plan(start=datetime.date(2023, 1, 1), end=datetime.date(2024, 1, 1)),
            today=TODAY,
        )
    with pytest.raises(OutOfScope, match="18 or over"):
        child_create(
            by=Actor.system(),
            responsible_local_authority=westminster,
            family_name="Smith",
            date_of_birth=datetime.date(2008, 1, 1),
            status=plan(),
            today=TODAY,
        )
    assert not Child.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_invalid_nhs_number_is_refused(westminster):
    with pytest.raises(ValidationError, match="the last digit does not match"):
        child_create(
            by=Actor.system(),
            responsible_local_authority=westminster,
            family_name="Smith",
            date_of_birth=datetime.date(2016, 4, 2),
            nhs_number="9434765918",
            status=plan(),
            today=TODAY,
        )


def test_if_the_audit_write_fails_the_change_is_not_made(westminster):
    with (
        mock.patch("registry.children.services.audit_event_record", side_effect=RuntimeError("audit store down")),
        pytest.raises(RuntimeError),
    ):
        child_create(
            by=Actor.system(),
            responsible_local_authority=westminster,
            family_name="Smith",
            date_of_birth=datetime.date(2016, 4, 2),
            status=plan(),
            today=TODAY,
        )
    assert not Child.objects.exists()
    assert not ProtectionStatus.objects.exists()


def test_correcting_a_name_recomputes_keys_bumps_the_version_and_audits_field_names_only():
    child = ChildFactory(family_name="Thomson", given_names="Liam")
    child_identity_update(by=Actor.system(), child=child, changes={"family_name": "Thompson", "given_names": "Liam"})
    child.refresh_from_db()
    assert child.family_name_normalised == "thompson"
    assert child.version == 2
    event = AuditEvent.objects.get(action=AuditEvent.Action.CHILD_UPDATED)
    assert event.details == {"fields": ["family_name"]}
    assert "Thompson" not in str(event.details)


def test_protected_fields_cannot_be_changed_through_identity_update():
    child = ChildFactory()
    with pytest.raises(ValidationError, match="responsible_local_authority"):
        child_identity_update(by=Actor.system(), child=child, changes={"responsible_local_authority": None})


def test_ending_a_status_before_it_started_is_refused():
    status = ProtectionStatusFactory(start_date=datetime.date(2026, 5, 1))
    with pytest.raises(ValidationError):
        status_end(by=Actor.system(), status=status, end_date=datetime.date(2026, 4, 1))
    status.refresh_from_db()
    assert status.end_date is None


def test_a_second_current_lead_is_refused_by_validation():
    child = ChildFactory()
    InvolvementFactory(child=child, is_lead=True)
    with pytest.raises(ValidationError):
        involvement_add(
            by=Actor.system(),
            child=child,
            involvement=InvolvementFactory.build(child=child, practitioner=UserFactory(), is_lead=True),
        )
