"""The daily removal run: what it deletes (everything naming the child, checked in every
table), what it keeps (the audit trail, a receipt), and that running it again is safe."""

import datetime
import uuid

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import DatabaseError, models
from django.test import override_settings

from accounts.roles import Role
from audit.actor import Actor, Channel
from audit.models import AuditEvent
from registry.children.services import child_create
from registry.models import (
    AccessNotice,
    Child,
    ChildTransfer,
    Involvement,
    ManualRemovalReason,
    Notification,
    OtherName,
    ProtectionStatus,
    RemovalReceipt,
    RemovalRule,
    ServiceType,
)
from registry.removal import services as removal_services
from registry.removal.services import RemovalRefused, child_remove_manually, legal_hold_set, removal_run
from registry.removal.tasks import due_children_remove
from signposting.celery import app as celery_app
from tests.factories import ChildFactory, LocalAuthorityFactory, ProtectionStatusFactory, UserFactory, nhs_number_for
from tests.registry.factories_removal import LegalHoldFactory

pytestmark = pytest.mark.django_db

# Unusual enough that finding any of them anywhere in the database means a leak.
PERSONAL = {
    "given_names": "Zephyrine",
    "family_name": "Quillfeather",
    "alias_family": "Brackenbury",
    "mother_given": "Marisol",
    "address": "17 Larkspur Mews",
    "postcode": "ZZ9 9ZZ",
    "contact": "Thaddeus Wrenfield",
    # Far beyond the factories' sequence, so never another child's.
    "nhs_number": nhs_number_for(99_999),
}


def ended_status(**kwargs) -> ProtectionStatus:
    return ProtectionStatus(
        kind=ProtectionStatus.Kind.CHILD_PROTECTION_PLAN,
        start_date=datetime.date(2024, 1, 1),
        end_date=kwargs.pop("end_date", datetime.date(2025, 10, 1)),
        **kwargs,
    )


@pytest.fixture
def due_child(westminster, birmingham):
    """A child due under the statuses-ended rule, with something in every table that names a child."""
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    # child_create writes the child_created audit event that must survive removal.
    with override_settings(REGISTER_RETENTION_MONTHS_AFTER_PLAN_END=120):
        child = child_create(
            by=Actor(user=manager, channel=Channel.WEB), responsible_local_authority=westminster,
            family_name=PERSONAL["family_name"],
            given_names=PERSONAL["given_names"], status=ended_status(), date_of_birth=datetime.date(2016, 4, 4),
            nhs_number=PERSONAL["nhs_number"], address_line_1=PERSONAL["address"], postcode=PERSONAL["postcode"],
            other_names=[(OtherName.Kind.ALIAS, "Anouk", PERSONAL["alias_family"])],
        )  # fmt: skip
    ProtectionStatusFactory(
        child=child, kind=ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN, start_date=datetime.date(2015, 12, 1),
        end_date=datetime.date(2016, 4, 4), expected_delivery_date=datetime.date(2016, 4, 1),
        mother_given_names=PERSONAL["mother_given"], mother_family_name=PERSONAL["family_name"],
    )  # fmt: skip
    practitioner = UserFactory(roles=[Role.PRACTITIONER])
    Involvement.objects.create(child=child, practitioner=practitioner, service_type=ServiceType.HEALTH_VISITING,
                               start_date=datetime.date(2024, 2, 1))  # fmt: skip
    Involvement.objects.create(child=child, contact_name=PERSONAL["contact"], service_type=ServiceType.GP,
                               start_date=datetime.date(2024, 2, 1))  # fmt: skip
    message = f"{PERSONAL['given_names']} {PERSONAL['family_name']} has a new worker"
    Notification.objects.create(
        recipient=practitioner, child=child, kind=Notification.Kind.INVOLVEMENT_MATCH, message=message
    )
    AccessNotice.objects.create(local_authority=westminster, child=child, accessed_by=practitioner, reason="assessment")
    ChildTransfer.objects.create(child=child, from_local_authority=birmingham, to_local_authority=westminster,
                                 transferred_on=datetime.date(2024, 3, 1), transferred_by=manager)  # fmt: skip
    hold = LegalHoldFactory(child=child)
    hold.lifted_at, hold.lifted_by, hold.lift_reason = hold.set_at, hold.set_by, "Inquiry reported"
    hold.save()
    return child


def text_values_in_database():
    """Every text and JSON value in every table of every installed app."""
    for model in apps.get_models(include_auto_created=True):
        fields = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField | models.JSONField)
        ]
        if fields:
            for row in model._base_manager.values_list(*fields):
                yield model._meta.label, " ".join(str(value) for value in row)


