"""factory-boy factories for every model. Names and numbers are synthetic (Faker en_GB)."""

import datetime
from typing import Any

import factory
from factory.django import DjangoModelFactory

from accounts.models import LocalAuthority, Organisation, User
from accounts.roles import Role
from accounts.services import user_grant_role
from audit.models import AuditEvent
from registry.children.services import name_keys_apply
from registry.identity import nhs_number_is_valid
from registry.models import Child, Involvement, OtherName, ProtectionStatus, ServiceType, Sex

TODAY = datetime.date(2026, 11, 23)


def nhs_number_for(n: int) -> str:
    """A valid NHS number in the 999 test range, distinct for any 100,000 consecutive n (ids
    on a test database reused across many runs pass 100,000)."""
    start = n % 100_000 * 10
    for body in range(start, start + 10):
        candidate = f"999{body:06d}"
        for check in range(10):
            if nhs_number_is_valid(candidate + str(check)):
                return candidate + str(check)
    raise AssertionError("unreachable: one in ten bodies has a valid check digit")


class LocalAuthorityFactory(DjangoModelFactory[LocalAuthority]):
    class Meta:
        model = LocalAuthority
        django_get_or_create = ("gss_code",)

    gss_code = factory.Sequence(lambda n: f"E09{n:06d}")
    name = factory.Sequence(lambda n: f"London Borough {n}")
    office_hours_phone = "020 7000 0000"
    out_of_hours_phone = "020 7000 9999"
    secure_email = factory.LazyAttribute(lambda o: f"childrens.services.{o.gss_code.lower()}@example.gov.uk")


class OrganisationFactory(DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Children's Social Care Team {n}")
    kind = Organisation.Kind.CHILDRENS_SOCIAL_CARE
    local_authority = factory.SubFactory(LocalAuthorityFactory)


class UserFactory(DjangoModelFactory[User]):
    """A trained user. Pass roles=[Role.X] to grant roles, scoped to the user's authority."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.gov.uk")
    full_name = factory.Faker("name", locale="en_GB")
    job_title = "Social worker"
    phone = "020 7946 0000"
    organisation = factory.SubFactory(OrganisationFactory)
    local_authority = factory.LazyAttribute(lambda o: o.organisation.local_authority if o.organisation else None)
    training_completed_on = datetime.date(2026, 1, 10)
    password = factory.django.Password("correct-horse-battery-staple")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[Role] | None, **kwargs: Any) -> None:
        for role in extracted or []:
            user_grant_role(user=self, role=role, local_authority=self.local_authority, granted_by=None)


class ChildFactory(DjangoModelFactory[Child]):
    class Meta:
        model = Child

    responsible_local_authority = factory.SubFactory(LocalAuthorityFactory)
    la_reference = factory.Sequence(lambda n: f"REF-{n:06d}")
    nhs_number = factory.Sequence(nhs_number_for)
    given_names = factory.Faker("first_name", locale="en_GB")
    family_name = factory.Faker("last_name", locale="en_GB")
    date_of_birth = factory.Faker(
        "date_between_dates", date_start=datetime.date(2012, 1, 1), date_end=datetime.date(2025, 1, 1)
    )
    sex = Sex.FEMALE
    address_line_1 = "1 High Street"
    town = "London"
    postcode = "SW1A 1AA"

    @classmethod
    def _create(cls, model_class: type[Child], *args: Any, **kwargs: Any) -> Child:
        child = model_class(*args, **kwargs)
        name_keys_apply(child)
        child.save()
        return child


class OtherNameFactory(DjangoModelFactory[OtherName]):
    class Meta:
        model = OtherName

    child = factory.SubFactory(ChildFactory)
    kind = OtherName.Kind.ALIAS
    given_names = "Anna"
    family_name = "Kouao"

    @classmethod
    def _create(cls, model_class: type[OtherName], *args: Any, **kwargs: Any) -> OtherName:
        other = model_class(*args, **kwargs)
        name_keys_apply(other)
        # As registry.children.services.other_name_build does: search looks it up by this.
        other.child_date_of_birth = other.child.date_of_birth
        other.save()
        return other


class ProtectionStatusFactory(DjangoModelFactory[ProtectionStatus]):
    class Meta:
        model = ProtectionStatus

    child = factory.SubFactory(ChildFactory)
    kind = ProtectionStatus.Kind.CHILD_PROTECTION_PLAN
    start_date = datetime.date(2026, 3, 1)
    end_date = None
    responsible_local_authority = factory.LazyAttribute(lambda o: o.child.responsible_local_authority)


class InvolvementFactory(DjangoModelFactory[Involvement]):
    class Meta:
        model = Involvement

    child = factory.SubFactory(ChildFactory)
    practitioner = factory.SubFactory(UserFactory)
    service_type = ServiceType.SOCIAL_CARE
    start_date = datetime.date(2026, 3, 1)


class AuditEventFactory(DjangoModelFactory[AuditEvent]):
    class Meta:
        model = AuditEvent

    action = AuditEvent.Action.CHILD_CREATED
    actor = factory.SubFactory(UserFactory)
    register_ids = factory.LazyFunction(list)
