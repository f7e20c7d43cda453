from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.authtoken.models import TokenProxy

from accounts.models import LocalAuthority, Organisation, User
from accounts.roles import Role
from accounts.services import USER_DETAIL_FIELDS, system_tokens_revoke, user_details_correct
from accounts.validators import validate_work_email
from audit.actor import Actor


def system_administrators_only(request: HttpRequest) -> bool:
    """The Django admin is a tool for system administrators only, whatever is_staff says."""
    user = request.user
    return bool(
        user.is_active and user.is_staff and isinstance(user, User) and user.has_role(Role.SYSTEM_ADMINISTRATOR)
    )


admin.site.has_permission = system_administrators_only  # type: ignore[method-assign]
admin.site.site_header = "Signposting register administration"

# Roles are groups, and a group's permissions are what a role may do: changing them here
# would write no audit event, so the generic group pages are not offered at all.
admin.site.unregister(Group)


# Credentials and sign-in records, which the packages' own admin pages would let anyone
# here change with no audit event: an authenticator added or deleted is a two-factor
# reset (accounts.services.user_two_factor_reset), a lockout record deleted is an unlock
# (user_unlock). Authenticators (their secrets) are not offered at all; sign-in attempts
# are shown read-only. API tokens: see SystemTokenAdmin below.
for authenticator in (TOTPDevice, StaticDevice):
    admin.site.unregister(authenticator)


def _read_only(model: Any) -> None:
    base = type(admin.site.get_model_admin(model))
    read_only = type(
        f"ReadOnly{base.__name__}",
        (base,),
        {
            "has_add_permission": lambda self, request, obj=None: False,
            "has_change_permission": lambda self, request, obj=None: False,
            "has_delete_permission": lambda self, request, obj=None: False,
        },
    )
    admin.site.unregister(model)
    admin.site.register(model, read_only)


for record in (AccessAttempt, AccessFailureLog, AccessLog):
    _read_only(record)


# A plain ModelAdmin, not guardian's GuardedModelAdmin: its object-permission pages grant a
# role's authority scope with no audit event. Scopes are granted with the role, through
# accounts.services, which audits them.
@admin.register(LocalAuthority)
class LocalAuthorityAdmin(admin.ModelAdmin[LocalAuthority]):
    list_display = ["name", "gss_code", "office_hours_phone", "out_of_hours_phone"]
    search_fields = ["name", "gss_code"]

    def get_readonly_fields(self, request: HttpRequest, obj: LocalAuthority | None = None) -> list[str]:
        # Scopes, the audit trail's authority index and the register key on the GSS code:
        # once an authority exists its code is fixed.
        return ["gss_code"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: LocalAuthority | None = None) -> bool:
        return False  # users, children and audit events name it


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "kind", "code", "local_authority"]
    list_filter = ["kind", "local_authority"]
    search_fields = ["name", "code"]

    def get_readonly_fields(self, request: HttpRequest, obj: Organisation | None = None) -> list[str]:
        # An organisation's sensitive service decides which involvements its people see,
        # and its authority whose user admins manage them: access, so fixed once it has
        # people (set when it is created).
        return ["sensitive_service", "local_authority"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Organisation | None = None) -> bool:
        return False


# Who may do what, and until when: each change of these is an audited action in
# accounts.services (role granted or revoked, deactivated, training recorded, expiry set,
# re-certified). The admin shows them but cannot change them, so none goes unaudited.
ACCESS_FIELDS = (
    "is_active",
    "is_staff",
    "groups",
    "training_completed_on",
    "expires_on",
    "recertified_on",
    "deactivation_reason",
    "deactivated_at",
)


class _WorkEmailMixin:
    """A new or changed email address must be a work address (ACCOUNTS_WORK_EMAIL_DOMAINS),
    as on the user admins' invitation page. An unchanged one is left alone, so that an
    account made before the rule (or a demo account) can still have its name corrected."""

    cleaned_data: dict[str, object]
    changed_data: list[str]

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).lower()
        if "email" in self.changed_data:
            validate_work_email(email)
        return email


class UserAdminChangeForm(_WorkEmailMixin, UserChangeForm):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields = ("email", "full_name", "job_title", "phone", "organisation", "local_authority")


@admin.register(User)
# django-stubs types UserAdmin for AbstractUser subclasses only; ours is AbstractBaseUser.
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg]
    form = UserAdminChangeForm
    ordering = ["email"]
    list_display = ["email", "full_name", "local_authority", "organisation", "is_active", "is_system_account"]
    list_filter = ["is_active", "groups", "local_authority"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "job_title", "phone", "organisation", "local_authority")}),
        ("Access (changed through the user admin pages and services, which audit it)", {"fields": ACCESS_FIELDS}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
        # A case-management system, not a person (docs/cms-api.md): set only by
        # create_cms_account, shown here, never changed.
        ("Kind", {"fields": ("is_system_account",)}),
    )
    # The authority and organisation decide who manages the user and what they may see.
    readonly_fields = (
        *ACCESS_FIELDS,
        "organisation",
        "local_authority",
        "last_login",
        "date_joined",
        "is_system_account",
    )

    # People are invited by user admins or created with `manage.py create_user`, passwords are
    # set by the person through a one-time link, and accounts are deactivated, never deleted
    # (the trail names them): each is an audited service, which these admin pages would bypass.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return False

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        raise PermissionDenied("Passwords are set by their owner through a one-time link")

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool) -> None:
        """A correction of the person's own details, saved and audited by accounts.services."""
        assert change  # there is no add page
        assert isinstance(request.user, User)
        fields = [name for name in form.changed_data if name in USER_DETAIL_FIELDS]
        user_details_correct(by=Actor.from_request(request, user=request.user), user=obj, fields=fields)


# Plain-text REST framework tokens are accepted nowhere (migration accounts 0006 deleted
# them); the app stays installed only for that migration, so its admin is not offered.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)
# Knox's own admin would issue tokens to anyone, unaudited. Here tokens are only listed and
# revoked (audited, accounts.services.system_tokens_revoke); they are issued by command.
admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class SystemTokenAdmin(admin.ModelAdmin[AuthToken]):
    list_display = ["token_key", "user", "created", "expiry"]
    search_fields = ["token_key", "user__email"]
    fields = ("token_key", "user", "created", "expiry")
    readonly_fields = ("token_key", "user", "created", "expiry")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuthToken | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: AuthToken) -> None:
        self._revoke(request, [obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AuthToken]) -> None:
        self._revoke(request, list(queryset.select_related("user")))

    def _revoke(self, request: HttpRequest, tokens: list[AuthToken]) -> None:
        assert isinstance(request.user, User)
        keys_by_account: dict[int, tuple[User, list[str]]] = {}
        for token in tokens:
            keys_by_account.setdefault(token.user.pk, (token.user, []))[1].append(token.token_key)
        for account, keys in keys_by_account.values():
            system_tokens_revoke(by=Actor.from_request(request, user=request.user), account=account, token_keys=keys)