def test_removal_deletes_everything_that_names_the_child_and_nothing_else(due_child):
    other = ChildFactory(responsible_local_authority=due_child.responsible_local_authority)
    ProtectionStatusFactory(child=other)
    child_pk, register_id = due_child.pk, due_child.register_id
    holding = {label for label, text in text_values_in_database() if any(value in text for value in PERSONAL.values())}
    assert {"registry.Child", "registry.OtherName", "registry.ProtectionStatus", "registry.Notification"} <= holding

    result = removal_run(by=Actor.system(), dry_run=False)

    assert [child.register_id for child in result.children] == [register_id]
    # Every model with a ForeignKey to Child, including those other apps add later.
    for relation in Child._meta.related_objects:
        remaining = relation.related_model._base_manager.filter(**{relation.field.name: child_pk})
        assert not remaining.exists(), f"{relation.related_model._meta.label} still names the removed child"
    # And no table anywhere still holds the child's personal data, audit trail included.
    for label, text in text_values_in_database():
        for value in PERSONAL.values():
            assert value not in text, f"{label} still holds {value!r}"
    assert Child.objects.filter(pk=other.pk).exists()
    assert ProtectionStatus.objects.filter(child=other).exists()


def test_the_receipt_keeps_the_register_id_rule_dates_and_counts_only(due_child):
    register_id = due_child.register_id
    result = removal_run(by=Actor.system(), dry_run=False)

    receipt = RemovalReceipt.objects.get(register_id=register_id)
    assert receipt.rule == RemovalRule.STATUSES_ENDED
    assert receipt.due_on == datetime.date(2026, 10, 2)
    assert receipt.removed_by is None and receipt.run_id == result.run_id
    assert receipt.responsible_local_authority == due_child.responsible_local_authority
    assert receipt.deleted_counts == {
        "registry.AccessNotice": 1,
        "registry.Child": 1,
        "registry.ChildTransfer": 1,
        "registry.Involvement": 2,
        "registry.LegalHold": 1,
        "registry.Notification": 1,
        "registry.OtherName": 1,
        "registry.ProtectionStatus": 2,
    }


def test_the_audit_trail_survives_naming_the_child_by_register_id_only(due_child):
    register_id = due_child.register_id
    before = AuditEvent.objects.count()

    result = removal_run(by=Actor.system(), dry_run=False)

    assert AuditEvent.objects.count() == before + 2
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CHILD_CREATED, register_ids=[register_id]).exists()
    removed = AuditEvent.objects.get(action="child_removed")
    assert removed.register_ids == [register_id] and removed.actor is None
    assert removed.details["rule"] == RemovalRule.STATUSES_ENDED
    assert removed.details["run_id"] == str(result.run_id)
    assert removed.details["deleted_counts"]["registry.Child"] == 1
    run = AuditEvent.objects.get(action="removal_run")
    assert run.register_ids == [register_id]
    assert run.details["counts_by_rule"] == {"statuses_ended": 1}


def test_running_twice_is_safe_and_the_second_run_finds_nothing(due_child):
    first = removal_run(by=Actor.system(), dry_run=False)
    second = removal_run(by=Actor.system(), dry_run=False)

    assert len(first.receipts) == 1
    assert second.children == [] and second.receipts == [] and second.failed == []
    assert RemovalReceipt.objects.count() == 1
    assert AuditEvent.objects.filter(action="child_removed").count() == 1
    # Each run is audited, even one that removes nobody.
    assert AuditEvent.objects.filter(action="removal_run").count() == 2


def test_a_child_on_legal_hold_is_neither_removed_nor_listed(due_child):
    LegalHoldFactory(child=due_child)
    assert removal_run(by=Actor.system(), dry_run=True).children == []
    assert removal_run(by=Actor.system(), dry_run=False).receipts == []
    assert Child.objects.filter(pk=due_child.pk).exists()


@override_settings(REMOVAL_BATCH_SIZE=2)
def test_the_run_works_through_the_register_in_chunks(westminster):
    due = [
        ChildFactory(responsible_local_authority=westminster, date_of_birth=datetime.date(2008, 1, 1)) for _ in range(5)
    ]
    kept = [ChildFactory(responsible_local_authority=westminster) for _ in range(3)]
    for child in due + kept:
        ProtectionStatusFactory(child=child)

    result = removal_run(by=Actor.system(), dry_run=False)

    assert sorted(child.register_id for child in result.children) == sorted(child.register_id for child in due)
    assert set(Child.objects.values_list("pk", flat=True)) == {child.pk for child in kept}


def test_a_failed_removal_is_reported_rolled_back_and_does_not_stop_the_run(westminster, monkeypatch):
    children = [
        ChildFactory(responsible_local_authority=westminster, date_of_birth=datetime.date(2008, 1, 1)) for _ in range(2)
    ]
    for child in children:
        ProtectionStatusFactory(child=child)
    real_record = removal_services.audit_event_record

    def failing_for_first(**kwargs):
        if kwargs.get("register_ids") == [children[0].register_id] and kwargs["action"] == "child_removed":
            raise DatabaseError("audit unavailable")
        return real_record(**kwargs)

    monkeypatch.setattr(removal_services, "audit_event_record", failing_for_first)
    result = removal_run(by=Actor.system(), dry_run=False)

    assert result.failed == [children[0].register_id]
    # The audit write failed, so the deletion was rolled back: fail closed.
    assert Child.objects.filter(pk=children[0].pk).exists()
    assert not RemovalReceipt.objects.filter(register_id=children[0].register_id).exists()
    assert not Child.objects.filter(pk=children[1].pk).exists()
    assert AuditEvent.objects.get(action="removal_run").details["failed"] == [children[0].register_id]


