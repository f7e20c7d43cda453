"""Telling people about a child they work with: in-app notifications and email.

Rows are written in the caller's transaction; email goes out from a Celery task queued on
commit, so a rolled-back change never sends mail. Emails name only the register ID and
people's work contacts, never the child's name.
"""

from django.db.models import Q

from accounts.models import User
from accounts.roles import Role
from accounts.selectors import users_with_role_for_authority
from registry.children.selectors import involvement_visible_to
from registry.children.tasks import authority_involvement_email_send, notification_emails_send
from registry.models import Child, Involvement, Notification


def _authority_register_managers(child: Child) -> list[User]:
    return users_with_role_for_authority(role=Role.REGISTER_MANAGER, local_authority=child.responsible_local_authority)


def involvement_match_notify(*, child: Child, new_involvement: Involvement, others: list[Involvement]) -> None:
    """A further practitioner is working with the child: tell every practitioner involved
    (the newcomer included) and the responsible authority's register managers, in the app
    and by email; and tell the authority's secure mailbox."""
    newcomer = new_involvement.practitioner
    assert newcomer is not None
    organisation = newcomer.organisation.name if newcomer.organisation else "no organisation recorded"
    # A sensitive service's involvement is told only to those allowed to see it: not to
    # other practitioners outside that service, nor to the authority.
    sensitive = bool(new_involvement.sensitive_category)
    recipients: dict[int, str] = {}
    for other in others:
        practitioner = other.practitioner
        if practitioner is None or not practitioner.is_active:
            continue
        if sensitive and not involvement_visible_to(involvement=new_involvement, user=practitioner):
            continue
        recipients[practitioner.pk] = (
            f"{newcomer.full_name} ({organisation}) is now also working with child {child.register_id}."
        )
    visible_others = sum(1 for other in others if involvement_visible_to(involvement=other, user=newcomer))
    if visible_others:
        recipients[newcomer.pk] = (
            f"{visible_others} other practitioner{'s are' if visible_others != 1 else ' is'} already working "
            f"with child {child.register_id}. Their contact details are on the child's page."
        )
    if not sensitive:
        for manager in _authority_register_managers(child):
            recipients.setdefault(
                manager.pk,
                f"{newcomer.full_name} ({organisation}) is now working with child {child.register_id}, "
                f"who has {len(others) + 1} practitioners or services involved.",
            )
    notifications = Notification.objects.bulk_create(
        Notification(recipient_id=user_id, child=child, kind=Notification.Kind.INVOLVEMENT_MATCH, message=message)
        for user_id, message in recipients.items()
    )
    ids = [notification.pk for notification in notifications]
    # celery-types does not know delay_on_commit (Celery 5.4+) yet.
    notification_emails_send.delay_on_commit(ids)  # type: ignore[attr-defined]
    if not sensitive:
        authority_involvement_email_send.delay_on_commit(new_involvement.pk)  # type: ignore[attr-defined]


def unread_notifications_count(*, user: User) -> int:
    return Notification.objects.filter(Q(recipient=user) & Q(read_at__isnull=True)).count()
