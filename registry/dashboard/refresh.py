"""Keeping the dashboard's summary tables current (docs/dashboard.md).

Run by registry.dashboard.tasks.dashboard_refresh from beat every few minutes. Two kinds of
figure are kept:

- Things that happened (searches, look-ups, match notifications, joiners and leavers) are
  counted incrementally: each source table is read from the id where the last run stopped
  (DashboardBookmark), a chunk at a time, and the counts for each authority and week or
  month are added to DashboardEventCount in the same transaction that moves the bookmark.
  Running it twice counts nothing twice. Rows written in the last REFRESH_SETTLE are left
  for the next run: ids are handed out before commit, so a slow transaction could still
  commit a lower id than one already read.
- The register as it stands (children by status, data quality) is recounted whole with one
  grouped query per figure and replaced in DashboardSnapshot in one transaction, so a page
  never sees half a refresh.

The refresh reads the audit trail (registry may read audit; audit never reads registry).
"""

import datetime
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Count,
    DateField,
    Exists,
    F,
    Max,
    Min,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, TruncMonth, TruncWeek
from django.utils import timezone

from accounts.models import LocalAuthority
from audit.models import AuditEvent, AuditEventChild, LookupOutcome
from registry.dashboard import figures
from registry.matching.selectors import Grade, Purpose, SearchCriteria, candidates
from registry.models import (
    Child,
    ChildTransfer,
    DashboardBookmark,
    DashboardEventCount,
    DashboardOpenedSearch,
    DashboardSnapshot,
    DuplicatePair,
    Involvement,
    LegalHold,
    Notification,
    ProtectionStatus,
    RemovalReceipt,
)
from registry.removal.rules import children_due

logger = logging.getLogger(__name__)

REFRESH_CHUNK = 200_000  # ids per transaction
REFRESH_SETTLE = datetime.timedelta(minutes=2)
# Opened searches are kept this long to count a search once however many of its results are
# opened: longer than a search's reason may carry over to opening one of its results.
OPENED_SEARCH_KEPT = datetime.timedelta(days=1)
STALE_AFTER = relativedelta(months=12)
DUPLICATE_GRADES = (Grade.EXACT, Grade.LIKELY)
DUPLICATES_BOOKMARK = "duplicates"
DUPLICATES_FIRST_SCAN_BOOKMARK = "duplicates_first_scan"
# The duplicate scan's bound per run, in child ids (first pass) or changed children, and
# the ids per transaction of the first pass.
DUPLICATE_SCAN_LIMIT = 100_000
DUPLICATE_SCAN_CHUNK = 20_000
SNAPSHOT_BOOKMARK = "register_snapshot"

# (authority id, figure, period, key) -> how many to add
Counts = dict[tuple[int, str, datetime.date, str], int]


def _week(field_name: str) -> TruncWeek:
    return TruncWeek(field_name, output_field=DateField())


def _month(field_name: str) -> TruncMonth:
    return TruncMonth(field_name, output_field=DateField())


def _authority_ids() -> dict[str, int]:
    return dict(LocalAuthority.objects.values_list("gss_code", "id"))


# Rows per INSERT: 5 parameters each, within every SQLite build's limit of 999 parameters.
_ADD_BATCH = 199


