import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.models import LocalAuthority, Organisation, SensitiveCategory
from registry.identity import (
    REGISTER_ID_PATTERN,
    involvement_sensitivity,
    register_id_generate,
    validate_nhs_number,
)

# The choices live with the rule that reads sex codes (registry.identity); models
# re-export them, so that every `from registry.models import Sex` keeps working.
from registry.identity import Sex as Sex


class NameKeyFields(models.Model):
    """Matching keys kept in step with the name by registry.children.services (never set by hand)."""

    given_names_normalised = models.CharField(max_length=200, blank=True, editable=False)
    family_name_normalised = models.CharField(max_length=200, blank=True, editable=False)
    given_name_phonetic = models.CharField(max_length=64, blank=True, editable=False)
    family_name_phonetic = models.CharField(max_length=64, blank=True, editable=False)
    # Search's blocking keys (registry.matching.selectors), indexed together with the date of birth
    # (on OtherName, the child's, copied there). Search never looks up the whole-name keys
    # above: none of those carries an index for an import to keep up.
    family_name_first_phonetic = models.CharField(max_length=64, blank=True, editable=False)
    family_name_last_phonetic = models.CharField(max_length=64, blank=True, editable=False)
    name_initials = models.CharField(max_length=2, blank=True, editable=False)

    class Meta:
        abstract = True


class Child(NameKeyFields):
    """A child known to be at risk: on the register while a status is current or recently
    ended, and under 18 (registry.children.eligibility). An unborn child has no date of birth yet."""

    register_id = models.CharField(
        "register ID", max_length=14, unique=True, default=register_id_generate, editable=False
    )
    # NULL, not "", when unknown: the unique constraint must allow many children without one.
    nhs_number = models.CharField(  # noqa: DJ001
        "NHS number", max_length=10, null=True, blank=True, validators=[validate_nhs_number]
    )
    responsible_local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="children")
    # The responsible authority's own case reference, used to keep imports idempotent.
    la_reference = models.CharField("local authority reference", max_length=64, blank=True)
    given_names = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=16, choices=Sex.choices, default=Sex.NOT_KNOWN)
    address_line_1 = models.CharField(max_length=200, blank=True)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=8, blank=True, db_index=True)
    is_shielded = models.BooleanField(
        "shielded", default=False, help_text="Address, postcode and services are never shown to ordinary users"
    )
    shielding_reason = models.CharField(max_length=200, blank=True)
    date_of_death = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic locking: every write through the services increments this.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name_plural = "children"
        indexes = [
            # Children born on some dates (feeds.ingestion's births without an NHS number, the
            # dashboard's possible duplicates). Search no longer reads it: other names carry
            # the child's date of birth (OtherName.child_date_of_birth) and their own indexes.
            models.Index(fields=["date_of_birth", "id"], name="child_dob_id_idx"),
            # Search looks up "this key AND one of these ~30 dates": one index per key.
            models.Index(fields=["family_name_first_phonetic", "date_of_birth"], name="child_surname_first_dob_idx"),
            models.Index(fields=["family_name_last_phonetic", "date_of_birth"], name="child_surname_last_dob_idx"),
            models.Index(fields=["name_initials", "date_of_birth"], name="child_initials_dob_idx"),
            models.Index(fields=["given_name_phonetic", "date_of_birth"], name="child_given_dob_idx"),
            # A date of birth wrong altogether: both name keys, then a range of years of birth.
            models.Index(
                fields=["family_name_first_phonetic", "given_name_phonetic", "date_of_birth"],
                name="child_first_given_dob_idx",
            ),
            models.Index(
                fields=["family_name_last_phonetic", "given_name_phonetic", "date_of_birth"],
                name="child_last_given_dob_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["nhs_number"], condition=Q(nhs_number__isnull=False), name="child_unique_nhs_number"
            ),
            models.UniqueConstraint(
                fields=["responsible_local_authority", "la_reference"],
                condition=~Q(la_reference=""),
                name="child_unique_la_reference",
            ),
            models.CheckConstraint(
                condition=Q(nhs_number__regex=r"^[0-9]{10}$") | Q(nhs_number__isnull=True),
                name="child_nhs_number_digits",
            ),
            models.CheckConstraint(
                condition=Q(register_id__regex=f"^{REGISTER_ID_PATTERN}$"), name="child_register_id_format"
            ),
            models.CheckConstraint(
                condition=Q(is_shielded=False) | ~Q(shielding_reason=""), name="child_shielding_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(date_of_death__isnull=True)
                | Q(date_of_birth__isnull=True)
                | Q(date_of_death__gte=F("date_of_birth")),
                name="child_death_not_before_birth",
            ),
        ]

    def __str__(self) -> str:
        return f"Child {self.register_id}"

    @property
    def is_deceased(self) -> bool:
        return self.date_of_death is not None


