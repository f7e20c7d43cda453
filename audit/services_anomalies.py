"""Raising anomaly flags: the scan that reads the trail and writes AnomalyFlag rows by the
rules in audit.anomalies. Reviewing a flag is audit.services.anomaly_flag_review."""

from django.db import transaction

from audit.anomalies import SCAN_CHUNK, daily_volume_flags, rules_for_event
from audit.models import AnomalyFlag, AnomalyScan, AuditEvent


def anomalies_scan(*, chunk: int = SCAN_CHUNK) -> int:
    """Read the trail from where the last scan stopped and raise flags; returns how many.
    Concurrent scans queue on the scan row, so each event is read once."""
    raised = 0
    while True:
        with transaction.atomic():
            scan, _ = AnomalyScan.objects.select_for_update().get_or_create(pk=1)
            events = list(
                AuditEvent.objects.filter(id__gt=scan.last_event_id).select_related("actor").order_by("id")[:chunk]
            )
            if not events:
                return raised
            flags = [
                AnomalyFlag(event=event, actor=event.actor, rule=rule, explanation=explanation)
                for event in events
                for rule, explanation in rules_for_event(event)
            ]
            flags += daily_volume_flags(events)
            AnomalyFlag.objects.bulk_create(flags, ignore_conflicts=True)
            raised += len(flags)
            scan.last_event_id = events[-1].pk
            scan.save(update_fields=["last_event_id"])
