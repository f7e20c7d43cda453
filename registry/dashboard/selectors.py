"""The dashboard's reads, with who may see which authority's figures decided here and
nowhere else. Figures come from the summary tables (registry.dashboard.refresh); the lists
behind them read the register, always through `dashboard_authorities`."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import LocalAuthority, User
from accounts.roles import Role
from accounts.selectors import local_authorities_for_role, role_held_nationally
from registry.dashboard import figures
from registry.dashboard.figures import months_shown, weeks_shown
from registry.dashboard.refresh import SNAPSHOT_BOOKMARK, STALE_AFTER
from registry.models import (
    Child,
    ChildTransfer,
    DashboardBookmark,
    DashboardEventCount,
    DashboardSnapshot,
    DuplicatePair,
    Involvement,
    LegalHold,
    Notification,
    ProtectionStatus,
    RemovalReceipt,
    RemovalRule,
)

# Statistical disclosure control: counts from 1 to 4 are not shown in the national view.
SUPPRESS_BELOW = 5
SUPPRESSED_TEXT = "fewer than 5"
SUPPRESSED_CSV = "[c]"


# --- Who may see what ------------------------------------------------------------------------


def dashboard_authorities(*, user: User) -> QuerySet[LocalAuthority]:
    """The authorities whose dashboard `user` may see: those they manage the register for or
    audit (a national auditor audits all), or every authority for a system administrator."""
    if user.has_role(Role.SYSTEM_ADMINISTRATOR):
        return LocalAuthority.objects.all()
    managed = local_authorities_for_role(user=user, role=Role.REGISTER_MANAGER).values("pk")
    audited = local_authorities_for_role(user=user, role=Role.AUDITOR).values("pk")
    return LocalAuthority.objects.filter(Q(pk__in=managed) | Q(pk__in=audited))


def dashboard_authority(*, user: User, gss_code: str) -> LocalAuthority | None:
    """One authority `user` may see the dashboard of, or None (also when it does not exist)."""
    return dashboard_authorities(user=user).filter(gss_code=gss_code).first()


def national_dashboard_allowed(*, user: User) -> bool:
    return user.has_role(Role.SYSTEM_ADMINISTRATOR) or role_held_nationally(user=user, role=Role.AUDITOR)


def user_manages(*, user: User, local_authority: LocalAuthority) -> bool:
    return local_authorities_for_role(user=user, role=Role.REGISTER_MANAGER).filter(pk=local_authority.pk).exists()


def user_audits(*, user: User, local_authority: LocalAuthority) -> bool:
    return local_authorities_for_role(user=user, role=Role.AUDITOR).filter(pk=local_authority.pk).exists()


# --- Figures ---------------------------------------------------------------------------------


@dataclass
class AuthorityFigures:
    """Every figure of one authority: weekly and monthly counts over the periods shown, and
    the register as it stood at the last refresh."""

    local_authority: LocalAuthority
    weeks: list[datetime.date]
    months: list[datetime.date]
    refreshed_at: datetime.datetime | None
    # (figure, key) -> {period: count}
    series: dict[tuple[str, str], dict[datetime.date, int]] = field(default_factory=dict)
    # (figure, key) -> count
    snapshot: dict[tuple[str, str], int] = field(default_factory=dict)
    _totals_cache: dict[tuple[str, str], int] | None = field(default=None, repr=False)

    def weekly(self, figure: str, key: str | None = None) -> list[int]:
        """The figure's count in each week shown; all keys added up when `key` is None."""
        return [self._period_total(figure, key, week) for week in self.weeks]

    def monthly(self, figure: str, key: str | None = None) -> list[int]:
        return [self._period_total(figure, key, month) for month in self.months]

    def _period_total(self, figure: str, key: str | None, period: datetime.date) -> int:
        return sum(
            counts.get(period, 0)
            for (name, each_key), counts in self.series.items()
            if name == figure and (key is None or key == each_key)
        )

    def total(self, figure: str, key: str | None = None) -> int:
        """The figure's count over all the periods shown; all keys added up when `key` is None."""
        totals = self._totals()
        if key is not None:
            return totals.get((figure, key), 0)
        return sum(count for (name, _key), count in totals.items() if name == figure)

    def _totals(self) -> dict[tuple[str, str], int]:
        # Worked out once: the national table asks for two dozen totals of 150 authorities.
        if self._totals_cache is None:
            weeks, months = set(self.weeks), set(self.months)
            self._totals_cache = {
                (figure, key): sum(
                    count
                    for period, count in counts.items()
                    if period in (months if figure in figures.MONTHLY_FIGURES else weeks)
                )
                for (figure, key), counts in self.series.items()
            }
        return self._totals_cache

    def keys(self, figure: str) -> list[str]:
        return sorted({key for name, key in self.series if name == figure and key})

    def count(self, figure: str, key: str = "") -> int:
        return self.snapshot.get((figure, key), 0)

    def share(self, numerator: int, denominator: int) -> float | None:
        return numerator / denominator if denominator else None

    @property
    def searches_returned(self) -> int:
        return self.total(figures.SEARCHES_RETURNED_BY_REASON)

    @property
    def searches_opened(self) -> int:
        return self.total(figures.SEARCHES_OPENED)

    @property
    def children(self) -> int:
        return self.count(figures.CHILDREN)

    @property
    def with_nhs_number(self) -> int:
        return self.count(figures.WITH_NHS_NUMBER)

    def status_count(self, key: str) -> int:
        return self.count(figures.CHILDREN_BY_STATUS, key)

    @property
    def looked_after(self) -> int:
        return sum(self.status_count(key) for key in figures.STATUS_KEYS if key.startswith("looked_after"))


