"""Factories for removal: legal holds, and children set up so that one rule removes them."""

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from registry.models import LegalHold
from tests.factories import UserFactory


class LegalHoldFactory(DjangoModelFactory[LegalHold]):
    class Meta:
        model = LegalHold

    child = factory.SubFactory("tests.factories.ChildFactory")
    reason = "Records needed by a public inquiry"
    reference = factory.Sequence(lambda n: f"INQ-2026-{n:04d}")
    set_by = factory.SubFactory(UserFactory)
    set_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
