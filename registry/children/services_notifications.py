"""Telling people about a child they work with: in-app notifications and email.

Rows and their emails are written in the caller's transaction, the emails to the outbox
(`accounts.services_outbox.email_enqueue`): a rolled-back change never sends mail, and a committed
one always does, even if the broker is down at that moment. The outbox claims each email
with a conditional UPDATE before sending it, so no email goes twice. Emails name only the
register ID and people's work contacts, never the child's name.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.selectors import users_with_role_for_authorities, users_with_role_for_authority
from accounts.services_outbox import EmailToSend, email_enqueue, emails_enqueue
from audit.models import LookupReason
from registry.children.selectors import involvement_visible_to
from registry.models import AccessNotice, Child, ChildTransfer, Involvement, Notification

logger = logging.getLogger(__name__)

# Each kind's email: its subject and the line that ends it. Removal-due notices are shown in
# the app only (notification_send(email=False)).
_SEE_WHO = "Sign in to the register to see who is involved and how to reach them."
_SEE_RECORD = "Sign in to the register to see the record."
NOTIFICATION_EMAILS: dict[str, tuple[str, str]] = {
    Notification.Kind.INVOLVEMENT_MATCH: (
        "Child protection signposting register: another practitioner is involved",
        _SEE_WHO,
    ),
    Notification.Kind.TRANSFERRED_IN: ("Signposting register: a child has transferred to your authority", _SEE_WHO),
    Notification.Kind.TRANSFERRED_OUT: (
        "Signposting register: a child has transferred out of your authority",
        _SEE_WHO,
    ),
    Notification.Kind.DEATH_REGISTERED: (
        "Child protection signposting register: a death has been registered",
        _SEE_RECORD,
    ),
    Notification.Kind.DEATH_CANCELLED: (
        "Child protection signposting register: a death registration was cancelled",
        _SEE_RECORD,
    ),
    Notification.Kind.FEED_REVIEW: ("Child protection signposting register: a registration needs review", _SEE_RECORD),
}
_DEFAULT_EMAIL = ("Child protection signposting register", _SEE_RECORD)


@dataclass(frozen=True)
class Notice:
    """One in-app notification to be written: to whom, about which child, saying what."""

    recipient_id: int
    child_id: int
    message: str


# --- In-app notifications (and their emails, in the outbox) ---------------------------------------------


def notification_send(*, kind: str, notices: Iterable[Notice], email: bool = True) -> list[Notification]:
    """Write in-app notifications of one kind in the caller's transaction (one per recipient
    and child: a repeated one is written once) and, unless `email` is False, their emails to
    the outbox in the same transaction. Every notification the register makes is written here."""
    unique = {(notice.recipient_id, notice.child_id): notice for notice in notices}
    notifications = Notification.objects.bulk_create(
        Notification(recipient_id=notice.recipient_id, child_id=notice.child_id, kind=kind, message=notice.message)
        for notice in unique.values()
    )
    if notifications and email:
        notification_emails_enqueue(notifications)
    return notifications


def notification_emails_enqueue(notifications: Iterable[Notification]) -> int:
    """Write one email per notification not yet emailed to the outbox, in the caller's
    transaction, and mark it emailed (`emailed_at`: its email is in the outbox; the outbox
    row says when it went). Returns how many were queued."""
    pending = [notification for notification in notifications if notification.emailed_at is None]
    if not pending:
        return 0
    addresses = dict(User.objects.filter(pk__in={item.recipient_id for item in pending}).values_list("pk", "email"))
    emails = []
    for notification in pending:
        subject, closing = NOTIFICATION_EMAILS.get(notification.kind, _DEFAULT_EMAIL)
        emails.append(
            EmailToSend(
                to=addresses[notification.recipient_id], subject=subject, body=f"{notification.message}\n\n{closing}"
            )
        )
    emails_enqueue(emails=emails)
    Notification.objects.filter(pk__in=[item.pk for item in pending], emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    return len(pending)


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
    notification_send(
        kind=Notification.Kind.INVOLVEMENT_MATCH,
        notices=[
            Notice(recipient_id=user_id, child_id=child.pk, message=message) for user_id, message in recipients.items()
        ],
    )
    if not sensitive:
        authority_involvement_email_enqueue(involvement=new_involvement)


def child_transfer_notify(*, transfer: ChildTransfer) -> None:
    """In-app notifications to both authorities' register managers, with their emails, and
    an email to each authority's secure mailbox, all in the caller's transaction. Messages
    name the register ID only."""
    child = transfer.child
    when = f"{transfer.transferred_on:%-d %B %Y}"
    sides = [
        (
            transfer.from_local_authority,
            Notification.Kind.TRANSFERRED_OUT,
            f"Child {child.register_id} has transferred to {transfer.to_local_authority.name} ({when}). "
            "Your authority is no longer responsible for them.",
        ),
        (
            transfer.to_local_authority,
            Notification.Kind.TRANSFERRED_IN,
            f"Child {child.register_id} has transferred to your authority from "
            f"{transfer.from_local_authority.name} ({when}). Check their statuses and involvements.",
        ),
    ]
    for authority, kind, message in sides:
        managers = users_with_role_for_authority(role=Role.REGISTER_MANAGER, local_authority=authority)
        notification_send(
            kind=kind,
            notices=[Notice(recipient_id=manager.pk, child_id=child.pk, message=message) for manager in managers],
        )
    child_transfer_emails_enqueue(transfer=transfer)


def register_managers_notify_review(*, child: Child, message: str) -> None:
    """Tell the responsible authority's register managers that a registration waits for them."""
    managers = users_with_role_for_authority(
        role=Role.REGISTER_MANAGER, local_authority=child.responsible_local_authority
    )
    notification_send(
        kind=Notification.Kind.FEED_REVIEW,
        notices=[Notice(recipient_id=manager.pk, child_id=child.pk, message=message) for manager in managers],
    )