def _add_counts(counts: Counts) -> None:
    """Add to the stored counts (insert, or add to the existing row) with a few multi-row
    statements: SQL both SQLite and PostgreSQL accept. A first refresh over years of events
    adds hundreds of thousands of rows, too many to send one at a time."""
    rows = [(la, figure, period, key, n) for (la, figure, period, key), n in counts.items() if n]
    if not rows:
        return
    q = connection.ops.quote_name
    table = q(DashboardEventCount._meta.db_table)
    unique = f"{q('local_authority_id')}, {q('figure')}, {q('period')}, {q('key')}"
    upsert = f"ON CONFLICT ({unique}) DO UPDATE SET {q('count')} = {table}.{q('count')} + excluded.{q('count')}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement, whatever the number of rows: five arrays, unnested into rows.
            columns = [list(column) for column in zip(*rows, strict=True)]
            cursor.execute(
                f"INSERT INTO {table} ({unique}, {q('count')}) "  # noqa: S608
                "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::date[], %s::text[], %s::bigint[]) " + upsert,
                columns,
            )
            return
        for start in range(0, len(rows), _ADD_BATCH):
            batch = rows[start : start + _ADD_BATCH]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(batch))
            # Only quoted model names and placeholders are interpolated; values travel as parameters.
            sql = f"INSERT INTO {table} ({unique}, {q('count')}) VALUES {values} " + upsert  # noqa: S608
            cursor.execute(sql, [value for row in batch for value in row])


# --- Things that happened: incremental, by source table ------------------------------------


def _audit_counts(lo: int, hi: int) -> Counts:
    """Searches, outcomes and look-ups in audit events lo < id <= hi."""
    codes = _authority_ids()
    counts: Counts = defaultdict(int)
    events = AuditEvent.objects.filter(id__gt=lo, id__lte=hi).order_by()
    # Practitioners' searches state a reason; register managers' duplicate checks (also
    # audited as searches) do not, and are not the front line's searches.
    returned = (
        AuditEventChild.objects.filter(
            event_id__gt=lo,
            event_id__lte=hi,
            event__action=AuditEvent.Action.SEARCH,
            event__outcome=LookupOutcome.RESULTS,
        )
        .exclude(event__reason="")
        .exclude(local_authority_code="")
        .order_by()
        .values("local_authority_code", "event__reason", "event__channel", week=_week("occurred_at"))
        .annotate(n=Count("event_id", distinct=True))
    )
    for row in returned:
        la = codes.get(row["local_authority_code"])
        if la is not None:
            counts[(la, figures.SEARCHES_RETURNED_BY_REASON, row["week"], row["event__reason"])] += row["n"]
            counts[(la, figures.SEARCHES_RETURNED_BY_CHANNEL, row["week"], row["event__channel"])] += row["n"]
    outcomes = (
        events.filter(action=AuditEvent.Action.SEARCH)
        .exclude(reason="")
        .exclude(actor_local_authority_code="")
        .values("actor_local_authority_code", "outcome", week=_week("occurred_at"))
        .annotate(n=Count("id"))
    )
    for row in outcomes:
        la = codes.get(row["actor_local_authority_code"])
        if la is not None:
            counts[(la, figures.SEARCH_OUTCOMES, row["week"], row["outcome"])] += row["n"]
    outside = (
        events.filter(action=AuditEvent.Action.CHILD_VIEWED, outcome=LookupOutcome.VIEWED)
        .exclude(local_authority_code="")
        .exclude(local_authority_code=F("actor_local_authority_code"))
        .values("local_authority_code", week=_week("occurred_at"))
        .annotate(n=Count("id"))
    )
    for row in outside:
        la = codes.get(row["local_authority_code"])
        if la is not None:
            counts[(la, figures.LOOKUPS_FROM_OUTSIDE, row["week"], "")] += row["n"]
    _opened_searches_record(events)
    for (la, week), n in _opened_searches_uncounted().items():
        counts[(la, figures.SEARCHES_OPENED, week, "")] += n
    return counts


