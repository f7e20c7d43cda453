"""Emails waiting to be sent, written in the same transaction as the change that causes them."""

from django.db import models
from django.db.models import Q


class OutboundEmail(models.Model):
    """One email to one address. A row exists only if the change that caused it committed,
    and it stays until it is sent (sent_at), so a broker or mail-server outage delays an
    email but never loses it. Sent rows are purged after OUTBOX_SENT_RETENTION_DAYS."""

    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    # When the next delivery may try it: now when written, later after a failed attempt.
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    # The exception's class only: a mail server's message can quote the address.
    last_error = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set after OUTBOX_MAX_ATTEMPTS failures: no longer tried until an operator retries it.
    given_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The delivery task's query: pending rows due now, oldest first.
            models.Index(
                fields=["next_attempt_at", "id"],
                name="outbox_pending_due",
                condition=Q(sent_at__isnull=True, given_up_at__isnull=True),
            ),
            models.Index(fields=["sent_at"], name="outbox_sent_at"),
        ]

    def __str__(self) -> str:
        return f"Email {self.pk} ({'sent' if self.sent_at else 'pending'})"
