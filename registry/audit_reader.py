"""The register's answers to the audit trail (audit.register_reader.RegisterReader).

Installed by RegistryConfig.ready, so the audit app never imports the register: the names,
postcodes and matching it needs are the register's own rules, reached through here."""

import datetime

from audit.register_reader import FoundChild, FoundChildren
from registry.children.selectors import child_authority_codes
from registry.identity import IdentityValueError, postcode_clean
from registry.matching.keys import name_normalise
from registry.matching.selectors import Purpose, SearchCriteria, candidates
from registry.models import Child, Involvement


class RegistryAuditReader:
    def name_normalise(self, value: str) -> str:
        return name_normalise(value)

    def postcode_normalise(self, value: str) -> str:
        try:
            return postcode_clean(value)
        except IdentityValueError:
            return ""

    def child_family_name_and_postcode(self, *, register_id: str) -> tuple[str, str] | None:
        return Child.objects.filter(register_id=register_id).values_list("family_name", "postcode").first()

    def practitioner_involved(self, *, user_id: int, register_ids: list[str]) -> bool:
        return Involvement.objects.filter(child__register_id__in=register_ids, practitioner_id=user_id).exists()

    def child_authority_codes(self, *, register_ids: list[str]) -> dict[str, str]:
        return child_authority_codes(register_ids=register_ids)

    def children_find(self, *, family_name: str, given_names: str, date_of_birth: datetime.date) -> FoundChildren:
        criteria = SearchCriteria.from_values(
            {"family_name": family_name, "given_names": given_names, "date_of_birth": date_of_birth}
        )
        outcome = candidates(criteria, purpose=Purpose.AUDITOR_FIND)
        found = [
            FoundChild(
                register_id=match.child.register_id,
                given_names=match.child.given_names,
                family_name=match.child.family_name,
                date_of_birth=match.child.date_of_birth,
                local_authority_code=match.child.responsible_local_authority.gss_code,
                grade=match.grade.value,
            )
            for match in outcome.matches
        ]
        return FoundChildren(children=found, too_many=outcome.too_many)