def _opened_searches_record(events: QuerySet[AuditEvent]) -> None:
    """Remember each (search, authority) whose result was opened, once: INSERT ... SELECT in
    the database, as a chunk can hold hundreds of thousands of record views."""
    views = (
        events.filter(
            action=AuditEvent.Action.CHILD_VIEWED, outcome=LookupOutcome.VIEWED, details__has_key="search_event"
        )
        .exclude(local_authority_code="")
        .annotate(
            search_id=Cast(KT("details__search_event"), BigIntegerField()),
            authority_id=Subquery(
                LocalAuthority.objects.filter(gss_code=OuterRef("local_authority_code")).order_by().values("id")[:1]
            ),
        )
        .filter(authority_id__isnull=False)
        .values_list("search_id", "authority_id", "occurred_at")
    )
    select_sql, params = views.query.sql_with_params()
    q = connection.ops.quote_name
    table = q(DashboardOpenedSearch._meta.db_table)
    columns = ", ".join(q(name) for name in ("search_event_id", "local_authority_id", "opened_at", "counted"))
    # "WHERE true" keeps SQLite from reading ON CONFLICT as part of the SELECT's join.
    # The SELECT is the ORM's own SQL; values travel as parameters.
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT opened.*, %s FROM ({select_sql}) opened WHERE true "  # noqa: S608
        f"ON CONFLICT ({q('search_event_id')}, {q('local_authority_id')}) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [False, *params])  # the SELECT list comes first


def _opened_searches_uncounted() -> dict[tuple[int, datetime.date], int]:
    new = DashboardOpenedSearch.objects.filter(counted=False).order_by()
    weekly = {
        (row["local_authority_id"], row["week"]): row["n"]
        for row in new.values("local_authority_id", week=_week("opened_at")).annotate(n=Count("id"))
    }
    new.update(counted=True)
    return weekly


def _notification_counts(lo: int, hi: int) -> Counts:
    counts: Counts = defaultdict(int)
    sent = (
        Notification.objects.filter(id__gt=lo, id__lte=hi, kind=Notification.Kind.INVOLVEMENT_MATCH)
        .order_by()
        .values(la=F("child__responsible_local_authority_id"), week=_week("created_at"))
        .annotate(n=Count("id"))
    )
    for row in sent:
        counts[(row["la"], figures.MATCH_NOTIFICATIONS, row["week"], "")] += row["n"]
    return counts


def _child_counts(lo: int, hi: int) -> Counts:
    counts: Counts = defaultdict(int)
    added = (
        Child.objects.filter(id__gt=lo, id__lte=hi)
        .order_by()
        .values(la=F("responsible_local_authority_id"), month=_month("created_at"))
        .annotate(n=Count("id"))
    )
    for row in added:
        counts[(row["la"], figures.JOINERS, row["month"], "added")] += row["n"]
    return counts


def _transfer_counts(lo: int, hi: int) -> Counts:
    counts: Counts = defaultdict(int)
    transfers = ChildTransfer.objects.filter(id__gt=lo, id__lte=hi).order_by()
    for row in transfers.values(la=F("to_local_authority_id"), month=_month("transferred_on")).annotate(n=Count("id")):
        counts[(row["la"], figures.JOINERS, row["month"], "transferred_in")] += row["n"]
    for row in transfers.values(la=F("from_local_authority_id"), month=_month("transferred_on")).annotate(
        n=Count("id")
    ):
        counts[(row["la"], figures.LEAVERS, row["month"], "transferred_out")] += row["n"]
    return counts


def _removal_counts(lo: int, hi: int) -> Counts:
    counts: Counts = defaultdict(int)
    removed = (
        RemovalReceipt.objects.filter(id__gt=lo, id__lte=hi)
        .order_by()
        .values(la=F("responsible_local_authority_id"), month=_month("removed_at"))
        .annotate(n=Count("id"))
    )
    for row in removed:
        counts[(row["la"], figures.LEAVERS, row["month"], "removed")] += row["n"]
    return counts


@dataclass(frozen=True)
class _Source:
    name: str
    model: type[Model]
    time_field: str
    count: Callable[[int, int], Counts]


SOURCES = (
    _Source("audit_event", AuditEvent, "occurred_at", _audit_counts),
    _Source("notification", Notification, "created_at", _notification_counts),
    _Source("child", Child, "created_at", _child_counts),
    _Source("child_transfer", ChildTransfer, "created_at", _transfer_counts),
    _Source("removal_receipt", RemovalReceipt, "removed_at", _removal_counts),
)


