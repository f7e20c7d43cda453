"""The dashboard pages (docs/dashboard.md). Thin: who may see which authority is decided in
registry.dashboard.selectors; figures are read from the summary tables only."""

import csv
import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.models import LocalAuthority, User
from audit.actor import Actor
from audit.models import AuditEvent, LookupReason
from registry.dashboard import figures
from registry.dashboard.charts import BarChart, bar_chart
from registry.dashboard.figures import months_shown, weeks_shown
from registry.dashboard.selectors import (
    CHILD_LISTS,
    NATIONAL_COLUMNS,
    STATUS_NAMES,
    AuthorityFigures,
    authority_figures,
    children_listed,
    dashboard_authorities,
    dashboard_authority,
    duplicate_pair_for,
    duplicate_pairs_open,
    involvement_confirmable,
    joiners_listed,
    leavers_listed,
    match_notifications_listed,
    national_dashboard_allowed,
    national_figures,
    national_table,
    removal_due_horizon,
    stale_involvements,
    status_listing,
    user_audits,
    user_manages,
)
from registry.dashboard.services import duplicate_pair_dismiss, involvement_confirm
from registry.removal.rules import children_due

LIST_PAGE_SIZE = 50
OUTCOME_NAMES = {"results": "Results shown", "no_results": "No match", "too_many": "Too many", "refused": "Refused"}
CHANNEL_NAMES = {"web": "Web", "api": "Case-management API"}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _authority_or_404(user: User, gss_code: str) -> LocalAuthority:
    authority = dashboard_authority(user=user, gss_code=gss_code)
    if authority is None:
        raise Http404("No dashboard for that authority")
    return authority


def _charts(f: AuthorityFigures) -> list[BarChart]:
    week_labels = [f"Week beginning {week.day} {week:%B %Y}" for week in f.weeks]
    week_short = [f"{week.day} {week:%b}" for week in f.weeks]
    month_labels = [f"{month:%B %Y}" for month in f.months]
    month_short = [f"{month:%b}" for month in f.months]
    return [
        bar_chart(
            chart_id="chart-searches",
            title="Searches that returned your children, by week",
            description="Practitioners' searches that returned at least one of the authority's children, each week "
            "for the last 12 weeks.",
            value_heading="Searches",
            labels=week_labels,
            short_labels=week_short,
            values=f.weekly(figures.SEARCHES_RETURNED_BY_REASON),
        ),
        bar_chart(
            chart_id="chart-joiners",
            title="Children joining the register, by month",
            description="Children added to the register or transferred in, each month for the last 12 months.",
            value_heading="Children joining",
            labels=month_labels,
            short_labels=month_short,
            values=f.monthly(figures.JOINERS),
        ),
        bar_chart(
            chart_id="chart-leavers",
            title="Children leaving the register, by month",
            description="Children removed from the register or transferred out, each month for the last 12 months.",
            value_heading="Children leaving",
            labels=month_labels,
            short_labels=month_short,
            values=f.monthly(figures.LEAVERS),
        ),
    ]


def _audit_link(authority: LocalAuthority, action: str, since: datetime.date) -> str:
    query = f"local_authority={authority.gss_code}&action={action}&date_from={since.isoformat()}"
    return f"{reverse('audit:events')}?{query}"


