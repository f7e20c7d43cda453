"""Feed matches in a given state for the dashboard's feed figures, without running a feed."""

import datetime
import itertools

from django.utils import timezone

from feeds.models import EventType, FeedFile, FeedMatch, RecordStatus, Registration
from registry.models import Child

_numbers = itertools.count(1)


def feed_match(child: Child, *, state: str, age_days: int = 0) -> FeedMatch:
    n = next(_numbers)
    feed_file = FeedFile.objects.create(
        event_type=EventType.DEATH, sha256=f"{n:064d}", original_name="deaths.csv", size_bytes=1,
        source=FeedFile.Source.COMMAND,
    )  # fmt: skip
    registration = Registration.objects.create(
        event_type=EventType.DEATH, registration_district="Westminster", entry_number=str(n), registration_year=2026,
        record_status=RecordStatus.REGISTERED, content_sha256=f"{n:064d}", outcome=Registration.Outcome.APPLIED,
        feed_file=feed_file, line_number=1,
    )  # fmt: skip
    match = FeedMatch.objects.create(
        registration=registration, child=child, local_authority=child.responsible_local_authority,
        method=FeedMatch.Method.NHS_NUMBER, state=state,
    )  # fmt: skip
    FeedMatch.objects.filter(pk=match.pk).update(created_at=timezone.now() - datetime.timedelta(days=age_days, hours=1))
    return match