def _source_catch_up(source: _Source, *, settled_before: datetime.datetime, chunk: int) -> int:
    """Count the source's settled rows after its bookmark; returns how many ids were passed."""
    manager = source.model._default_manager
    top = manager.order_by().aggregate(top=Max("id"))["top"] or 0
    passed = 0
    while True:
        with transaction.atomic():
            bookmark, _ = DashboardBookmark.objects.select_for_update().get_or_create(source=source.name)
            lo = bookmark.last_id
            hi = min(lo + chunk, top)
            if hi <= lo:
                return passed
            unsettled = (
                manager.filter(id__gt=lo, id__lte=hi, **{f"{source.time_field}__gte": settled_before})
                .order_by()
                .aggregate(first=Min("id"))["first"]
            )
            last = hi if unsettled is None else unsettled - 1
            if last > lo:
                _add_counts(source.count(lo, last))
                bookmark.last_id = last
                bookmark.refreshed_at = timezone.now()
                bookmark.save(update_fields=["last_id", "refreshed_at"])
                passed += last - lo
            if unsettled is not None:
                return passed


# --- Likely duplicates inside an authority -------------------------------------------------


_PARTNERS_SQL = """
SELECT a.id, b.id FROM {child} a JOIN {child} b
  ON b.responsible_local_authority_id = a.responsible_local_authority_id
  AND b.date_of_birth = a.date_of_birth AND b.id <> a.id
  AND (b.family_name_first_phonetic = a.family_name_first_phonetic
       OR (b.given_name_phonetic = a.given_name_phonetic AND b.postcode = a.postcode))
WHERE {where}
"""


