"""Reads from the register, with what each user may see decided here and nowhere else."""

import datetime
from dataclasses import dataclass, field

from django.db.models import F, Prefetch, Q, QuerySet

from accounts.models import LocalAuthority, Organisation, SensitiveCategory, User
from accounts.roles import Role
from accounts.selectors import local_authorities_for_role
from registry.identity import postcode_district
from registry.models import Child, ChildTransfer, Involvement, Notification, ProtectionStatus, ServiceType


def children_on_register_count(*, local_authority: LocalAuthority) -> int:
    return Child.objects.filter(responsible_local_authority=local_authority).count()


def child_authority_codes(*, register_ids: list[str]) -> dict[str, str]:
    """Each child's responsible authority (GSS code) now; children no longer on the
    register are left out. Audit events name children with these, for auditors' scope."""
    return dict(
        Child.objects.filter(register_id__in=register_ids).values_list(
            "register_id", "responsible_local_authority__gss_code"
        )
    )


@dataclass(frozen=True)
class StatusSignpost:
    kind: str
    legal_basis: str
    start_date: datetime.date
    end_date: datetime.date | None
    expected_delivery_date: datetime.date | None


@dataclass(frozen=True)
class InvolvementSignpost:
    involvement_id: int
    name: str
    organisation: str
    role: str
    phone: str
    email: str
    service: str
    is_lead: bool
    start_date: datetime.date
    is_viewer: bool


@dataclass(frozen=True)
class ChildSignpost:
    """What a practitioner may see of a child: identity enough to confirm the match,
    statuses (type and dates), whom to call, and who else is involved. Shielded children
    show no location, other names or involvements."""

    child_pk: int
    register_id: str
    given_names: str
    family_name: str
    date_of_birth: datetime.date | None
    sex: str
    postcode_district: str
    is_shielded: bool
    date_of_death: datetime.date | None
    local_authority: LocalAuthority
    statuses: list[StatusSignpost]
    other_names: list[tuple[str, str]] = field(default_factory=list)
    involvements: list[InvolvementSignpost] = field(default_factory=list)
    viewer_involvement_id: int | None = None

    @property
    def lead(self) -> InvolvementSignpost | None:
        return next((person for person in self.involvements if person.is_lead), None)


# The service a practitioner most likely works for, from their organisation: offered first
# when they record that they are working with a child. "Other" organisations get no
# default, so the practitioner must choose (a wrong default is broadcast to everyone).
SERVICE_FOR_ORGANISATION_KIND = {
    Organisation.Kind.CHILDRENS_SOCIAL_CARE: ServiceType.SOCIAL_CARE,
    Organisation.Kind.SCHOOL: ServiceType.EDUCATION,
    Organisation.Kind.GP_PRACTICE: ServiceType.GP,
    Organisation.Kind.HOSPITAL_TRUST: ServiceType.HOSPITAL,
    Organisation.Kind.HEALTH_VISITING: ServiceType.HEALTH_VISITING,
    Organisation.Kind.POLICE: ServiceType.POLICE,
    Organisation.Kind.YOUTH_JUSTICE: ServiceType.YOUTH_JUSTICE,
    Organisation.Kind.VOLUNTARY_SECTOR: ServiceType.VOLUNTARY,
}
SERVICE_FOR_SENSITIVE_CATEGORY = {
    SensitiveCategory.SEXUAL_HEALTH: ServiceType.SEXUAL_HEALTH,
    SensitiveCategory.MENTAL_HEALTH: ServiceType.MENTAL_HEALTH,
    SensitiveCategory.SUBSTANCE_MISUSE: ServiceType.SUBSTANCE_MISUSE,
}


def service_type_for_user(*, user: User) -> str:
    """The service `user`'s organisation provides, or "" when it cannot be told."""
    organisation = user.organisation
    if organisation is None:
        return ""
    if organisation.sensitive_service:
        return SERVICE_FOR_SENSITIVE_CATEGORY.get(SensitiveCategory(organisation.sensitive_service), "")
    return SERVICE_FOR_ORGANISATION_KIND.get(Organisation.Kind(organisation.kind), "")


def involvement_visible_to(*, involvement: Involvement, user: User) -> bool:
    """Sensitive-service involvement (registry.identity.involvement_sensitivity) is
    shown only to users of an organisation providing the same kind of service, and to the
    practitioner themselves."""
    sensitivity = involvement.sensitivity
    if not sensitivity:
        return True
    if involvement.practitioner_id == user.pk:
        return True
    organisation = user.organisation
    return organisation is not None and organisation.sensitive_service == sensitivity


def _involvement_signpost(involvement: Involvement, viewer: User) -> InvolvementSignpost:
    practitioner = involvement.practitioner
    if practitioner is not None:
        organisation = practitioner.organisation.name if practitioner.organisation else ""
        return InvolvementSignpost(
            involvement_id=involvement.pk,
            name=practitioner.full_name,
            organisation=organisation,
            role=practitioner.job_title,
            phone=practitioner.phone,
            # Never a user's sign-in address: it is their account name (the lockout key),
            # and phone and organisation are how to reach them. A contact recorded for
            # someone without an account keeps its email below.
            email="",
            service=involvement.get_service_type_display(),
            is_lead=involvement.is_lead,
            start_date=involvement.start_date,
            is_viewer=practitioner.pk == viewer.pk,
        )
    return InvolvementSignpost(
        involvement_id=involvement.pk,
        name=involvement.contact_name,
        organisation=involvement.contact_organisation_name
        or (involvement.contact_organisation.name if involvement.contact_organisation else ""),
        role=involvement.contact_role,
        phone=involvement.contact_phone,
        email=involvement.contact_email,
        service=involvement.get_service_type_display(),
        is_lead=involvement.is_lead,
        start_date=involvement.start_date,
        is_viewer=False,
    )


