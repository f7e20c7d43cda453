"""Deterministic synthetic data for demonstrations and local development.

Every name, date and number is generated from a fixed seed (Faker en_GB plus lists of
names that real matching must cope with); NHS numbers are valid but drawn from the 999
range, which is never issued to real patients. Running it again changes nothing.
"""

import datetime
import random
from dataclasses import dataclass

from django.db import transaction
from faker import Faker

from accounts.demo import DEMO_EMAIL_DOMAIN, demo_authenticator_ensure
from accounts.models import LocalAuthority, Organisation, SensitiveCategory, User
from accounts.roles import Role
from accounts.services import user_create
from audit.actor import Actor
from registry.children.services import child_create, involvement_add
from registry.identity import involvement_sensitivity, nhs_number_check_digit
from registry.models import Child, Involvement, OtherName, ProtectionStatus, ServiceType, Sex

# Printed by `make run`; demo accounts exist only in local and test databases.
DEMO_PASSWORD = "signposting-demo-2026"  # noqa: S105
SEED = 20101

LOCAL_AUTHORITIES = [
    ("E09000033", "Westminster City Council", "020 7641 4000", "020 7641 6000"),
    ("E08000025", "Birmingham City Council", "0121 303 1888", "0121 675 4806"),
    ("E08000035", "Leeds City Council", "0113 222 4403", "07712 106 378"),
    ("E06000052", "Cornwall Council", "0300 123 1116", "01208 251 300"),
]
# Real postcode districts and towns inside each authority's area, so that a demo child's
# address is where its authority is (a Westminster child does not live in Glasgow). The
# inward code is made up: unit letters from the set Royal Mail uses.
PLACES = {
    "E09000033": (["W1", "W2", "W9", "NW1", "NW8", "SW1", "WC2"], "London"),
    "E08000025": (["B5", "B6", "B8", "B11", "B12", "B13", "B21", "B23", "B29", "B31"], "Birmingham"),
    "E08000035": (["LS2", "LS4", "LS6", "LS7", "LS8", "LS9", "LS11", "LS12", "LS14", "LS15"], "Leeds"),
    "E06000052": (["TR1", "TR7", "TR11", "TR14", "TR15", "TR18", "PL25", "PL26", "PL31"], "Cornwall"),
}
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

ORGANISATIONS = [
    ("Children's Social Care", Organisation.Kind.CHILDRENS_SOCIAL_CARE),
    ("Health Visiting Service", Organisation.Kind.HEALTH_VISITING),
    ("Community Hospital NHS Trust", Organisation.Kind.HOSPITAL_TRUST),
    ("Police Safeguarding Hub", Organisation.Kind.POLICE),
    ("Youth Justice Service", Organisation.Kind.YOUTH_JUSTICE),
    ("Integrated Sexual Health Service", Organisation.Kind.OTHER),
]

# Names that defeat naive matching: accents, apostrophes, hyphens, transliterations.
# Drawn by sex, so that William is never recorded as female.
GIVEN_NAMES = {
    Sex.FEMALE: ["Siobhán", "Zoë", "Aaliyah", "Aliyah", "Chloé", "Nguyen Thi", "Aoife", "Ngozi", "Fatima", "Amara"],
    Sex.MALE: ["Mohammed", "Muhammad", "Oluwaseun", "Wojciech", "Bartłomiej", "Kai", "Liam", "William", "Tomasz"],
}
FAMILY_NAMES = [
    "O'Neill", "Smith-Jones", "Kouao", "Thompson", "Thomson", "Nowak", "Okafor", "Ahmed", "Begum",
    "Nguyen", "Van der Berg", "MacDonald", "Ó Briain", "Kowalczyk", "Mensah", "Hughes", "Ghosh",
]  # fmt: skip

# The demo data is loaded by `make run`'s command: the register itself, no person.
DEMO_LOADER: Actor[User] = Actor.system()


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: Role
    description: str


DEMO_LOGINS = [
    DemoLogin("practitioner@demo.test", Role.PRACTITIONER, "social worker, Westminster"),
    DemoLogin("health.visitor@demo.test", Role.PRACTITIONER, "health visitor, Birmingham"),
    DemoLogin("manager@demo.test", Role.REGISTER_MANAGER, "register manager, Westminster"),
    DemoLogin("useradmin@demo.test", Role.LA_USER_ADMIN, "user admin, Westminster"),
    DemoLogin("auditor@demo.test", Role.AUDITOR, "national auditor"),
    DemoLogin("feeds@demo.test", Role.FEED_OPERATOR, "GRO feed operator"),
    DemoLogin("admin@demo.test", Role.SYSTEM_ADMINISTRATOR, "system administrator"),
]


