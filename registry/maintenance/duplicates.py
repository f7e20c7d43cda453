"""Before a register manager adds a child: who already on the register may be the same
child. The register's matcher (registry.matching.selectors.candidates, purpose
DUPLICATE_CHECK) is run on the identity typed in; an unborn child, who has no date of birth
or NHS number yet, is compared by the mother's identity on other unborn plans
(registry.matching.selectors.unborn_candidates, the same rule as a birth registration's).

A shielded child of another authority is never described: the manager learns only that a
shielded record may match and which authority to contact. The check is itself a look at
the national register, so it is audited like a search (register IDs, never the names)."""

import datetime
from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from accounts.models import LocalAuthority, User
from audit.models import AuditEvent, LookupOutcome
from audit.services import audit_event_record
from registry.children.selectors import authorities_managed_by, child_authority_codes
from registry.matching.keys import name_normalise
from registry.matching.selectors import MotherIdentity, Purpose, SearchCriteria, candidates, unborn_candidates
from registry.models import Child

DIFFERENT_CHILD = "different"


@dataclass(frozen=True)
class ProposedChild:
    """The identity a manager is about to add (already cleaned by the form)."""

    family_name: str
    given_names: str = ""
    nhs_number: str = ""
    date_of_birth: datetime.date | None = None
    sex: str = ""
    postcode: str = ""
    # For an unborn child: the mother's identity recorded on the plan.
    mother_nhs_number: str = ""
    mother_given_names: str = ""
    mother_family_name: str = ""
    mother_date_of_birth: datetime.date | None = None


@dataclass(frozen=True)
class PossibleDuplicate:
    """What the manager is shown of one possible match. For a hidden (shielded, another
    authority's) record only `hidden`, `grade` and the authority to contact are filled."""

    hidden: bool
    grade: str
    local_authority: LocalAuthority
    own_authority: bool
    register_id: str = ""
    given_names: str = ""
    family_name: str = ""
    date_of_birth: datetime.date | None = None
    sex: str = ""
    reasons: list[str] = field(default_factory=list)

    @property
    def choice(self) -> str:
        """The value of "this is the same child" for this match; hidden ones have none."""
        return "" if self.hidden else f"same:{self.register_id}"


@dataclass(frozen=True)
class DuplicateCheck:
    candidates: list[PossibleDuplicate]
    register_ids: list[str]  # every candidate's, hidden ones too: for the audit only
    too_many: bool

    @property
    def fingerprint(self) -> str:
        """Ties a decision to the matches it was made on without putting a hidden record's
        register ID in the page: a new match since then means the manager is asked again."""
        return salted_hmac("registry.maintenance.duplicates", ",".join(sorted(self.register_ids))).hexdigest()

    def visible(self, register_id: str) -> PossibleDuplicate | None:
        return next((c for c in self.candidates if not c.hidden and c.register_id == register_id), None)


def _criteria_matches(proposed: ProposedChild) -> tuple[list[tuple[Child, str, list[str]]], bool]:
    if not proposed.nhs_number and not proposed.date_of_birth:
        return [], False
    outcome = candidates(SearchCriteria.from_values(asdict(proposed)), purpose=Purpose.DUPLICATE_CHECK)
    return [(match.child, match.grade.label, match.reasons) for match in outcome.matches], outcome.too_many


def _unborn_matches(proposed: ProposedChild) -> list[tuple[Child, str, list[str]]]:
    """Other unborn children whose plan names the same mother."""
    if proposed.date_of_birth is not None:
        return []
    mother = MotherIdentity(
        nhs_number=proposed.mother_nhs_number,
        given_names=proposed.mother_given_names,
        family_names=(proposed.mother_family_name,),
        date_of_birth=proposed.mother_date_of_birth,
    )
    return [
        (match.child, match.grade.label, ["an unborn plan names the same mother", *match.reasons])
        for match in unborn_candidates(mother)
    ]


def possible_duplicates(*, user: User, proposed: ProposedChild) -> DuplicateCheck:
    """The children already on the register who may be `proposed`, as `user` may see them."""
    if not name_normalise(proposed.family_name):
        return DuplicateCheck(candidates=[], register_ids=[], too_many=False)
    matches, too_many = _criteria_matches(proposed)
    seen = {child.pk for child, _grade, _reasons in matches}
    matches += [match for match in _unborn_matches(proposed) if match[0].pk not in seen]
    own = set(authorities_managed_by(user=user).values_list("pk", flat=True))
    candidates = []
    for child, grade, reasons in matches:
        own_authority = child.responsible_local_authority_id in own
        if child.is_shielded and not own_authority:
            candidates.append(
                PossibleDuplicate(
                    hidden=True, grade=grade, local_authority=child.responsible_local_authority, own_authority=False
                )
            )
            continue
        candidates.append(
            PossibleDuplicate(
                hidden=False,
                grade=grade,
                local_authority=child.responsible_local_authority,
                own_authority=own_authority,
                register_id=child.register_id,
                given_names=child.given_names,
                family_name=child.family_name,
                date_of_birth=child.date_of_birth,
                sex=child.get_sex_display(),
                reasons=reasons,
            )
        )
    return DuplicateCheck(
        candidates=candidates, register_ids=[child.register_id for child, _g, _r in matches], too_many=too_many
    )


def duplicate_check_perform(*, actor: User, proposed: ProposedChild, request: HttpRequest | None) -> DuplicateCheck:
    """Run the check and audit it (as a search with the purpose "duplicate_check": which
    fields were given and which register IDs came back, never the values typed)."""
    with transaction.atomic():
        check = possible_duplicates(user=actor, proposed=proposed)
        given = [name for name, value in proposed.__dict__.items() if value]
        audit_event_record(
            action=AuditEvent.Action.SEARCH,
            actor=actor,
            request=request,
            register_ids=check.register_ids,
            child_authority_codes=child_authority_codes(register_ids=check.register_ids),
            details={"purpose": "duplicate_check", "criteria_fields": sorted(given)},
            outcome=LookupOutcome.TOO_MANY
            if check.too_many
            else (LookupOutcome.RESULTS if check.register_ids else LookupOutcome.NO_RESULTS),
            channel="web",
        )
    return check


def duplicate_decision_record(
    *, actor: User, check: DuplicateCheck, register_id: str, request: HttpRequest | None
) -> None:
    """The manager says the child is one already on another authority's register: nothing
    is written but this decision, so that the authority can be asked for a transfer."""
    with transaction.atomic():
        audit_event_record(
            action=AuditEvent.Action.SEARCH,
            actor=actor,
            request=request,
            register_ids=[register_id],
            child_authority_codes=child_authority_codes(register_ids=[register_id]),
            details={
                "purpose": "duplicate_check",
                "decision": "same_child_other_authority",
                "register_ids_shown": check.register_ids,
            },
            outcome=LookupOutcome.RESULTS,
            channel="web",
        )
