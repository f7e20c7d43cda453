"""The audit trail's hash chain: what is hashed, in what form, and how the chain is checked.

Each event's content is a JSON array of its fields in a fixed order, written exactly as
PostgreSQL prints a `jsonb` value (docs/audit.md gives the definition). On PostgreSQL the
database computes it (trigger `audit_event_chain`, function `audit_event_content`); on
SQLite `event_content` below produces the same text in Python.
"""

import datetime
import hashlib
import json
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connections

from audit.models import GENESIS_HASH, AuditChainAnchor, AuditEvent

# The hashed fields, in order. Changing this list breaks every existing chain: do not.
CONTENT_FIELDS = (
    "occurred_at",
    "action",
    "actor_id",
    "actor_roles",
    "actor_organisation_id",
    "actor_local_authority_code",
    "ip_address",
    "request_id",
    "register_ids",
    "subject_user_id",
    "local_authority_code",
    "details",
    "reason",
    "reason_detail",
    "criteria",
    "outcome",
    "channel",
)

# The PostgreSQL side of the same definition, over the columns of alias `e`. json_build_array
# prints exactly what jsonb_build_array (the trigger's audit_event_content) prints, faster.
CONTENT_SQL = """json_build_array(
    to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    e.action, e.actor_id, e.actor_roles, e.actor_organisation_id, e.actor_local_authority_code,
    host(e.ip_address), e.request_id, e.register_ids, e.subject_user_id, e.local_authority_code,
    e.details, e.reason, e.reason_detail, e.criteria, e.outcome, e.channel
)::text"""

# Serialises writers on PostgreSQL: held from an event's insert until its transaction ends.
CHAIN_LOCK_KEY = 8_020_000_008

_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _jsonb_string(value: str) -> str:
    out = []
    for char in value:
        if char in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def jsonb_text(value: Any) -> str:
    """`value` written as PostgreSQL writes jsonb: object keys shortest first, then in byte
    order; ", " and ": " between items; numbers in plain decimal notation."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, str):
        return _jsonb_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(jsonb_text(item) for item in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
        return "{" + ", ".join(f"{_jsonb_string(key)}: {jsonb_text(value[key])}" for key in keys) + "}"
    raise TypeError(f"cannot hash a {type(value).__name__} in an audit event")


def _as_stored(value: Any) -> Any:
    # What a JSONField gives back after a round trip (tuples become lists, and so on).
    return json.loads(json.dumps(value))


def _timestamp(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_content(values: dict[str, Any]) -> str:
    """The canonical content of one event, from its field values (CONTENT_FIELDS)."""
    row = [
        _timestamp(values["occurred_at"]) if name == "occurred_at" else _as_stored(values[name])
        for name in CONTENT_FIELDS
    ]
    return jsonb_text(row)


def link_hash(previous_hash: str, content: str) -> str:
    return hashlib.sha256((previous_hash + content).encode()).hexdigest()


def chain_head(*, using: str = "default") -> str:
    """The hash the next event links to."""
    head = AuditEvent.objects.using(using).order_by("-id").values_list("chain_hash", flat=True).first()
    return head or GENESIS_HASH


@dataclass(frozen=True)
class ChainReport:
    events_checked: int
    head_hash: str
    first_broken_event_id: int | None = None
    problem: str = ""
    head_event_id: int | None = None

    @property
    def intact(self) -> bool:
        return self.first_broken_event_id is None


def chain_verify(*, using: str = "default", chunk_size: int = 250_000, workers: int = 1) -> ChainReport:
    """Check every event's hash and its link to the event before it, oldest first, and name
    the first event where the chain breaks."""
    if connections[using].vendor == "postgresql":
        report = _verify_in_postgresql(using=using, chunk_size=chunk_size, workers=workers)
    else:
        report = verify_rows(_python_rows(using=using))
    if not report.intact:
        return report
    return anchors_check(report, using=using)


def anchors_check(report: ChainReport, *, using: str = "default") -> ChainReport:
    """The chain links, but is it whole? Every anchored head (AuditChainAnchor, written by
    the nightly check) must still be there with its hash, and as many events must end at
    the newest anchor as did then. Removing the newest events, or removing them and
    writing new ones in their place, leaves a chain that links; this finds it."""
    anchors = AuditChainAnchor.objects.using(using)
    heads = dict(
        AuditEvent.objects.using(using).filter(pk__in=anchors.values("head_event_id")).values_list("pk", "chain_hash")
    )
    for anchor in anchors.order_by("id").iterator():
        if heads.get(anchor.head_event_id) != anchor.head_hash:
            return _anchor_broken(report, anchor, "is missing or changed: events were removed from the trail")
    newest = anchors.order_by("-id").first()
    if newest is not None:
        count = AuditEvent.objects.using(using).filter(pk__lte=newest.head_event_id).count()
        if count != newest.event_count:
            return _anchor_broken(report, newest, f"ended {newest.event_count} events but now ends {count}")
    return report


def _anchor_broken(report: ChainReport, anchor: AuditChainAnchor, problem: str) -> ChainReport:
    recorded = anchor.recorded_at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return ChainReport(
        report.events_checked,
        report.head_hash,
        anchor.head_event_id,
        f"the head anchored on {recorded} (anchor {anchor.pk}) {problem}",
        report.head_event_id,
    )


def _python_rows(*, using: str) -> Iterator[dict[str, Any]]:
    fields = ("id", "previous_hash", "chain_hash", *CONTENT_FIELDS)
    rows: Iterator[dict[str, Any]] = (
        AuditEvent.objects.using(using).order_by("id").values(*fields).iterator(chunk_size=5000)
    )
    return rows


def verify_rows(rows: Iterable[dict[str, Any]]) -> ChainReport:
    """The chain check in Python, for SQLite (and to cross-check PostgreSQL in tests)."""
    expected_previous = GENESIS_HASH
    count = 0
    last_id = None
    for row in rows:
        count += 1
        if row["previous_hash"] != expected_previous:
            return ChainReport(count, expected_previous, row["id"], "does not link to the event before it")
        if row["chain_hash"] != link_hash(row["previous_hash"], event_content(row)):
            return ChainReport(count, expected_previous, row["id"], "content does not match its hash")
        expected_previous = row["chain_hash"]
        last_id = row["id"]
    return ChainReport(count, expected_previous, head_event_id=last_id)


# One pass over an id range: the link to the row before (lag, seeded with the hash that
# ends the previous range) and the recomputed hash, both in the database. Built from
# constants only: no value reaches it except through the parameters.
_CHUNK_SQL = """
WITH checked AS (
    SELECT e.id,
           e.previous_hash <> lag(e.chain_hash, 1, %(previous)s) OVER (ORDER BY e.id) AS bad_link,
           e.chain_hash <> encode(sha256(convert_to(e.previous_hash || {content}, 'UTF8')), 'hex') AS bad_content
    FROM audit_auditevent e
    WHERE e.id > %(low)s AND e.id <= %(high)s
)
SELECT count(*),
       min(id) FILTER (WHERE bad_link),
       min(id) FILTER (WHERE bad_content)