def _block_partners(*, where: str, params: list[Any]) -> dict[int, list[int]]:
    """For each child selected by `where` (on `a`), the other children of the same authority
    with the same date of birth and either the same family-name key, or the same given-name
    key and postcode (a surname changed at the same address): its block. Only children with a
    partner are put to the matcher; it keeps the scan cheap at national size, and misses a
    duplicate whose date of birth was also mistyped (docs/dashboard.md says so). One self-join
    per batch instead of a subquery per child."""
    sql = _PARTNERS_SQL.format(child=connection.ops.quote_name(Child._meta.db_table), where=where)
    partners: dict[int, list[int]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for child_id, partner_id in cursor.fetchall():
            partners[child_id].append(partner_id)
    return partners


def _pairs_for(child: Child, partners: list[int], found_at: datetime.datetime) -> list[DuplicatePair]:
    criteria = SearchCriteria(
        family_name=child.family_name,
        given_names=child.given_names,
        date_of_birth=child.date_of_birth,
        sex=child.sex if child.sex in ("female", "male") else "",
        postcode=child.postcode,
    )
    try:
        # The matcher grades the child's block partners only (all of its own authority).
        within = Child.objects.filter(
            pk__in=partners, responsible_local_authority_id=child.responsible_local_authority_id
        )
        outcome = candidates(criteria, purpose=Purpose.MANAGER_FIND, within=within)
    except ValueError:
        return []
    pairs = []
    for match in outcome.matches:
        other = match.child
        if other.pk == child.pk or other.responsible_local_authority_id != child.responsible_local_authority_id:
            continue
        if match.grade not in DUPLICATE_GRADES:
            continue
        # Two different NHS numbers are two different children, whatever the names say.
        if child.nhs_number and other.nhs_number and child.nhs_number != other.nhs_number:
            continue
        low, high = sorted((child.pk, other.pk))
        pairs.append(
            DuplicatePair(
                local_authority_id=child.responsible_local_authority_id,
                child_id=low,
                other_child_id=high,
                grade=match.grade,
                reasons=match.reasons,
                found_at=found_at,
            )
        )
    return pairs


def _pairs_store(partners: dict[int, list[int]], now: datetime.datetime) -> None:
    """Grade each child against its block partners and keep the new exact or likely pairs
    (a pair found from both sides, or already kept or dismissed, is stored once)."""
    if not partners:
        return
    pairs: dict[tuple[int, int], DuplicatePair] = {}
    for child in Child.objects.filter(pk__in=list(partners)).order_by("pk"):
        for pair in _pairs_for(child, partners[child.pk], now):
            pairs.setdefault((pair.child_id, pair.other_child_id), pair)
    DuplicatePair.objects.bulk_create(list(pairs.values()), ignore_conflicts=True)


def _first_pass(*, now: datetime.datetime, limit: int, chunk: int) -> tuple[int, bool]:
    """Walk the whole register once, by ranges of `chunk` child ids from the pass's bookmark,
    at most `limit` ids per run (each range in its own transaction, so a run stopped anywhere
    loses nothing). Returns the ids passed and whether the pass is complete."""
    top = Child.objects.order_by().aggregate(top=Max("id"))["top"] or 0
    passed = 0
    while passed < limit:
        with transaction.atomic():
            bookmark, created = DashboardBookmark.objects.select_for_update().get_or_create(
                source=DUPLICATES_FIRST_SCAN_BOOKMARK
            )
            if created or bookmark.refreshed_at is None:
                # When the pass began: changes from then on are checked once it is over.
                bookmark.refreshed_at = timezone.now() - REFRESH_SETTLE
            if created:
                # From the lowest id there is: ids below it belong to children removed long
                # ago (removal leaves only a receipt), and counting their empty ranges
                # against `limit` would spread the first pass over many runs for nothing.
                lowest = Child.objects.order_by().aggregate(lowest=Min("id"))["lowest"]
                bookmark.last_id = max(0, (lowest or 1) - 1)
            lo = bookmark.last_id
            hi = min(lo + chunk, top)
            if hi <= lo:
                bookmark.save(update_fields=["last_id", "refreshed_at"])
                return passed, True
            _pairs_store(_block_partners(where="a.id > %s AND a.id <= %s", params=[lo, hi]), now)
            bookmark.last_id = hi
            bookmark.save(update_fields=["last_id", "refreshed_at"])
            passed += hi - lo
    return passed, False


def _changes_since(*, since: datetime.datetime, now: datetime.datetime, limit: int) -> int:
    """Check again the children added or changed since `since`, oldest change first, at most
    `limit` per run: drop their open pairs (a corrected record drops out) and look for them
    again. Returns how many were checked; the bookmark moves to the last one's change."""
    with transaction.atomic():
        bookmark = DashboardBookmark.objects.select_for_update().get(source=DUPLICATES_BOOKMARK)
        # Where the last run stopped: a change's instant and, if it stopped at its bound, the
        # last child checked at that instant (last_id), so that many children changed at
        # one instant are taken in turn rather than stalling the scan.
        from_instant = bookmark.refreshed_at or since
        changed = list(
            Child.objects.filter(Q(updated_at__gt=from_instant) | Q(updated_at=from_instant, pk__gt=bookmark.last_id))
            .order_by("updated_at", "pk")
            .values_list("pk", "updated_at")[:limit]
        )
        # The next run starts a little before this one did, so a change committed late by a
        # slow transaction is still seen (checking a child twice does no harm).
        settled = max(from_instant, timezone.now() - REFRESH_SETTLE)
        if not changed:
            bookmark.refreshed_at, bookmark.last_id = settled, 0
            bookmark.save(update_fields=["refreshed_at", "last_id"])
            return 0
        ids = [pk for pk, _updated in changed]
        for start in range(0, len(ids), _ADD_BATCH):
            batch = ids[start : start + _ADD_BATCH]
            DuplicatePair.objects.filter(dismissed_at__isnull=True).filter(
                Q(child__in=batch) | Q(other_child__in=batch)
            ).delete()
            marks = ", ".join(["%s"] * len(batch))
            _pairs_store(_block_partners(where=f"a.id IN ({marks})", params=batch), now)
        if len(changed) < limit:
            bookmark.refreshed_at, bookmark.last_id = settled, 0
        else:
            # More to do: carry on after the last child checked, in (updated_at, id) order.
            bookmark.last_id, bookmark.refreshed_at = changed[-1]
        bookmark.save(update_fields=["refreshed_at", "last_id"])
    return len(changed)


def duplicates_scan(
    *, now: datetime.datetime | None = None, limit: int = DUPLICATE_SCAN_LIMIT, chunk: int = DUPLICATE_SCAN_CHUNK
) -> int:
    """Find likely duplicate pairs inside each authority, a bounded amount of work per run.

    The first time, the whole register is walked by ranges of child ids from a bookmark,
    at most `limit` ids a run (at national size the first pass takes several runs). Once it
    is complete, each run checks the children added or changed since (at most `limit`); a
    changed child's open pairs are found again, so a corrected record drops out of the list;
    a pair a manager dismissed stays dismissed. Returns how many child ids were passed or
    children checked."""
    now = now or timezone.now()
    passed, complete = _first_pass(now=now, limit=limit, chunk=chunk)
    if not complete:
        return passed
    pass_bookmark = DashboardBookmark.objects.get(source=DUPLICATES_FIRST_SCAN_BOOKMARK)
    assert pass_bookmark.refreshed_at is not None
    DashboardBookmark.objects.get_or_create(
        source=DUPLICATES_BOOKMARK, defaults={"refreshed_at": pass_bookmark.refreshed_at}
    )
    return passed + _changes_since(since=pass_bookmark.refreshed_at, now=now, limit=limit)


# --- The register as it stands: recounted whole ---------------------------------------------

Snapshot = dict[tuple[int, str, str], int]  # (authority id, figure, key) -> count


def _put(snapshot: Snapshot, figure: str, rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], str]) -> None:
    for row in rows:
        snapshot[(row["la"], figure, key(row))] += row["n"]