def test_dry_run_command_lists_who_and_why_without_personal_data_and_changes_nothing(due_child, capsys):
    call_command("remove_due_children", "--dry-run")
    out = capsys.readouterr().out

    assert f"{due_child.register_id}  E09000033  statuses_ended  due 2026-10-02" in out
    assert "1 children would be removed on 2026-11-23" in out
    for value in PERSONAL.values():
        assert value not in out
    assert Child.objects.filter(pk=due_child.pk).exists()
    assert not RemovalReceipt.objects.exists()
    dry_run = AuditEvent.objects.get(action="removal_dry_run")
    assert dry_run.register_ids == [due_child.register_id]


def test_the_command_removes(due_child, capsys):
    call_command("remove_due_children")
    assert "1 children removed on 2026-11-23" in capsys.readouterr().out
    assert not Child.objects.filter(pk=due_child.pk).exists()
    assert AuditEvent.objects.filter(action="removal_run").exists()


def test_the_daily_task_is_scheduled_and_removes(due_child):
    entry = next(
        item
        for item in settings.CELERY_BEAT_SCHEDULE.values()
        if item["task"] == "registry.removal.tasks.due_children_remove"
    )
    assert entry["task"] in celery_app.tasks
    assert due_children_remove.delay().get() == 1
    assert not Child.objects.filter(pk=due_child.pk).exists()
    assert due_children_remove.delay().get() == 0


def test_removal_receipts_never_reuse_a_run_id():
    # Distinct runs are told apart in receipts and audit events by their run ID.
    assert removal_run(by=Actor.system(), dry_run=True).run_id != removal_run(by=Actor.system(), dry_run=True).run_id
    assert isinstance(removal_run(by=Actor.system(), dry_run=True).run_id, uuid.UUID)


def test_removal_of_an_authority_does_not_touch_another_authority(due_child):
    other_authority = LocalAuthorityFactory()
    other = ChildFactory(responsible_local_authority=other_authority, date_of_birth=datetime.date(2015, 1, 1))
    ProtectionStatusFactory(child=other)
    removal_run(by=Actor.system(), dry_run=False)
    assert Child.objects.filter(pk=other.pk).exists()


def test_a_hold_cannot_be_set_on_a_child_already_removed(due_child):
    administrator = UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR])
    removal_run(by=Actor.system(), dry_run=False)
    with pytest.raises(RemovalRefused, match="already been removed"):
        legal_hold_set(
            by=Actor(user=administrator, channel=Channel.WEB), child=due_child, reason="Inquiry", reference="INQ-1"
        )
    assert not AuditEvent.objects.filter(action="legal_hold_set").exists()


def test_only_a_register_manager_of_the_authority_may_remove_by_hand(due_child, birmingham):
    outsider = UserFactory(organisation__local_authority=birmingham, roles=[Role.REGISTER_MANAGER])
    with pytest.raises(PermissionDenied):
        child_remove_manually(
            by=Actor(user=outsider, channel=Channel.WEB), child=due_child, reason=ManualRemovalReason.WRONGLY_ADDED
        )
    assert Child.objects.filter(pk=due_child.pk).exists()


def test_register_managers_are_told_once_when_a_child_comes_within_30_days(westminster, birmingham):
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    elsewhere = UserFactory(organisation__local_authority=birmingham, roles=[Role.REGISTER_MANAGER])
    soon = ChildFactory(
        responsible_local_authority=westminster, date_of_birth=datetime.date(2008, 12, 23), la_reference="WCC-9",
        family_name="Vexborough",
    )  # fmt: skip
    later = ChildFactory(responsible_local_authority=westminster, date_of_birth=datetime.date(2008, 12, 24))
    held = ChildFactory(responsible_local_authority=westminster, date_of_birth=datetime.date(2008, 12, 1))
    for child in (soon, later, held):
        ProtectionStatusFactory(child=child)
    LegalHoldFactory(child=held)

    assert due_children_remove.delay().get() == 0
    assert due_children_remove.delay().get() == 0

    told = Notification.objects.get(kind=Notification.Kind.REMOVAL_DUE)
    assert (told.recipient, told.child) == (manager, soon)
    assert told.message == (
        f"Child {soon.register_id} (your reference WCC-9) is due to leave the register on 23 December 2026, "
        "their 18th birthday. If they should stay, check their statuses are up to date."
    )
    assert soon.family_name not in told.message
    assert not Notification.objects.filter(recipient=elsewhere).exists()
