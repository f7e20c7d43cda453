from datetime import timedelta

from django.utils import timezone

from audit.models import AuditEvent


def audit_event_count_since(*, hours: int) -> int:
    return AuditEvent.objects.filter(occurred_at__gte=timezone.now() - timedelta(hours=hours)).count()