class OtherName(NameKeyFields):
    """A name the child is or was also known by. Searched like the main name."""

    class Kind(models.TextChoices):
        ALIAS = "alias", "Also known as"
        FORMER_NAME = "former_name", "Former name"
        PREVIOUS_SURNAME = "previous_surname", "Previous surname"
        BIRTH_NAME = "birth_name", "Name at birth"

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="other_names")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ALIAS)
    given_names = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    # The child's date of birth, copied here and kept in step by the services that change a
    # child's date of birth or add its other names (registry.children.services
    # .other_names_date_of_birth_follow), so that search looks other names up as it looks
    # children up: "this key AND one of these dates" on one index, reading only the names
    # that share a key, not every child born that day (1,800 a day at 11 million).
    child_date_of_birth = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        # Search's other-names block (registry.matching.selectors._Conditions.add_other_names).
        indexes = [
            models.Index(fields=["family_name_first_phonetic", "child_date_of_birth"], name="other_first_dob_idx"),
            models.Index(fields=["family_name_last_phonetic", "child_date_of_birth"], name="other_last_dob_idx"),
            models.Index(fields=["name_initials", "child_date_of_birth"], name="other_initials_dob_idx"),
            models.Index(fields=["given_name_phonetic", "child_date_of_birth"], name="other_given_dob_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(given_names="") | ~Q(family_name=""), name="other_name_not_empty"),
            models.UniqueConstraint(fields=["child", "kind", "given_names", "family_name"], name="other_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.child_id}"


class ProtectionStatus(models.Model):
    """Why the child is on the register: type and dates only, never the reasons."""

    class Kind(models.TextChoices):
        CHILD_PROTECTION_PLAN = "cpp", "Child protection plan"
        LOOKED_AFTER = "looked_after", "Looked after"
        UNBORN_CHILD_PROTECTION_PLAN = "unborn_cpp", "Unborn child protection plan"

    class LegalBasis(models.TextChoices):
        CARE_ORDER = "s31", "Care order (Children Act 1989 s31)"
        INTERIM_CARE_ORDER = "s38", "Interim care order (s38)"
        VOLUNTARY = "s20", "Voluntary accommodation (s20)"
        OTHER = "other", "Other legal basis"

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="statuses")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    legal_basis = models.CharField(max_length=8, choices=LegalBasis.choices, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    responsible_local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="+")
    # Unborn plans are recorded against the mother until the birth is registered.
    expected_delivery_date = models.DateField(null=True, blank=True)
    mother_given_names = models.CharField(max_length=100, blank=True)
    mother_family_name = models.CharField(max_length=100, blank=True)
    mother_date_of_birth = models.DateField(null=True, blank=True)
    mother_nhs_number = models.CharField(max_length=10, blank=True, validators=[validate_nhs_number])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "protection statuses"
        ordering = ["-start_date"]
        # A practitioner's search for an unborn child by the mother
        # (registry.matching.selectors.unborn_search): pre-birth plans only.
        indexes = [
            models.Index(
                fields=["mother_nhs_number"], condition=Q(kind="unborn_cpp"), name="status_unborn_mother_nhs_idx"
            ),
            models.Index(
                fields=["mother_date_of_birth"], condition=Q(kind="unborn_cpp"), name="status_unborn_mother_dob_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="status_end_not_before_start",
            ),
            models.CheckConstraint(
                condition=~Q(kind="unborn_cpp") | Q(expected_delivery_date__isnull=False),
                name="status_unborn_has_expected_delivery_date",
            ),
            models.CheckConstraint(
                condition=~Q(kind="looked_after") | ~Q(legal_basis=""), name="status_looked_after_has_legal_basis"
            ),
            models.CheckConstraint(
                condition=Q(kind="looked_after") | Q(legal_basis=""), name="status_legal_basis_only_when_looked_after"
            ),
            models.UniqueConstraint(fields=["child", "kind", "start_date"], name="status_unique_per_start"),
            # At most one current status of each kind per child; the full no-overlap rule
            # (ended ones too) is registry.children.status_rules, which every way in calls.
            models.UniqueConstraint(
                fields=["child", "kind"],
                condition=Q(end_date__isnull=True),
                name="status_one_current_per_kind",
                violation_error_message="This child already has a current status of this kind. End it first",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.start_date}"

    def is_current(self, *, on: "object") -> bool:
        return self.end_date is None or self.end_date >= on  # type: ignore[operator]


class ServiceType(models.TextChoices):
    SOCIAL_CARE = "social_care", "Children's social care"
    HEALTH_VISITING = "health_visiting", "Health visiting"
    SCHOOL_NURSING = "school_nursing", "School nursing"
    EDUCATION = "education", "School or education"
    GP = "gp", "GP"
    HOSPITAL = "hospital", "Hospital"
    POLICE = "police", "Police"
    YOUTH_JUSTICE = "youth_justice", "Youth justice"
    SEXUAL_HEALTH = "sexual_health", "Sexual health service"
    MENTAL_HEALTH = "mental_health", "Mental health service"
    SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse service"
    VOLUNTARY = "voluntary", "Voluntary sector"
    OTHER = "other", "Other"


class Involvement(models.Model):
    """Someone working with the child: a practitioner with an account, or an external
    contact recorded by the authority. Signposting only: who, where, how to reach them."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="involvements")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="involvements"
    )
    contact_name = models.CharField(max_length=150, blank=True)
    contact_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    contact_organisation_name = models.CharField(max_length=200, blank=True)
    contact_role = models.CharField(max_length=120, blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    contact_email = models.EmailField(blank=True)
    service_type = models.CharField(max_length=24, choices=ServiceType.choices)
    sensitive_category = models.CharField(
        max_length=20, choices=SensitiveCategory.choices, default=SensitiveCategory.NONE, blank=True
    )
    is_lead = models.BooleanField("lead practitioner", default=False)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the responsible authority's mailbox was told of this involvement (once only).
    authority_notified_at = models.DateTimeField(null=True, blank=True)
    # When a register manager or the practitioner last said they are still working with the
    # child (None: not since the involvement was recorded). The dashboard counts current
    # involvements confirmed neither at recording nor since for 12 months as stale.
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-is_lead", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="involvement_end_not_before_start",
            ),
            models.CheckConstraint(
                condition=(Q(practitioner__isnull=False) & Q(contact_name=""))
                | (Q(practitioner__isnull=True) & ~Q(contact_name="")),
                name="involvement_practitioner_or_contact",
            ),
            models.UniqueConstraint(
                fields=["child"], condition=Q(is_lead=True, end_date__isnull=True), name="involvement_one_current_lead"
            ),
            models.UniqueConstraint(
                fields=["child", "practitioner"],
                condition=Q(practitioner__isnull=False, end_date__isnull=True),
                name="involvement_one_current_per_practitioner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_type_display()} involvement with {self.child_id}"

    @property
    def sensitivity(self) -> str:
        """The sensitive category ("" if none), by the one rule: a row recorded before the
        rule looked at the service is still read as sensitive when its service is."""
        return involvement_sensitivity(
            service_type=self.service_type, organisation_sensitive_service=self.sensitive_category
        )

    @property
    def is_sensitive(self) -> bool:
        return bool(self.sensitivity)


class Notification(models.Model):
    """An in-app message to one user about a child they work with; also emailed."""

    class Kind(models.TextChoices):
        INVOLVEMENT_MATCH = "involvement_match", "Another practitioner is working with a child you work with"
        TRANSFERRED_IN = "transferred_in", "A child has transferred into your authority"
        TRANSFERRED_OUT = "transferred_out", "A child has transferred out of your authority"
        DEATH_REGISTERED = "death_registered", "A death has been registered for a child you work with"
        DEATH_CANCELLED = "death_cancelled", "A death registration has been cancelled"
        FEED_REVIEW = "feed_review", "A registration needs review"
        REMOVAL_DUE = "removal_due", "A child is due to leave the register"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    # CASCADE: removing a child from the register removes every message that names them.
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for user {self.recipient_id}"


class AccessNotice(models.Model):
    """A look-up of a child by someone outside the responsible authority, waiting to be
    sent to that authority in its daily digest."""

    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="access_notices")
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="access_notices")
    accessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    accessed_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=20)
    digest_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["accessed_at"]
        indexes = [models.Index(fields=["local_authority", "digest_sent_at"])]

    def __str__(self) -> str:
        return f"Access to {self.child_id} by user {self.accessed_by_id}"


class RemovalRule(models.TextChoices):
    """Why a child leaves the register. Each rule is documented in docs/removal.md."""

    STATUSES_ENDED = "statuses_ended", "Last status ended more than the retention period ago"
    EIGHTEENTH_BIRTHDAY = "eighteenth_birthday", "Reached their 18th birthday"
    UNBORN_NO_BIRTH = "unborn_no_birth", "Unborn child's plan with no birth matched after the expected delivery date"
    DEATH = "death", "Registered death, after the grace period"
    MANUAL = "manual", "Removed by the responsible local authority"


class ManualRemovalReason(models.TextChoices):
    WRONGLY_ADDED = "wrongly_added", "Wrongly added"
    DUPLICATE_MERGED = "duplicate_merged", "Duplicate merged into another record"
    OTHER = "other", "Other"


class LegalHold(models.Model):
    """A hold (for example a public inquiry) that stops every removal rule until lifted.
    Set and lifted by a system administrator; a child may be under more than one hold."""

    # CASCADE: a hold only ever deletes with its child, and removal refuses while one is active.
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="legal_holds")
    reason = models.CharField(max_length=300)
    reference = models.CharField(max_length=120)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-set_at"]
        indexes = [models.Index(fields=["child", "lifted_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True) | Q(lifted_at__gte=F("set_at")), name="legal_hold_lift_after_set"
            ),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True, lifted_by__isnull=True)
                | Q(lifted_at__isnull=False, lifted_by__isnull=False),
                name="legal_hold_lift_has_actor",
            ),
        ]

    def __str__(self) -> str:
        return f"Legal hold {self.reference} on child {self.child_id}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class RemovalReceipt(models.Model):
    """What is left of a child after removal: the pseudonymous register ID, the rule, the date
    and the counts of what was deleted. It holds no personal data by design."""

    register_id = models.CharField(max_length=14, unique=True)
    responsible_local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="+")
    rule = models.CharField(max_length=24, choices=RemovalRule.choices)
    manual_reason = models.CharField(max_length=20, choices=ManualRemovalReason.choices, blank=True)
    due_on = models.DateField(null=True, blank=True)
    removed_at = models.DateTimeField()
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # {"registry.Child": 1, "registry.OtherName": 2, ...}: counts only, never content.
    deleted_counts = models.JSONField(default=dict)
    run_id = models.UUIDField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-removed_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(rule="manual") | ~Q(manual_reason=""), name="removal_receipt_manual_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"Removal receipt {self.register_id}"


class ChildTransfer(models.Model):
    """Responsibility for a child passing from one authority to another. The child's
    statuses keep the authority that held them, so the history stays readable."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="transfers")
    from_local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="+")
    to_local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="+")
    transferred_on = models.DateField()
    transferred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-transferred_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_local_authority=F("to_local_authority")), name="child_transfer_between_authorities"
            ),
        ]

    def __str__(self) -> str:
        return f"Transfer of child {self.child_id}"


