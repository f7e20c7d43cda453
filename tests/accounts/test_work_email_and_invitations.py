"""Issue 14 item 9: user admins invite only work email addresses (ACCOUNTS_WORK_EMAIL_DOMAINS),
may record training at invitation, and see their pending invitations with a resend."""

import datetime
import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Invitation, User
from accounts.roles import Role
from accounts.validators import work_email_domain_allowed, work_email_message
from audit.models import AuditEvent
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

DEFAULTS = ["nhs.net", "nhs.uk", "gov.uk", "police.uk", "sch.uk", "cjsm.net"]


@pytest.mark.parametrize(
    "email",
    [
        "a.nurse@nhs.net",
        "a.nurse@gstt.nhs.uk",
        "sw@westminster.gov.uk",
        "pc@met.police.uk",
        "head@st-marys.westminster.sch.uk",
        "duty@westminster.gov.uk.cjsm.net",
        "Upper@Birmingham.GOV.UK",
    ],
)
def test_public_sector_work_addresses_are_allowed(email):
    assert work_email_domain_allowed(email, domains=DEFAULTS)


@pytest.mark.parametrize(
    "email",
    [
        "someone@gmail.com",
        "someone@hotmail.co.uk",
        "someone@notgov.uk",  # ends with the letters, not the domain
        "someone@gov.uk.example.com",  # the allowed name inside another domain
        "someone@nhs.net.attacker.org",
        "no-domain",
    ],
)
def test_webmail_and_lookalike_domains_are_refused(email):
    assert not work_email_domain_allowed(email, domains=DEFAULTS)


def test_the_message_names_the_allowed_kinds_of_address():
    message = work_email_message(domains=DEFAULTS)
    assert "ending in nhs.net, nhs.uk, gov.uk, police.uk, sch.uk or cjsm.net" in message
    assert "Gmail" in message


@pytest.fixture
def admin(westminster):
    return UserFactory(organisation__local_authority=westminster, roles=[Role.LA_USER_ADMIN])


@pytest.fixture
def team(westminster):
    return OrganisationFactory(local_authority=westminster, name="Westminster Early Help")


def _invite(client, team, **fields):
    data = {"full_name": "Nina New", "email": "nina.new@westminster.gov.uk", "organisation": team.pk}
    data.update(fields)
    return client.post("/users/invite/", data)


def test_an_invitation_to_a_webmail_address_is_refused_next_to_the_field(client, admin, team):
    client.force_login(admin)
    page = _invite(client, team, email="nina@gmail.com").content.decode()
    assert "Enter a work email address ending in nhs.net" in page
    assert 'href="#id_email"' in page and 'id="id_email-error"' in page
    assert not User.objects.filter(email="nina@gmail.com").exists()


def test_the_allow_list_is_a_setting(client, admin, team, settings):
    settings.ACCOUNTS_WORK_EMAIL_DOMAINS = ["westminster-academies.org.uk"]
    client.force_login(admin)
    assert "ending in westminster-academies.org.uk" in _invite(client, team).content.decode()
    assert _invite(client, team, email="nina@westminster-academies.org.uk").status_code == 302


def test_training_recorded_at_invitation_is_saved_and_audited(client, admin, team):
    client.force_login(admin)
    response = _invite(
        client,
        team,
        roles=[Role.PRACTITIONER.value],
        **{"training_completed_on-day": "3", "training_completed_on-month": "11", "training_completed_on-year": "2026"},
    )
    assert response.status_code == 302
    user = User.objects.get(email="nina.new@westminster.gov.uk")
    assert user.training_completed_on == datetime.date(2026, 11, 3)
    event = AuditEvent.objects.get(action=AuditEvent.Action.TRAINING_RECORDED)
    assert event.actor == admin and event.subject_user_id == user.pk
    assert event.details == {"completed_on": "2026-11-03"}


def test_training_in_the_future_or_not_a_date_is_refused_with_the_date_field_message(client, admin, team):
    client.force_login(admin)
    future = timezone.localdate() + datetime.timedelta(days=10)
    page = _invite(
        client,
        team,
        **{
            "training_completed_on-day": str(future.day),
            "training_completed_on-month": str(future.month),
            "training_completed_on-year": str(future.year),
        },
    ).content.decode()
    assert "Date training was completed must be" in page and "govuk-error-summary" in page
    assert not User.objects.filter(email="nina.new@westminster.gov.uk").exists()