@never_cache
@require_GET
def authority_dashboard(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    authorities = list(dashboard_authorities(user=user).order_by("name"))
    if not authorities:
        raise PermissionDenied
    wanted = request.GET.get("authority", "")
    authority = next((la for la in authorities if la.gss_code == wanted), None)
    if wanted and authority is None:
        raise Http404("No dashboard for that authority")
    authority = authority or authorities[0]
    f = authority_figures(local_authority=authority)
    reasons = dict(LookupReason.choices)
    auditor = user_audits(user=user, local_authority=authority)
    context = {
        "authority": authority,
        "authorities": authorities,
        "f": f,
        "charts": _charts(f),
        "by_reason": [
            (reasons.get(key, key), f.total(figures.SEARCHES_RETURNED_BY_REASON, key))
            for key in f.keys(figures.SEARCHES_RETURNED_BY_REASON)
        ],
        "by_channel": [
            (CHANNEL_NAMES.get(key, key), f.total(figures.SEARCHES_RETURNED_BY_CHANNEL, key))
            for key in f.keys(figures.SEARCHES_RETURNED_BY_CHANNEL)
        ],
        "outcomes": [(name, f.total(figures.SEARCH_OUTCOMES, key)) for key, name in OUTCOME_NAMES.items()],
        "opened_share": f.share(f.searches_opened, f.searches_returned),
        "nhs_share": f.share(f.with_nhs_number, f.children),
        "statuses": [(STATUS_NAMES[key], f.status_count(key), status_listing(key)) for key in figures.STATUS_KEYS],
        "match_total": f.total(figures.MATCH_NOTIFICATIONS),
        "outside_total": f.total(figures.LOOKUPS_FROM_OUTSIDE),
        "removals_due": f.count(figures.REMOVALS_DUE),
        "legal_holds": f.count(figures.LEGAL_HOLDS),
        "no_current_involvement": f.count(figures.NO_CURRENT_INVOLVEMENT),
        "no_lead": f.count(figures.NO_LEAD),
        "stale_involvements": f.count(figures.STALE_INVOLVEMENTS),
        "no_postcode": f.count(figures.NO_POSTCODE),
        "duplicate_pairs": f.count(figures.DUPLICATE_PAIRS),
        "joiners": f.total(figures.JOINERS),
        "leavers": f.total(figures.LEAVERS),
        "feed": {key: f.count(figures.FEED_OUTCOMES, key) for key in figures.FEED_OUTCOME_KEYS},
        "feed_oldest_days": f.snapshot.get((figures.FEED_OLDEST_WAITING_DAYS, "")),
        "is_manager": user_manages(user=user, local_authority=authority),
        "search_link": _audit_link(authority, AuditEvent.Action.SEARCH, f.weeks[0]) if auditor else "",
        "view_link": _audit_link(authority, AuditEvent.Action.CHILD_VIEWED, f.weeks[0]) if auditor else "",
        "national_allowed": national_dashboard_allowed(user=user),
        "due_soon_days": (removal_due_horizon(today=timezone.localdate()) - timezone.localdate()).days,
    }
    return render(request, "registry/dashboard/authority.html", context)


@never_cache
@require_GET
def national_dashboard(request: HttpRequest) -> HttpResponse:
    if not national_dashboard_allowed(user=_user(request)):
        raise PermissionDenied
    authorities = national_figures()
    context = {
        "headings": [heading for _column, heading in NATIONAL_COLUMNS],
        "rows": national_table(authorities=authorities),
        "refreshed_at": authorities[0].refreshed_at if authorities else None,
        "weeks": authorities[0].weeks if authorities else [],
    }
    return render(request, "registry/dashboard/national.html", context)


@never_cache
@require_GET
def national_export(request: HttpRequest) -> HttpResponse:
    """The national table as CSV, suppressed exactly as the page is ("[c]" for 1 to 4)."""
    if not national_dashboard_allowed(user=_user(request)):
        raise PermissionDenied
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="register-dashboard-{timezone.localdate():%Y-%m-%d}.csv"'
    writer = csv.writer(response)
    writer.writerow(["Local authority", "GSS code", *(heading for _column, heading in NATIONAL_COLUMNS)])
    writer.writerows(national_table(authorities=national_figures(), csv=True))
    return response


def _page(request: HttpRequest, items: object) -> object:
    return Paginator(items, LIST_PAGE_SIZE).get_page(request.GET.get("page"))  # type: ignore[arg-type]


@never_cache
@require_GET
def children_list(request: HttpRequest, gss_code: str, listing: str) -> HttpResponse:
    user = _user(request)
    authority = _authority_or_404(user, gss_code)
    if listing not in CHILD_LISTS:
        raise Http404("No such list")
    children = children_listed(local_authority=authority, listing=listing, today=timezone.localdate())
    context = {
        "authority": authority,
        "title": CHILD_LISTS[listing],
        "page": _page(request, children.only("register_id", "la_reference", "responsible_local_authority")),
        "is_manager": user_manages(user=user, local_authority=authority),
    }
    return render(request, "registry/dashboard/children_list.html", context)


@never_cache
@require_GET
def removals_due_list(request: HttpRequest, gss_code: str) -> HttpResponse:
    user = _user(request)
    authority = _authority_or_404(user, gss_code)
    today = timezone.localdate()
    horizon = removal_due_horizon(today=today)
    due = sorted(
        children_due(on=horizon, local_authorities=LocalAuthority.objects.filter(pk=authority.pk), include_held=True),
        key=lambda item: (item.due_on, item.register_id),
    )
    context = {
        "authority": authority,
        "due": due,
        "horizon": horizon,
        "today": today,
        "is_manager": user_manages(user=user, local_authority=authority),
    }
    return render(request, "registry/dashboard/removals_due.html", context)


@never_cache
@require_GET
def movements_list(request: HttpRequest, gss_code: str, direction: str) -> HttpResponse:
    """The children behind "joined" or "left" in the last 12 months (the months shown)."""
    authority = _authority_or_404(_user(request), gss_code)
    since = months_shown(today=timezone.localdate())[0]
    listed = joiners_listed if direction == "joiners" else leavers_listed
    context = {
        "authority": authority,
        "title": "Children who joined the register" if direction == "joiners" else "Children who left the register",
        "since": since,
        "page": _page(request, listed(local_authority=authority, since=since)),
    }
    return render(request, "registry/dashboard/movements.html", context)


@never_cache
@require_GET
def match_notifications_list(request: HttpRequest, gss_code: str) -> HttpResponse:
    authority = _authority_or_404(_user(request), gss_code)
    since = weeks_shown(today=timezone.localdate())[0]
    context = {
        "authority": authority,
        "since": since,
        "page": _page(request, match_notifications_listed(local_authority=authority, since=since)),
    }
    return render(request, "registry/dashboard/match_notifications.html", context)


@never_cache
@require_GET
def stale_involvements_list(request: HttpRequest, gss_code: str) -> HttpResponse:
    user = _user(request)
    authority = _authority_or_404(user, gss_code)
    context = {
        "authority": authority,
        "page": _page(request, stale_involvements(local_authority=authority, now=timezone.now())),
        "is_manager": user_manages(user=user, local_authority=authority),
    }
    return render(request, "registry/dashboard/stale_involvements.html", context)


@never_cache
@require_GET
def duplicates_list(request: HttpRequest, gss_code: str) -> HttpResponse:
    user = _user(request)
    authority = _authority_or_404(user, gss_code)
    context = {
        "authority": authority,
        "page": _page(request, duplicate_pairs_open(local_authority=authority)),
        "is_manager": user_manages(user=user, local_authority=authority),
    }
    return render(request, "registry/dashboard/duplicates.html", context)


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return redirect(target)
    return redirect(fallback)


@never_cache
@require_POST
def involvement_confirm_view(request: HttpRequest, involvement_id: int) -> HttpResponse:
    """ "Still working with this child": the practitioner themselves or a register manager of
    the child's authority. Anyone else (or an ended involvement) answers 404."""
    user = _user(request)
    involvement = involvement_confirmable(user=user, involvement_id=involvement_id)
    if involvement is None:
        raise Http404("No involvement you can confirm")
    involvement_confirm(by=Actor.from_request(request, user=user), involvement=involvement)
    messages.success(request, "Recorded: still working with this child.")
    return _back(request, reverse("dashboard:authority"))


@never_cache
@require_POST
def duplicate_dismiss_view(request: HttpRequest, pair_id: int) -> HttpResponse:
    user = _user(request)
    pair = duplicate_pair_for(user=user, pair_id=pair_id)
    if pair is None:
        raise Http404("No possible duplicate you can resolve")
    duplicate_pair_dismiss(by=Actor.from_request(request, user=user), pair=pair)
    messages.success(request, "Recorded: these are two different children.")
    return redirect("dashboard:duplicates", gss_code=pair.local_authority.gss_code)
