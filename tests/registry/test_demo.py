import datetime

import pytest

from accounts.models import LocalAuthority, User
from registry.children.demo import DEMO_LOGINS, seed_demo
from registry.identity import nhs_number_is_valid
from registry.models import Child, Involvement, OtherName, ProtectionStatus

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)


def test_demo_data_is_realistic_and_a_second_run_adds_nothing():
    first = seed_demo(children=60, today=TODAY)
    assert first["children_created"] == 60
    counts = (
        Child.objects.count(),
        ProtectionStatus.objects.count(),
        Involvement.objects.count(),
        User.objects.count(),
    )
    second = seed_demo(children=60, today=TODAY)
    assert second["children_created"] == 0
    assert counts == (
        Child.objects.count(),
        ProtectionStatus.objects.count(),
        Involvement.objects.count(),
        User.objects.count(),
    )
    assert LocalAuthority.objects.count() == 4
    assert all(User.objects.filter(email=login.email).exists() for login in DEMO_LOGINS)
    numbers = [number for number in Child.objects.values_list("nhs_number", flat=True) if number]
    assert numbers and all(nhs_number_is_valid(number) and number.startswith("999") for number in numbers)
    assert Child.objects.filter(is_shielded=True).exists()
    assert Child.objects.filter(family_name__contains="-").exists()
    assert OtherName.objects.exists()
    assert Child.objects.filter(date_of_birth__isnull=True, statuses__kind="unborn_cpp").exists()
    assert Involvement.objects.exclude(sensitive_category="").exists()
    assert Involvement.objects.filter(is_lead=True).exists()


def test_the_demo_is_deterministic():
    seed_demo(children=10, today=TODAY)
    first = sorted(Child.objects.values_list("la_reference", "family_name", "date_of_birth"))
    Involvement.objects.all().delete()
    Child.objects.all().delete()
    seed_demo(children=10, today=TODAY)
    assert sorted(Child.objects.values_list("la_reference", "family_name", "date_of_birth")) == first


def test_demo_children_are_plausible_for_their_sex_and_their_authority():
    from registry.children.demo import GIVEN_NAMES, PLACES
    from registry.identity import postcode_clean, postcode_district

    seed_demo(children=120, today=TODAY)
    for child in Child.objects.exclude(date_of_birth__isnull=True).select_related("responsible_local_authority"):
        for sex, names in GIVEN_NAMES.items():
            if child.given_names in names:
                assert child.sex == sex, (child.given_names, child.sex)
        districts, town = PLACES[child.responsible_local_authority.gss_code]
        assert postcode_clean(child.postcode) == child.postcode
        assert postcode_district(child.postcode) in districts and child.town == town