def _no_key(row: dict[str, Any]) -> str:
    return ""


def _status_key(row: dict[str, Any]) -> str:
    return f"{row['kind']}:{row['legal_basis']}" if row["legal_basis"] else str(row["kind"])


def register_snapshot(*, today: datetime.date, now: datetime.datetime) -> Snapshot:
    """Every register figure for every authority, as the register stands now."""
    snapshot: Snapshot = defaultdict(int)
    children = Child.objects.order_by().values(la=F("responsible_local_authority_id"))
    _put(snapshot, figures.CHILDREN, children.annotate(n=Count("id")), _no_key)
    _put(snapshot, figures.WITH_NHS_NUMBER, children.filter(nhs_number__isnull=False).annotate(n=Count("id")), _no_key)
    _put(snapshot, figures.NO_POSTCODE, children.filter(postcode="").annotate(n=Count("id")), _no_key)
    current = Involvement.objects.filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
    of_child = current.filter(child=OuterRef("pk"))
    _put(
        snapshot,
        figures.NO_CURRENT_INVOLVEMENT,
        children.filter(~Exists(of_child)).annotate(n=Count("id")),
        _no_key,
    )
    _put(
        snapshot,
        figures.NO_LEAD,
        children.filter(~Exists(of_child.filter(is_lead=True))).annotate(n=Count("id")),
        _no_key,
    )
    stale = current.annotate(last_confirmed=Coalesce("confirmed_at", "created_at")).filter(
        last_confirmed__lt=now - STALE_AFTER
    )
    _put(
        snapshot,
        figures.STALE_INVOLVEMENTS,
        stale.order_by().values(la=F("child__responsible_local_authority_id")).annotate(n=Count("id")),
        _no_key,
    )
    statuses = ProtectionStatus.objects.filter(Q(end_date__isnull=True) | Q(end_date__gte=today)).order_by()
    _put(
        snapshot,
        figures.CHILDREN_BY_STATUS,
        statuses.values("kind", "legal_basis", la=F("child__responsible_local_authority_id")).annotate(
            n=Count("child_id", distinct=True)
        ),
        _status_key,
    )
    holds = LegalHold.objects.filter(lifted_at__isnull=True).order_by()
    _put(
        snapshot,
        figures.LEGAL_HOLDS,
        holds.values(la=F("child__responsible_local_authority_id")).annotate(n=Count("child_id", distinct=True)),
        _no_key,
    )
    pairs = DuplicatePair.objects.filter(dismissed_at__isnull=True).order_by()
    _put(snapshot, figures.DUPLICATE_PAIRS, pairs.values(la=F("local_authority_id")).annotate(n=Count("id")), _no_key)
    _removals_due(snapshot, today=today)
    return snapshot


