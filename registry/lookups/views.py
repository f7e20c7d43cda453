"""Practitioners' pages: search, the child's signposting page, their own involvement and
their notifications. Views parse input and call registry.lookups.services / services; who may see
what is decided there and in registry.children.selectors."""

import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import User
from accounts.selectors import lookup_refusal
from audit.actor import Actor
from audit.models import AuditEvent, LookupReason
from registry.children.selectors import managed_child_exists, service_type_for_user
from registry.children.services import InvolvementRefused, practitioner_involvement_end, practitioner_involvement_start
from registry.children.services_notifications import notifications_mark_read
from registry.lookups.forms import InvolvementStartForm, LookupReasonForm, SearchForm, UnbornSearchForm
from registry.lookups.services import (
    LookupReasonGiven,
    LookupRefused,
    child_view,
    search_event_for_view,
    search_form_values,
    search_invalid_record,
    search_kept,
    search_perform,
    search_results_keep,
    search_throttled_record,
    unborn_search_form_values,
    unborn_search_perform,
)
from registry.lookups.throttling import search_throttle_wait
from registry.matching.selectors import SearchOutcome
from registry.models import Child, Involvement, Notification

logger = logging.getLogger(__name__)

# The user's most recent search, kept server-side so its results page is a GET that Back and
# "Back to results" can return to (registry.lookups.services.search_results_keep).
LAST_SEARCH_SESSION_KEY = "registry:last_search"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _unavailable(request: HttpRequest) -> HttpResponse:
    # Raised when the audit trail (or the database) cannot be written: fail closed.
    return render(request, "registry/unavailable.html", status=503)


def _reason(form: LookupReasonForm) -> LookupReasonGiven:
    data = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    reason = data.get("reason") or (form.data.get("reason") if form.data.get("reason") in LookupReason.values else "")
    detail = data.get("reason_detail") or str(form.data.get("reason_detail", ""))[:200]
    return LookupReasonGiven(reason=str(reason or ""), detail=detail if reason == LookupReason.OTHER else "")