def nhs_number_synthetic(rng: random.Random) -> str:
    """A valid NHS number in the 999 test range."""
    while True:
        body = "999" + "".join(str(rng.randint(0, 9)) for _ in range(6))
        check = nhs_number_check_digit(body)
        if check is not None:
            return body + str(check)


def _authorities() -> list[LocalAuthority]:
    authorities = []
    for code, name, office, out_of_hours in LOCAL_AUTHORITIES:
        authority, _ = LocalAuthority.objects.update_or_create(
            gss_code=code,
            defaults={
                "name": name,
                "office_hours_phone": office,
                "out_of_hours_phone": out_of_hours,
                "secure_email": f"childrens.services@{name.split()[0].lower()}.gov.uk",
            },
        )
        authorities.append(authority)
    return authorities


def _organisations(authorities: list[LocalAuthority]) -> dict[tuple[str, str], Organisation]:
    organisations = {}
    for authority in authorities:
        place = authority.name.split()[0]
        for label, kind in ORGANISATIONS:
            organisation, _ = Organisation.objects.get_or_create(
                local_authority=authority,
                name=f"{place} {label}",
                defaults={
                    "kind": kind,
                    "sensitive_service": SensitiveCategory.SEXUAL_HEALTH if "Sexual Health" in label else "",
                },
            )
            organisations[(authority.gss_code, label)] = organisation
    return organisations


def _users(
    authorities: list[LocalAuthority], organisations: dict[tuple[str, str], Organisation], fake: Faker
) -> list[User]:
    westminster, birmingham = authorities[0], authorities[1]
    placements = {
        "practitioner@demo.test": (westminster, "Children's Social Care", "Social worker"),
        "health.visitor@demo.test": (birmingham, "Health Visiting Service", "Health visitor"),
        "manager@demo.test": (westminster, "Children's Social Care", "Register manager"),
        "useradmin@demo.test": (westminster, "Children's Social Care", "Systems officer"),
        "auditor@demo.test": (None, None, "Information governance auditor"),
        "feeds@demo.test": (None, None, "Data operations"),
        "admin@demo.test": (None, None, "Service administrator"),
    }
    practitioners = []
    for login in DEMO_LOGINS:
        authority, organisation_label, job_title = placements[login.email]
        # Draw the fake values even when the user exists, so later draws stay the same.
        full_name, phone = fake.name(), fake.phone_number()
        user = User.objects.filter(email=login.email).first()
        if user is None:
            user = user_create(
                email=login.email,
                full_name=full_name,
                roles=[login.role],
                local_authority=authority,
                organisation=organisations[(authority.gss_code, organisation_label)]
                if authority and organisation_label
                else None,
                password=DEMO_PASSWORD,
                job_title=job_title,
                phone=phone,
                training_completed_on=datetime.date(2026, 1, 15),
            )
        if login.role == Role.PRACTITIONER:
            practitioners.append(user)
    # Further practitioners with accounts, so that children have several people involved.
    for index, authority in enumerate(authorities):
        for label, title in [
            ("Children's Social Care", "Social worker"),
            ("Health Visiting Service", "Health visitor"),
        ]:
            email = f"practitioner{index}.{label.split()[0].lower().strip(chr(39) + 's')}@demo.test"
            full_name, phone = fake.name(), fake.phone_number()
            user = User.objects.filter(email=email).first() or user_create(
                email=email,
                full_name=full_name,
                roles=[Role.PRACTITIONER],
                local_authority=authority,
                organisation=organisations[(authority.gss_code, label)],
                password=DEMO_PASSWORD,
                job_title=title,
                phone=phone,
                training_completed_on=datetime.date(2026, 2, 1),
            )
            practitioners.append(user)
    # A second factor every demo account can use: `manage.py demo_code EMAIL` prints its code.
    for user in User.objects.filter(email__endswith=DEMO_EMAIL_DOMAIN):
        demo_authenticator_ensure(user=user)
    return practitioners


def _status(rng: random.Random, today: datetime.date, date_of_birth: datetime.date | None) -> ProtectionStatus:
    if date_of_birth is None:
        start = today - datetime.timedelta(days=rng.randint(10, 120))
        return ProtectionStatus(
            kind=ProtectionStatus.Kind.UNBORN_CHILD_PROTECTION_PLAN,
            start_date=start,
            expected_delivery_date=today + datetime.timedelta(days=rng.randint(14, 150)),
            mother_given_names="Mother",
            mother_family_name="Demo",
        )
    # Most statuses are current; some ended within the retention window (still on the register).
    ended = rng.random() < 0.15
    end = today - datetime.timedelta(days=rng.randint(1, 330)) if ended else None
    if end is not None and end <= date_of_birth:
        end = None
    start = max(date_of_birth, (end or today) - datetime.timedelta(days=rng.randint(30, 900)))
    if rng.random() < 0.45:
        basis = rng.choice(list(ProtectionStatus.LegalBasis))
        return ProtectionStatus(
            kind=ProtectionStatus.Kind.LOOKED_AFTER, legal_basis=basis, start_date=start, end_date=end
        )
    return ProtectionStatus(kind=ProtectionStatus.Kind.CHILD_PROTECTION_PLAN, start_date=start, end_date=end)


