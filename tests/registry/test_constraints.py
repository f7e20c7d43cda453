"""The database itself refuses records that break the register's rules, whatever code
path writes them."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from registry.models import Child, Involvement, ProtectionStatus, ServiceType
from tests.factories import ChildFactory, InvolvementFactory, ProtectionStatusFactory, UserFactory

pytestmark = pytest.mark.django_db


def assert_refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_a_status_cannot_end_before_it_starts():
    child = ChildFactory()
    assert_refused(
        lambda: ProtectionStatusFactory(
            child=child, start_date=datetime.date(2026, 5, 1), end_date=datetime.date(2026, 4, 30)
        )
    )


def test_an_unborn_plan_needs_an_expected_delivery_date():
    child = ChildFactory(date_of_birth=None, nhs_number=None)
    assert_refused(
        lambda: ProtectionStatusFactory(child=child, kind=ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN)
    )
    ProtectionStatusFactory(
        child=child,
        kind=ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN,
        expected_delivery_date=datetime.date(2027, 2, 1),
    )


def test_looked_after_needs_a_legal_basis_and_only_looked_after_has_one():
    child = ChildFactory()
    assert_refused(lambda: ProtectionStatusFactory(child=child, kind=ProtectionStatus.Kind.LOOKED_AFTER))
    assert_refused(lambda: ProtectionStatusFactory(child=child, legal_basis=ProtectionStatus.LegalBasis.CARE_ORDER))
    ProtectionStatusFactory(child=child, kind=ProtectionStatus.Kind.LOOKED_AFTER, legal_basis="s20")


def test_two_children_cannot_share_an_nhs_number_but_many_can_have_none():
    ChildFactory(nhs_number="9434765919")
    assert_refused(lambda: ChildFactory(nhs_number="9434765919"))
    ChildFactory(nhs_number=None)
    ChildFactory(nhs_number=None)
    assert Child.objects.filter(nhs_number__isnull=True).count() == 2


def test_an_authority_reference_is_unique_within_that_authority_only():
    first = ChildFactory(la_reference="CASE-1")
    assert_refused(
        lambda: ChildFactory(la_reference="CASE-1", responsible_local_authority=first.responsible_local_authority)
    )
    ChildFactory(la_reference="CASE-1")  # another authority


def test_shielding_needs_a_reason():
    assert_refused(lambda: ChildFactory(is_shielded=True, shielding_reason=""))
    assert ChildFactory(is_shielded=True, shielding_reason="Child in a refuge").is_shielded


def test_death_cannot_precede_birth():
    assert_refused(
        lambda: ChildFactory(date_of_birth=datetime.date(2020, 1, 1), date_of_death=datetime.date(2019, 12, 31))
    )


def test_a_child_has_at_most_one_current_lead_practitioner():
    child = ChildFactory()
    InvolvementFactory(child=child, is_lead=True)
    assert_refused(lambda: InvolvementFactory(child=child, is_lead=True))
    InvolvementFactory(child=child, is_lead=True, end_date=datetime.date(2026, 6, 1))  # an ended lead is history


def test_an_involvement_is_a_practitioner_or_an_external_contact_not_both_nor_neither():
    child = ChildFactory()
    assert_refused(lambda: InvolvementFactory(child=child, practitioner=None, contact_name=""))
    assert_refused(lambda: InvolvementFactory(child=child, practitioner=UserFactory(), contact_name="Dr Patel"))
    Involvement.objects.create(
        child=child, contact_name="Dr Patel", service_type=ServiceType.GP, start_date=datetime.date(2026, 1, 1)
    )


def test_the_register_id_is_random_and_never_reused():
    first, second = ChildFactory(), ChildFactory()
    assert first.register_id != second.register_id
    assert_refused(lambda: ChildFactory(register_id=first.register_id))
