"""Before a register manager adds a child: who already on the register may be the same
child. The register's matcher (registry.matching.selectors.candidates, purpose
DUPLICATE_CHECK) is run on the identity typed in; an unborn child, who has no date of birth
or NHS number yet, is compared by the mother's identity on other unborn plans
(registry.matching.selectors.unborn_candidates, the same rule as a birth registration's).

Another authority's child is never described, shielded or not: the manager learns only
that a record held by that authority may match and how to contact it (docs/search.md,
"Shielded results"), so the check cannot be used to look a child up by NHS number. The
check is itself a look at the national register, so it is audited like a search (the
values typed and the register IDs found) by registry.maintenance.services."""

import datetime
from dataclasses import asdict, dataclass, field

from django.utils.crypto import salted_hmac

from accounts.models import LocalAuthority, User
from registry.children.selectors import authorities_managed_by
from registry.matching.keys import name_normalise
from registry.matching.selectors import MotherIdentity, Purpose, SearchCriteria, candidates, unborn_candidates
from registry.models import Child

DIFFERENT_CHILD = "different"
SAME = "same:"
HELD_ELSEWHERE = "held-by:"


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
    """What the manager is shown of one possible match. For a hidden record (another
    authority's) only `hidden` and the authority to contact are filled."""

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
        """The value of "this is the same child" for this match: a hidden one is named by
        the authority holding it, never by its register ID."""
        return f"{HELD_ELSEWHERE}{self.local_authority.gss_code}" if self.hidden else f"{SAME}{self.register_id}"


@dataclass(frozen=True)
class DuplicateCheck:
    candidates: list[PossibleDuplicate]
    register_ids: list[str]  # every candidate's, hidden ones too: for the audit only
    too_many: bool
    # Hidden candidates' register IDs by the GSS code of the authority holding them: for the
    # audit of a "held by that authority" decision only, never for a page.
    held_elsewhere: dict[str, list[str]] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Ties a decision to the matches it was made on without putting a hidden record's
        register ID in the page: a new match since then means the manager is asked again."""
        return salted_hmac("registry.maintenance.duplicates", ",".join(sorted(self.register_ids))).hexdigest()

    def hidden_held_by(self, gss_code: str) -> PossibleDuplicate | None:
        return next((c for c in self.candidates if c.hidden and c.local_authority.gss_code == gss_code), None)


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
    candidates: list[PossibleDuplicate] = []
    held_elsewhere: dict[str, list[str]] = {}
    for child, grade, reasons in matches:
        authority = child.responsible_local_authority
        if authority.pk not in own:
            # One warning per authority: how many of its children match is not the manager's to know.
            if authority.gss_code not in held_elsewhere:
                candidates.append(
                    PossibleDuplicate(hidden=True, grade="", local_authority=authority, own_authority=False)
                )
            held_elsewhere.setdefault(authority.gss_code, []).append(child.register_id)
            continue
        candidates.append(
            PossibleDuplicate(
                hidden=False,
                grade=grade,
                local_authority=authority,
                own_authority=True,
                register_id=child.register_id,
                given_names=child.given_names,
                family_name=child.family_name,
                date_of_birth=child.date_of_birth,
                sex=child.get_sex_display(),
                reasons=reasons,
            )
        )
    return DuplicateCheck(
        candidates=candidates,
        register_ids=[child.register_id for child, _g, _r in matches],
        too_many=too_many,
        held_elsewhere=held_elsewhere,
    )