def _refreshed_at() -> datetime.datetime | None:
    bookmark = DashboardBookmark.objects.filter(source=SNAPSHOT_BOOKMARK).first()
    return bookmark.refreshed_at if bookmark else None


def authority_figures(*, local_authority: LocalAuthority, today: datetime.date | None = None) -> AuthorityFigures:
    """The figures of one authority. The caller has checked the user may see it
    (`dashboard_authority`)."""
    today = today or timezone.localdate()
    weeks, months = weeks_shown(today=today), months_shown(today=today)
    result = AuthorityFigures(local_authority=local_authority, weeks=weeks, months=months, refreshed_at=_refreshed_at())
    counts = DashboardEventCount.objects.filter(local_authority=local_authority).filter(
        Q(figure__in=figures.WEEKLY_FIGURES, period__gte=weeks[0])
        | Q(figure__in=figures.MONTHLY_FIGURES, period__gte=months[0])
    )
    series: dict[tuple[str, str], dict[datetime.date, int]] = defaultdict(dict)
    for figure, key, period, count in counts.values_list("figure", "key", "period", "count"):
        series[(figure, key)][period] = count
    result.series = dict(series)
    result.snapshot = {
        (figure, key): count
        for figure, key, count in DashboardSnapshot.objects.filter(local_authority=local_authority).values_list(
            "figure", "key", "count"
        )
    }
    return result


def national_figures(*, today: datetime.date | None = None) -> list[AuthorityFigures]:
    """Every authority's figures, side by side, in three queries: the counted figures as
    summed over the periods shown at the last refresh, and the register's snapshot."""
    today = today or timezone.localdate()
    weeks, months = weeks_shown(today=today), months_shown(today=today)
    refreshed_at = _refreshed_at()
    by_authority = {
        la.pk: AuthorityFigures(local_authority=la, weeks=weeks, months=months, refreshed_at=refreshed_at)
        for la in LocalAuthority.objects.order_by("name")
    }
    # Only the snapshot: the counted figures come summed over the periods shown
    # (figures.window), not week by week; the national view shows no trend.
    for figures_of in by_authority.values():
        figures_of._totals_cache = {}
    for la, figure, key, count in DashboardSnapshot.objects.values_list("local_authority_id", "figure", "key", "count"):
        authority = by_authority.get(la)
        if authority is None:
            continue
        if figure.startswith(figures.WINDOW_PREFIX):
            assert authority._totals_cache is not None
            authority._totals_cache[(figure.removeprefix(figures.WINDOW_PREFIX), key)] = count
        else:
            authority.snapshot[(figure, key)] = count
    return list(by_authority.values())


