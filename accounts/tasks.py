"""Background work for accounts. Safe to run twice: a second run finds nothing to do."""

import logging

from celery import shared_task
from django.utils import timezone

from accounts.services import users_suspend_unrecertified

logger = logging.getLogger(__name__)


@shared_task(name="accounts.tasks.users_suspend_unrecertified", acks_late=True)
def users_suspend_unrecertified_task() -> int:
    """Suspend accounts whose re-certification has lapsed (beat, daily). Returns how many."""
    suspended = users_suspend_unrecertified(today=timezone.localdate())
    logger.info("Suspended %d accounts not re-certified in time", suspended)
    return suspended