FROM checked
""".replace("{content}", CONTENT_SQL)


def _verify_chunk(*, using: str, low: int, high: int) -> tuple[int, int | None, str]:
    """Check events with low < id <= high: (events read, first broken id, problem)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT chain_hash FROM audit_auditevent WHERE id <= %s ORDER BY id DESC LIMIT 1", [low])
        row = cursor.fetchone()
        cursor.execute(_CHUNK_SQL, {"previous": row[0] if row else GENESIS_HASH, "low": low, "high": high})
        count, bad_link, bad_content = cursor.fetchone()
    broken = [(event_id, problem) for event_id, problem in (
        (bad_link, "does not link to the event before it"), (bad_content, "content does not match its hash")
    ) if event_id is not None]  # fmt: skip
    if not broken:
        return count, None, ""
    event_id, problem = min(broken)
    return count, event_id, problem


def _verify_in_postgresql(*, using: str, chunk_size: int, workers: int) -> ChainReport:
    """Chunks of ids checked side by side on `workers` connections; each chunk seeds its
    link check with the hash that ends the chunk before it."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT coalesce(min(id), 1) - 1, coalesce(max(id), 0) FROM audit_auditevent")
        first, last_id = cursor.fetchone()
    bounds = [(low, min(low + chunk_size, last_id)) for low in range(first, last_id, chunk_size)]

    def check(low_high: tuple[int, int]) -> tuple[int, int | None, str]:
        try:
            return _verify_chunk(using=using, low=low_high[0], high=low_high[1])
        finally:
            if workers > 1:
                connections[using].close()

    # Other connections cannot see rows this one has not committed: check them here.
    workers = 1 if connections[using].in_atomic_block else workers
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(check, bounds))
    else:
        results = [check(chunk) for chunk in bounds]
    checked = 0
    for count, event_id, problem in results:
        if event_id is not None:
            return ChainReport(checked + count, "", event_id, problem)
        checked += count
    # The head is the last event checked, not whatever was appended since.
    head = AuditEvent.objects.using(using).filter(pk=last_id).values_list("chain_hash", flat=True).first()
    return ChainReport(checked, head or GENESIS_HASH, head_event_id=last_id if head else None)
