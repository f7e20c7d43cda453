"""One notification service and one email task: every kind of notification is written by
notification_send and emailed by notification_emails_send, once, with its own subject."""

import pytest
from django.core import mail

from accounts.roles import Role
from registry.children.services_notifications import Notice, notification_send
from registry.children.tasks import notification_emails_send
from registry.models import Notification
from tests.factories import ChildFactory, UserFactory

pytestmark = pytest.mark.django_db

SUBJECTS = {
    Notification.Kind.INVOLVEMENT_MATCH: "Child protection signposting register: another practitioner is involved",
    Notification.Kind.TRANSFERRED_IN: "Signposting register: a child has transferred to your authority",
    Notification.Kind.TRANSFERRED_OUT: "Signposting register: a child has transferred out of your authority",
    Notification.Kind.DEATH_REGISTERED: "Child protection signposting register: a death has been registered",
    Notification.Kind.DEATH_CANCELLED: "Child protection signposting register: a death registration was cancelled",
    Notification.Kind.FEED_REVIEW: "Child protection signposting register: a registration needs review",
}


@pytest.mark.parametrize("kind", list(SUBJECTS))
def test_each_kind_is_emailed_once_by_the_one_task_with_its_subject(
    kind, westminster, django_capture_on_commit_callbacks
):
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    child = ChildFactory(responsible_local_authority=westminster)
    with django_capture_on_commit_callbacks(execute=True):
        made = notification_send(
            kind=kind,
            notices=[Notice(recipient_id=manager.pk, child_id=child.pk, message=f"About {child.register_id}.")],
        )
    assert [(message.subject, message.to) for message in mail.outbox] == [(SUBJECTS[kind], [manager.email])]
    assert mail.outbox[0].body.startswith(f"About {child.register_id}.\n\nSign in to the register to see")
    # Run again (a retry, or a second worker): nothing more is sent.
    assert notification_emails_send([notification.pk for notification in made]) == 0
    assert len(mail.outbox) == 1


def test_a_notice_shown_in_the_app_only_is_never_emailed(westminster, django_capture_on_commit_callbacks):
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    child = ChildFactory(responsible_local_authority=westminster)
    notice = Notice(recipient_id=manager.pk, child_id=child.pk, message="Due to leave the register.")
    with django_capture_on_commit_callbacks(execute=True):
        made = notification_send(kind=Notification.Kind.REMOVAL_DUE, notices=[notice, notice], email=False)
    assert len(made) == 1  # the same notice twice is written once
    assert mail.outbox == []
