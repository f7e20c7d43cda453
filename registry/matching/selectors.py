"""Practitioner search: find the child a practitioner is asking about, tolerating the ways
names and dates of birth get written down wrongly, and say how sure the match is.

How a search runs (a handful of indexed queries, then ranking in Python):

1. Candidates come only from indexed equality and IN lookups on stored keys, each date of
   birth paired with a name key: the NHS number; children born on the searched date, with
   its day and month swapped, or on one of the ~30 dates one digit away, whose family-name
   keys, initials or given-name key agree (registry.matching.keys.name_keys), not every
   child born that day (about 150 a day of a million, 1,700 of eleven million). Their
   other names (aliases, former names, previous surnames) come with them. That is one
   query, and a second loads the children shown.
2. Many candidates (found by their initials or given name) have a family name nothing like
   the one searched, and no given name, date or postcode can make up for that: they are set aside
   after one cheap comparison of family names, remembered for the search. The rest are
   compared field by field with the search. Every field's agreement
   adds or takes away evidence, roughly log2 of how much likelier that agreement is for
   the same child than for a different one (the Fellegi-Sunter idea); a child's own name,
   its names the wrong way round and each of its other names are tried, and the best kept.
3. The evidence gives a grade: exact, likely or possible. Below possible a candidate is
   dropped. More than `limit` children at possible or better means the search must be
   narrowed: nothing is shown, so the register can never be browsed.

The weights and grade thresholds are estimated from data (bench/fs_estimate.py writes
registry/matching/fs_params.json, registry.matching.weights reads it; docs/search.md,
"Weights from data"); bench/search_quality.py measures recall of the right child and how
often a different child is shown as exact or likely (a false signpost).

This is the register's one matcher. Everything that asks "which children may this be?"
comes here: practitioner search (registry.lookups), the duplicate check before a manager
adds a child (registry.maintenance.duplicates), a manager finding their own authority's
children (registry.lookups.services.manager_find_perform), an auditor finding a child
(registry.audit_reader, for audit.views) and GRO feed matching (feeds.ingestion). The public API:

- `SearchCriteria.from_values(values)`: criteria from whatever a way in has cleaned (a
  form's cleaned_data, a serializer's validated_data, an import row's identity, a feed
  row's details named as criteria): one constructor, so each way in is tidied alike.
- `candidates(criteria, purpose=...)`: the children the criteria may describe. What
  differs by purpose is decided here, in PURPOSE_POLICIES, and nowhere else: how many
  children may be listed before the answer is "too many" (limit), the weakest grade
  reported, and whose children are looked at. Other names (aliases, former names,
  previous surnames, names at birth) count for every purpose: a child's former surname is
  exactly how duplicates, feed registrations and practitioners' searches arrive.
- `unborn_candidates(mother)`: unborn children whose pre-birth plan names the same
  mother, for the duplicate check and for matching a birth registration (one rule for
  both; see mothers_agree).
"""

import datetime
import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connections, models, router
from django.db.models import QuerySet
from django.utils import timezone

from registry.identity import postcode_district
from registry.matching.keys import (
    DATE_OF_BIRTH_WINDOW_YEARS,
    DateOfBirthAgreement,
    FamilyNameAgreement,
    GivenNameAgreement,
    SurnameProfile,
    date_of_birth_difference,
    date_of_birth_variants,
    date_of_birth_window,
    date_of_birth_wrong_plausibly,
    family_name_compare,
    family_names_clearly_different,
    given_name_compare,
    name_initials,
    name_keys,
    name_normalise,
    surname_profile,
    surname_search_keys,
    surname_units,
)
from registry.matching.nicknames import given_name_variants, given_names_are_variants
from registry.matching.weights import (
    DATE_OF_BIRTH_LEVELS,
    FAMILY_LEVELS,
    GIVEN_LEVELS,
    match_weights,
    wrong_date_level,
)
from registry.models import Child, OtherName, ProtectionStatus, Sex


@dataclass(frozen=True)
class SearchCriteria:
    nhs_number: str = ""  # normalised 10 digits, checksum already validated, or ""
    family_name: str = ""
    given_names: str = ""
    date_of_birth: datetime.date | None = None
    sex: str = ""  # a registry.models.Sex value or "" (only female and male are compared)
    postcode: str = ""  # normalised ("SW1A 1AA") or ""
    # The practitioner's "the date of birth may be wrong": every date in the window of years
    # is compared for a child whose names agree, not only the ones a record gets wrong
    # (date_of_birth_wrong_plausibly). Opt-in, as CP-IS's "widen search": it shows namesakes.
    widen_date_of_birth: bool = False

    FIELDS = ("nhs_number", "family_name", "given_names", "date_of_birth", "sex", "postcode")

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> "SearchCriteria":
        """Criteria from any way in whose cleaned values are named as the criteria are: a
        form's cleaned_data, a serializer's validated_data, an import row's identity, or a
        feed row's details renamed by the feed. Other keys are ignored. The values must
        already have passed the input rules (a valid NHS number, a UK postcode, a real
        date): this only tidies them the same way for everyone: missing or None becomes
        empty, text is stripped, an NHS number loses its spaces."""
        text = {name: str(values.get(name) or "").strip() for name in cls.FIELDS if name != "date_of_birth"}
        date_of_birth = values.get("date_of_birth") or None
        if date_of_birth is not None and not isinstance(date_of_birth, datetime.date):
            raise TypeError(f"date_of_birth must be a date, not {type(date_of_birth).__name__}")
        return cls(
            # Already cleaned by registry.identity.nhs_number_clean on every way in; spaces dropped.
            nhs_number="".join(text["nhs_number"].split()),
            family_name=text["family_name"],
            given_names=text["given_names"],
            date_of_birth=date_of_birth,
            sex=text["sex"],
            postcode=text["postcode"],
            widen_date_of_birth=values.get("widen_date_of_birth") is True,
        )


class Purpose(enum.Enum):
    """Why the register is being matched against: decides the policy (PURPOSE_POLICIES)."""

    SEARCH = "search"  # a practitioner's search (registry.lookups)
    DUPLICATE_CHECK = "duplicate_check"  # before a manager adds a child (registry.maintenance)
    MANAGER_FIND = "manager_find"  # a manager finding their own authority's child
    AUDITOR_FIND = "auditor_find"  # an auditor finding a child whose history to read
    FEED = "feed"  # a GRO registration looking for its child (feeds.ingestion)


class Grade(models.TextChoices):
    EXACT = "exact", "Exact match"
    LIKELY = "likely", "Likely match"
    POSSIBLE = "possible", "Possible match"


@dataclass(frozen=True)
class SearchMatch:
    child: Child
    grade: Grade
    score: float  # 0..1, for ordering within a grade
    reasons: list[str]  # plain English, for the practitioner to check the match by; [] when withheld
    matched_other_name: bool = False  # found through an alias, former name or previous surname

    @property
    def withheld(self) -> bool:
        """A shielded child found through another name. Showing anything that identifies it
        (current name, register ID, "matched a former name", NHS number) would link the name
        a family knew to the name the child lives under now: the result says only that a
        shielded record may match and whom to contact (docs/search.md, "Shielded results")."""
        return self.child.is_shielded and self.matched_other_name


@dataclass(frozen=True)
class SearchOutcome:
    matches: list[SearchMatch]  # best first, at most `limit`; empty when too_many
    too_many: bool  # more than `limit` children at possible or better: narrow the search

    @property
    def shown(self) -> list[SearchMatch]:
        return [match for match in self.matches if not match.withheld]

    @property
    def withheld(self) -> list[SearchMatch]:
        return [match for match in self.matches if match.withheld]


def criteria_sufficient(criteria: SearchCriteria) -> str | None:
    """None if the criteria may be searched, else a plain-English message saying why not.
    An NHS number is enough on its own; otherwise a family name and a date of birth."""
    if criteria.nhs_number:
        return None
    has_family_name = bool(name_normalise(criteria.family_name))
    if has_family_name and criteria.date_of_birth:
        return None
    if has_family_name:
        return "Enter a date of birth as well as a family name, or search by NHS number"
    if criteria.date_of_birth:
        return "Enter a family name as well as a date of birth, or search by NHS number"
    return "Enter a family name and date of birth, or search by NHS number"


@dataclass(frozen=True)
class PurposePolicy:
    # More than this many children at possible or better (the weakest grade anything is
    # graded): too many, and nothing is listed, so that the register cannot be browsed.
    limit: int
    # The weakest grade listed. Counting for `limit` is done before this filter, so that
    # a purpose that lists fewer grades is not the easier one to browse with.
    weakest: Grade
    # Only the children given as `within` are looked at (for a manager, the caller passes
    # registry.children.selectors.children_managed_by(user), the one place that scope is
    # decided), before anything else: another authority's child is never listed, never
    # counted towards "too many" and never lowers a grade (see _downgrade_beside_exact).
    scoped: bool = False
    # Matches found despite a different family name or a wrong date of birth (the
    # second-chance blocks) are listed. Not for a feed: it acts on a likely match unaided.
    second_chances: bool = True


PURPOSE_POLICIES: dict[Purpose, PurposePolicy] = {
    # Ten are as many as a practitioner can check by eye; more means narrow the search.
    Purpose.SEARCH: PurposePolicy(limit=10, weakest=Grade.POSSIBLE),
    Purpose.AUDITOR_FIND: PurposePolicy(limit=10, weakest=Grade.POSSIBLE),
    # A manager about to add a child is shown weaker candidates too, so more of them.
    Purpose.DUPLICATE_CHECK: PurposePolicy(limit=20, weakest=Grade.POSSIBLE),
    # A manager may list all their own children anyway: a page of them (CHILDREN_PER_PAGE).
    Purpose.MANAGER_FIND: PurposePolicy(limit=25, weakest=Grade.POSSIBLE, scoped=True),
    # A registration is applied or put to review only on an exact or likely match. Three
    # candidates go to review (feeds.ingestion.REVIEW_CANDIDATES_LIMIT); three times that
    # leaves room for the ones the feed sets aside for carrying another NHS number.
    Purpose.FEED: PurposePolicy(limit=9, weakest=Grade.LIKELY, second_chances=False),
}