# --- File jobs: a file processed by a Celery worker (docs/adr/0003, docs/data-model.md) -----
# A bulk upload (registry.intake) and a GRO feed file (feeds) are claimed, kept alive,
# finished, failed and found stalled in the same way, by registry.file_jobs.


class FileJob(models.Model):
    """What a file processed by a Celery worker has in common: where it stands, who holds
    it, when it last showed a sign of life. A concrete model may add states of its own
    (an operator's stop) and its own progress counters; registry.file_jobs sets only the
    states below."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting to start"
        RUNNING = "running", "Running"
        DONE = "done", "Finished"
        FAILED = "failed", "Failed"

    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    # Rows (data lines, the header excluded); known once the worker has counted them.
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    failure = models.CharField(max_length=300, blank=True)
    # How many times a worker has started on the job: one that kills every worker that
    # takes it (too big, a poison line) is failed after a limit, not handed out for ever.
    deliveries = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The worker holding the job says so at least every few seconds, naming itself (its
    # Celery task id); cleared when it finishes or lets go. An old heartbeat means the
    # worker is gone, and another may claim the job.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    heartbeat_by = models.CharField(max_length=64, blank=True)

    # Times that show the job alive, newest wins; the last is the job's creation, never empty.
    SIGNS_OF_LIFE: ClassVar[tuple[str, ...]] = ("heartbeat_at", "progress_at", "started_at", "created_at")

    class Meta:
        abstract = True


class BulkUpload(FileJob):
    """An import CSV uploaded in the browser by a register manager, processed by a Celery
    task. Progress is read by the browser; the validation report is downloadable."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="bulk_uploads")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Stored under MEDIA/uploads with a random name; deleted once processed.
    file = models.FileField(upload_to="uploads/", blank=True)
    original_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64)
    # state, rows_total, failure, deliveries, the times and the heartbeat: FileJob.
    rows_done = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    # [{"line": 12, "field": "date_of_birth", "reason": "..."}]: no row content is copied.
    report = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Bulk upload {self.id}"


