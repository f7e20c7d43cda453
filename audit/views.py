"""Auditors' pages: find events, a child's access history, a user's activity, export, and
anomaly flags. Scope comes from audit.selectors.auditor_scope; every page an auditor opens
is itself written to the audit trail (audit.services.auditor_action_record)."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from audit.actor import Actor
from audit.export import FORMATS, ExportTooLarge, audit_events_export
from audit.forms import AuditFilterForm, ChildFindForm, FlagGroupsReviewForm, FlagReviewForm, UserFindForm
from audit.models import AnomalyRule, AuditEvent
from audit.register_reader import register_reader
from audit.selectors import (
    AuditorScope,
    AuditQuery,
    anomaly_flag_get,
    anomaly_flag_groups,
    anomaly_flags_find,
    anomaly_flags_of_group,
    audit_events_find,
    audited_user,
    audited_user_by_email,
    auditor_scope,
    child_in_scope,
)
from audit.services import FlagAlreadyReviewed, anomaly_flag_review, anomaly_flags_review, auditor_action_record
from signposting.govuk import date_as_parts

# Counting every match over millions of events would cost more than the page itself.
COUNT_CAP = 10_000


def auditor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        scope = auditor_scope(user=user) if isinstance(user, User) else None
        if scope is None:
            raise PermissionDenied("Only auditors can open the audit trail")
        return view(request, user, scope, *args, **kwargs)

    return never_cache(wrapped)


@dataclass(frozen=True)
class EventPage:
    events: list[AuditEvent]
    number: int
    size: int
    total: int
    capped: bool

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.events else 0

    @property
    def last_index(self) -> int:
        return (self.number - 1) * self.size + len(self.events)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.last_index < self.total

    @property
    def last_number(self) -> int:
        return max(1, -(-self.total // self.size))


def _page(events: QuerySet[AuditEvent], request: HttpRequest) -> EventPage:
    size = settings.AUDIT_PAGE_SIZE
    total = events[: COUNT_CAP + 1].count()
    last = max(1, -(-min(total, COUNT_CAP) // size))
    try:
        number = min(max(int(request.GET.get("page", "1")), 1), last)
    except ValueError:
        number = 1
    offset = (number - 1) * size
    return EventPage(list(events[offset : offset + size]), number, size, min(total, COUNT_CAP), total > COUNT_CAP)


def _querystring(query: AuditQuery, **extra: str | int) -> str:
    # The criteria's keys are the filter form's field names; dates go back as their boxes.
    params = QueryDict(mutable=True)
    for key, value in query.as_criteria().items():
        if key in ("date_from", "date_to"):
            params.update(date_as_parts(name=key, value=datetime.date.fromisoformat(str(value))))
        else:
            params[key] = str(value)
    for key, value in extra.items():
        params[key] = str(value)
    return params.urlencode()


@require_GET
@auditor_required
def events(request: HttpRequest, auditor: User, scope: AuditorScope) -> HttpResponse:
    form = AuditFilterForm(request.GET or None, scope=scope)
    context: dict[str, Any] = {"form": form, "scope": scope}
    if request.GET and not form.is_valid():
        return render(request, "audit/events.html", context)
    query = form.query() if request.GET else AuditQuery()
    filtered_user = audited_user(scope=scope, user_id=query.actor_id) if query.actor_id else None
    if query.actor_id and filtered_user is None:
        raise Http404("No such user in your scope")
    page = _page(audit_events_find(scope=scope, query=query), request)
    auditor_action_record(
        action=AuditEvent.Action.AUDIT_SEARCHED,
        by=Actor.from_request(request, user=auditor),
        criteria=query.as_criteria(),
        details={"page": page.number, "shown": len(page.events)},
    )
    context |= {
        "page": page,
        "query": query,
        "filtered_user": filtered_user,
        "querystring": _querystring(query),
        "formats": FORMATS,
    }
    return render(request, "audit/events.html", context)


@require_http_methods(["GET", "POST"])
@auditor_required
def user_find(request: HttpRequest, auditor: User, scope: AuditorScope) -> HttpResponse:
    form = UserFindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        found = audited_user_by_email(scope=scope, email=email)
        auditor_action_record(
            action=AuditEvent.Action.AUDIT_USER_FOUND,
            by=Actor.from_request(request, user=auditor),
            criteria={"email": email},
            subject_user=found,
            details={"found": found is not None},
        )
        if found is not None:
            return redirect("audit:user", user_id=found.pk)
        form.add_error("email", "No user with that email address is within your audit scope")
    return render(request, "audit/user_find.html", {"form": form})


@require_GET
@auditor_required
def user_activity(request: HttpRequest, auditor: User, scope: AuditorScope, user_id: int) -> HttpResponse:
    subject = audited_user(scope=scope, user_id=user_id)
    if subject is None:
        raise Http404("No such user in your scope")
    query = AuditQuery(actor_id=subject.pk)
    page = _page(audit_events_find(scope=scope, query=query), request)
    flags = list(anomaly_flags_find(scope=scope, reviewed=None).filter(actor=subject)[:50])
    auditor_action_record(
        action=AuditEvent.Action.AUDIT_USER_ACTIVITY_VIEWED,
        by=Actor.from_request(request, user=auditor),
        subject_user=subject,
        criteria={"user": subject.pk},
        details={"page": page.number},
    )
    context = {"subject": subject, "page": page, "flags": flags, "querystring": _querystring(query)}
    return render(request, "audit/user_activity.html", context)


@require_http_methods(["GET", "POST"])
@auditor_required
def child_find(request: HttpRequest, auditor: User, scope: AuditorScope) -> HttpResponse:
    """Find a child by name and date of birth when the register ID is not known. The search
    itself, with its purpose, is audited like a practitioner's. The register does the
    matching (audit.register_reader), so auditors find children as practitioners do."""
    form = ChildFindForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        outcome = register_reader().children_find(
            family_name=data["family_name"], given_names=data["given_names"], date_of_birth=data["date_of_birth"]
        )
        matches = [child for child in outcome.children if scope.covers(child.local_authority_code)]
        auditor_action_record(
            action=AuditEvent.Action.AUDIT_CHILD_FOUND,
            by=Actor.from_request(request, user=auditor),
            criteria={
                "family_name": data["family_name"],
                "given_names": data["given_names"],
                "date_of_birth": data["date_of_birth"].isoformat(),
                "purpose": data["purpose"],
            },
            register_ids=[child.register_id for child in matches],
            child_authority_codes={child.register_id: child.local_authority_code for child in matches},
            details={"too_many": outcome.too_many},
        )
        context |= {"matches": matches, "too_many": outcome.too_many, "searched": True}
    return render(request, "audit/child_find.html", context)


@require_GET
@auditor_required
def child_history(request: HttpRequest, auditor: User, scope: AuditorScope, register_id: str) -> HttpResponse:
    if not child_in_scope(scope=scope, register_id=register_id):
        raise Http404("No such child in your scope")
    query = AuditQuery(register_id=register_id)
    page = _page(audit_events_find(scope=scope, query=query), request)
    auditor_action_record(
        action=AuditEvent.Action.AUDIT_CHILD_HISTORY_VIEWED,
        by=Actor.from_request(request, user=auditor),
        register_ids=[register_id],
        child_authority_codes=register_reader().child_authority_codes(register_ids=[register_id]),
        criteria={"register_id": register_id},
        details={"page": page.number},
    )
    context = {"register_id": register_id, "page": page, "querystring": _querystring(query)}
    return render(request, "audit/child_history.html", context)


@require_GET
@auditor_required
def export(request: HttpRequest, auditor: User, scope: AuditorScope) -> HttpResponse:
    form = AuditFilterForm(request.GET, scope=scope)
    file_format = request.GET.get("format", "")
    if not form.is_valid() or file_format not in FORMATS:
        return render(request, "audit/events.html", {"form": form, "scope": scope}, status=400)
    try:
        result = audit_events_export(
            by=Actor.from_request(request, user=auditor), scope=scope, query=form.query(), file_format=file_format
        )
    except ExportTooLarge as too_large:
        form.add_error(None, str(too_large))
        return render(request, "audit/events.html", {"form": form, "scope": scope}, status=400)
    response = HttpResponse(result.content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response


def _flag_filters(request: HttpRequest) -> tuple[bool, str]:
    params = request.POST if request.method == "POST" else request.GET
    rule = params.get("rule", "")
    return params.get("status") == "reviewed", rule if rule in AnomalyRule.values else ""


@require_http_methods(["GET", "POST"])
@auditor_required
def flags(request: HttpRequest, auditor: User, scope: AuditorScope) -> HttpResponse:
    """Flags grouped per user per UK day, with the rules that fired; the groups chosen are
    reviewed together with one note (POST)."""
    reviewed, rule = _flag_filters(request)
    groups = anomaly_flag_groups(scope=scope, reviewed=reviewed, rule=rule)
    form = FlagGroupsReviewForm(request.POST or None, group_keys=[group.key for group in groups])
    if request.method == "POST" and not reviewed and form.is_valid():
        chosen = [group for group in groups if group.key in form.cleaned_data["groups"]]
        flag_ids = [
            pk
            for group in chosen
            for pk in anomaly_flags_of_group(
                scope=scope, actor_id=group.actor.pk, day=group.day, rule=rule
            ).values_list("pk", flat=True)
        ]
        count = anomaly_flags_review(
            flag_ids=flag_ids, by=Actor.from_request(request, user=auditor), note=form.cleaned_data["note"]
        )
        messages.success(request, f"{count} flag{pluralize(count)} marked as reviewed.")
        return redirect(f"{reverse('audit:flags')}?{urlencode({'rule': rule})}" if rule else reverse("audit:flags"))
    auditor_action_record(
        action=AuditEvent.Action.AUDIT_FLAGS_VIEWED,
        by=Actor.from_request(request, user=auditor),
        criteria={"status": "reviewed" if reviewed else "unreviewed", "rule": rule},
        details={"groups_shown": len(groups), "flags_shown": sum(group.count for group in groups)},
    )
    context = {"groups": groups, "reviewed": reviewed, "rules": AnomalyRule.choices, "rule": rule, "form": form}
    return render(request, "audit/flags.html", context)


@require_http_methods(["GET", "POST"])
@auditor_required
def flag_group(request: HttpRequest, auditor: User, scope: AuditorScope, user_id: int, day: str) -> HttpResponse:
    """Every flag of one user on one UK day, reviewed together with one note."""
    try:
        date = datetime.date.fromisoformat(day)
    except ValueError:
        raise Http404("No such day") from None
    found = list(anomaly_flags_of_group(scope=scope, actor_id=user_id, day=date, reviewed=None))
    if not found:
        raise Http404("No such flags in your scope")
    subject = found[0].actor
    unreviewed = [flag for flag in found if flag.reviewed_at is None]
    form = FlagReviewForm(request.POST or None)
    if request.method == "POST" and unreviewed and form.is_valid():
        count = anomaly_flags_review(
            flag_ids=[flag.pk for flag in unreviewed],
            by=Actor.from_request(request, user=auditor),
            note=form.cleaned_data["note"],
        )
        messages.success(request, f"{count} flag{pluralize(count)} marked as reviewed.")
        return redirect(reverse("audit:flags"))
    if request.method == "GET":
        auditor_action_record(
            action=AuditEvent.Action.AUDIT_FLAGS_VIEWED,
            by=Actor.from_request(request, user=auditor),
            subject_user=subject,
            criteria={"user": subject.pk, "day": date.isoformat()},
            details={"shown": len(found)},
        )
    context = {"subject": subject, "day": date, "flags": found, "unreviewed": unreviewed, "form": form}
    return render(request, "audit/flag_group.html", context)


@require_http_methods(["GET", "POST"])
@auditor_required
def flag_detail(request: HttpRequest, auditor: User, scope: AuditorScope, flag_id: int) -> HttpResponse:
    flag = anomaly_flag_get(scope=scope, flag_id=flag_id)
    if flag is None:
        raise Http404("No such flag in your scope")
    form = FlagReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            anomaly_flag_review(flag=flag, by=Actor.from_request(request, user=auditor), note=form.cleaned_data["note"])
        except FlagAlreadyReviewed as already:
            form.add_error("note", str(already))
        else:
            return redirect(reverse("audit:flags"))
    if request.method == "GET":
        auditor_action_record(
            action=AuditEvent.Action.AUDIT_FLAGS_VIEWED,
            by=Actor.from_request(request, user=auditor),
            subject_user=flag.actor,
            criteria={"flag": flag.pk},
        )
    return render(request, "audit/flag_detail.html", {"flag": flag, "form": form})