# A second-chance match (family name different, or date of birth wrong) is listed only
# beside no exact match and when at most this many reach possible: a common name within a
# five-year window (Oliver Smith, 2013-2017) would otherwise fill the list with strangers
# and, past the limit, hide the child searched for behind "too many".
SECOND_CHANCE_LIMIT = 3


def candidates(criteria: SearchCriteria, *, purpose: Purpose, within: "QuerySet[Child] | None" = None) -> SearchOutcome:
    """The children the criteria may describe, best first, each graded with reasons, as
    PURPOSE_POLICIES[purpose] decides. Raises ValueError if criteria_sufficient() refuses
    the criteria, or if the purpose looks only at some children and `within` does not
    say which. Shielded children are found like any other, but one found through another name
    is withheld (SearchMatch.withheld) and carries no reasons; children with no date of
    birth yet (unborn) can only be found by NHS number, which they do not have: see
    unborn_candidates."""
    return candidates_many([criteria], purpose=purpose, within=within)[0]


def candidates_many(
    many: list[SearchCriteria], *, purpose: Purpose, within: "QuerySet[Child] | None" = None
) -> list[SearchOutcome]:
    """`candidates` for each criteria, in the order given, with the children worth comparing
    read SEARCHES_PER_QUERY searches to a query (a feed chunk's registrations: a round trip
    for ten, not one each). Each outcome is the one `candidates` gives for those criteria alone."""
    policy = PURPOSE_POLICIES[purpose]
    if policy.scoped and within is None:
        raise ValueError(f"{purpose.name} looks only at some children: give them as within")
    for criteria in many:
        refusal = criteria_sufficient(criteria)
        if refusal:
            raise ValueError(refusal)
    searches = [_Search.from_criteria(criteria) for criteria in many]
    found = _candidates_many(searches)
    return [_outcome(search, rows, policy=policy, within=within) for search, rows in zip(searches, found, strict=True)]


def _outcome(
    search: "_Search", found: list["_Candidate"], *, policy: "PurposePolicy", within: "QuerySet[Child] | None"
) -> SearchOutcome:
    evaluations = search.evaluate(found)
    if policy.scoped:
        assert within is not None
        managed = set(
            within.filter(pk__in=[evaluation.child_id for evaluation in evaluations]).values_list("pk", flat=True)
        )
        evaluations = [evaluation for evaluation in evaluations if evaluation.child_id in managed]
    evaluations = _second_chances_trim(evaluations, allowed=policy.second_chances)
    _downgrade_beside_exact(evaluations)
    if len(evaluations) > policy.limit:
        return SearchOutcome(matches=[], too_many=True)
    weakest = _GRADE_RANK[policy.weakest]
    evaluations = [evaluation for evaluation in evaluations if _GRADE_RANK[evaluation.grade] <= weakest]
    evaluations.sort(key=lambda evaluation: (_GRADE_RANK[evaluation.grade], -evaluation.score, evaluation.child_id))
    children = Child.objects.select_related("responsible_local_authority").in_bulk(
        [evaluation.child_id for evaluation in evaluations]
    )
    matches = [
        SearchMatch(
            child=children[evaluation.child_id],
            grade=evaluation.grade,
            score=evaluation.score,
            # A withheld match's reasons would say which other name matched: never kept.
            reasons=[] if evaluation.matched_other_name and children[evaluation.child_id].is_shielded
            else evaluation.reasons,
            matched_other_name=evaluation.matched_other_name,
        )
        for evaluation in evaluations
        if evaluation.grade is not None and evaluation.child_id in children
    ]  # fmt: skip
    return SearchOutcome(matches=matches, too_many=False)


# --- Evidence weights --------------------------------------------------------------------
# log2(P(agreement | same child) / P(agreement | different child)) for each field's level,
# estimated from data by bench/fs_estimate.py into registry/matching/fs_params.json and
# read by registry.matching.weights (names adjusted for how common they are). The grade
# thresholds are in the file too, with the reasoning behind them (docs/search.md).

# Not evidence, tie-breakers: the child's own name, the right way round, is preferred to
# another name or to the names swapped when they agree as well.
NAMES_SWAPPED = -0.5
OTHER_NAME = -0.5
SCORE_SCALE = 30.0
# A likely match needs a given name that agrees: a family name and date of birth alone
# are shared by twins.
GIVEN_NAME_STRONG = frozenset(
    {
        GivenNameAgreement.EXACT,
        GivenNameAgreement.NICKNAME,
        GivenNameAgreement.MIDDLE,
        GivenNameAgreement.PHONETIC,
        GivenNameAgreement.SIMILAR,
    }
)
FAMILY_NAME_STRONG = frozenset(
    {
        FamilyNameAgreement.EXACT,
        FamilyNameAgreement.SPACING,
        FamilyNameAgreement.PHONETIC,
        FamilyNameAgreement.PART,
        FamilyNameAgreement.SIMILAR,
    }
)
_GIVEN_UNCOMPARED = (GivenNameAgreement.DIFFERENT, 0.0)
# Two loose agreements (Sophia Allen for Sofia Allen-Harding) make a possible match only:
# a likely one needs one name as written, or the same postcode.
FAMILY_AS_WRITTEN = frozenset({FamilyNameAgreement.EXACT, FamilyNameAgreement.SPACING})
_GRADE_RANK = {Grade.EXACT: 0, Grade.LIKELY: 1, Grade.POSSIBLE: 2, None: 3}

OTHER_NAME_REASONS: dict[str, str] = {
    OtherName.Kind.ALIAS: "matched a name the child is also known by",
    OtherName.Kind.FORMER_NAME: "matched a former name",
    OtherName.Kind.PREVIOUS_SURNAME: "matched a former surname",
    OtherName.Kind.BIRTH_NAME: "matched the name at birth",
}
_KNOWN_SEXES = frozenset({Sex.FEMALE, Sex.MALE})
# Children on the register are under 18, plus a retention period after their plans end.
_OLDEST_AGE_YEARS = 20


# --- The search itself -------------------------------------------------------------------


