"""`manage.py dashboard_refresh` counts the dashboard's figures at once (make run calls it
after loading the demo data, so that a newcomer's dashboard is not empty for five minutes)."""

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.roles import Role
from tests.factories import ChildFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_command_counts_the_register_so_the_dashboard_shows_it(client, westminster):
    ChildFactory.create_batch(3, responsible_local_authority=westminster)
    client.force_login(UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER]))
    before = client.get(reverse("dashboard:authority")).content.decode()
    assert "have not been counted yet" in before

    call_command("dashboard_refresh", stdout=io.StringIO())

    after = client.get(reverse("dashboard:authority")).content.decode()
    assert "Figures as at" in after
    assert re.search(r'id="figure-children"><a [^>]*>3<', after)
