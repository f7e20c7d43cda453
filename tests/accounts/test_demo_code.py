"""The demo accounts can pass the second factor: `manage.py demo_code EMAIL`."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from registry.children.demo import DEMO_PASSWORD, seed_demo
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_every_demo_user_signs_in_with_the_printed_code(client):
    seed_demo(children=2, today=datetime.date(2026, 11, 23))
    seed_demo(children=2, today=datetime.date(2026, 11, 23))  # running it again adds no second device
    for user in User.objects.filter(email__endswith="@demo.test"):
        assert user.totpdevice_set.count() == 1, user.email
    out = StringIO()
    call_command("demo_code", "practitioner@demo.test", stdout=out)
    code = out.getvalue().strip()
    assert (
        client.post("/sign-in/", {"username": "practitioner@demo.test", "password": DEMO_PASSWORD}).status_code == 302
    )
    assert client.post("/sign-in/code/", {"code": code})["Location"] == "/"


def test_the_command_prints_nothing_for_a_real_account():
    UserFactory(email="sw@westminster.gov.uk")
    with pytest.raises(CommandError):
        call_command("demo_code", "sw@westminster.gov.uk", stdout=StringIO())
