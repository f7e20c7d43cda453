"""A known data set for the dashboard tests: two authorities, children whose every figure is
known in advance, and lookups made through the real services so the audit trail is real."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from accounts.models import LocalAuthority, User
from accounts.roles import Role
from audit.actor import Actor, Channel
from registry.dashboard.refresh import REFRESH_SETTLE, dashboard_refresh
from registry.lookups.services import LookupReasonGiven, LookupRefused, child_view, search_perform
from registry.matching.selectors import SearchCriteria
from registry.models import Child, Involvement, LegalHold, Notification, ProtectionStatus
from tests.factories import (
    ChildFactory,
    InvolvementFactory,
    OrganisationFactory,
    ProtectionStatusFactory,
    UserFactory,
    nhs_number_for,
)


def refresh() -> None:
    """Refresh as beat would a few minutes from now, when every row written so far has settled."""
    dashboard_refresh(now=timezone.now() + REFRESH_SETTLE + datetime.timedelta(seconds=5))


def user_of(authority: LocalAuthority, *roles: Role, **fields: object) -> User:
    return UserFactory(organisation=OrganisationFactory(local_authority=authority), roles=list(roles), **fields)


@dataclass
class Register:
    westminster: LocalAuthority
    birmingham: LocalAuthority
    manager: User  # Westminster's register manager
    practitioner: User  # Westminster's
    visitor: User  # a Birmingham practitioner
    cpp_child: Child
    looked_after_child: Child
    unborn_child: Child
    birmingham_child: Child


def known_register(westminster: LocalAuthority, birmingham: LocalAuthority) -> Register:
    """Westminster: 3 children (a CPP child with everything recorded, a looked-after child
    under a care order with no NHS number, postcode or involvement, an unborn child).
    Birmingham: 1 CPP child."""
    manager = user_of(westminster, Role.REGISTER_MANAGER)
    practitioner = user_of(westminster, Role.PRACTITIONER)
    visitor = user_of(birmingham, Role.PRACTITIONER)
    cpp_child = ChildFactory(
        responsible_local_authority=westminster, given_names="Ottoline", family_name="Quarrendon",
        date_of_birth=datetime.date(2015, 4, 2),
    )  # fmt: skip
    ProtectionStatusFactory(child=cpp_child)
    InvolvementFactory(child=cpp_child, practitioner=practitioner, is_lead=True)
    looked_after_child = ChildFactory(responsible_local_authority=westminster, nhs_number=None, postcode="")
    ProtectionStatusFactory(
        child=looked_after_child,
        kind=ProtectionStatus.Kind.LOOKED_AFTER,
        legal_basis=ProtectionStatus.LegalBasis.CARE_ORDER,
    )
    unborn_child = ChildFactory(
        responsible_local_authority=westminster, nhs_number=None, date_of_birth=None, given_names="", postcode=""
    )
    ProtectionStatusFactory(
        child=unborn_child,
        kind=ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN,
        expected_delivery_date=datetime.date(2027, 2, 1),
    )
    InvolvementFactory(child=unborn_child, practitioner=user_of(westminster, Role.PRACTITIONER), is_lead=False)
    birmingham_child = ChildFactory(responsible_local_authority=birmingham)
    ProtectionStatusFactory(child=birmingham_child)
    InvolvementFactory(child=birmingham_child, practitioner=visitor, is_lead=True)
    return Register(
        westminster=westminster,
        birmingham=birmingham,
        manager=manager,
        practitioner=practitioner,
        visitor=visitor,
        cpp_child=cpp_child,
        looked_after_child=looked_after_child,
        unborn_child=unborn_child,
        birmingham_child=birmingham_child,
    )


def search(
    actor: User, *, nhs_number: str = "", family_name: str = "", reason: str = "new_concern", channel: str = "web"
):
    criteria = SearchCriteria(nhs_number=nhs_number, family_name=family_name)
    try:
        return search_perform(
            by=Actor(user=actor, channel=Channel(channel)), criteria=criteria, reason=LookupReasonGiven(reason)
        )
    except LookupRefused:
        return None


def open_from(actor: User, child: Child, search_event) -> None:
    child_view(
        by=Actor(user=actor, channel=Channel.WEB),
        register_id=child.register_id,
        reason=LookupReasonGiven("new_concern"),
        search_event=search_event,
    )


def lookups(register: Register) -> None:
    """Birmingham's practitioner finds Westminster's CPP child twice (web and API), opens it
    from the first search twice (one opened search); Westminster's practitioner searches
    with no match once and is refused once (too little to search on)."""
    _, first = search(register.visitor, nhs_number=register.cpp_child.nhs_number or "")
    search(register.visitor, nhs_number=register.cpp_child.nhs_number or "", reason="assessment", channel="api")
    open_from(register.visitor, register.cpp_child, first)
    open_from(register.visitor, register.cpp_child, first)
    search(register.practitioner, nhs_number=nhs_number_for(90000))
    search(register.practitioner, family_name="Nobody")


def match_notifications(child: Child, count: int) -> None:
    for _ in range(count):
        Notification.objects.create(
            recipient=UserFactory(), child=child, kind=Notification.Kind.INVOLVEMENT_MATCH, message="m"
        )


def hold(child: Child, by: User) -> LegalHold:
    return LegalHold.objects.create(child=child, reason="Inquiry", reference="INQ-1", set_by=by, set_at=timezone.now())


def make_stale(involvement: Involvement, *, months: int = 13) -> None:
    Involvement.objects.filter(pk=involvement.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=31 * months)
    )