def seed_demo(*, children: int, today: datetime.date) -> dict[str, int]:
    """Create the demo authorities, organisations, users and `children` children. Safe to
    run again: existing demo records are kept as they are, nothing is duplicated."""
    rng = random.Random(SEED)
    fake = Faker("en_GB")
    fake.seed_instance(SEED)
    created = 0
    with transaction.atomic():
        authorities = _authorities()
        organisations = _organisations(authorities)
        practitioners = _users(authorities, organisations, fake)
    for number in range(1, children + 1):
        # Draw every random value whether or not the child exists, so that the sequence
        # (and so each child) is the same on every run.
        authority = authorities[number % len(authorities)]
        unborn = number % 25 == 0
        sex = rng.choice([Sex.FEMALE, Sex.MALE])
        given = (
            rng.choice(GIVEN_NAMES[sex])
            if rng.random() < 0.35
            else (fake.first_name_female() if sex == Sex.FEMALE else fake.first_name_male())
        )
        family = rng.choice(FAMILY_NAMES) if rng.random() < 0.35 else fake.last_name()
        if rng.random() < 0.1:
            family = f"{family}-{fake.last_name()}"
        date_of_birth = None if unborn else today - datetime.timedelta(days=rng.randint(30, 17 * 365))
        nhs_number = nhs_number_synthetic(rng) if not unborn and rng.random() < 0.9 else None
        districts, town = PLACES[authority.gss_code]
        postcode = (
            f"{rng.choice(districts)} {rng.randint(1, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
        )
        street = fake.street_address()
        shielded = number % 40 == 7
        status = _status(rng, today, date_of_birth)
        alias = (OtherName.Kind.ALIAS, rng.choice(GIVEN_NAMES[sex]), family) if rng.random() < 0.15 else None
        former = (OtherName.Kind.PREVIOUS_SURNAME, "", fake.last_name()) if rng.random() < 0.1 else None
        involvement_draws = [(rng.choice(practitioners), rng.random(), rng.random()) for _ in range(3)]
        reference = f"DEMO-{number:06d}"
        if Child.objects.filter(responsible_local_authority=authority, la_reference=reference).exists():
            continue
        child = child_create(
            by=DEMO_LOADER,
            responsible_local_authority=authority,
            la_reference=reference,
            given_names="" if unborn else given,
            family_name=family,
            date_of_birth=date_of_birth,
            sex=Sex.NOT_KNOWN if unborn else sex,
            nhs_number=nhs_number,
            address_line_1=street,
            town=town,
            postcode=postcode,
            is_shielded=shielded,
            shielding_reason="Child in a refuge" if shielded else "",
            status=status,
            other_names=[name for name in (alias, former) if name],
            today=today,
        )
        created += 1
        _involvements(child, involvement_draws, organisations, status.start_date)
    return {"authorities": len(authorities), "children_created": created, "children_total": Child.objects.count()}


def _involvements(
    child: Child,
    draws: list[tuple[User, float, float]],
    organisations: dict[tuple[str, str], Organisation],
    start: datetime.date,
) -> None:
    seen: set[int] = set()
    for index, (practitioner, chance, _sensitive_chance) in enumerate(draws):
        if index > 0 and chance < 0.5:
            continue
        if practitioner.pk in seen:
            continue
        seen.add(practitioner.pk)
        is_health = practitioner.job_title == "Health visitor"
        involvement_add(
            by=DEMO_LOADER,
            child=child,
            involvement=Involvement(
                practitioner=practitioner,
                service_type=ServiceType.HEALTH_VISITING if is_health else ServiceType.SOCIAL_CARE,
                is_lead=index == 0 and not is_health,
                start_date=start,
            ),
        )
    if draws[0][2] < 0.12:
        code = child.responsible_local_authority.gss_code
        organisation = organisations[(code, "Integrated Sexual Health Service")]
        involvement_add(
            by=DEMO_LOADER,
            child=child,
            involvement=Involvement(
                contact_name="Duty clinician",
                contact_organisation=organisation,
                contact_organisation_name=organisation.name,
                contact_role="Sexual health nurse",
                contact_phone="0300 123 4567",
                service_type=ServiceType.SEXUAL_HEALTH,
                sensitive_category=involvement_sensitivity(service_type=ServiceType.SEXUAL_HEALTH),
                start_date=start,
            ),
        )