@dataclass(frozen=True)
class _Search:
    nhs_number: str
    family: str
    given: str
    date_of_birth: datetime.date | None
    dates: dict[datetime.date, DateOfBirthAgreement]
    sex: str
    postcode: str
    surname_keys: frozenset[str]
    family_keys: frozenset[str]  # of the family name searched only, for the wrong-date block
    initials: frozenset[str]
    given_phonetic: str
    # The given name's key and those of its short forms and other spellings (Bill, Liam for
    # William): the changed-surname block compares a nickname too.
    given_keys: frozenset[str]
    family_profile: SurnameProfile
    widen: bool
    given_as_family_profile: SurnameProfile  # for names entered the wrong way round
    # The family name and first given name searched are rare enough together that a child
    # with both, as written, is as likely as not the child whatever its date of birth
    # (names_alone_possible): only then does the names-alone block read anything.
    names_alone: bool = False
    # As typed, for reasons such as "Bill for William".
    given_display: str = ""
    family_display: str = ""
    # How each recorded family name compares with the one searched (swapped: with the
    # given name searched), worked out once per search: surnames recur among candidates.
    family_agreements: dict[tuple[str, bool], tuple[FamilyNameAgreement, float]] = field(
        default_factory=dict, compare=False, repr=False
    )
    # Whether each recorded family name is worth comparing (_family_worth_comparing): at
    # eleven million children a search reads ~1,000 rows, most sharing a few surnames.
    family_worth: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_criteria(cls, criteria: SearchCriteria) -> "_Search":
        family = name_normalise(criteria.family_name)
        given = name_normalise(criteria.given_names)
        dates: dict[datetime.date, DateOfBirthAgreement] = {}
        if criteria.date_of_birth:
            today = timezone.localdate()
            dates = date_of_birth_variants(
                criteria.date_of_birth,
                earliest=today.replace(year=today.year - _OLDEST_AGE_YEARS, month=1, day=1),
                latest=today,
            )
            dates[criteria.date_of_birth] = DateOfBirthAgreement.EXACT
        initials = {name_initials(given_normalised=given, family_normalised=family)} if given else set()
        if given:
            initials.add(name_initials(given_normalised=family, family_normalised=given))
        given_phonetic = name_keys(given_names=given, family_name="").given_name_phonetic
        first_given = given.split(" ", 1)[0]
        variants = given_name_variants(first_given)
        variant_keys = {name_keys(given_names=name, family_name="").given_name_phonetic for name in variants}
        weights = match_weights()
        names_alone = bool(first_given and family and criteria.date_of_birth) and (
            weights.family_exact(family) + weights.given_exact(first_given)
            >= _names_alone_minimum(criteria.date_of_birth)
        )
        return cls(
            # Cleaned already by every way in (registry.identity.nhs_number_clean).
            nhs_number=criteria.nhs_number,
            family=family,
            given=given,
            date_of_birth=criteria.date_of_birth,
            dates=dates,
            sex=criteria.sex,
            postcode=criteria.postcode.strip().upper(),
            surname_keys=frozenset(surname_search_keys(family, given)),
            family_keys=frozenset(surname_search_keys(family)),
            initials=frozenset(initials),
            given_phonetic=given_phonetic,
            given_keys=frozenset({given_phonetic, *variant_keys} - {""}),
            family_profile=surname_profile(family),
            widen=criteria.widen_date_of_birth,
            names_alone=names_alone,
            # The first name typed as given, particles joined ("de courcey"), not every
            # given name: "Noah Thomas" is not a double-barrelled surname.
            given_as_family_profile=surname_profile(next(iter(surname_units(given)), "")),
            given_display=_first_given_display(criteria.given_names),
            family_display=_first_given_display(criteria.family_name),
        )

    @property
    def whole_dates(self) -> list[datetime.date]:
        """The dates every child born on is compared: the one searched, and its day and
        month swapped."""
        wanted = (DateOfBirthAgreement.EXACT, DateOfBirthAgreement.SWAPPED)
        return [date for date, agreement in self.dates.items() if agreement in wanted]

    @property
    def window(self) -> tuple[datetime.date, datetime.date] | None:
        """The years of birth a wrong date of birth is looked for in (the wrong-date block)."""
        return date_of_birth_window(self.date_of_birth) if self.date_of_birth else None

    @property
    def wrong_dates(self) -> tuple[list[datetime.date], tuple[datetime.date, datetime.date] | None]:
        """What the wrong-date block reads: the dates date_of_birth_wrong_plausibly can accept
        in other years (the same day and month, the year off by one or two), and the range of
        dates it can accept in the year searched (only with a postcode searched, whose
        district must then agree). Widened, the whole window of years, as a range."""
        if not self.date_of_birth or not self.window:
            return [], None
        if self.widen:
            return [], self.window
        searched = self.date_of_birth
        other_years = [
            date
            for offset in range(-DATE_OF_BIRTH_WINDOW_YEARS, DATE_OF_BIRTH_WINDOW_YEARS + 1)
            if offset and (date := _date_in_year(searched, searched.year + offset)) is not None
        ]
        same_year = (searched.replace(month=1, day=1), searched.replace(month=12, day=31)) if self.postcode else None
        return other_years, same_year

    @property
    def postcode_district(self) -> str:
        return postcode_district(self.postcode) if self.postcode else ""

    def date_agreement(
        self, date_of_birth: datetime.date | None, *, postcode: str = "", is_shielded: bool = False
    ) -> DateOfBirthAgreement | None:
        """How a recorded date of birth agrees with the one searched: a slip or a swap, or
        WRONG when date_of_birth_wrong_plausibly says so (a shielded child's postcode never
        counts); None otherwise."""
        if date_of_birth is None:
            return None
        agreement = self.dates.get(date_of_birth)
        if agreement is None and self.date_of_birth:
            same_district = bool(
                self.postcode and postcode and not is_shielded and postcode_district(postcode) == self.postcode_district
            )
            if date_of_birth_wrong_plausibly(self.date_of_birth, date_of_birth, same_district=same_district):
                return DateOfBirthAgreement.WRONG
            if self.widen and self.window and self.window[0] <= date_of_birth <= self.window[1]:
                return DateOfBirthAgreement.WRONG
        return agreement

    @property
    def typo_dates(self) -> list[datetime.date]:
        """Dates one digit away: only children whose name keys agree are compared."""
        return [date for date, agreement in self.dates.items() if agreement == DateOfBirthAgreement.ONE_DIGIT]

    def evaluate(self, candidates: Iterable["_Candidate"]) -> list["_Evaluation"]:
        """The candidates graded possible or better (grade not None)."""
        evaluations = []
        for candidate in candidates:
            evaluation = self._evaluate(candidate)
            if evaluation.grade is not None:
                evaluations.append(evaluation)
        return evaluations

    def worth_comparing(
        self, *, nhs_number: str, date_of_birth: datetime.date | None, families: Iterable[str], postcode: str = "",
        is_shielded: bool = False, given: str = "",
    ) -> bool:  # fmt: skip
        """False only for a child _evaluate would not grade: born on none of the dates nor
        within the window of years, or with a family name different from the one searched
        (and, for names entered the wrong way round, from the given name searched) in each
        of its names (`families`), unless it may be a change of surname
        (_changed_surname_possible, on its own given name `given`). So most of the children
        found by their initials or given name cost one comparison of family names, and a
        surname shared by several costs one in all."""
        if self.nhs_number and nhs_number == self.nhs_number:
            return True
        if self.same_address(postcode, is_shielded=is_shielded):
            return True
        date_agreement = self.date_agreement(date_of_birth, postcode=postcode, is_shielded=is_shielded)
        if date_agreement is None and families:
            return self.names_alone_possible(family=next(iter(families)), given=given, date_of_birth=date_of_birth)
        if not self.family or date_agreement is None:
            return False
        for family in families:
            if self._family_worth_comparing(family):
                return True
        return self._changed_surname_possible(date_agreement, given=given, postcode=postcode, is_shielded=is_shielded)

    def same_address(self, postcode: str, *, is_shielded: bool) -> bool:
        """The same-address block: a child recorded at the full postcode searched. Never a
        shielded child, whose postcode must not influence a result."""
        return bool(self.postcode and postcode == self.postcode and not is_shielded)

    def names_alone_possible(self, *, family: str, given: str, date_of_birth: datetime.date | None) -> bool:
        """The names-alone block: a child born on a date no other block accepts (a date of
        birth replaced altogether, decades out), whose own family name and first given name
        are the ones searched as written, when those names are rare enough together to make
        it as likely as not the child (fs_params.json's name frequencies; `names_alone`)."""
        return bool(
            self.names_alone
            and date_of_birth is not None
            and family == self.family
            and given
            and given.split(" ", 1)[0] == self.given.split(" ", 1)[0]
        )

    def _family_worth_comparing(self, family: str) -> bool:
        """A recorded family name not clearly different from the family name searched or,
        for names entered the wrong way round, from the given name searched; once per name."""
        worth = self.family_worth.get(family)
        if worth is None:
            different = FamilyNameAgreement.DIFFERENT
            worth = self._family_agreement(family, swapped=False)[0] != different or (
                bool(self.given) and self._family_agreement(family, swapped=True)[0] != different
            )
            self.family_worth[family] = worth
        return worth

    def _changed_surname_possible(
        self, date_agreement: DateOfBirthAgreement, *, given: str, postcode: str, is_shielded: bool
    ) -> bool:
        """The changed-surname block: born on the date searched, its own first given name
        the one searched (or a short form, or the same sound), and the evidence able to
        reach possible with a different family name: that depends on how rare the given
        name is (Kayden, not Oliver) and on the postcode. Never a shielded child: finding
        it under a surname it no longer uses would tell the searcher the name it lives
        under now (and its postcode must not influence a result)."""
        if date_agreement != DateOfBirthAgreement.EXACT or not self.given or not given or is_shielded:
            return False
        weights = match_weights()
        rest = (
            weights.weight("family_name", "different")
            + weights.weight("date_of_birth", "exact")
            + self._postcode_weight(postcode, is_shielded=is_shielded, family_agrees=False)[0]
        )
        # Cheapest first: this runs for every child born on the date searched whose family
        # name differs (about 150 a day at a million children).
        searched_first, recorded_first = self.given.split(" ", 1)[0], given.split(" ", 1)[0]
        if searched_first == recorded_first:
            return rest + weights.given_exact(recorded_first) >= weights.name_differs_minimum
        if rest + weights.weight("given_name", "variant") < weights.name_differs_minimum:
            return False
        return given_names_are_variants(searched_first, recorded_first) or (
            given_name_compare(self.given, given)[0] == GivenNameAgreement.PHONETIC
        )

    def _postcode_weight(self, postcode: str, *, is_shielded: bool, family_agrees: bool) -> tuple[float, str]:
        """The postcode's evidence and how it compared ("" when not compared). A shielded
        child's postcode is never compared. Children who share a family name and a postcode
        are often siblings, so the same postcode counts for less beside a family name that
        agrees (postcode_with_family, estimated on children sharing a surname)."""
        if not self.postcode or not postcode or is_shielded:
            return 0.0, ""
        if postcode == self.postcode:
            level = "same"
        elif postcode_district(postcode) == self.postcode_district:
            level = "district"
        else:
            level = "different"
        comparison = "postcode_with_family" if family_agrees else "postcode"
        return match_weights().weight(comparison, level), level

    def _family_agreement(self, recorded: str, *, swapped: bool) -> tuple[FamilyNameAgreement, float]:
        """family_name_compare of the family name searched (or, swapped, of the first given
        name searched) with a recorded one. Clearly different names skip the full comparison;
        their similarity is given as 0.0, which nothing reads for a different name."""
        key = (recorded, swapped)
        agreement = self.family_agreements.get(key)
        if agreement is None:
            searched = self.given_as_family_profile if swapped else self.family_profile
            recorded_profile = surname_profile(recorded)
            if family_names_clearly_different(searched, recorded_profile):
                agreement = (FamilyNameAgreement.DIFFERENT, 0.0)
            else:
                agreement = family_name_compare(searched, recorded_profile)
            self.family_agreements[key] = agreement
        return agreement

    def _evaluate(self, candidate: "_Candidate") -> "_Evaluation":
        date_agreement = self.date_agreement(
            candidate.date_of_birth, postcode=candidate.postcode, is_shielded=candidate.is_shielded
        )
        if self.nhs_number and candidate.nhs_number == self.nhs_number:
            return _Evaluation(
                candidate.child_id, Grade.EXACT, 1.0, self._nhs_number_reasons(candidate, date_agreement)
            )
        own = candidate.names[0]
        at_address = self.same_address(candidate.postcode, is_shielded=candidate.is_shielded)
        address_only = False
        if date_agreement is None:
            if self.names_alone_possible(family=own.family, given=own.given, date_of_birth=candidate.date_of_birth):
                date_agreement = DateOfBirthAgreement.DIFFERENT
            elif at_address:
                # Found only at the address searched: graded by _same_address_grade alone.
                date_agreement, address_only = DateOfBirthAgreement.DIFFERENT, True
        if date_agreement is None or not self.family:
            return _Evaluation(candidate.child_id, None, 0.0, [])
        # Found on its names alone, a child is compared on its own name only.
        best = (
            self._name_evidence(own) if date_agreement == DateOfBirthAgreement.DIFFERENT else self._best_name(candidate)
        )
        changed_surname = False
        if best.family == FamilyNameAgreement.DIFFERENT and self._changed_surname_possible(
            date_agreement, given=own.given, postcode=candidate.postcode, is_shielded=candidate.is_shielded,
        ):  # fmt: skip
            best = self._changed_surname_evidence(candidate)
            changed_surname = True
        weight, facts = self._weigh(candidate, best, date_agreement)
        facts.changed_surname = changed_surname
        grade = None if address_only else _grade(weight=weight, facts=facts)
        second_chance = changed_surname or date_agreement in _DATES_SECOND_CHANCE
        if grade is None and not address_only and _given_differs_beside_family_and_date(facts, weight=weight):
            # The same family name as written and the same date of birth, another given
            # name: the child known by another name, or a twin or a sibling. Possible, for
            # the practitioner to check, as a second chance (never beside an exact match).
            grade, second_chance, facts.given_differs_check = Grade.POSSIBLE, True, True
        if grade is None and at_address:
            # At the full postcode searched: the names compared in full, even beside a
            # different family name, and shown only at even odds or better.
            if best.family == FamilyNameAgreement.DIFFERENT and not changed_surname:
                best = self._changed_surname_evidence(candidate)
                weight, facts = self._weigh(candidate, best, date_agreement)
            grade = _same_address_grade(facts, weight=weight)
            if grade is not None:
                second_chance, facts.same_address = True, True
        score = round(max(0.0, min(weight, SCORE_SCALE)) / SCORE_SCALE, 3)
        return _Evaluation(
            candidate.child_id,
            grade,
            score,
            _reasons(facts, grade) if grade else [],
            bool(best.name.kind),
            second_chance=second_chance,
        )

    def _weigh(
        self, candidate: "_Candidate", best: "_NameEvidence", date_agreement: DateOfBirthAgreement
    ) -> tuple[float, "_Facts"]:
        """The weight of the evidence for a candidate compared on the name `best`, and the
        facts its grade and reasons rest on."""
        weights = match_weights()
        weight = best.weight + weights.weight(
            "date_of_birth", self._date_level(date_agreement, candidate.date_of_birth)
        )
        facts = _Facts(name=best, date_of_birth=date_agreement, dates=(self.date_of_birth, candidate.date_of_birth))
        if self.nhs_number and candidate.nhs_number:
            weight += weights.weight("nhs_number", "differ")
            facts.nhs_number_differs = True
        if self.sex in _KNOWN_SEXES and candidate.sex in _KNOWN_SEXES:
            facts.sex_differs = self.sex != candidate.sex
            facts.sex_agrees = not facts.sex_differs
            # Given names are mostly given by sex: beside a given name that agrees, the same sex
            # is no further evidence (counting both would count one coincidence twice).
            if facts.sex_differs or best.given not in GIVEN_CARRIES_SEX:
                weight += weights.weight("sex", "differ" if facts.sex_differs else "agree")
        # A shielded child's postcode must not influence (and so reveal anything through)
        # the result.
        postcode_weight, facts.postcode = self._postcode_weight(
            candidate.postcode, is_shielded=candidate.is_shielded, family_agrees=best.family in FAMILY_NAME_STRONG
        )
        return weight + postcode_weight, facts

    def _date_level(self, agreement: DateOfBirthAgreement, recorded: datetime.date | None) -> str:
        if agreement == DateOfBirthAgreement.DIFFERENT:
            return "different"  # not in the parameters file: no evidence either way (0)
        if agreement != DateOfBirthAgreement.WRONG:
            return DATE_OF_BIRTH_LEVELS[agreement]
        assert self.date_of_birth is not None
        assert recorded is not None
        return wrong_date_level(
            same_day_and_month=(self.date_of_birth.month, self.date_of_birth.day) == (recorded.month, recorded.day),
            same_year=self.date_of_birth.year == recorded.year,
        )

    def _changed_surname_evidence(self, candidate: "_Candidate") -> "_NameEvidence":
        # Only the child's own current name: its given name is the one a new surname keeps.
        own = candidate.names[0]
        return _NameEvidence.of(
            family=(FamilyNameAgreement.DIFFERENT, 0.0),
            given=given_name_compare(self.given, own.given),
            name=own,
            searched_given=self.given_display,
        )

    def _nhs_number_reasons(self, candidate: "_Candidate", date_agreement: DateOfBirthAgreement | None) -> list[str]:
        # The number decides; anything else entered that disagrees is worth a second look.
        reasons = ["NHS number matches"]
        if self.family and self._best_name(candidate).family == FamilyNameAgreement.DIFFERENT:
            reasons.append("surname is different")
        if self.date_of_birth and date_agreement is None:
            reasons.append("date of birth is different")
        return reasons

    def _best_name(self, candidate: "_Candidate") -> "_NameEvidence":
        if len(candidate.names) == 1:
            return self._name_evidence(candidate.names[0])
        return max((self._name_evidence(name) for name in candidate.names), key=lambda evidence: evidence.weight)

    def _name_evidence(self, name: "_Name") -> "_NameEvidence":
        # A different family name is made up for only by the changed-surname block, so
        # most of the children born that day are set aside without comparing given names.
        family = self._family_agreement(name.family, swapped=False)
        evidence = _NameEvidence.of(
            family=family,
            given=_GIVEN_UNCOMPARED
            if family[0] == FamilyNameAgreement.DIFFERENT
            else given_name_compare(self.given, name.given),
            name=name,
            searched_given=self.given_display,
        )
        if self.given and family[0] <= FamilyNameAgreement.WEAK:
            # Names entered the wrong way round: only worth trying when the family name
            # did not already agree.
            swapped_family = self._family_agreement(name.family, swapped=True)
            if swapped_family[0] != FamilyNameAgreement.DIFFERENT:
                swapped = _NameEvidence.of(
                    family=swapped_family,
                    given=given_name_compare(self.family, name.given),
                    name=name,
                    swapped=True,
                    searched_given=self.family_display,
                )
                if swapped.weight > evidence.weight:
                    evidence = swapped
        return evidence


