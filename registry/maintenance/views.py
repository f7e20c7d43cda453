"""Register managers' pages: their authority's children, adding a child (through the
duplicate check), and every correction to a child's record. Each child is found through
registry.children.selectors.children_managed_by, so another authority's child is a 404 on every
route; each change goes through registry.children.services, audited in the same transaction."""

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import User
from audit.actor import Actor
from audit.services import personal_data_read_record
from registry.children import selectors, services
from registry.lookups.services import manager_find_perform
from registry.maintenance.duplicates import DIFFERENT_CHILD, HELD_ELSEWHERE, SAME, DuplicateCheck
from registry.maintenance.forms import (
    ChildAddForm,
    ChildFindForm,
    ChildIdentityForm,
    ConfirmForm,
    DuplicateDecisionForm,
    EndDateForm,
    InvolvementAddForm,
    OtherNameForm,
    ShieldingForm,
    StatusAddForm,
    TransferForm,
    VersionedForm,
)
from registry.maintenance.services import duplicate_check_perform, duplicate_decision_record
from registry.models import Child

CHILDREN_PER_PAGE = 25
CONFLICT_MESSAGE = (
    "Someone else changed this child's record while you were working on it, so your changes have not been "
    "saved. Check the record as it is now, then submit your changes again"
)
# Fields of the add form carried through the duplicate check page as hidden inputs.
_NOT_REPLAYED = {"csrfmiddlewaretoken", "decision", "checked", "edit"}

GET_POST = require_http_methods(["GET", "POST"])


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _actor(request: HttpRequest) -> Actor[User]:
    """The signed-in manager's actor context for this request, passed to every change."""
    return Actor.from_request(request, user=_user(request))


def _child_or_404(request: HttpRequest, register_id: str) -> Child:
    child = selectors.managed_child(user=_user(request), register_id=register_id)
    if child is None:
        raise Http404("No child with that register ID among your authority's children")
    return child


def _manage_url(child: Child) -> str:
    return reverse("registry:manage-child", args=[child.register_id])


def _form_errors_from(form: Form, invalid: ValidationError) -> None:
    if hasattr(invalid, "error_dict"):
        for field, errors in invalid.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in invalid.messages:
            form.add_error(None, error)


def _unavailable(request: HttpRequest) -> HttpResponse:
    return render(request, "registry/unavailable.html", status=503)


def _page_name(template: str) -> str:
    return template.rsplit("/", 1)[-1].removesuffix(".html")


def _read_audited(request: HttpRequest, children: list[Child], *, page: str) -> None:
    """Every page that shows a manager children's personal data is a read of it: audited
    before it is rendered, and not shown if the audit cannot be written (the DatabaseError
    propagates: DatabaseUnavailableMiddleware answers 503)."""
    if not children:
        return
    personal_data_read_record(
        by=Actor.from_request(request, user=_user(request)),
        register_ids=[child.register_id for child in children],
        page=page,
        child_authority_codes={child.register_id: child.responsible_local_authority.gss_code for child in children},
    )


def _change(
    request: HttpRequest,
    *,
    form: VersionedForm,
    template: str,
    context: dict[str, Any],
    change: Callable[[int], object],
    success: str,
    redirect_to: str | None = None,
) -> HttpResponse:
    """Show the form on a GET (the form is unbound). On a POST, validate, make the change
    with the version the manager saw, and say what happened. A conflict keeps everything
    the manager typed and shows the record as it is now."""
    child = form.child
    if form.is_valid():
        try:
            change(form.cleaned_data["version"])
        except services.ChildVersionConflict as conflict:
            form.refresh_version(conflict.current_version)
            form.add_error(None, CONFLICT_MESSAGE)
            current = _child_or_404(request, child.register_id)
            _read_audited(request, [current], page=f"{_page_name(template)}_conflict")
            return render(request, template, {**context, "form": form, "child": current, "conflict": True}, status=409)
        except ValidationError as invalid:
            _form_errors_from(form, invalid)
        except DatabaseError:
            return _unavailable(request)
        else:
            messages.success(request, success)
            return redirect(redirect_to or _manage_url(child))
    _read_audited(request, [child], page=_page_name(template))
    return render(request, template, {**context, "form": form, "child": child})