def child_signpost(*, user: User, register_id: str) -> ChildSignpost | None:
    """The child's signposting record as `user` may see it, or None if there is no such
    child. Three queries whatever the number of statuses and involvements."""
    current_involvements = Involvement.objects.filter(end_date__isnull=True).select_related(
        "practitioner__organisation", "contact_organisation"
    )
    child = (
        Child.objects.select_related("responsible_local_authority")
        .prefetch_related(
            Prefetch("statuses", queryset=ProtectionStatus.objects.order_by("-start_date")),
            Prefetch("involvements", queryset=current_involvements, to_attr="current_involvements"),
            "other_names",
        )
        .filter(register_id=register_id)
        .first()
    )
    if child is None:
        return None
    statuses = [
        StatusSignpost(
            kind=status.get_kind_display(),
            legal_basis=status.get_legal_basis_display() if status.legal_basis else "",
            start_date=status.start_date,
            end_date=status.end_date,
            expected_delivery_date=status.expected_delivery_date,
        )
        for status in child.statuses.all()
    ]
    common = {
        "child_pk": child.pk,
        "register_id": child.register_id,
        "given_names": child.given_names,
        "family_name": child.family_name,
        "date_of_birth": child.date_of_birth,
        "sex": child.get_sex_display(),
        "is_shielded": child.is_shielded,
        "date_of_death": child.date_of_death,
        "local_authority": child.responsible_local_authority,
        "statuses": statuses,
    }
    if child.is_shielded:
        return ChildSignpost(postcode_district="", **common)  # type: ignore[arg-type]
    involvements: list[Involvement] = child.current_involvements
    visible = [
        involvement for involvement in involvements if involvement_visible_to(involvement=involvement, user=user)
    ]
    viewer_involvement = next((i.pk for i in involvements if i.practitioner_id == user.pk), None)
    return ChildSignpost(
        postcode_district=postcode_district(child.postcode),
        other_names=[
            (other.get_kind_display(), f"{other.given_names} {other.family_name}".strip())
            for other in child.other_names.all()
        ],
        involvements=sorted(
            (_involvement_signpost(involvement, user) for involvement in visible),
            key=lambda item: (not item.is_lead, item.start_date),
        ),
        viewer_involvement_id=viewer_involvement,
        **common,  # type: ignore[arg-type]
    )


# --- Register maintenance: what a register manager may change ----------------------------


def authorities_managed_by(*, user: User) -> QuerySet[LocalAuthority]:
    """The authorities whose register `user` keeps, as a register manager."""
    return local_authorities_for_role(user=user, role=Role.REGISTER_MANAGER)


def children_managed_by(*, user: User) -> QuerySet[Child]:
    """Every child `user` may maintain: those of the authorities they manage the register
    for. Every maintenance view finds its child here, so another authority's child (or any
    child, for a user who is not a register manager) is simply not found."""
    return Child.objects.filter(responsible_local_authority__in=authorities_managed_by(user=user))


def managed_children_page(*, user: User, query: str = "") -> QuerySet[Child]:
    """The manager's children for the list page, newest first, optionally found by
    register ID or by the authority's own reference. Not a search of the national
    register: names and dates of birth are not accepted here."""
    children = children_managed_by(user=user).select_related("responsible_local_authority")
    query = query.strip()
    if query:
        children = children.filter(Q(register_id__iexact=query) | Q(la_reference__iexact=query))
    return children.order_by("-created_at", "-id")


def managed_child_exists(*, user: User, register_id: str) -> bool:
    return children_managed_by(user=user).filter(register_id=register_id).exists()


def managed_child(*, user: User, register_id: str) -> Child | None:
    """One child `user` may maintain, with everything the maintenance page shows, or None."""
    return (
        children_managed_by(user=user)
        .select_related("responsible_local_authority")
        .prefetch_related(
            Prefetch("statuses", queryset=ProtectionStatus.objects.select_related("responsible_local_authority")),
            Prefetch(
                "involvements",
                queryset=Involvement.objects.select_related("practitioner__organisation").order_by(
                    F("end_date").desc(nulls_first=True), "-is_lead", "start_date"
                ),
            ),
            "other_names",
            Prefetch(
                "transfers", queryset=ChildTransfer.objects.select_related("from_local_authority", "to_local_authority")
            ),
        )
        .filter(register_id=register_id)
        .first()
    )


def practitioner_for_involvement(*, email: str) -> User | None:
    """An active practitioner with an account, found by work email, for a manager recording
    their involvement."""
    user = User.objects.select_related("organisation").filter(email__iexact=email.strip(), is_active=True).first()
    if user is None or not user.has_role(Role.PRACTITIONER):
        return None
    return user


def unread_notifications_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