class _Name(NamedTuple):
    given: str
    family: str
    kind: str = ""  # "" for the child's own name, else an OtherName.Kind
    given_as_written: str = ""

    @property
    def given_display(self) -> str:
        return _first_given_display(self.given_as_written)


@dataclass(slots=True)
class _Candidate:
    child_id: int
    nhs_number: str
    date_of_birth: datetime.date | None
    sex: str
    postcode: str
    is_shielded: bool
    names: list[_Name] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: tuple[Any, ...], others: list[list[str]]) -> "_Candidate":
        """From a row of _candidates' query (the child's fields) and its other names, as
        _other_names reads them."""
        child_id, nhs_number, given_names, given, family, date_of_birth, sex, postcode, is_shielded, _ = row
        candidate = cls(
            child_id=child_id,
            nhs_number=nhs_number or "",
            date_of_birth=date_of_birth,
            sex=sex,
            postcode=postcode or "",
            is_shielded=bool(is_shielded),
            names=[_Name(given=given, family=family, given_as_written=given_names)],
        )
        for kind, other_given_names, other_given, other_family in others:
            candidate.other_name_add(kind=kind, given_names=other_given_names, given=other_given, family=other_family)
        return candidate

    def other_name_add(self, *, kind: str, given_names: str, given: str, family: str) -> None:
        own = self.names[0]
        # A former surname alone keeps the child's given names, and an alias given name
        # alone keeps the family name.
        name = _Name(
            given=given or own.given,
            family=family or own.family,
            kind=kind,
            given_as_written=given_names or own.given_as_written,
        )
        if name not in self.names:
            self.names.append(name)


@dataclass(frozen=True)
class _NameEvidence:
    family: FamilyNameAgreement
    given: GivenNameAgreement
    weight: float
    name: _Name
    swapped: bool = False
    searched_given: str = ""

    @classmethod
    def of(
        cls,
        *,
        family: tuple[FamilyNameAgreement, float],
        given: tuple[GivenNameAgreement, float],
        name: _Name,
        swapped: bool = False,
        searched_given: str = "",
    ) -> "_NameEvidence":
        weights = match_weights()
        family_level = FAMILY_LEVELS[family[0]]
        # The same name as written counts for more the rarer it is (the recorded name's
        # share of children, from the parameters file).
        if family_level == "exact":
            weight = weights.family_exact(name.family)
        else:
            weight = weights.weight("family_name", family_level)
        given_level = GIVEN_LEVELS[given[0]]
        if given_level == "exact":
            weight += weights.given_exact(name.given.split(" ", 1)[0])
        else:
            weight += weights.weight("given_name", given_level)
        if swapped:
            weight += NAMES_SWAPPED
        if name.kind:
            weight += OTHER_NAME
        return cls(
            family=family[0], given=given[0], weight=weight, name=name, swapped=swapped, searched_given=searched_given
        )


@dataclass
class _Facts:
    name: _NameEvidence
    date_of_birth: DateOfBirthAgreement
    nhs_number_differs: bool = False
    sex_differs: bool = False
    sex_agrees: bool = False
    postcode: str = ""  # "same", "district", "different" or "" (not compared)
    # Found by the changed-surname block: family name different, given name, date of birth
    # and postcode district agreeing.
    changed_surname: bool = False
    # Shown although the given name is different: family name as written and the exact date
    # of birth (_given_differs_beside_family_and_date).
    given_differs_check: bool = False
    # Found at the full postcode searched (_same_address_grade) despite a name or the date
    # of birth different.
    same_address: bool = False
    dates: tuple[datetime.date | None, datetime.date | None] = (None, None)  # searched, recorded

    @property
    def contradicted(self) -> bool:
        """Something recorded says it is another child: a different NHS number or sex."""
        return self.nhs_number_differs or self.sex_differs


@dataclass
class _Evaluation:
    child_id: int
    grade: Grade | None
    score: float
    reasons: list[str]
    matched_other_name: bool = False
    second_chance: bool = False  # found despite a different family name or a wrong date of birth


# A date one digit (or one misread digit) away is likely only beside the same postcode: the
# weights take names and dates as independent, but a namesake (the same full name, born
# another day) is not a random stranger, and one born a slip of a key away from the child
# searched for was shown as likely in 7 of 1,666 such searches of the synthetic set.
DATE_OF_BIRTH_FOR_LIKELY = frozenset({DateOfBirthAgreement.EXACT, DateOfBirthAgreement.SWAPPED})
GIVEN_CARRIES_SEX = frozenset({GivenNameAgreement.EXACT, GivenNameAgreement.NICKNAME, GivenNameAgreement.PHONETIC})
# Dates of birth only the second-chance blocks accept.
_DATES_SECOND_CHANCE = frozenset({DateOfBirthAgreement.WRONG, DateOfBirthAgreement.DIFFERENT})
# What a second-chance match needs of the names that do agree.
GIVEN_NAME_FOR_CHANGED_SURNAME = frozenset(
    {GivenNameAgreement.EXACT, GivenNameAgreement.NICKNAME, GivenNameAgreement.PHONETIC}
)