# --- Statistical disclosure control ----------------------------------------------------------


def is_suppressed(count: int) -> bool:
    return 0 < count < SUPPRESS_BELOW


def count_shown(count: int, *, csv: bool = False) -> str:
    """A count as the national view shows it: 1 to 4 replaced by "fewer than 5" ("[c]" in
    the CSV, the official statistics' mark for a value withheld for confidentiality)."""
    if is_suppressed(count):
        return SUPPRESSED_CSV if csv else SUPPRESSED_TEXT
    return str(count)


def share_shown(numerator: int, denominator: int, *, csv: bool = False) -> str:
    """A percentage, withheld when its numerator, its denominator or the difference between
    them (those without: children with no NHS number, searches whose child was not opened)
    is from 1 to 4: any of them would let a reader work a small count back out."""
    if is_suppressed(numerator) or is_suppressed(denominator) or is_suppressed(denominator - numerator):
        return SUPPRESSED_CSV if csv else SUPPRESSED_TEXT
    if not denominator:
        return "" if csv else "no data"
    return f"{100 * numerator / denominator:.0f}%"


# --- The lists behind the figures ------------------------------------------------------------


def status_listing(key: str) -> str:
    """The list name of a status key: "looked_after:s31" lists as "status-looked-after-s31"."""
    return "status-" + key.replace("_", "-").replace(":", "-")


STATUS_LISTINGS = {status_listing(key): key for key in figures.STATUS_KEYS}
STATUS_NAMES = {
    "cpp": "Child protection plan",
    "looked_after:s31": "Looked after: care order (s31)",
    "looked_after:s38": "Looked after: interim care order (s38)",
    "looked_after:s20": "Looked after: voluntary accommodation (s20)",
    "looked_after:other": "Looked after: other legal basis",
    "unborn_cpp": "Unborn child protection plan",
}
CHILD_LISTS = {
    "all": "All children on the register",
    "no-nhs-number": "Children with no NHS number",
    "no-postcode": "Children with no postcode",
    "no-current-involvement": "Children with no current involvement",
    "no-lead": "Children with no current lead practitioner",
    "legal-holds": "Children under a legal hold",
    **{listing: f"Children with a current status: {STATUS_NAMES[key]}" for listing, key in STATUS_LISTINGS.items()},
}


def children_listed(*, local_authority: LocalAuthority, listing: str, today: datetime.date) -> QuerySet[Child]:
    """The children behind a figure, for an authority the caller has checked the user may
    see. Raises KeyError for an unknown list."""
    children = Child.objects.filter(responsible_local_authority=local_authority)
    current = Involvement.objects.filter(child=OuterRef("pk")).filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
    if listing == "all":
        pass
    elif listing == "no-nhs-number":
        children = children.filter(nhs_number__isnull=True)
    elif listing == "no-postcode":
        children = children.filter(postcode="")
    elif listing == "no-current-involvement":
        children = children.filter(~Exists(current))
    elif listing == "no-lead":
        children = children.filter(~Exists(current.filter(is_lead=True)))
    elif listing == "legal-holds":
        children = children.filter(Exists(LegalHold.objects.filter(child=OuterRef("pk"), lifted_at__isnull=True)))
    elif listing in STATUS_LISTINGS:
        kind, _, basis = STATUS_LISTINGS[listing].partition(":")
        statuses = ProtectionStatus.objects.filter(child=OuterRef("pk"), kind=kind).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today)
        )
        if basis:
            statuses = statuses.filter(legal_basis=basis)
        children = children.filter(Exists(statuses))
    else:
        raise KeyError(listing)
    return children.order_by("register_id")