@never_cache
@GET_POST
def children(request: HttpRequest) -> HttpResponse:
    """The manager's children, a page at a time, and the Find: by register ID or reference,
    NHS number, or name and date of birth, among their own authority's children only
    (registry.lookups.services.manager_find_perform, which audits what was typed)."""
    user = _user(request)
    authorities = list(selectors.authorities_managed_by(user=user))
    if not authorities:
        raise Http404("You do not manage a register")
    # Finding is POSTed: names, dates of birth and NHS numbers stay out of URLs.
    form = ChildFindForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"form": form, "authorities": authorities}
    if form.is_bound and form.is_valid():
        context["found"] = manager_find_perform(by=Actor.from_request(request, user=user), find=form.find())
        return render(request, "registry/manage/children.html", context)
    page = Paginator(selectors.managed_children_page(user=user), CHILDREN_PER_PAGE).get_page(request.GET.get("page"))
    _read_audited(request, list(page.object_list), page="manage_children")
    context |= {"page": page, "page_numbers": page.paginator.get_elided_page_range(page.number)}
    return render(request, "registry/manage/children.html", context)


@never_cache
@GET_POST
def child_add(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    authorities = selectors.authorities_managed_by(user=user)
    if not authorities.exists():
        raise Http404("You do not manage a register")
    if request.method == "GET":
        return render(request, "registry/manage/child_add.html", {"form": ChildAddForm(authorities=authorities)})
    form = ChildAddForm(request.POST, authorities=authorities)
    if not form.is_valid() or "edit" in request.POST:
        return render(request, "registry/manage/child_add.html", {"form": form})
    try:
        check = duplicate_check_perform(by=Actor.from_request(request, user=user), proposed=form.proposed())
        if check.too_many:
            form.add_error(
                None,
                "Too many children on the register are like this one to check for a duplicate. "
                "Add the child's NHS number or given names",
            )
            return render(request, "registry/manage/child_add.html", {"form": form})
        duplicate_check: dict[str, Any] = {"register_ids_shown": [], "decision": "no_matches"}
        if check.candidates:
            decision_form = DuplicateDecisionForm(request.POST if "checked" in request.POST else None, check=check)
            if not decision_form.is_bound or not decision_form.is_valid():
                return _duplicates_page(request, form, check, decision_form)
            decision = decision_form.cleaned_data["decision"]
            if decision.startswith(HELD_ELSEWHERE):
                return _held_elsewhere(request, check, decision.removeprefix(HELD_ELSEWHERE))
            if decision != DIFFERENT_CHILD:
                return _same_child(request, form, check, decision_form, decision.removeprefix(SAME))
            duplicate_check = {"register_ids_shown": check.register_ids, "decision": "different_child"}
        if "confirmed" not in request.POST:
            # Check your answers: nothing is saved until the manager has seen it all.
            return _check_answers_page(request, form)
        identity = form.identity()
        child = services.child_create(
            by=Actor.from_request(request, user=user),
            responsible_local_authority=form.cleaned_data["responsible_local_authority"],
            family_name=identity.pop("family_name"),
            given_names=identity.pop("given_names"),
            status=form.status(),
            duplicate_check=duplicate_check,
            **identity,
        )
    except ValidationError as invalid:
        _form_errors_from(form, invalid)
        return render(request, "registry/manage/child_add.html", {"form": form})
    except DatabaseError:
        return _unavailable(request)
    messages.success(request, f"Child added to the register with register ID {child.register_id}")
    return redirect(_manage_url(child))


def _answers(form: ChildAddForm) -> list[tuple[str, str]]:
    """Each answer given, as the check-your-answers page shows it: the choice's label, a
    date written out, nothing for a question left blank."""
    rows = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if value in (None, "", []) or field.widget.is_hidden:
            continue
        if isinstance(value, datetime.date):
            shown = date_format(value, "j F Y")
        elif isinstance(value, str) and getattr(field, "choices", None):
            shown = str(dict(field.choices).get(value, value))  # type: ignore[attr-defined]
        else:
            shown = str(value)
        rows.append((str(field.label), shown))
    return rows


def _check_answers_page(request: HttpRequest, form: ChildAddForm) -> HttpResponse:
    # Everything posted so far rides along, the duplicate decision included, so that
    # "Add the child" re-runs the same checks before saving.
    replay = [(name, values) for name, values in request.POST.lists() if name not in {"csrfmiddlewaretoken", "edit"}]
    return render(
        request, "registry/manage/child_check.html", {"add_form": form, "answers": _answers(form), "replay": replay}
    )


def _duplicates_page(
    request: HttpRequest, form: ChildAddForm, check: DuplicateCheck, decision_form: DuplicateDecisionForm
) -> HttpResponse:
    replay = [(name, values) for name, values in request.POST.lists() if name not in _NOT_REPLAYED]
    return render(
        request,
        "registry/manage/child_duplicates.html",
        {"form": decision_form, "add_form": form, "check": check, "replay": replay},
    )


def _held_elsewhere(request: HttpRequest, check: DuplicateCheck, gss_code: str) -> HttpResponse:
    """The manager says the child is one another authority holds: that record cannot be
    changed or even named from here, so the decision is recorded and the manager is told
    whom to ask for a transfer."""
    candidate = check.hidden_held_by(gss_code)
    assert candidate is not None  # the decision form only offers authorities that hold a match
    duplicate_decision_record(by=Actor.from_request(request, user=_user(request)), check=check, held_by=candidate)
    return render(request, "registry/manage/child_transfer_needed.html", {"candidate": candidate})


def _same_child(
    request: HttpRequest,
    form: ChildAddForm,
    check: DuplicateCheck,
    decision_form: DuplicateDecisionForm,
    register_id: str,
) -> HttpResponse:
    """The manager says the child is one of their own authority's: it gets the status."""
    user = _user(request)
    # The form offers only the visible (own authority's) matches; the lookup is scoped too.
    duplicate_check = {"register_ids_shown": check.register_ids, "decision": "same_child"}
    child = _child_or_404(request, register_id)
    try:
        services.status_add(
            by=Actor.from_request(request, user=user),
            child=child,
            status=form.status(),
            duplicate_check=duplicate_check,
        )
    except ValidationError as invalid:
        _form_errors_from(decision_form, invalid)
        return _duplicates_page(request, form, check, decision_form)
    messages.success(request, f"Status added to the existing record of child {child.register_id}")
    return redirect(_manage_url(child))


@never_cache
@GET_POST
def child_manage(request: HttpRequest, register_id: str) -> HttpResponse:
    # POST is looked up before being refused, so that another authority's child is a 404
    # whatever the method, as on every other maintenance route.
    child = _child_or_404(request, register_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    user = _user(request)
    involvements = list(child.involvements.all())
    # A sensitive service's involvement is hidden from the authority too, as from everyone
    # outside that service (registry.children.selectors.involvement_visible_to): only counted.
    visible = [i for i in involvements if selectors.involvement_visible_to(involvement=i, user=user)]
    context = {"child": child, "involvements": visible, "hidden_involvements": len(involvements) - len(visible)}
    _read_audited(request, [child], page="manage_child")
    return render(request, "registry/manage/child.html", context)


@never_cache
@GET_POST
def child_identity(request: HttpRequest, register_id: str) -> HttpResponse:
    child = _child_or_404(request, register_id)
    if request.method == "GET":
        initial = {name: getattr(child, name) for name in ChildIdentityForm.IDENTITY_FIELDS}
        initial["nhs_number"] = child.nhs_number or ""
        form = ChildIdentityForm(child=child, initial=initial)
    else:
        form = ChildIdentityForm(request.POST, child=child)
    return _change(
        request,
        form=form,
        template="registry/manage/child_identity.html",
        context={},
        change=lambda version: services.child_identity_update(
            by=_actor(request), child=child, changes=form.identity(), expected_version=version
        ),
        success="Identity details saved",
    )


@never_cache
@GET_POST
def child_shielding(request: HttpRequest, register_id: str) -> HttpResponse:
    child = _child_or_404(request, register_id)
    form = ShieldingForm(request.POST if request.method == "POST" else None, child=child)
    shield = not child.is_shielded
    return _change(
        request,
        form=form,
        template="registry/manage/child_shielding.html",
        context={},
        change=lambda version: services.child_shielding_set(
            by=_actor(request),
            child=child,
            is_shielded=shield,
            reason=form.cleaned_data["reason"],
            expected_version=version,
        ),
        success="The record is now shielded" if shield else "The record is no longer shielded",
    )


@never_cache
@GET_POST
def other_name_add(request: HttpRequest, register_id: str) -> HttpResponse:
    child = _child_or_404(request, register_id)
    form = OtherNameForm(request.POST if request.method == "POST" else None, child=child)
    return _change(
        request,
        form=form,
        template="registry/manage/other_name_add.html",
        context={},
        change=lambda version: services.other_name_add(
            by=_actor(request),
            child=child,
            kind=form.cleaned_data["kind"],
            given_names=form.cleaned_data["given_names"],
            family_name=form.cleaned_data["family_name"],
            expected_version=version,
        ),
        success="Name added",
    )


@never_cache
@GET_POST
def other_name_remove(request: HttpRequest, register_id: str, other_name_id: int) -> HttpResponse:
    child = _child_or_404(request, register_id)
    other_name = child.other_names.filter(pk=other_name_id).first()
    if other_name is None:
        raise Http404("No such name for this child")
    form = ConfirmForm(request.POST if request.method == "POST" else None, child=child)
    context = {"other_name": other_name}
    return _change(
        request,
        form=form,
        template="registry/manage/other_name_remove.html",
        context=context,
        change=lambda version: services.other_name_remove(
            by=_actor(request), other_name=other_name, expected_version=version
        ),
        success="Name removed",
    )


@never_cache
@GET_POST
def status_add(request: HttpRequest, register_id: str) -> HttpResponse:
    child = _child_or_404(request, register_id)
    form = StatusAddForm(request.POST if request.method == "POST" else None, child=child)
    return _change(
        request,
        form=form,
        template="registry/manage/status_add.html",
        context={},
        change=lambda version: services.status_add(
            by=_actor(request), child=child, status=form.status(), expected_version=version
        ),
        success="Status added",
    )


@never_cache
@GET_POST
def status_end(request: HttpRequest, register_id: str, status_id: int) -> HttpResponse:
    child = _child_or_404(request, register_id)
    status = child.statuses.filter(pk=status_id, end_date__isnull=True).first()
    if status is None:
        raise Http404("No current status with that id for this child")
    form = EndDateForm(request.POST if request.method == "POST" else None, child=child, start_date=status.start_date)
    context = {"status": status}
    status.child = child
    return _change(
        request,
        form=form,
        template="registry/manage/status_end.html",
        context=context,
        change=lambda version: services.status_end(
            by=_actor(request),
            status=status,
            end_date=form.cleaned_data["end_date"],
            expected_version=version,
        ),
        success="Status ended",
    )


@never_cache
@GET_POST
def involvement_add(request: HttpRequest, register_id: str) -> HttpResponse:
    child = _child_or_404(request, register_id)
    form = InvolvementAddForm(request.POST if request.method == "POST" else None, child=child)
    return _change(
        request,
        form=form,
        template="registry/manage/involvement_add.html",
        context={},
        change=lambda version: services.involvement_add(
            by=_actor(request), child=child, involvement=form.involvement(), expected_version=version
        ),
        success="Involvement added",
    )


@never_cache
@GET_POST
def involvement_end(request: HttpRequest, register_id: str, involvement_id: int) -> HttpResponse:
    child = _child_or_404(request, register_id)
    involvement = child.involvements.filter(pk=involvement_id, end_date__isnull=True).first()
    if involvement is None or not selectors.involvement_visible_to(involvement=involvement, user=_user(request)):
        raise Http404("No current involvement with that id for this child")
    data = request.POST if request.method == "POST" else None
    form = EndDateForm(data, child=child, start_date=involvement.start_date)
    context = {"involvement": involvement}
    involvement.child = child
    return _change(
        request,
        form=form,
        template="registry/manage/involvement_end.html",
        context=context,
        change=lambda version: services.involvement_end(
            by=_actor(request),
            involvement=involvement,
            end_date=form.cleaned_data["end_date"],
            expected_version=version,
        ),
        success="Involvement ended",
    )


@never_cache
@GET_POST
def child_transfer(request: HttpRequest, register_id: str) -> HttpResponse:
    child = _child_or_404(request, register_id)
    form = TransferForm(request.POST if request.method == "POST" else None, child=child)
    if request.method == "POST" and "confirmed" not in request.POST and form.is_valid():
        # A transfer cannot be undone by this manager: ask once more, naming where it goes.
        replay = [(name, values) for name, values in request.POST.lists() if name != "csrfmiddlewaretoken"]
        _read_audited(request, [child], page="child_transfer_confirm")
        return render(
            request, "registry/manage/child_transfer_confirm.html", {"child": child, "form": form, "replay": replay}
        )
    # After the transfer the child is no longer this manager's: back to their list.
    return _change(
        request,
        form=form,
        template="registry/manage/child_transfer.html",
        context={},
        change=lambda version: services.child_transfer(
            by=_actor(request),
            child=child,
            to_local_authority=form.cleaned_data["to_local_authority"],
            transferred_on=form.cleaned_data["transferred_on"],
            expected_version=version,
        ),
        success=f"Child {child.register_id} has been transferred. Both authorities have been told",
        redirect_to=reverse("registry:manage-children"),
    )