def _grade(*, weight: float, facts: _Facts) -> Grade | None:
    name = facts.name
    contradicted = facts.contradicted
    if facts.changed_surname or facts.date_of_birth in _DATES_SECOND_CHANCE:
        return _second_chance_grade(facts, weight=weight)
    if (
        not contradicted
        and not name.swapped
        and not name.name.kind
        and name.family == FamilyNameAgreement.EXACT
        and name.given == GivenNameAgreement.EXACT
        and facts.date_of_birth == DateOfBirthAgreement.EXACT
    ):
        return Grade.EXACT
    if (
        weight >= match_weights().likely_minimum
        and not contradicted
        and name.given in GIVEN_NAME_STRONG
        and name.family in FAMILY_NAME_STRONG
        and (name.family in FAMILY_AS_WRITTEN or name.given == GivenNameAgreement.EXACT or facts.postcode == "same")
        and (facts.date_of_birth in DATE_OF_BIRTH_FOR_LIKELY or facts.postcode == "same")
    ):
        return Grade.LIKELY
    weights = match_weights()
    if name.given == GivenNameAgreement.DIFFERENT and (
        weight < weights.name_differs_minimum or _family_and_date_as_searched(facts)
    ):
        # Shown with a different given name only when at least as likely as not the child:
        # a surname and a date of birth are otherwise shared by strangers (and twins). With
        # the family name as written and the exact date, it is as often a twin or a sibling
        # as the child under another given name: decided as a second chance
        # (_given_differs_beside_family_and_date), never listed beside an exact match.
        return None
    if weight >= weights.possible_minimum:
        return Grade.POSSIBLE
    return None


def _second_chance_grade(facts: _Facts, *, weight: float) -> Grade | None:
    """A child found despite a different family name or a wrong date of birth: possible,
    for the practitioner to check the difference the reasons name, or nothing. Likely only
    when the evidence is strong: every other name as written, the same full postcode and
    the same recorded sex, and nothing contradicting. A changed surname needs the weight
    of the evidence to make it at least as likely as not the child (likely: likely's
    weight): with a common given name and no postcode, one of the ~150 children born that
    day at a million may well share it."""
    name = facts.name
    if facts.contradicted or name.swapped:
        return None
    strong_elsewhere = facts.postcode == "same" and facts.sex_agrees and name.given == GivenNameAgreement.EXACT
    if facts.changed_surname:
        weights = match_weights()
        if name.given not in GIVEN_NAME_FOR_CHANGED_SURNAME or name.name.kind or weight < weights.name_differs_minimum:
            return None
        return Grade.LIKELY if strong_elsewhere and weight >= weights.likely_minimum else Grade.POSSIBLE
    if facts.date_of_birth == DateOfBirthAgreement.DIFFERENT:
        # Found on its names alone: at best possible, whatever else agrees.
        as_written = name.family in FAMILY_AS_WRITTEN and name.given == GivenNameAgreement.EXACT
        return Grade.POSSIBLE if as_written and not name.name.kind else None
    if name.family not in FAMILY_NAME_STRONG or name.given not in GIVEN_NAME_STRONG:
        return None
    if strong_elsewhere and name.family in FAMILY_AS_WRITTEN and not name.name.kind:
        return Grade.LIKELY
    return Grade.POSSIBLE


def _names_alone_minimum(date_of_birth: datetime.date | None) -> float:
    """The weight the family and given names alone need for the names-alone block. A date
    of birth no child on the register can have (before the oldest's year of birth) is
    certainly wrong, and the names are all there is: as likely as not the child
    (name_differs_minimum). A date a child could have may be right, and belong to another
    child of the same name born elsewhere in the register's years: the names alone must
    give odds of 10 to 1 (likely_minimum)."""
    weights = match_weights()
    today = timezone.localdate()
    if date_of_birth is not None and date_of_birth < today.replace(year=today.year - _OLDEST_AGE_YEARS, month=1, day=1):
        return weights.name_differs_minimum
    return weights.likely_minimum


# A match whose name differs (a changed surname, another given name beside the family name
# and the exact date) needs even odds (name_differs_minimum), not possible's 1 to 20. Why:
# among a million children, possible's bar for these two rules found 2 to 4 more children in
# a hundred in the FEBRL corpora but showed a stranger to 5 to 10 more in a hundred searches
# for people not on the register (docs/search.md, "The second round of second chances"), and
# the children who share a given name or a surname and a date of birth grow with the
# register, eleven times over at national scale. Minimum disclosure comes first.


def _given_differs_beside_family_and_date(facts: _Facts, *, weight: float) -> bool:
    """A child whose given name is different (one loosely alike is graded as usual) but
    whose family name, as written, and exact date of birth are the ones searched, with
    nothing contradicting and the evidence at even odds (name_differs_minimum, as for any
    match whose name differs: see the comment above for why not possible's 1 to 20):
    shown as possible so that the practitioner can check (a child known by another given
    name), never likely: a twin or a sibling shares both. The names typed the wrong way
    round count (the family name typed as the given name, the given name replaced)."""
    return (
        weight >= match_weights().name_differs_minimum
        and facts.name.given == GivenNameAgreement.DIFFERENT
        and _family_and_date_as_searched(facts)
        and not facts.contradicted
        and not facts.name.name.kind
    )


def _same_address_grade(facts: _Facts, *, weight: float) -> Grade | None:
    """A child recorded at the full postcode searched whom no other rule shows: a surname
    changed or a given name replaced (a care placement, a step-parent's name), or the date
    of birth written down wrongly altogether, where the address is the evidence that is
    left. Possible, for the practitioner to check, as a second chance, and only at even odds
    (name_differs_minimum, as for any match whose name differs); with the date of birth
    different altogether, odds of 10 to 1 (likely_minimum, as for the names-alone block):
    a date no other block accepts says nothing for the child, and siblings share an
    address. Never with anything contradicting, nor on another name the child was known by."""
    if facts.contradicted or facts.name.name.kind:
        return None
    weights = match_weights()
    different_date = facts.date_of_birth == DateOfBirthAgreement.DIFFERENT
    minimum = weights.likely_minimum if different_date else weights.name_differs_minimum
    return Grade.POSSIBLE if weight >= minimum else None


def _family_and_date_as_searched(facts: _Facts) -> bool:
    return facts.name.family in FAMILY_AS_WRITTEN and facts.date_of_birth == DateOfBirthAgreement.EXACT


def _second_chances_trim(evaluations: list[_Evaluation], *, allowed: bool) -> list[_Evaluation]:
    """Second-chance matches are kept only where they can help: the purpose lists them,
    nothing matched exactly, and at most SECOND_CHANCE_LIMIT of them reached possible."""
    second = [evaluation for evaluation in evaluations if evaluation.second_chance]
    if not second:
        return evaluations
    exact = any(evaluation.grade == Grade.EXACT for evaluation in evaluations)
    if allowed and not exact and len(second) <= SECOND_CHANCE_LIMIT:
        return evaluations
    return [evaluation for evaluation in evaluations if not evaluation.second_chance]


def _downgrade_beside_exact(evaluations: list[_Evaluation]) -> None:
    """Once one child matches exactly, another is at best possibly the child searched for."""
    if any(evaluation.grade == Grade.EXACT for evaluation in evaluations):
        for evaluation in evaluations:
            if evaluation.grade == Grade.LIKELY:
                evaluation.grade = Grade.POSSIBLE


# --- Reasons -----------------------------------------------------------------------------

_FAMILY_REASONS = {
    FamilyNameAgreement.SPACING: "surname spaced or punctuated differently",
    FamilyNameAgreement.PART: "surname matches one part of a double-barrelled surname",
    FamilyNameAgreement.PHONETIC: "surname spelt differently but sounds the same",
    FamilyNameAgreement.SIMILAR: "surname spelt differently",
    FamilyNameAgreement.WEAK: "surname only partly similar",
    FamilyNameAgreement.DIFFERENT: "surname is different",
}
# Shown despite a different given name (an uncommon surname and the exact date of birth):
# a child may go by a middle name, a name from another language or a new name.
GIVEN_DIFFERENT_REASON = "given name different: check whether the child is known by another given name"
# The same, found only because the family name and date of birth are the ones searched.
TWIN_OR_SIBLING_REASON = (
    "given name different: check whether the child is known by another given name, "
    "or is a twin or sibling of the child searched for"
)
UNCOMMON_FAMILY_NAME_REASON = "family name is uncommon: it counts for more"
UNCOMMON_GIVEN_NAME_REASON = "given name is uncommon: it counts for more"
_GIVEN_REASONS = {
    GivenNameAgreement.MIDDLE: "matched a middle name",
    GivenNameAgreement.PHONETIC: "given name spelt differently but sounds the same",
    GivenNameAgreement.SIMILAR: "given name spelt differently",
    GivenNameAgreement.INITIAL: "only the initial of the given name matches",
    GivenNameAgreement.WEAK: "given name only partly similar",
    GivenNameAgreement.DIFFERENT: GIVEN_DIFFERENT_REASON,
}
CHANGED_SURNAME_REASON = "family name different: check for a change of name"
_DATE_REASONS = {
    DateOfBirthAgreement.SWAPPED: "day and month of birth swapped",
    DateOfBirthAgreement.ONE_DIGIT: "one digit of the date of birth differs",
}


