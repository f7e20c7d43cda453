"""Removal pages: register managers' list of children due soon and manual removal; system
administrators' legal holds and the dry run. Who may act on which child is decided in
registry.removal.rules (selectors) and registry.removal.services; a child outside the user's
scope answers 404."""

import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from accounts.roles import Role
from accounts.selectors import local_authorities_for_role
from audit.actor import Actor
from audit.services import personal_data_read_record
from registry.models import ManualRemovalReason, RemovalReceipt
from registry.removal.forms import LegalHoldForm, LegalHoldLiftForm, ManualRemovalForm
from registry.removal.rules import (
    children_due_soon,
    holdable_child,
    legal_hold_for_user,
    legal_holds_active,
    manageable_child,
    removal_receipts_for_user,
    removal_schedule,
    removal_schedule_for_register_id,
)
from registry.removal.services import (
    RemovalRefused,
    child_remove_manually,
    legal_hold_lift,
    legal_hold_set,
    removal_run,
)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _require_role(user: User, role: Role) -> None:
    if not local_authorities_for_role(user=user, role=role).exists():
        raise PermissionDenied


def _unavailable(request: HttpRequest) -> HttpResponse:
    return render(request, "registry/unavailable.html", status=503)


@never_cache
@require_GET
def due_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_role(user, Role.REGISTER_MANAGER)
    today = timezone.localdate()
    days = settings.REMOVAL_DUE_SOON_DAYS
    context = {
        "due": children_due_soon(user=user, today=today),
        "today": today,
        "due_soon_days": days,
        "horizon": today + datetime.timedelta(days=days),
    }
    return render(request, "registry/removal/due.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def child_remove(request: HttpRequest, register_id: str) -> HttpResponse:
    """Manual removal in two steps: choose the reason, then confirm on a page that shows
    who will be removed. Only the confirmation (confirm=yes) removes."""
    user = _user(request)
    child = manageable_child(user=user, register_id=register_id)
    if child is None:
        raise Http404("No child with that register ID")
    schedule = removal_schedule(child=child)
    context = {"child": child, "schedule": schedule}
    if request.method == "GET":
        return render(request, "registry/removal/remove.html", {**context, "form": ManualRemovalForm()})
    form = ManualRemovalForm(request.POST)
    if not form.is_valid():
        return render(request, "registry/removal/remove.html", {**context, "form": form})
    reason = ManualRemovalReason(form.cleaned_data["reason"])
    if request.POST.get("confirm") != "yes":
        # The confirmation shows who will be removed (name, date of birth): a read of
        # personal data, audited before it is shown (fail closed). The first step shows
        # only the register ID.
        personal_data_read_record(
            by=Actor.from_request(request, user=user),
            register_ids=[child.register_id],
            page="removal_confirmation",
            child_authority_codes={child.register_id: child.responsible_local_authority.gss_code},
        )
        return render(
            request, "registry/removal/remove_confirm.html", {**context, "form": form, "reason_label": reason.label}
        )
    try:
        child_remove_manually(
            by=Actor.from_request(request, user=user),
            child=child,
            reason=reason,
            explanation=form.cleaned_data["explanation"],
        )
    except RemovalRefused as refused:
        form.add_error(None, refused.messages[0])
        return render(request, "registry/removal/remove.html", {**context, "form": form})
    except DatabaseError:
        return _unavailable(request)
    messages.success(request, f"Child {register_id} has been removed from the register")
    return redirect("registry:removal-receipt", register_id=register_id)


def _receipt_or_404(user: User, register_id: str) -> RemovalReceipt:
    receipt = removal_receipts_for_user(user=user).filter(register_id=register_id).first()
    if receipt is None:
        raise Http404("No removal receipt with that register ID")
    return receipt


@never_cache
@require_GET
def receipt_detail(request: HttpRequest, register_id: str) -> HttpResponse:
    receipt = _receipt_or_404(_user(request), register_id)
    return render(request, "registry/removal/receipt.html", {"receipt": receipt})


@never_cache
@require_GET
def receipt_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not (
        local_authorities_for_role(user=user, role=Role.REGISTER_MANAGER).exists()
        or local_authorities_for_role(user=user, role=Role.SYSTEM_ADMINISTRATOR).exists()
    ):
        raise PermissionDenied
    return render(request, "registry/removal/receipts.html", {"receipts": removal_receipts_for_user(user=user)[:100]})


@never_cache
@require_GET
def dry_run(request: HttpRequest) -> HttpResponse:
    """What the next daily run would remove today, and why. Audited like a run."""
    user = _user(request)
    _require_role(user, Role.SYSTEM_ADMINISTRATOR)
    try:
        result = removal_run(by=Actor.from_request(request, user=user), dry_run=True)
    except DatabaseError:
        return _unavailable(request)
    return render(request, "registry/removal/dry_run.html", {"result": result})


@never_cache
@require_GET
def legal_holds(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_role(user, Role.SYSTEM_ADMINISTRATOR)
    return render(request, "registry/removal/legal_holds.html", {"holds": legal_holds_active(user=user)})


@never_cache
@require_http_methods(["GET", "POST"])
def legal_hold_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_role(user, Role.SYSTEM_ADMINISTRATOR)
    if request.method == "GET":
        form = LegalHoldForm(initial={"register_id": request.GET.get("register_id", "")})
        return render(request, "registry/removal/legal_hold_form.html", {"form": form})
    form = LegalHoldForm(request.POST)
    if form.is_valid():
        child = holdable_child(user=user, register_id=form.cleaned_data["register_id"])
        if child is None:
            form.add_error("register_id", "No child on the register has this register ID")
        else:
            try:
                legal_hold_set(
                    by=Actor.from_request(request, user=user),
                    child=child,
                    reason=form.cleaned_data["reason"],
                    reference=form.cleaned_data["reference"],
                )
            except RemovalRefused as refused:
                form.add_error("register_id", refused.messages[0])
            except DatabaseError:
                return _unavailable(request)
            else:
                messages.success(request, f"Legal hold set on child {child.register_id}")
                return redirect("registry:legal-holds")
    return render(request, "registry/removal/legal_hold_form.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def legal_hold_lift_view(request: HttpRequest, hold_id: int) -> HttpResponse:
    user = _user(request)
    hold = legal_hold_for_user(user=user, hold_id=hold_id)
    if hold is None:
        raise Http404("No legal hold in force with that number")
    schedule = removal_schedule_for_register_id(register_id=hold.child.register_id)
    form = LegalHoldLiftForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            legal_hold_lift(
                by=Actor.from_request(request, user=user), hold=hold, lift_reason=form.cleaned_data["lift_reason"]
            )
        except (RemovalRefused, ValidationError) as refused:
            form.add_error(None, refused.messages[0])
        except DatabaseError:
            return _unavailable(request)
        else:
            messages.success(request, f"Legal hold {hold.reference} lifted from child {hold.child.register_id}")
            return redirect("registry:legal-holds")
    return render(
        request,
        "registry/removal/legal_hold_lift.html",
        {"form": form, "hold": hold, "schedule": schedule, "today": timezone.localdate()},
    )