class IdempotencyRecord(models.Model):
    """The stored answer to an API write sent with an Idempotency-Key header: the same key
    from the same account returns this answer again instead of writing twice."""

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    # SHA-256 of method, path and body: the same key with a different request is refused.
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="idempotency_unique_account_key")]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"Idempotency key for account {self.account_id}"


# --- Dashboard summary tables (issue 17, docs/dashboard.md) --------------------------------
# Kept by registry.dashboard.refresh from a Celery beat task; the dashboard pages read only
# these, so that they answer quickly however large the register and the audit trail grow.


class DashboardEventCount(models.Model):
    """How many times something happened for one authority in one period (a week starting
    Monday, or a month starting on the 1st): added to incrementally, never recounted."""

    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.CASCADE, related_name="+")
    figure = models.CharField(max_length=40)
    period = models.DateField()
    # What the count is broken down by (a reason, a channel, an outcome), or "" for none.
    key = models.CharField(max_length=40, blank=True)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["local_authority", "figure", "period", "key"], name="dashboard_event_count_unique"
            ),
        ]
        indexes = [models.Index(fields=["figure", "period"], name="dashboard_event_figure_idx")]

    def __str__(self) -> str:
        return f"{self.figure} {self.key} in {self.period}: {self.count}"


class DashboardSnapshot(models.Model):
    """A count of the register as it stood at the last refresh (children by status, data
    quality): replaced whole for every authority at each refresh."""

    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.CASCADE, related_name="+")
    figure = models.CharField(max_length=40)
    key = models.CharField(max_length=40, blank=True)
    count = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["local_authority", "figure", "key"], name="dashboard_snapshot_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.figure} {self.key}: {self.count}"