def _reasons(facts: _Facts, grade: Grade) -> list[str]:
    """Differences first (what the practitioner must check), then what agrees."""
    name = facts.name
    if grade == Grade.EXACT:
        reasons = ["name and date of birth match"]
    else:
        reasons = []
        agreeing: list[str] = []
        if name.name.kind:
            reasons.append(OTHER_NAME_REASONS.get(name.name.kind, "matched another name"))
        if name.swapped:
            reasons.append("given and family names swapped")
        if name.family == FamilyNameAgreement.EXACT:
            agreeing.append("surname")
        elif facts.changed_surname or (facts.same_address and name.family == FamilyNameAgreement.DIFFERENT):
            reasons.append(CHANGED_SURNAME_REASON)
        else:
            reasons.append(_FAMILY_REASONS[name.family])
        if name.given == GivenNameAgreement.EXACT:
            agreeing.append("given name")
        elif name.given == GivenNameAgreement.NICKNAME:
            reasons.append(_nickname_reason(facts))
        elif name.given == GivenNameAgreement.MISSING:
            reasons.append("no given name to compare")
        elif facts.given_differs_check:
            reasons.append(TWIN_OR_SIBLING_REASON)
        else:
            reasons.append(_GIVEN_REASONS[name.given])
        searched_date, recorded_date = facts.dates
        if facts.date_of_birth == DateOfBirthAgreement.EXACT:
            agreeing.append("date of birth")
        elif facts.date_of_birth in _DATES_SECOND_CHANCE and searched_date and recorded_date:
            reasons.append(date_of_birth_difference(searched_date, recorded_date))
        else:
            reasons.append(_DATE_REASONS[facts.date_of_birth])
        if agreeing:
            verb = "matches" if len(agreeing) == 1 else "match"
            reasons.append(f"{_join(agreeing)} {verb}")
        # Why a name agreeing counted for so much (issue 13 item 3: name frequency).
        weights = match_weights()
        if name.family == FamilyNameAgreement.EXACT and weights.uncommon("family_name", name.name.family):
            reasons.append(UNCOMMON_FAMILY_NAME_REASON)
        if name.given == GivenNameAgreement.EXACT and weights.uncommon("given_name", name.name.given.split(" ", 1)[0]):
            reasons.append(UNCOMMON_GIVEN_NAME_REASON)
    if facts.nhs_number_differs:
        reasons.append("NHS number is different")
    if facts.sex_differs:
        reasons.append("sex recorded differently")
    if facts.postcode == "same" and grade != Grade.EXACT:
        reasons.append("postcode matches")
    elif facts.postcode == "district":
        reasons.append("postcode in the same district but different")
    elif facts.postcode == "different":
        reasons.append("different postcode")
    return reasons


def _nickname_reason(facts: _Facts) -> str:
    searched, recorded = facts.name.searched_given, facts.name.name.given_display
    if not searched or not recorded:
        return "given name is a short form or another spelling of the same name"
    shorter, longer = sorted((searched, recorded), key=len)
    if len(shorter) <= 0.75 * len(longer):
        return f"given name is a short form ({shorter} for {longer})"
    return f"given name is another spelling of the same name ({searched} for {recorded})"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# --- Candidates: indexed lookups only ----------------------------------------------------


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return f'"{field.column}"'


_CHILD_TABLE = f'"{Child._meta.db_table}"'
_OTHER_NAME_TABLE = f'"{OtherName._meta.db_table}"'
# Read in this order by _Candidate.from_row, then the child's other names.
_CHILD_COLUMNS = ", ".join(
    f"c.{_column(Child, name)}"
    for name in (
        "id",
        "nhs_number",
        "given_names",
        "given_names_normalised",
        "family_name_normalised",
        "date_of_birth",
        "sex",
        "postcode",
        "is_shielded",
    )
)
_OTHER_NAME_VALUES = ", ".join(
    f"o.{_column(OtherName, name)}"
    for name in ("kind", "given_names", "given_names_normalised", "family_name_normalised")
)
_OTHER_NAME_OF_CHILD = f"{_OTHER_NAME_TABLE} o WHERE o.{_column(OtherName, 'child')} = c.{_column(Child, 'id')}"
# A child's other names as one JSON array of arrays, by a correlated subquery that reads
# the other-name table's foreign-key index once per candidate (a few hundred index probes).
# The SQL here is put together from model metadata only; every value is a parameter.
_OTHER_NAME_AS_JSON = f"json_build_array({_OTHER_NAME_VALUES}) ORDER BY o.{_column(OtherName, 'id')}"
_OTHER_NAMES_SQL = {
    "postgresql": f"(SELECT json_agg({_OTHER_NAME_AS_JSON}) FROM {_OTHER_NAME_OF_CHILD})",  # noqa: S608
    "sqlite": f"(SELECT json_group_array(json_array({_OTHER_NAME_VALUES})) FROM {_OTHER_NAME_OF_CHILD})",  # noqa: S608
}


class _Conditions:
    """The OR'd conditions of the candidate query, with their parameters. On PostgreSQL a
    list is one array parameter (`= ANY(%s)`): a short statement, quick to send, parse and
    plan, whatever the number of dates; elsewhere an IN list of parameters."""

    def __init__(self, vendor: str) -> None:
        self.arrays = vendor == "postgresql"
        self.sql: list[str] = []
        self.params: list[Any] = []

    def add(self, **columns: Any) -> None:
        """One condition: every column (of Child, by field name) equal to its value, or to
        one of its values when given a list, or between the two given as a tuple."""
        self.sql.append(f"({self._where('c', columns)})")

    def add_other_names(
        self, *, date_of_birth: list[datetime.date], family_keys: list[str], initials: list[str], given_keys: list[str]
    ) -> None:
        """Children born on one of the dates with an other name that shares a key with the
        name searched: each key with the dates on the other names' (key, child's date of
        birth) indexes (OtherName.child_date_of_birth), as the child's own name is looked up,
        so only the names that share a key are read, not every child born that day; on
        PostgreSQL the ids found are one array (`= ANY(ARRAY(...))`), so the primary key
        joins the other conditions' bitmap instead of filtering every row."""
        keys = [
            (_column(OtherName, name), values)
            for name, values in (
                ("family_name_first_phonetic", family_keys),
                ("family_name_last_phonetic", family_keys),
                ("name_initials", initials),
                ("given_name_phonetic", given_keys),
            )
            if values
        ]
        if not keys:
            return
        # One SELECT per key, so that each reads its own (key, date) index whatever the
        # planner guesses of a small table.
        select = f"SELECT o.{_column(OtherName, 'child')} FROM {_OTHER_NAME_TABLE} o WHERE"  # noqa: S608
        born = f"o.{_column(OtherName, 'child_date_of_birth')}"
        subquery = " UNION ALL ".join(
            f"{select} o.{column} {self._in(values)} AND {born} {self._in(date_of_birth)}" for column, values in keys
        )
        self._add_ids_from(subquery)

    def add_limited(self, *, limit: int, **columns: Any) -> None:
        """Children with every column (of Child) equal to its value (or to one of a list's),
        at most `limit` of them, read from an index in a subquery: a block whose keys could
        be common (a whole name over every date of birth) reads no more than that."""
        where = self._where("w", columns)
        self.params.append(limit)
        self._add_ids_from(f"SELECT w.{_column(Child, 'id')} FROM {_CHILD_TABLE} w WHERE {where} LIMIT %s")  # noqa: S608

    def _where(self, alias: str, columns: dict[str, Any]) -> str:
        """Every column (of Child, by field name, on table `alias`) equal to its value, or to
        one of its values when given a list, or between the two given as a tuple; its
        parameters added."""
        parts = []
        for name, value in columns.items():
            column = f"{alias}.{_column(Child, name)}"
            if isinstance(value, tuple):
                parts.append(f"{column} BETWEEN %s AND %s")
                self.params.extend(value)
            elif isinstance(value, list):
                parts.append(f"{column} {self._in(value)}")
            else:
                parts.append(f"{column} = %s")
                self.params.append(value)
        return " AND ".join(parts)

    def _add_ids_from(self, subquery: str) -> None:
        """Children whose id the subquery returns: on PostgreSQL one array (`= ANY(ARRAY(...))`),
        so that the primary key joins the other conditions' bitmap instead of filtering
        every row; elsewhere `IN (...)`."""
        column = f"c.{_column(Child, 'id')}"
        self.sql.append(f"({column} = ANY(ARRAY({subquery})))" if self.arrays else f"({column} IN ({subquery}))")

    def _in(self, values: list[Any]) -> str:
        """`= ANY(%s)` or `IN (%s, ...)` for a list, its parameters added."""
        if self.arrays:
            self.params.append(values)
            return "= ANY(%s)"
        self.params.extend(values)
        return f"IN ({', '.join(['%s'] * len(values))})"


# Searches read in one query by candidates_many. Kept small: past a total estimated cost
# (jit_above_cost) PostgreSQL compiles the statement with JIT, which for 100 searches took
# 5.9 s against 0.8 s without (193,319 children); and SQLite refuses a UNION of more than
# 500 SELECTs.
SEARCHES_PER_QUERY = 10


def _candidates_many(searches: list[_Search]) -> list[list[_Candidate]]:
    """Every child worth comparing for each search, with the names to compare, in one
    query for up to SEARCHES_PER_QUERY searches."""
    found: list[list[_Candidate]] = []
    for start in range(0, len(searches), SEARCHES_PER_QUERY):
        found += _candidates_together(searches[start : start + SEARCHES_PER_QUERY])
    return found


def _candidates_together(searches: list[_Search]) -> list[list[_Candidate]]:
    """Every child worth comparing for each search, with the names to compare, in one
    query: each condition is an equality or IN on an indexed column and, except for the NHS
    number, pairs a date of birth with a name key, so that a search reads the few children
    born on the dates searched who share a key with the name, not every child born that day
    (about 150 a day at a million children, 1,700 at eleven million).
    Several searches are one UNION ALL of their queries, each row tagged with its search."""
    connection = connections[router.db_for_read(Child)]
    vendor = "postgresql" if connection.vendor == "postgresql" else "sqlite"
    parts: list[str] = []
    params: list[Any] = []
    for tag, search in enumerate(searches):
        conditions = _candidate_conditions(search, vendor)
        if not conditions.sql:
            continue
        # Other names come with each candidate from a correlated subquery on the child's
        # foreign-key index: joined instead, PostgreSQL chose to hash-join the whole
        # other-name table (a sequential scan) once the register held a million children.
        where = " OR ".join(conditions.sql)
        columns = f"{_CHILD_COLUMNS}, {_OTHER_NAMES_SQL[vendor]}, {tag}"
        parts.append(f"SELECT {columns} FROM {_CHILD_TABLE} c WHERE {where}")  # noqa: S608
        params += conditions.params
    rows_by_search: list[list[Any]] = [[] for _ in searches]
    if parts:
        with connection.cursor() as cursor:
            # Each part in parentheses would be clearer, but SQLite refuses them in a UNION.
            cursor.execute(" UNION ALL ".join(parts), params)
            for row in cursor.fetchall():
                rows_by_search[row[-1]].append(row[:-1])
    return [_worth_comparing(search, rows) for search, rows in zip(searches, rows_by_search, strict=True)]


