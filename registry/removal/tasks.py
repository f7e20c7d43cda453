"""Background work for removal: the daily run beat starts."""

from celery import shared_task

from audit.actor import Actor
from registry.removal.services import removal_due_notify, removal_run


@shared_task(acks_late=True)
def due_children_remove() -> int:
    """The daily removal run (beat): remove every child due and not under a legal hold,
    with a receipt each. Safe to run twice: a second run finds nothing. Returns how many
    children were removed. Then tells register managers of children due within the next
    REMOVAL_DUE_SOON_DAYS, once per child."""
    removed = len(removal_run(by=Actor.system(), dry_run=False).receipts)
    removal_due_notify()
    return removed