class DashboardBookmark(models.Model):
    """How far the refresh has read one source table (by id): the refresh is resumable and
    never counts the same row twice."""

    source = models.CharField(max_length=40, unique=True)
    last_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Dashboard bookmark {self.source} at {self.last_id}"


class DashboardOpenedSearch(models.Model):
    """A search whose result of this authority's was opened, counted once however many of
    its results were opened. Only needed while a search can still be opened from (the
    lookup reason's lifetime), so rows older than a day are pruned."""

    search_event_id = models.BigIntegerField()
    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField()
    # False until added to the weekly count (the refresh inserts, then counts what is new).
    counted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["search_event_id", "local_authority"], name="dashboard_opened_search_unique"
            ),
        ]
        indexes = [models.Index(fields=["opened_at"], name="dashboard_opened_at_idx")]

    def __str__(self) -> str:
        return f"Search {self.search_event_id} opened"


class DuplicatePair(models.Model):
    """Two children of the same authority that the matcher grades as the same child (exact)
    or likely the same, found by the dashboard refresh for a register manager to resolve:
    either remove one as a duplicate, or say they are different children."""

    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.CASCADE, related_name="+")
    # The lower primary key first, so that a pair is stored once.
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    other_child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    grade = models.CharField(max_length=10)
    reasons = models.JSONField(default=list)
    found_at = models.DateTimeField()
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["found_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["child", "other_child"], name="duplicate_pair_unique"),
            models.CheckConstraint(condition=Q(child__lt=F("other_child")), name="duplicate_pair_ordered"),
            models.CheckConstraint(
                condition=Q(dismissed_at__isnull=True, dismissed_by__isnull=True)
                | Q(dismissed_at__isnull=False, dismissed_by__isnull=False),
                name="duplicate_pair_dismissal_has_actor",
            ),
        ]
        indexes = [models.Index(fields=["local_authority", "dismissed_at"], name="duplicate_pair_open_idx")]

    def __str__(self) -> str:
        return f"Possible duplicate {self.child_id} and {self.other_child_id}"