def _candidate_conditions(search: _Search, vendor: str) -> _Conditions:
    # One index per condition: (key, date of birth), or (key, given key, date of birth).
    conditions = _Conditions(vendor)
    if search.nhs_number:
        conditions.add(nhs_number=search.nhs_number)
    if search.date_of_birth and search.family:
        _date_blocks(search, conditions)
        _wrong_date_blocks(search, conditions)
        _names_alone_blocks(search, conditions)
        _same_address_block(search, conditions)
    return conditions


def _worth_comparing(search: _Search, rows: list[Any]) -> list[_Candidate]:
    """Set aside the children who cannot match before making candidates of them."""
    found = []
    for row in rows:
        others = _other_names(row[9])
        if search.worth_comparing(
            nhs_number=row[1],
            date_of_birth=row[5],
            families=[row[4], *(other[3] or row[4] for other in others)],
            postcode=row[7] or "",
            is_shielded=bool(row[8]),
            given=row[3] or "",
        ):
            found.append(_Candidate.from_row(row, others))
    return found


def _date_blocks(search: _Search, conditions: _Conditions) -> None:
    """Children born on the date searched, with its day and month swapped, or one digit
    away, who share a key with the name searched: either family-name key (which holds the
    given name's too, for names typed the wrong way round), the initials (a misspelling that
    changes the sound), or the given-name key (a family name misspelt in its first letter).
    With a given name searched, a date one digit away needs a family-name key and a
    given-name key together. On the date searched and its swap the given name's short forms count too, for a child
    whose surname changed (the changed-surname block: given name, date, postcode district,
    the district compared in Python), and with no given name searched any child whose family
    name starts with the same letter. Other names are found on the date searched and its
    swap only, through a subquery on their own (key, child's date of birth) indexes."""
    dates = sorted(search.dates)
    whole_dates = search.whole_dates
    family_keys = sorted(search.surname_keys)
    typo_dates = search.typo_dates
    for key_column in ("family_name_first_phonetic", "family_name_last_phonetic"):
        if not family_keys:
            break
        if search.given_keys and typo_dates:
            # A mistyped date with the given key (or a short form's) agreeing too, on the
            # (key, given key, date of birth) indexes: some 30 dates of a common surname
            # are about 300 children at four million. A given name misspelt as well is
            # left to the initials below.
            conditions.add(**{key_column: family_keys}, date_of_birth=whole_dates)
            conditions.add(
                **{key_column: family_keys}, given_name_phonetic=sorted(search.given_keys), date_of_birth=typo_dates
            )
        else:
            conditions.add(**{key_column: family_keys}, date_of_birth=dates)
    if search.initials:
        conditions.add(name_initials=sorted(search.initials), date_of_birth=dates)
    elif whole_dates:
        letter = search.family[0]
        initials = [letter, *(letter + second for second in _INITIAL_CHARACTERS)]
        conditions.add(name_initials=initials, date_of_birth=whole_dates)
    if search.given_phonetic:
        conditions.add(given_name_phonetic=search.given_phonetic, date_of_birth=dates)
    variant_keys = sorted(search.given_keys - {search.given_phonetic})
    if variant_keys and whole_dates:
        conditions.add(given_name_phonetic=variant_keys, date_of_birth=whole_dates)
    if whole_dates:
        conditions.add_other_names(
            date_of_birth=whole_dates,
            family_keys=family_keys,
            initials=sorted(search.initials),
            given_keys=sorted(search.given_keys),
        )


def _wrong_date_blocks(search: _Search, conditions: _Conditions) -> None:
    """A date of birth wrong altogether (a different day or month, the year off by one or
    two): family and given name keys both agreeing, and only the dates _Search.date_agreement
    can accept (_Search.wrong_dates), on the last column of the (key, given key, date of
    birth) indexes."""
    if not (search.family_keys and search.given_phonetic):
        return
    other_years, same_year = search.wrong_dates
    keys = sorted(search.family_keys)
    for key_column in ("family_name_first_phonetic", "family_name_last_phonetic"):
        if other_years:
            conditions.add(**{key_column: keys}, given_name_phonetic=search.given_phonetic, date_of_birth=other_years)
        if same_year:
            conditions.add(**{key_column: keys}, given_name_phonetic=search.given_phonetic, date_of_birth=same_year)


# The most children the names-alone block reads for each of its two keys. A name shared by
# more is too common for a match on it alone to say anything (and would be more than
# SECOND_CHANCE_LIMIT), so reading a few more than that is enough whatever the register's size.
NAMES_ALONE_READ = 12


def _names_alone_blocks(search: _Search, conditions: _Conditions) -> None:
    """A date of birth replaced altogether (no slip, swap or nearby year of it): children
    whose family-name key and given-name key both agree, born on any date, when the names
    searched are rare enough together to be evidence on their own (_Search.names_alone). At
    most NAMES_ALONE_READ children for each key column, from the (key, given key, date of
    birth) indexes; _Search.names_alone_possible then keeps the same names as written."""
    if not search.names_alone:
        return
    keys = sorted(search.family_keys)
    for key_column in ("family_name_first_phonetic", "family_name_last_phonetic"):
        conditions.add_limited(limit=NAMES_ALONE_READ, **{key_column: keys}, given_name_phonetic=search.given_phonetic)


# The most children the same-address block reads. A full postcode is a street or part of
# one; one with more children than this on the register (a children's home, a block of
# flats) says too little on its own, and the second-chance limit would drop them anyway.
SAME_ADDRESS_READ = 12


def _same_address_block(search: _Search, conditions: _Conditions) -> None:
    """Children recorded at the full postcode searched, whatever their names and date of
    birth (_same_address_grade decides), at most SAME_ADDRESS_READ of them, from the
    postcode's index. Shielded children are left out in the query itself: their postcode
    must not decide even which children are compared."""
    if search.postcode:
        conditions.add_limited(limit=SAME_ADDRESS_READ, postcode=search.postcode, is_shielded=False)


# What name_normalise leaves as a given name's first character.
_INITIAL_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


def _date_in_year(date: datetime.date, year: int) -> datetime.date | None:
    """The same day and month in another year; None for 29 February in a common year."""
    try:
        return date.replace(year=year)
    except ValueError:
        return None


def _other_names(value: Any) -> list[list[str]]:
    """The other names column of _candidates_many' query: [kind, given names as written, given
    names, family name] for each. PostgreSQL's json_agg (NULL when there are none) may arrive
    parsed or as text, depending on the driver's loaders; SQLite's json_group_array as text
    ("[]" when there are none)."""
    if not value or value == "[]":
        return []
    names: list[list[str]] = json.loads(value) if isinstance(value, str) else value
    return names


def _first_given_display(given_names: str) -> str:
    return given_names.split()[0] if given_names and given_names.split() else ""


# --- Unborn children: matched by their mother ---------------------------------------------

# An unborn plan's expected delivery date is an estimate: births this far either side match.
EXPECTED_DELIVERY_WINDOW = datetime.timedelta(weeks=8)


@dataclass(frozen=True)
class MotherIdentity:
    """What is known of a mother: from a pre-birth plan being added (the add form), or from
    a birth registration (the GRO gives her surname and maiden surname, no NHS number)."""

    nhs_number: str = ""  # normalised, or ""
    given_names: str = ""
    family_names: tuple[str, ...] = ()  # every surname she may be recorded under
    date_of_birth: datetime.date | None = None


@dataclass(frozen=True)
class UnbornMatch:
    child: Child
    plan: ProtectionStatus
    grade: Grade  # always likely: a mother's details never prove which pregnancy
    reasons: list[str]


def mothers_agree(*, mother: MotherIdentity, plan: ProtectionStatus) -> list[str] | None:
    """The one rule for "this plan names the same mother": the reasons why, or None.

    - Both NHS numbers known: they decide, either way (two numbers are two women, however
      alike the names).
    - Otherwise her family name (any of hers, normalised: O'Brien is OBrien) must be the
      plan's, and at least one more of her first given name and her date of birth must
      agree, with neither contradicting where both sides know it (twin sisters share a
      surname and a date of birth, not a given name).

    It replaces two rules that disagreed: the duplicate check took an NHS number alone or a
    surname typed the same (letter case aside) with the date of birth, whatever the given
    names; feed matching took a normalised surname with a given name or date of birth, and
    no NHS number."""
    if mother.nhs_number and plan.mother_nhs_number:
        return ["mother's NHS number matches"] if mother.nhs_number == plan.mother_nhs_number else None
    families = {name_normalise(family) for family in mother.family_names} - {""}
    if not families or name_normalise(plan.mother_family_name) not in families:
        return None
    reasons = ["mother's surname matches"]
    given = _first_name(mother.given_names)
    plan_given = _first_name(plan.mother_given_names)
    if given and plan_given:
        if given != plan_given:
            return None
        reasons.append("mother's given name matches")
    if mother.date_of_birth and plan.mother_date_of_birth:
        if mother.date_of_birth != plan.mother_date_of_birth:
            return None
        reasons.append("mother's date of birth matches")
    return reasons if len(reasons) >= 2 else None


def _first_name(given_names: str) -> str:
    return name_normalise(given_names).split(" ")[0]


def unborn_plans(*, born_between: tuple[datetime.date, datetime.date] | None = None) -> list[ProtectionStatus]:
    """Pre-birth plans of children not yet born, with their child and authority. With
    `born_between` (a birth registration's dates, for a feed's chunk of records): only
    current plans expecting the birth within EXPECTED_DELIVERY_WINDOW of those dates."""
    plans = ProtectionStatus.objects.filter(
        kind=ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN, child__date_of_birth__isnull=True
    ).select_related("child__responsible_local_authority")
    if born_between is not None:
        earliest, latest = born_between
        plans = plans.filter(
            end_date__isnull=True,
            expected_delivery_date__range=(earliest - EXPECTED_DELIVERY_WINDOW, latest + EXPECTED_DELIVERY_WINDOW),
        )
    return list(plans)


