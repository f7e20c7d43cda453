"""Reads for the GRO feeds, each within the asking user's role and scope."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from accounts.roles import Role
from feeds.models import FeedFile, FeedMatch, QuarantinedRow
from registry.children.selectors import children_managed_by

# The matches waiting for a register manager: to decide, or to check after the GRO's change.
WAITING_STATES = (FeedMatch.State.PENDING, FeedMatch.State.RECHECK)
# Of the registration's details, what a register manager is shown to decide a match.
_REVIEW_FIELDS = {
    "death": (
        "forenames", "surname", "aliases", "sex", "date_of_birth", "date_of_death", "place_of_death", "address",
        "postcode", "nhs_number", "registration_date", "registration_district",
    ),
    "birth": (
        "forenames", "surname", "sex", "date_of_birth", "place_of_birth", "nhs_number", "mother_forenames",
        "mother_surname", "mother_maiden_surname", "mother_date_of_birth", "mother_postcode", "registration_date",
        "registration_district",
    ),
}  # fmt: skip
# Where a person lives: never shown beside a shielded child, whoever is looking.
_LOCATION_FIELDS = frozenset({"address", "postcode", "mother_postcode", "place_of_death", "place_of_birth"})


def feed_files_for_operator(*, user: User) -> QuerySet[FeedFile]:
    if not user.has_role(Role.FEED_OPERATOR):
        return FeedFile.objects.none()
    return FeedFile.objects.all()


def feed_file_for_operator(*, user: User, feed_file_id: Any) -> FeedFile | None:
    return feed_files_for_operator(user=user).filter(pk=feed_file_id).first()


def quarantined_rows(*, feed_file: FeedFile, limit: int = 500) -> list[QuarantinedRow]:
    return list(feed_file.quarantined_rows.all()[:limit])


def feed_file_progress(*, feed_file: FeedFile) -> dict[str, Any]:
    """What the progress page shows, also as JSON for its live update."""
    return {
        "state": feed_file.state,
        "state_label": feed_file.get_state_display(),
        "rows_total": feed_file.rows_total,
        "rows_done": feed_file.rows_done,
        "percent_done": feed_file.percent_done,
        "applied": feed_file.rows_applied,
        "for_review": feed_file.rows_for_review,
        "unmatched": feed_file.rows_unmatched,
        "duplicate": feed_file.rows_duplicate,
        "out_of_scope": feed_file.rows_out_of_scope,
        "rejected": feed_file.rows_quarantined,
    }


def review_queue(*, user: User) -> QuerySet[FeedMatch]:
    """Registrations waiting for the user's authorities' register managers, oldest first:
    matches to confirm or reject, and confirmed births the GRO has since cancelled or
    corrected, to check. Scoped by the child's authority now, not the one asked when the
    match was made: after a transfer, the new authority decides and the old one no longer
    sees the child."""
    return (
        FeedMatch.objects.filter(child__in=children_managed_by(user=user), state__in=WAITING_STATES)
        .select_related("child", "registration", "local_authority")
        .order_by("created_at", "id")
    )


def review_item(*, user: User, match_id: int) -> FeedMatch | None:
    """A match of one of the user's authorities (in any state), else None: the view answers
    404, so another authority's matches cannot even be confirmed to exist."""
    return (
        FeedMatch.objects.filter(pk=match_id, child__in=children_managed_by(user=user))
        .select_related("child", "registration", "local_authority", "unborn_status")
        .first()
    )


@dataclass(frozen=True)
class ReviewComparison:
    label: str
    registration: str
    record: str


def review_comparison(*, match: FeedMatch) -> list[ReviewComparison]:
    """The registration beside the child's record, field by field. Beside a shielded child
    no address or postcode is shown, from either side."""
    child = match.child
    record_values = {
        "forenames": child.given_names,
        "surname": child.family_name,
        "sex": child.get_sex_display(),
        "date_of_birth": child.date_of_birth.isoformat() if child.date_of_birth else "Not born yet",
        "nhs_number": child.nhs_number or "",
        "postcode": child.postcode,
        "address": ", ".join(part for part in (child.address_line_1, child.address_line_2, child.town) if part),
    }
    if match.unborn_status is not None:
        plan = match.unborn_status
        record_values.update(
            {
                "mother_forenames": plan.mother_given_names,
                "mother_surname": plan.mother_family_name,
                "mother_date_of_birth": plan.mother_date_of_birth.isoformat() if plan.mother_date_of_birth else "",
                "date_of_birth": f"Expected {plan.expected_delivery_date:%Y-%m-%d}",
            }
        )
    rows = []
    for name in _REVIEW_FIELDS[match.registration.event_type]:
        if child.is_shielded and name in _LOCATION_FIELDS:
            continue
        rows.append(
            ReviewComparison(
                label=name.replace("_", " ").capitalize(),
                registration=str(match.details.get(name, "")),
                record=record_values.get(name, ""),
            )
        )
    return rows
