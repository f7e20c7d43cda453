"""Accounts not re-certified within ACCOUNTS_RECERTIFICATION_MONTHS are suspended by a daily
beat task; the user admin re-certifies them."""

import datetime

import pytest
from django.conf import settings
from django.test import override_settings

from accounts.models import DeactivationReason, User
from accounts.roles import Role
from accounts.tasks import users_suspend_unrecertified_task
from audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_task_is_scheduled_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["recertification"]
    assert entry["task"] == users_suspend_unrecertified_task.name == "accounts.tasks.users_suspend_unrecertified"


def test_lapsed_accounts_are_suspended_once_and_signed_out(client, westminster):
    lapsed = UserFactory(organisation__local_authority=westminster, recertified_on=datetime.date(2025, 11, 22))
    on_the_day = UserFactory(organisation__local_authority=westminster, recertified_on=datetime.date(2025, 11, 23))
    joined_long_ago = UserFactory(organisation__local_authority=westminster)
    User.objects.filter(pk=joined_long_ago.pk).update(date_joined=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC))
    # National accounts have no user admin to re-certify them: a system administrator does.
    national = UserFactory(organisation=None, local_authority=None, roles=[Role.AUDITOR])
    User.objects.filter(pk=national.pk).update(date_joined=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
    client.force_login(lapsed)

    assert users_suspend_unrecertified_task.delay().get() == 2
    assert users_suspend_unrecertified_task.delay().get() == 0  # safe to run twice

    suspended = set(User.objects.filter(is_active=False).values_list("pk", flat=True))
    assert suspended == {lapsed.pk, joined_long_ago.pk}
    assert User.objects.get(pk=on_the_day.pk).is_active and User.objects.get(pk=national.pk).is_active
    assert User.objects.get(pk=lapsed.pk).deactivation_reason == DeactivationReason.NOT_RECERTIFIED
    assert client.get("/").status_code == 302
    events = AuditEvent.objects.filter(action="user_suspended")
    assert events.count() == 2 and all(event.actor is None for event in events)


@override_settings(ACCOUNTS_RECERTIFICATION_MONTHS=6)
def test_the_period_is_a_setting(westminster):
    user = UserFactory(organisation__local_authority=westminster, recertified_on=datetime.date(2026, 5, 22))
    assert users_suspend_unrecertified_task.delay().get() == 1
    assert not User.objects.get(pk=user.pk).is_active


def test_re_certifying_reactivates_a_suspended_account_but_not_a_deactivated_one(client, westminster):
    admin = UserFactory(organisation__local_authority=westminster, roles=[Role.LA_USER_ADMIN])
    suspended = UserFactory(organisation__local_authority=westminster, recertified_on=datetime.date(2025, 1, 1))
    users_suspend_unrecertified_task.delay()
    left = UserFactory(organisation__local_authority=westminster)
    client.force_login(admin)
    client.post(f"/users/{left.pk}/deactivate/")
    page = client.get("/users/").content.decode()
    assert "Suspended" in page and "Deactivated" in page

    assert "Re-certify this account" in client.get(f"/users/{suspended.pk}/recertify/").content.decode()
    client.post(f"/users/{suspended.pk}/recertify/")
    client.post(f"/users/{left.pk}/recertify/")
    suspended.refresh_from_db()
    left.refresh_from_db()
    assert suspended.is_active and suspended.recertified_on == datetime.date(2026, 11, 23)
    assert not left.is_active and left.recertified_on == datetime.date(2026, 11, 23)
    assert AuditEvent.objects.filter(action="user_recertified", details__reactivated=True).count() == 1