def unborn_candidates(
    mother: MotherIdentity, *, born_on: datetime.date | None = None, plans: Iterable[ProtectionStatus] | None = None
) -> list[UnbornMatch]:
    """Unborn children whose pre-birth plan names this mother (mothers_agree), one match
    per child. `born_on`, for a birth registration: only current plans expecting the birth
    within EXPECTED_DELIVERY_WINDOW of it, with how far off the estimate was. `plans`: the
    plans to look among, already read by unborn_plans (a feed reads them once per chunk);
    by default every unborn plan (the duplicate check: an ended plan's child is still on
    the register)."""
    if plans is None:
        plans = unborn_plans(born_between=(born_on, born_on) if born_on else None)
    matches: dict[int, UnbornMatch] = {}
    for plan in plans:
        if born_on is not None and not _expecting_around(plan, born_on):
            continue
        reasons = mothers_agree(mother=mother, plan=plan)
        if reasons is None or plan.child_id in matches:
            continue
        if born_on is not None:
            assert plan.expected_delivery_date is not None
            days = (born_on - plan.expected_delivery_date).days
            reasons.append(f"born {abs(days)} days {'after' if days >= 0 else 'before'} the expected delivery date")
        matches[plan.child_id] = UnbornMatch(child=plan.child, plan=plan, grade=Grade.LIKELY, reasons=reasons)
    return list(matches.values())


def _expecting_around(plan: ProtectionStatus, born_on: datetime.date) -> bool:
    return (
        plan.end_date is None
        and plan.expected_delivery_date is not None
        and abs(plan.expected_delivery_date - born_on) <= EXPECTED_DELIVERY_WINDOW
    )


# --- Unborn children: a practitioner's search by the mother's details -----------------------

# A baby born this recently may still be recorded as unborn, or have been recorded as born
# only days ago: a search by the mother finds it either way.
RECENTLY_BORN = datetime.timedelta(weeks=12)


@dataclass(frozen=True)
class UnbornSearchCriteria:
    """A practitioner's search for an unborn child on a pre-birth plan, by the mother: her
    NHS number, or her family name and date of birth (given name to narrow), with the
    expected delivery date and a postcode as extra evidence."""

    mother_nhs_number: str = ""  # normalised 10 digits, checksum already validated, or ""
    mother_family_name: str = ""
    mother_given_names: str = ""
    mother_date_of_birth: datetime.date | None = None
    expected_delivery_date: datetime.date | None = None
    postcode: str = ""  # normalised or ""

    FIELDS = (
        "mother_nhs_number", "mother_family_name", "mother_given_names", "mother_date_of_birth",
        "expected_delivery_date", "postcode",
    )  # fmt: skip
    DATES = ("mother_date_of_birth", "expected_delivery_date")

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> "UnbornSearchCriteria":
        """As SearchCriteria.from_values: cleaned values from a form or serializer, tidied
        alike (missing becomes empty, text stripped, NHS number without spaces)."""
        text = {name: str(values.get(name) or "").strip() for name in cls.FIELDS if name not in cls.DATES}
        dates: dict[str, datetime.date | None] = {}
        for name in cls.DATES:
            value = values.get(name) or None
            if value is not None and not isinstance(value, datetime.date):
                raise TypeError(f"{name} must be a date, not {type(value).__name__}")
            dates[name] = value
        return cls(
            mother_nhs_number="".join(text["mother_nhs_number"].split()),
            mother_family_name=text["mother_family_name"],
            mother_given_names=text["mother_given_names"],
            mother_date_of_birth=dates["mother_date_of_birth"],
            expected_delivery_date=dates["expected_delivery_date"],
            postcode=text["postcode"],
        )

    @property
    def mother(self) -> MotherIdentity:
        return MotherIdentity(
            nhs_number=self.mother_nhs_number,
            given_names=self.mother_given_names,
            family_names=(self.mother_family_name,) if self.mother_family_name else (),
            date_of_birth=self.mother_date_of_birth,
        )


def unborn_criteria_sufficient(criteria: UnbornSearchCriteria) -> str | None:
    """None if the mother's details may be searched, else a plain-English message saying why
    not: her NHS number alone, or her family name and date of birth."""
    if criteria.mother_nhs_number:
        return None
    has_family_name = bool(name_normalise(criteria.mother_family_name))
    if has_family_name and criteria.mother_date_of_birth:
        return None
    if has_family_name:
        return "Enter the mother's date of birth as well as her family name, or search by her NHS number"
    if criteria.mother_date_of_birth:
        return "Enter the mother's family name as well as her date of birth, or search by her NHS number"
    return "Enter the mother's family name and date of birth, or search by her NHS number"


def unborn_search(criteria: UnbornSearchCriteria, *, purpose: Purpose = Purpose.SEARCH) -> SearchOutcome:
    """Unborn children (and babies born in the last RECENTLY_BORN) whose pre-birth plan
    names this mother, best first, graded and with reasons, as SearchMatch so that every
    page and the API show them as they show children. Raises ValueError if
    unborn_criteria_sufficient() refuses the criteria.

    Plans are read by the mother's NHS number or date of birth (partial indexes on unborn
    plans). Grades: her details agree by mothers_agree (the rule the duplicate check and
    birth registrations use): likely, never exact (a mother's details never prove which
    pregnancy). Her surname spelt differently, or different altogether (a change of name)
    with her given name and date of birth the same: possible, saying so. An expected
    delivery date typed and more than EXPECTED_DELIVERY_WINDOW from the plan's: possible
    at best. A shielded child's postcode is never compared. More than the purpose's limit:
    too many, nothing listed."""
    policy = PURPOSE_POLICIES[purpose]
    refusal = unborn_criteria_sufficient(criteria)
    if refusal:
        raise ValueError(refusal)
    wanted = models.Q()
    if criteria.mother_nhs_number:
        wanted |= models.Q(mother_nhs_number=criteria.mother_nhs_number)
    if criteria.mother_date_of_birth and name_normalise(criteria.mother_family_name):
        wanted |= models.Q(mother_date_of_birth=criteria.mother_date_of_birth)
    recently = timezone.localdate() - RECENTLY_BORN
    plans = (
        ProtectionStatus.objects.filter(wanted, kind=ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN)
        .filter(models.Q(child__date_of_birth__isnull=True) | models.Q(child__date_of_birth__gte=recently))
        .select_related("child__responsible_local_authority")
        .order_by("child_id", "-start_date")
    )
    matches: dict[int, SearchMatch] = {}
    for plan in plans:
        if plan.child_id in matches:
            continue  # the latest plan of each child speaks for it
        graded = _unborn_grade(criteria, plan)
        if graded is not None:
            grade, score, reasons = graded
            matches[plan.child_id] = SearchMatch(child=plan.child, grade=grade, score=score, reasons=reasons)
    found = sorted(matches.values(), key=lambda match: (_GRADE_RANK[match.grade], -match.score, match.child.pk))
    if len(found) > policy.limit:
        return SearchOutcome(matches=[], too_many=True)
    return SearchOutcome(matches=found, too_many=False)


def _unborn_grade(criteria: UnbornSearchCriteria, plan: ProtectionStatus) -> tuple[Grade, float, list[str]] | None:
    agreed = mothers_agree(mother=criteria.mother, plan=plan)
    if agreed is not None:
        grade, score, reasons = Grade.LIKELY, 0.9, agreed
        typed_family = name_normalise(criteria.mother_family_name)
        if criteria.mother_nhs_number and typed_family and typed_family != name_normalise(plan.mother_family_name):
            # Found by her NHS number: a surname that disagrees is worth a second look.
            reasons.append("mother's surname is different")
    else:
        loosely = _mother_loosely(criteria, plan)
        if loosely is None:
            return None
        grade, score, reasons = Grade.POSSIBLE, 0.6, loosely
    if criteria.expected_delivery_date and plan.expected_delivery_date:
        days = (plan.expected_delivery_date - criteria.expected_delivery_date).days
        if abs(days) <= EXPECTED_DELIVERY_WINDOW.days:
            reasons.append(
                f"expected delivery date within {abs(days)} days" if days else "expected delivery date matches"
            )
        else:
            grade, score = Grade.POSSIBLE, score - 0.2
            reasons.append(f"expected delivery date differs by {abs(days) // 7} weeks: check it is the same pregnancy")
    child = plan.child
    if child.date_of_birth:
        reasons.append(f"born {child.date_of_birth:%-d %B %Y}")
    if criteria.postcode and child.postcode and not child.is_shielded:
        reasons.append("postcode matches" if child.postcode == criteria.postcode else "different postcode")
    return grade, score, reasons


def _mother_loosely(criteria: UnbornSearchCriteria, plan: ProtectionStatus) -> list[str] | None:
    """Her date of birth and given name the same and her surname spelt differently or
    changed: worth checking. Two NHS numbers known and different are two women."""
    if criteria.mother_nhs_number and plan.mother_nhs_number:
        return None
    given, plan_given = _first_name(criteria.mother_given_names), _first_name(plan.mother_given_names)
    if not (
        criteria.mother_date_of_birth
        and criteria.mother_date_of_birth == plan.mother_date_of_birth
        and given
        and (given == plan_given or given_names_are_variants(given, plan_given))
    ):
        return None
    searched = surname_profile(name_normalise(criteria.mother_family_name))
    recorded = surname_profile(name_normalise(plan.mother_family_name))
    agreement, _ = family_name_compare(searched, recorded)
    if agreement == FamilyNameAgreement.EXACT:
        reasons = ["mother's surname matches"]
    elif agreement >= FamilyNameAgreement.SIMILAR:
        reasons = ["mother's surname spelt differently"]
    else:
        reasons = ["mother's family name different: check for a change of name"]
    if given == plan_given:
        reasons.append("mother's given name and date of birth match")
    else:
        reasons += ["mother's given name is a short form or another spelling", "mother's date of birth matches"]
    return reasons