def test_create_user_refuses_a_webmail_address(monkeypatch, westminster):
    monkeypatch.setenv("NEW_PASSWORD", "a-long-and-uncommon-passphrase")
    with pytest.raises(CommandError, match=r"ending in nhs\.net"):
        call_command(
            "create_user",
            "--email=pat@outlook.com",
            "--full-name=Pat",
            "--role=practitioner",
            "--password-from-env=NEW_PASSWORD",
        )
    assert not User.objects.exists()


def test_the_django_admin_refuses_a_webmail_address_for_a_changed_email(client, westminster):
    system_admin = UserFactory(is_superuser=True, roles=[Role.SYSTEM_ADMINISTRATOR])
    person = UserFactory(organisation__local_authority=westminster, email="pat@westminster.gov.uk")
    client.force_login(system_admin)
    data = {"email": "pat@yahoo.co.uk", "full_name": person.full_name, "organisation": person.organisation_id}
    page = client.post(f"/django-admin/accounts/user/{person.pk}/change/", data).content.decode()
    assert "Enter a work email address ending in" in page
    person.refresh_from_db()
    assert person.email == "pat@westminster.gov.uk"


def _link(message) -> str:
    return re.search(r"/invitation/([\w-]+)/", message.body).group(1)


def test_pending_invitations_show_their_expiry_and_a_resend_replaces_the_link(
    client, admin, team, birmingham, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        _invite(client, team, full_name="Ola Early", email="ola@westminster.gov.uk")
        _invite(client, team, full_name="Nina New", email="nina.new@westminster.gov.uk")
    # Ola's link was sent 80 hours ago: it ran out 8 hours ago.
    now = timezone.now()
    Invitation.objects.filter(user__email="ola@westminster.gov.uk").update(
        created_at=now - datetime.timedelta(hours=80), expires_at=now - datetime.timedelta(hours=8)
    )
    accepted = UserFactory(organisation=team, full_name="Ada Accepted")
    Invitation.objects.create(
        user=accepted, token_hash="a" * 64, expires_at=now + datetime.timedelta(hours=1), accepted_at=now
    )
    elsewhere = UserFactory(organisation__local_authority=birmingham, full_name="Bea Birmingham")
    Invitation.objects.create(user=elsewhere, token_hash="b" * 64, expires_at=now + datetime.timedelta(hours=1))
    page = client.get("/users/invitations/").content.decode()
    assert "Ola Early" in page and "Nina New" in page
    assert "Ada Accepted" not in page and "Bea Birmingham" not in page
    ola_row = re.search(r"Ola Early.*?</tr>", page, re.S).group(0)
    assert "Expired" in ola_row
    nina_row = re.search(r"Nina New.*?</tr>", page, re.S).group(0)
    assert "Expired" not in nina_row

    old = Invitation.objects.get(user__email="ola@westminster.gov.uk")
    assert client.get(f"/users/invitations/{old.pk}/resend/").status_code == 405
    other = Invitation.objects.get(user=elsewhere)
    assert client.post(f"/users/invitations/{other.pk}/resend/").status_code == 404
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/users/invitations/{old.pk}/resend/")
    assert response.status_code == 302 and response["Location"] == "/users/invitations/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ola@westminster.gov.uk"]
    old.refresh_from_db()
    assert old.withdrawn_at is not None
    new = Invitation.objects.get(user__email="ola@westminster.gov.uk", withdrawn_at__isnull=True)
    assert new.is_usable()
    assert client.__class__().get(f"/invitation/{_link(mail.outbox[0])}/").status_code == 200
    event = AuditEvent.objects.filter(action=AuditEvent.Action.USER_INVITED).latest("id")
    assert event.actor == admin and event.details == {"replaces_invitation": old.pk}
    page = client.get("/users/invitations/").content.decode()
    assert "A new link has been sent to ola@westminster.gov.uk" in page
    assert "Expired" not in re.search(r"Ola Early.*?</tr>", page, re.S).group(0)
