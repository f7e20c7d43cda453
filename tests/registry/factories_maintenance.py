"""Register managers and their children, for the maintenance tests."""

import datetime
from typing import Any

from accounts.models import LocalAuthority, User
from accounts.roles import Role
from registry.models import Child
from tests.factories import ChildFactory, OrganisationFactory, ProtectionStatusFactory, UserFactory


def register_manager(authority: LocalAuthority, **kwargs: Any) -> User:
    return UserFactory(
        organisation=OrganisationFactory(local_authority=authority), roles=[Role.REGISTER_MANAGER], **kwargs
    )


def child_on_plan(authority: LocalAuthority, **kwargs: Any) -> Child:
    child = ChildFactory(responsible_local_authority=authority, **kwargs)
    ProtectionStatusFactory(child=child, start_date=datetime.date(2026, 3, 1))
    return child


def add_child_post(authority: LocalAuthority, **overrides: str) -> dict[str, str]:
    """The add-a-child form as a browser posts it: a child on a child protection plan, with
    the check-your-answers page already confirmed (tests of that page leave it out)."""
    data = {
        "confirmed": "1",
        "responsible_local_authority": str(authority.pk),
        "family_name": "Adjei",
        "given_names": "Kofi",
        "date_of_birth_0": "14",
        "date_of_birth_1": "6",
        "date_of_birth_2": "2019",
        "sex": "male",
        "nhs_number": "",
        "la_reference": "",
        "address_line_1": "",
        "address_line_2": "",
        "town": "",
        "postcode": "",
        "kind": "cpp",
        "start_date_0": "1",
        "start_date_1": "9",
        "start_date_2": "2026",
    }
    data.update(overrides)
    return data