@never_cache
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    return _search_page(
        request,
        form_class=SearchForm,
        template="registry/search.html",
        kept_values=search_form_values,
        perform=search_perform,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def search_unborn(request: HttpRequest) -> HttpResponse:
    """Search for an unborn child on a pre-birth plan by the mother's details: the same
    reason, audit, throttle and results page as a search for a child."""
    return _search_page(
        request,
        form_class=UnbornSearchForm,
        template="registry/search_unborn.html",
        kept_values=unborn_search_form_values,
        perform=unborn_search_perform,
    )


def _search_page(
    request: HttpRequest,
    *,
    form_class: type[SearchForm] | type[UnbornSearchForm],
    template: str,
    kept_values: Callable[..., dict[str, Any]],
    perform: Callable[..., tuple[SearchOutcome, AuditEvent]],
) -> HttpResponse:
    """One search page (a child's details, or an unborn child's mother's): refused users,
    "Change search", the throttle, an invalid form and a refused search all audited as the
    lookup services say, then post/redirect/get to the results page."""
    user = _user(request)
    refusal = lookup_refusal(user=user)
    if refusal:
        return render(request, "registry/search_refused.html", {"refusal": refusal}, status=403)
    if request.method == "GET":
        # "Change search" (?change) starts from the last search's values and reason.
        initial = (
            kept_values(actor=user, kept=request.session.get(LAST_SEARCH_SESSION_KEY))
            if "change" in request.GET
            else {}
        )
        return render(request, template, {"form": form_class(initial=initial)})
    form = form_class(request.POST)
    wait = search_throttle_wait(request=request)
    if wait is not None:
        return _throttled(request, user=user, form=form, wait=wait)
    by = Actor.from_request(request, user=user)
    try:
        if not form.is_valid():
            errors = [str(error) for error_list in form.errors.values() for error in error_list]
            search_invalid_record(by=by, submitted=form.submitted_criteria(), reason=_reason(form), errors=errors)
            return render(request, template, {"form": form})
        try:
            outcome, event = perform(by=by, criteria=form.criteria(), reason=_reason(form))
        except LookupRefused as refused:
            form.add_error(None, str(refused))
            return render(request, template, {"form": form})
    except DatabaseError:
        return _unavailable(request)
    # Post/redirect/get: Back from a record returns to a page, not to a form resubmission.
    request.session[LAST_SEARCH_SESSION_KEY] = search_results_keep(event=event, outcome=outcome)
    return redirect("registry:search-results")


@never_cache
@require_safe
def search_results(request: HttpRequest) -> HttpResponse:
    """The results of the user's own most recent search, for as long as its reason lasts."""
    user = _user(request)
    refusal = lookup_refusal(user=user)
    if refusal:
        return render(request, "registry/search_refused.html", {"refusal": refusal}, status=403)
    try:
        kept = search_kept(actor=user, kept=request.session.get(LAST_SEARCH_SESSION_KEY))
    except DatabaseError:
        return _unavailable(request)
    if kept is None:
        messages.info(request, "Your search results are no longer available. Search again.")
        return redirect("registry:search")
    return render(
        request,
        "registry/search_results.html",
        {"outcome": kept.outcome, "event": kept.event, "criteria": kept.criteria, "mother": kept.mother},
    )


def _throttled(request: HttpRequest, *, user: User, form: SearchForm | UnbornSearchForm, wait: int) -> HttpResponse:
    """Over the search limit: audited as a refused search, answered 429 with how long to wait."""
    try:
        search_throttled_record(
            by=Actor.from_request(request, user=user),
            submitted=form.submitted_criteria(),
            reason=_reason(form),
            retry_after=wait,
        )
    except DatabaseError:
        return _unavailable(request)
    response = render(request, "registry/search_throttled.html", {"wait_seconds": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _is_last_search(request: HttpRequest, event: AuditEvent | None) -> bool:
    kept = request.session.get(LAST_SEARCH_SESSION_KEY)
    return event is not None and isinstance(kept, dict) and kept.get("event") == event.pk


def _lookup_id(request: HttpRequest) -> int | None:
    value = request.GET.get("lookup") or request.POST.get("lookup")
    return int(value) if value and str(value).isdigit() else None


@never_cache
@require_http_methods(["GET", "POST"])
def child_detail(request: HttpRequest, register_id: str) -> HttpResponse:
    """A child's signposting page. Opened from a search result, the search's reason carries
    over; opened any other way, the user states a reason first."""
    user = _user(request)
    refusal = lookup_refusal(user=user)
    if refusal:
        return render(request, "registry/search_refused.html", {"refusal": refusal}, status=403)
    lookup = _lookup_id(request)
    try:
        search_event = search_event_for_view(actor=user, event_id=lookup, register_id=register_id)
        if search_event is not None and request.method == "GET":
            reason = LookupReasonGiven(search_event.reason, search_event.reason_detail)
        else:
            form = LookupReasonForm(request.POST if request.method == "POST" else None)
            if request.method == "GET" or not form.is_valid():
                return render(request, "registry/child_reason.html", {"form": form, "register_id": register_id})
            reason = _reason(form)
        signpost = child_view(
            by=Actor.from_request(request, user=user),
            register_id=register_id,
            reason=reason,
            search_event=search_event,
        )
    except DatabaseError:
        return _unavailable(request)
    if signpost is None:
        raise Http404("No child with that register ID")
    event_id = search_event.pk if search_event else None
    return render(
        request,
        "registry/child_detail.html",
        {
            "child": signpost,
            "lookup": event_id,
            "back_to_results": _is_last_search(request, search_event),
            "involvement_form": InvolvementStartForm(
                initial={"lookup": event_id, "service_type": service_type_for_user(user=user)}
            ),
            "today": timezone.localdate(),
            # The responsible authority's own register managers keep the record from here.
            "may_manage": managed_child_exists(user=user, register_id=register_id),
        },
    )


def _child_or_404(register_id: str) -> Child:
    child = Child.objects.select_related("responsible_local_authority").filter(register_id=register_id).first()
    if child is None:
        raise Http404("No child with that register ID")
    return child


def _back_to_child(register_id: str, lookup: int | None) -> HttpResponse:
    url = reverse("registry:child", args=[register_id])
    return redirect(f"{url}?lookup={lookup}" if lookup else url)


@require_POST
def involvement_start(request: HttpRequest, register_id: str) -> HttpResponse:
    user = _user(request)
    refusal = lookup_refusal(user=user)
    if refusal:
        return render(request, "registry/search_refused.html", {"refusal": refusal}, status=403)
    child = _child_or_404(register_id)
    form = InvolvementStartForm(request.POST)
    lookup = _lookup_id(request)
    if not form.is_valid():
        messages.error(request, "Select the service you are working with the child for")
        return _back_to_child(register_id, lookup)
    try:
        practitioner_involvement_start(
            by=Actor.from_request(request, user=user), child=child, service_type=form.cleaned_data["service_type"]
        )
    except InvolvementRefused as refused:
        messages.error(request, refused.messages[0])
    except ValidationError as invalid:
        messages.error(request, "; ".join(invalid.messages))
    else:
        messages.success(request, "You are recorded as working with this child")
    return _back_to_child(register_id, lookup)


@never_cache
@require_http_methods(["GET", "POST"])
def involvement_end(request: HttpRequest, register_id: str) -> HttpResponse:
    """Ending one's own involvement: GET asks to confirm (it shows only the register ID,
    so it reads nothing personal), POST ends it."""
    user = _user(request)
    child = _child_or_404(register_id)
    if request.method == "GET":
        if not Involvement.objects.filter(child=child, practitioner=user, end_date__isnull=True).exists():
            messages.error(request, "You are not recorded as working with this child")
            return _back_to_child(register_id, _lookup_id(request))
        context = {"register_id": register_id, "lookup": _lookup_id(request)}
        return render(request, "registry/involvement_end_confirm.html", context)
    try:
        practitioner_involvement_end(by=Actor.from_request(request, user=user), child=child)
    except InvolvementRefused as refused:
        messages.error(request, refused.messages[0])
    else:
        messages.success(request, "You are no longer recorded as working with this child")
    return _back_to_child(register_id, _lookup_id(request))


@never_cache
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        notifications_mark_read(user=user)
        return redirect("registry:notifications")
    items = Notification.objects.filter(recipient=user).select_related("child")[:100]
    context: dict[str, Any] = {"notifications": items, "unread": sum(1 for item in items if item.read_at is None)}
    return render(request, "registry/notifications.html", context)