def _start_of(day: datetime.date) -> datetime.datetime:
    """Midnight starting `day`, UK time: the periods' boundaries, as a time an index can use."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@dataclass(frozen=True)
class Movement:
    """One child joining or leaving an authority's register, as the joiners' and leavers'
    lists show it: the register ID only (a removed child has nothing else left)."""

    register_id: str
    on: datetime.date
    how: str  # added / transferred_in / removed / transferred_out
    other_authority: str = ""  # where a transferred child came from or went to
    rule: str = ""  # a removal's rule

    @property
    def how_name(self) -> str:
        return MOVEMENT_NAMES[self.how]


MOVEMENT_NAMES = {
    "added": "Added to the register",
    "transferred_in": "Transferred in",
    "removed": "Removed from the register",
    "transferred_out": "Transferred out",
}


def joiners_listed(*, local_authority: LocalAuthority, since: datetime.date) -> list[Movement]:
    """The children behind "joined in the last 12 months": those the authority holds now that
    were added on or after `since`, and every transfer in on or after `since`; newest first.
    (A child added here and transferred out since is in the leavers' list, as transferred out.)"""
    added = (
        Child.objects.filter(responsible_local_authority=local_authority, created_at__gte=_start_of(since))
        .order_by()
        .values_list("register_id", "created_at")
    )
    movements = [Movement(register_id=rid, on=timezone.localdate(at), how="added") for rid, at in added]
    transfers = (
        ChildTransfer.objects.filter(to_local_authority=local_authority, transferred_on__gte=since)
        .order_by()
        .values_list("child__register_id", "transferred_on", "from_local_authority__name")
    )
    movements += [
        Movement(register_id=rid, on=on, how="transferred_in", other_authority=la) for rid, on, la in transfers
    ]
    return sorted(movements, key=lambda m: (m.on, m.register_id), reverse=True)


def leavers_listed(*, local_authority: LocalAuthority, since: datetime.date) -> list[Movement]:
    """The children behind "left in the last 12 months": removal receipts of the authority
    (a removed child is a register ID and a rule, nothing else) and transfers out, on or
    after `since`; newest first."""
    receipts = (
        RemovalReceipt.objects.filter(responsible_local_authority=local_authority, removed_at__gte=_start_of(since))
        .order_by()
        .values_list("register_id", "removed_at", "rule")
    )
    rules = dict(RemovalRule.choices)
    movements = [
        Movement(register_id=rid, on=timezone.localdate(at), how="removed", rule=rules.get(rule, rule))
        for rid, at, rule in receipts
    ]
    transfers = (
        ChildTransfer.objects.filter(from_local_authority=local_authority, transferred_on__gte=since)
        .order_by()
        .values_list("child__register_id", "transferred_on", "to_local_authority__name")
    )
    movements += [
        Movement(register_id=rid, on=on, how="transferred_out", other_authority=la) for rid, on, la in transfers
    ]
    return sorted(movements, key=lambda m: (m.on, m.register_id), reverse=True)


def match_notifications_listed(*, local_authority: LocalAuthority, since: datetime.date) -> QuerySet[Notification]:
    """The match notifications behind "practitioners put in touch": sent since `since` about
    children the authority is responsible for now, newest first. (The figure counts each
    notification to the authority responsible when the refresh read it; a child transferred
    since is listed by its new authority, and a removed child's notifications are gone.)"""
    return (
        Notification.objects.filter(
            kind=Notification.Kind.INVOLVEMENT_MATCH,
            child__responsible_local_authority=local_authority,
            created_at__gte=_start_of(since),
        )
        .select_related("child")
        .only("created_at", "child__register_id")
        .order_by("-created_at", "-id")
    )


def stale_involvements(*, local_authority: LocalAuthority, now: datetime.datetime) -> QuerySet[Involvement]:
    """Current involvements with the authority's children not confirmed for 12 months."""
    today = timezone.localdate(now)
    return (
        Involvement.objects.filter(child__responsible_local_authority=local_authority)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .annotate(last_confirmed=Coalesce("confirmed_at", "created_at"))
        .filter(last_confirmed__lt=now - STALE_AFTER)
        .select_related("child", "practitioner", "practitioner__organisation", "contact_organisation")
        .order_by("last_confirmed", "id")
    )


def duplicate_pairs_open(*, local_authority: LocalAuthority) -> QuerySet[DuplicatePair]:
    return DuplicatePair.objects.filter(local_authority=local_authority, dismissed_at__isnull=True).select_related(
        "child", "other_child"
    )


def duplicate_pair_for(*, user: User, pair_id: int) -> DuplicatePair | None:
    """An open pair `user` may resolve: a register manager of the pair's authority."""
    managed = local_authorities_for_role(user=user, role=Role.REGISTER_MANAGER)
    return (
        DuplicatePair.objects.filter(pk=pair_id, dismissed_at__isnull=True, local_authority__in=managed)
        .select_related("child", "other_child", "local_authority")
        .first()
    )


def involvement_confirmable(*, user: User, involvement_id: int) -> Involvement | None:
    """A current involvement `user` may confirm: their own as the practitioner, or any with a
    child of an authority they manage the register for."""
    today = timezone.localdate()
    managed = local_authorities_for_role(user=user, role=Role.REGISTER_MANAGER)
    return (
        Involvement.objects.filter(pk=involvement_id)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .filter(Q(practitioner=user) | Q(child__responsible_local_authority__in=managed))
        .select_related("child__responsible_local_authority")
        .first()
    )


def removal_due_horizon(*, today: datetime.date) -> datetime.date:
    return today + datetime.timedelta(days=settings.REMOVAL_DUE_SOON_DAYS)


# --- The national table ---------------------------------------------------------------------

NationalCell = tuple[int, int | None]  # (count, denominator or None for a plain count)

NATIONAL_COLUMNS: list[tuple[str, str]] = [
    ("searches_returned", "Searches that returned its children (12 weeks)"),
    ("searches_opened_share", "Of those, share whose child was opened"),
    ("lookups_from_outside", "Look-ups from outside the authority (12 weeks)"),
    ("match_notifications", "Practitioners put in touch (12 weeks)"),
    ("outcome_results", "Its practitioners' searches: results (12 weeks)"),
    ("outcome_no_results", "Its practitioners' searches: no match (12 weeks)"),
    ("outcome_too_many", "Its practitioners' searches: too many (12 weeks)"),
    ("outcome_refused", "Its practitioners' searches: refused (12 weeks)"),
    ("children", "Children on the register"),
    ("cpp", "On a child protection plan"),
    ("looked_after", "Looked after"),
    ("unborn_cpp", "Unborn, on a pre-birth plan"),
    ("joiners", "Joined (12 months)"),
    ("leavers", "Left (12 months)"),
    ("removals_due", "Removals due in the next 30 days"),
    ("legal_holds", "Under a legal hold"),
    ("nhs_share", "Share with an NHS number"),
    ("no_current_involvement", "No current involvement"),
    ("no_lead", "No lead practitioner"),
    ("stale_involvements", "Involvements not confirmed for 12 months"),
    ("no_postcode", "No postcode"),
    ("duplicate_pairs", "Likely duplicate pairs"),
    ("feed_applied", "Feed matches applied"),
    ("feed_waiting", "Feed matches waiting for review"),
    ("feed_rejected", "Feed matches rejected"),
]


def national_cell(figures_of: AuthorityFigures, column: str) -> NationalCell:
    """The count (and, for a share, its denominator) of one column for one authority."""
    f = figures_of
    if column == "searches_opened_share":
        return f.searches_opened, f.searches_returned
    if column == "nhs_share":
        return f.with_nhs_number, f.children
    if column == "searches_returned":
        return f.searches_returned, None
    if column.startswith("outcome_"):
        return f.total(figures.SEARCH_OUTCOMES, column.removeprefix("outcome_")), None
    if column in ("lookups_from_outside", "match_notifications", "joiners", "leavers"):
        return f.total(column), None
    if column in ("cpp", "unborn_cpp"):
        return f.status_count(column), None
    if column == "looked_after":
        return f.looked_after, None
    if column.startswith("feed_"):
        return f.count(figures.FEED_OUTCOMES, column.removeprefix("feed_")), None
    return f.count(column), None


ENGLAND_NAME = "England (all authorities)"
ENGLAND_GSS_CODE = "E92000001"
# Within one authority's row, the children on the register are (nearly) the sum of these
# columns: a child with two current statuses, or whose statuses have all ended, breaks the sum,
# but a reader cannot know that, so the row is protected as if it were a total.
ROW_TOTALS: dict[str, tuple[str, ...]] = {"children": ("cpp", "looked_after", "unborn_cpp")}


def suppression_pattern(
    rows: list[list[int]], *, columns: list[str], row_totals: dict[str, tuple[str, ...]]
) -> set[tuple[int, int]]:
    """The cells to withhold, as (row, column) indexes, in a table of counts whose last row is
    the total of the rows above it (every column's total is shown), and whose columns named in
    `row_totals` are each the total of the columns named beside them in the same row.

    Primary suppression withholds every count from 1 to SUPPRESS_BELOW - 1. Complementary
    (secondary) suppression then makes sure no withheld count can be worked out by
    subtraction: wherever a total is shown and exactly one of the cells it adds up is
    withheld, the smallest other non-zero cell of that group is withheld too (the first in
    table order on a tie); if there is none, the total itself is. Repeated until nothing
    changes, because a cell withheld for a column can leave a row with one withheld cell."""
    withheld = {(r, c) for r, row in enumerate(rows) for c, count in enumerate(row) if is_suppressed(count)}
    total_row = len(rows) - 1
    groups: list[tuple[tuple[int, int], list[tuple[int, int]]]] = [
        ((total_row, c), [(r, c) for r in range(total_row)]) for c in range(len(columns))
    ]
    for total_column, parts in row_totals.items():
        t, added_up = columns.index(total_column), [columns.index(part) for part in parts]
        groups += [((r, t), [(r, m) for m in added_up]) for r in range(total_row)]
    changed = True
    while changed:
        changed = False
        for total, members in groups:
            hidden = [cell for cell in members if cell in withheld]
            if total in withheld or len(hidden) != 1:
                continue
            shown = [cell for cell in members if cell not in withheld and rows[cell[0]][cell[1]] > 0]
            extra = min(shown, key=lambda cell: (rows[cell[0]][cell[1]], cell)) if shown else total
            withheld.add(extra)
            changed = True
    return withheld


def national_table(*, authorities: list[AuthorityFigures], csv: bool = False) -> list[list[str]]:
    """One row per authority (its name and GSS code first), then England's total, with every
    column shown under the disclosure rules (`suppression_pattern` for counts, `share_shown`
    for shares), for the page or the CSV export."""
    columns = [column for column, _heading in NATIONAL_COLUMNS]
    cells = [[national_cell(figures_of, column) for column in columns] for figures_of in authorities]
    england = [
        (sum(row[c][0] for row in cells), None if cells[0][c][1] is None else sum(row[c][1] or 0 for row in cells))
        if cells
        else (0, None)
        for c in range(len(columns))
    ]
    cells.append(england)
    count_columns = [c for c in range(len(columns)) if england[c][1] is None]
    count_names = [columns[c] for c in count_columns]
    counts = [[row[c][0] for c in count_columns] for row in cells]
    withheld = {
        (r, count_columns[c]) for r, c in suppression_pattern(counts, columns=count_names, row_totals=ROW_TOTALS)
    }
    mark = SUPPRESSED_CSV if csv else SUPPRESSED_TEXT
    names = [(f.local_authority.name, f.local_authority.gss_code) for f in authorities] + [
        (ENGLAND_NAME, ENGLAND_GSS_CODE)
    ]
    table = []
    for r, (name, code) in enumerate(names):
        row = [name, code]
        for c, (count, denominator) in enumerate(cells[r]):
            if denominator is not None:
                row.append(share_shown(count, denominator, csv=csv))
            else:
                row.append(mark if (r, c) in withheld else str(count))
        table.append(row)
    return table
