from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from accounts.roles import Role
from accounts.validators import validate_gss_code


class LocalAuthority(models.Model):
    """An English local authority with children's services responsibilities."""

    gss_code = models.CharField("GSS code", max_length=9, unique=True, validators=[validate_gss_code])
    name = models.CharField(max_length=120)
    office_hours_phone = models.CharField(max_length=32)
    out_of_hours_phone = models.CharField("out-of-hours (emergency duty team) phone", max_length=32)
    secure_email = models.EmailField()

    class Meta:
        verbose_name_plural = "local authorities"
        ordering = ["name"]
        permissions = [
            ("manage_register", "Can maintain this authority's children on the register"),
            ("manage_users", "Can manage this authority's users"),
            ("audit_access", "Can audit access to this authority's children"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(gss_code__regex=r"^E(06|07|08|09|10)[0-9]{6}$"),
                name="local_authority_gss_code_format",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SensitiveCategory(models.TextChoices):
    """Services whose involvement with a child is itself sensitive: shown only to users of
    an organisation that provides the same kind of service."""

    NONE = "", "Not sensitive"
    SEXUAL_HEALTH = "sexual_health", "Sexual health"
    MENTAL_HEALTH = "mental_health", "Mental health"
    SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse"


class Organisation(models.Model):
    class Kind(models.TextChoices):
        CHILDRENS_SOCIAL_CARE = "childrens_social_care", "Children's social care"
        SCHOOL = "school", "School"
        GP_PRACTICE = "gp_practice", "GP practice"
        HOSPITAL_TRUST = "hospital_trust", "Hospital trust"
        HEALTH_VISITING = "health_visiting", "Health visiting"
        POLICE = "police", "Police"
        YOUTH_JUSTICE = "youth_justice", "Youth justice"
        VOLUNTARY_SECTOR = "voluntary_sector", "Voluntary sector"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    code = models.CharField("ODS code or URN", max_length=16, blank=True)
    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="organisations")
    sensitive_service = models.CharField(
        max_length=20,
        choices=SensitiveCategory.choices,
        blank=True,
        default=SensitiveCategory.NONE,
        help_text="The sensitive service this organisation provides, if any",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "code"], condition=~models.Q(code=""), name="organisation_unique_code_per_kind"
            ),
            models.UniqueConstraint(fields=["local_authority", "name"], name="organisation_unique_name_per_authority"),
        ]

    def __str__(self) -> str:
        return self.name


class DeactivationReason(models.TextChoices):
    NONE = "", "Active"
    BY_ADMIN = "by_admin", "Deactivated by a user admin"
    NOT_RECERTIFIED = "not_recertified", "Suspended: not re-certified in time"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who uses the register. Logs in with their work email address."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    job_title = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    local_authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    # Recorded at vetting, normalised like Child.postcode; used only by the auditors' anomaly
    # flag for look-ups near the user's own home. Never shown to other users.
    home_postcode = models.CharField(max_length=8, blank=True)
    training_completed_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    # The last time a user admin confirmed this person still needs access (None: since
    # joining). See accounts.selectors.recertification_due_on.
    recertified_on = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivation_reason = models.CharField(
        max_length=20, choices=DeactivationReason.choices, blank=True, default=DeactivationReason.NONE
    )
    # Django admin access; granted only with the system administrator role (services).
    is_staff = models.BooleanField(default=False)
    # A local authority's case-management system, not a person: it holds only the register
    # manager role for its one authority, signs in with an API token on the case-management
    # API only, and is never listed, changed or invited by user admins (accounts.services).
    is_system_account = models.BooleanField(default=False, editable=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def role_names(self) -> set[str]:
        # Cached per instance: role checks run several times per request.
        if not hasattr(self, "_role_names"):
            self._role_names = set(self.groups.values_list("name", flat=True))
        return self._role_names

    def has_role(self, role: Role) -> bool:
        return self.is_active and role.value in self.role_names

    @property
    def roles(self) -> list[Role]:
        return [role for role in Role if role.value in self.role_names]

    @property
    def is_trained(self) -> bool:
        return self.training_completed_on is not None

    def is_expired(self, *, today: Any = None) -> bool:
        return self.expires_on is not None and self.expires_on < (today or timezone.localdate())


class Invitation(models.Model):
    """A one-time link to set a password. Only a hash of the token is stored, so a copy of
    the database cannot be used to take over an invited account."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    # Set when a newer invitation replaces this one or the account is deactivated.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")), name="invitation_expires_after_creation"
            )
        ]

    def __str__(self) -> str:
        return f"Invitation {self.pk}"

    def is_usable(self, *, now: Any = None) -> bool:
        moment = now or timezone.now()
        return self.accepted_at is None and self.withdrawn_at is None and self.expires_at > moment


class UserSession(models.Model):
    """Which sessions belong to which user, so that all of a user's sessions can be ended at
    once (deactivation, password change, two-factor reset) without reading every session."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Session of user {self.user_id}"


# --- The email outbox (accounts.services_outbox, docs/operations.md "Email outbox") -------------------


class OutboundEmail(models.Model):
    """One email to one address. A row exists only if the change that caused it committed,
    and it stays until it is sent (sent_at), so a broker or mail-server outage delays an
    email but never loses it. Sent rows are purged after OUTBOX_SENT_RETENTION_DAYS."""

    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    # When the next delivery may try it: now when written, later after a failed attempt.
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    # The exception's class only: a mail server's message can quote the address.
    last_error = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set after OUTBOX_MAX_ATTEMPTS failures: no longer tried until an operator retries it.
    given_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The delivery task's query: pending rows due now, oldest first.
            models.Index(
                fields=["next_attempt_at", "id"],
                name="outbox_pending_due",
                condition=models.Q(sent_at__isnull=True, given_up_at__isnull=True),
            ),
            models.Index(fields=["sent_at"], name="outbox_sent_at"),
        ]

    def __str__(self) -> str:
        return f"Email {self.pk} ({'sent' if self.sent_at else 'pending'})"
