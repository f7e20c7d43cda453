"""Feed operators' pages (upload, progress) and register managers' review queue. Views
parse input and call feeds.services / feeds.selectors, where role and scope are decided."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from accounts.roles import Role
from audit.actor import Actor
from audit.services import personal_data_read_record
from feeds.dashboard import feed_matches_listed
from feeds.forms import FeedUploadForm, ReviewDecisionForm
from feeds.models import FeedFile, FeedMatch
from feeds.selectors import (
    feed_file_for_operator,
    feed_file_progress,
    feed_files_for_operator,
    quarantined_rows,
    review_comparison,
    review_item,
    review_queue,
)
from feeds.services import (
    FeedRefused,
    feed_file_fail,
    feed_file_receive,
    feed_match_checked,
    feed_match_confirm,
    feed_match_reject,
)
from registry.dashboard.selectors import dashboard_authority, user_manages


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _operator(request: HttpRequest) -> User:
    user = _user(request)
    if not user.has_role(Role.FEED_OPERATOR):
        raise PermissionDenied
    return user


def _manager(request: HttpRequest) -> User:
    user = _user(request)
    if not user.has_role(Role.REGISTER_MANAGER):
        raise PermissionDenied
    return user


@never_cache
@require_http_methods(["GET", "POST"])
def feed_files(request: HttpRequest) -> HttpResponse:
    user = _operator(request)
    form = FeedUploadForm(request.POST, request.FILES) if request.method == "POST" else FeedUploadForm()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            receipt = feed_file_receive(
                stream=upload, size=upload.size, original_name=upload.name or "", source=FeedFile.Source.UPLOAD,
                by=Actor.from_request(request, user=user),
            )  # fmt: skip
        except FeedRefused as refused:
            form.add_error("file", str(refused))
        else:
            (messages.warning if receipt.repeated else messages.success)(request, receipt.message)
            return redirect("feeds:file", feed_file_id=receipt.feed_file.pk)
    files = feed_files_for_operator(user=user)[:50]
    return render(request, "feeds/files.html", {"form": form, "files": files})


def _feed_file(request: HttpRequest, feed_file_id: uuid.UUID) -> FeedFile:
    feed_file = feed_file_for_operator(user=_operator(request), feed_file_id=feed_file_id)
    if feed_file is None:
        raise Http404("No such feed file")
    return feed_file


@never_cache
@require_GET
def feed_file_detail(request: HttpRequest, feed_file_id: uuid.UUID) -> HttpResponse:
    feed_file = _feed_file(request, feed_file_id)
    return render(
        request,
        "feeds/file_detail.html",
        {
            "feed_file": feed_file,
            "progress": feed_file_progress(feed_file=feed_file),
            "quarantined": quarantined_rows(feed_file=feed_file),
        },
    )


@never_cache
@require_GET
def feed_file_progress_json(request: HttpRequest, feed_file_id: uuid.UUID) -> JsonResponse:
    return JsonResponse(feed_file_progress(feed_file=_feed_file(request, feed_file_id)))


@never_cache
@require_http_methods(["GET", "POST"])
def feed_file_stop(request: HttpRequest, feed_file_id: uuid.UUID) -> HttpResponse:
    """Ask, then stop a file that is waiting or being ingested: rows already committed stay,
    the rest is not ingested. For a file that is poisoning the pipeline."""
    user = _operator(request)
    feed_file = _feed_file(request, feed_file_id)
    if feed_file.state not in (FeedFile.State.WAITING, FeedFile.State.RUNNING):
        messages.info(request, "This file has already finished; there is nothing to stop.")
        return redirect("feeds:file", feed_file_id=feed_file.pk)
    if request.method == "POST":
        feed_file_fail(
            feed_file_id=feed_file.pk, reason="Stopped by a feed operator", by=Actor.from_request(request, user=user)
        )
        messages.success(request, "The file was stopped. Rows already ingested stay; the rest will not be ingested.")
        return redirect("feeds:file", feed_file_id=feed_file.pk)
    return render(request, "feeds/file_stop.html", {"feed_file": feed_file})


FEED_LIST_TITLES = {
    "applied": "Birth and death registrations applied to your children",
    "waiting": "Registrations waiting for review",
    "rejected": "Registrations rejected by a register manager",
}


@never_cache
@require_GET
def dashboard_feed_matches(request: HttpRequest, gss_code: str, outcome: str) -> HttpResponse:
    """The list behind a dashboard feed figure, scoped like every dashboard page: another
    authority's list answers 404."""
    user = request.user
    assert isinstance(user, User)
    authority = dashboard_authority(user=user, gss_code=gss_code)
    if authority is None or outcome not in FEED_LIST_TITLES:
        raise Http404("No such list")
    matches = feed_matches_listed(local_authority=authority, outcome=outcome)
    context = {
        "authority": authority,
        "title": FEED_LIST_TITLES[outcome],
        "outcome": outcome,
        "page": Paginator(matches, 50).get_page(request.GET.get("page")),
        "is_manager": user_manages(user=user, local_authority=authority),
    }
    return render(request, "feeds/dashboard_matches.html", context)


@never_cache
@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    return render(request, "feeds/review_list.html", {"matches": review_queue(user=user)[:200]})


@never_cache
@require_http_methods(["GET", "POST"])
def review_decide(request: HttpRequest, match_id: int) -> HttpResponse:
    user = _manager(request)
    match = review_item(user=user, match_id=match_id)
    if match is None:
        raise Http404("No such registration to review")
    form = ReviewDecisionForm(request.POST) if request.method == "POST" else ReviewDecisionForm()
    if request.method == "POST" and match.state in (FeedMatch.State.RECHECK, FeedMatch.State.CHECKED):
        # A confirmed birth the GRO changed since: the manager says they have checked it.
        try:
            feed_match_checked(match=match, by=Actor.from_request(request, user=user))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Checked: the record of child {match.child.register_id} has left the queue.")
        return redirect("feeds:review")
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == "confirm":
                feed_match_confirm(match=match, by=Actor.from_request(request, user=user))
                messages.success(request, f"Confirmed: the record of child {match.child.register_id} was updated.")
            else:
                feed_match_reject(match=match, by=Actor.from_request(request, user=user))
                messages.success(request, "Rejected: nothing was changed on the child's record.")
        except ValidationError as error:
            form.add_error(None, " ".join(error.messages))
        else:
            return redirect("feeds:review")
    # The comparison shows the child's and the registration's personal details: audited
    # before it is shown, and not shown if the audit cannot be written (503).
    personal_data_read_record(
        by=Actor.from_request(request, user=user),
        register_ids=[match.child.register_id],
        page="feed_review",
        child_authority_codes={match.child.register_id: match.child.responsible_local_authority.gss_code},
    )
    return render(
        request,
        "feeds/review_item.html",
        {"match": match, "form": form, "comparison": review_comparison(match=match)},
    )