def life_event_notify(*, child: Child, kind: str, message: str) -> None:
    """Tell the practitioners now involved with the child and the responsible authority's
    register managers of a registered death, or of its cancellation."""
    life_events_notify(kind=kind, events=[(child, message)])


def life_events_notify(*, kind: str, events: list[tuple[Child, str]]) -> None:
    """`life_event_notify` for many children at once (a feed chunk's deaths), in a number of
    queries that does not grow with them: each child's practitioners and its authority's
    register managers are told that child's message, in one write of the notifications and
    one of their emails."""
    if not events:
        return
    practitioners: dict[int, list[User]] = defaultdict(list)
    for involvement in Involvement.objects.filter(
        child_id__in=[child.pk for child, _ in events],
        end_date__isnull=True,
        practitioner__isnull=False,
        practitioner__is_active=True,
    ).select_related("practitioner"):
        if involvement.practitioner is not None:
            practitioners[involvement.child_id].append(involvement.practitioner)
    managers = users_with_role_for_authorities(
        role=Role.REGISTER_MANAGER,
        local_authority_ids={child.responsible_local_authority_id for child, _ in events},
    )
    notification_send(
        kind=kind,
        notices=[
            Notice(recipient_id=user.pk, child_id=child.pk, message=message)
            for child, message in events
            for user in [*practitioners[child.pk], *managers.get(child.responsible_local_authority_id, [])]
        ],
    )


def notifications_mark_read(*, user: User) -> int:
    """Mark every unread notification of `user` read. Returns how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


# --- Emails to the outbox --------------------------------------------------------------


def notification_email_deliver(*, notification_id: int) -> bool:
    """For a message queued before the outbox existed: put the notification's email in the
    outbox unless it is there already. True if this call queued it."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        return notification is not None and notification_emails_enqueue([notification]) == 1


def authority_involvement_email_enqueue(*, involvement: Involvement) -> bool:
    """Tell the responsible authority's secure mailbox, in the caller's transaction, that a
    further practitioner is involved with one of its children: once per involvement
    (`authority_notified_at`, claimed with a conditional UPDATE)."""
    practitioner = involvement.practitioner
    if practitioner is None:
        return False
    claimed = Involvement.objects.filter(pk=involvement.pk, authority_notified_at__isnull=True).update(
        authority_notified_at=timezone.now()
    )
    if not claimed:
        return False
    child = involvement.child
    organisation = practitioner.organisation.name if practitioner.organisation else "no organisation recorded"
    involved = Involvement.objects.filter(child=child, end_date__isnull=True).count()
    email_enqueue(
        to=child.responsible_local_authority.secure_email,
        subject=f"Signposting register: practitioner involved with child {child.register_id}",
        body=(
            f"{practitioner.full_name} ({organisation}, {practitioner.email}) recorded on "
            f"{involvement.start_date:%d %B %Y} that they are working with child {child.register_id}.\n"
            f"{involved} practitioners or services are now involved."
        ),
    )
    return True