def window_totals(*, today: datetime.date) -> Snapshot:
    """Each counted figure summed over the periods the pages show (the last 12 weeks or 12
    months to `today`), per authority and key, under figures.window(figure): one grouped
    query over the summary table, so the national view reads a few rows per authority."""
    counts = (
        DashboardEventCount.objects.filter(
            Q(figure__in=figures.WEEKLY_FIGURES, period__gte=figures.weeks_shown(today=today)[0])
            | Q(figure__in=figures.MONTHLY_FIGURES, period__gte=figures.months_shown(today=today)[0])
        )
        .order_by()
        .values("local_authority_id", "figure", "key")
        .annotate(n=Sum("count"))
    )
    return {(row["local_authority_id"], figures.window(row["figure"]), row["key"]): row["n"] for row in counts}


def _removals_due(snapshot: Snapshot, *, today: datetime.date) -> None:
    # The rules are decided in Python (registry.removal.rules): the same list managers see.
    codes = _authority_ids()
    horizon = today + datetime.timedelta(days=settings.REMOVAL_DUE_SOON_DAYS)
    due = Counter(item.local_authority_code for item in children_due(on=horizon, include_held=True))
    for code, n in due.items():
        snapshot[(codes[code], figures.REMOVALS_DUE, "")] += n


def snapshot_replace(*, figure_names: Iterable[str], snapshot: Snapshot, computed_at: datetime.datetime) -> None:
    """Replace the stored figures `figure_names` with `snapshot` in one transaction; a
    concurrent refresh waits for this one rather than interleaving."""
    names = list(figure_names)
    with transaction.atomic():
        DashboardBookmark.objects.select_for_update().get_or_create(source=SNAPSHOT_BOOKMARK)
        DashboardSnapshot.objects.filter(figure__in=names).delete()
        DashboardSnapshot.objects.bulk_create(
            DashboardSnapshot(local_authority_id=la, figure=figure, key=key, count=count, computed_at=computed_at)
            for (la, figure, key), count in snapshot.items()
            if figure in names
        )
        DashboardBookmark.objects.filter(source=SNAPSHOT_BOOKMARK).update(refreshed_at=computed_at)


@dataclass
class RefreshReport:
    ids_passed: dict[str, int] = field(default_factory=dict)
    children_checked_for_duplicates: int = 0


def dashboard_refresh(*, chunk: int = REFRESH_CHUNK, now: datetime.datetime | None = None) -> RefreshReport:
    """Bring every summary table up to date. Safe to run twice, and concurrently."""
    now = now or timezone.now()
    report = RefreshReport()
    for source in SOURCES:
        report.ids_passed[source.name] = _source_catch_up(source, settled_before=now - REFRESH_SETTLE, chunk=chunk)
    DashboardOpenedSearch.objects.filter(counted=True, opened_at__lt=now - OPENED_SEARCH_KEPT).delete()
    report.children_checked_for_duplicates = duplicates_scan(now=now)
    snapshot = register_snapshot(today=timezone.localdate(now), now=now)
    snapshot.update(window_totals(today=timezone.localdate(now)))
    snapshot_replace(
        figure_names=(*figures.REGISTER_SNAPSHOT_FIGURES, *figures.WINDOW_FIGURES), snapshot=snapshot, computed_at=now
    )
    logger.info("dashboard refreshed: %s", report)
    return report