def authority_involvement_email_deliver(*, involvement_id: int) -> bool:
    """For a message queued before the outbox existed: queue the authority's email."""
    involvement = (
        Involvement.objects.select_related("child__responsible_local_authority", "practitioner__organisation")
        .filter(pk=involvement_id)
        .first()
    )
    if involvement is None:
        return False
    with transaction.atomic():
        return authority_involvement_email_enqueue(involvement=involvement)


def child_transfer_emails_enqueue(*, transfer: ChildTransfer) -> int:
    """Tell both authorities' secure mailboxes, in the caller's transaction, that
    responsibility for a child has passed. Returns how many emails were queued (2)."""
    register_id = transfer.child.register_id
    when = f"{transfer.transferred_on:%d %B %Y}"
    sending, receiving = transfer.from_local_authority, transfer.to_local_authority
    for authority, message in (
        (sending, f"Child {register_id} has transferred to {receiving.name} on {when}."),
        (receiving, f"Child {register_id} has transferred to you from {sending.name} on {when}."),
    ):
        email_enqueue(
            to=authority.secure_email,
            subject=f"Signposting register: child {register_id} has transferred",
            body=f"{message}\n\nSign in to the register for the child's statuses and who is involved.",
        )
    return 2


def child_transfer_emails_deliver(*, transfer_id: int) -> int:
    """For a message queued before the outbox existed: queue both mailboxes' emails."""
    transfer = (
        ChildTransfer.objects.select_related("child", "from_local_authority", "to_local_authority")
        .filter(pk=transfer_id)
        .first()
    )
    # ChildTransfer has no column to claim: the claim is an atomic add in the shared cache.
    if transfer is None or not cache.add(f"child-transfer-emails:{transfer.pk}", True, timeout=60 * 60 * 24 * 30):
        return 0
    with transaction.atomic():
        return child_transfer_emails_enqueue(transfer=transfer)


def access_digests_deliver() -> int:
    """Queue each authority one email (in the outbox) listing the look-ups of its children
    by users outside the authority since the last digest, each batch claimed with a
    conditional UPDATE in the email's transaction. Returns the number of digests queued."""
    pending: dict[int, list[AccessNotice]] = defaultdict(list)
    for notice in AccessNotice.objects.filter(digest_sent_at__isnull=True).select_related(
        "local_authority", "child", "accessed_by__organisation"
    ):
        pending[notice.local_authority_id].append(notice)
    sent = 0
    for notices in pending.values():
        authority = notices[0].local_authority
        with transaction.atomic():
            claimed = AccessNotice.objects.filter(
                pk__in=[notice.pk for notice in notices], digest_sent_at__isnull=True
            ).update(digest_sent_at=timezone.now())
            if claimed != len(notices):
                # Part of this batch was sent by another worker: undo and leave it to the next run.
                transaction.set_rollback(True)
                continue
            lines = [
                f"{timezone.localtime(notice.accessed_at):%d %b %Y %H:%M}  child {notice.child.register_id}  "
                f"{notice.accessed_by.full_name} ({notice.accessed_by.organisation or 'no organisation'})  "
                f"reason: {_reason_label(notice.reason)}"
                for notice in notices
            ]
            email_enqueue(
                to=authority.secure_email,
                subject=f"Signposting register: {len(notices)} look-ups of your children by other areas",
                body="Look-ups of children your authority is responsible for, by users outside it:\n\n"
                + "\n".join(lines),
            )
        sent += 1
    return sent


def _reason_label(reason: str) -> str:
    """The reason as the practitioner chose it on the form, not its stored code."""
    return str(LookupReason(reason).label) if reason in LookupReason.values else reason
