from base64 import b32encode
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.forms import (
    ExpiryForm,
    HomePostcodeForm,
    InviteForm,
    NewPasswordForm,
    PasswordChangeForm,
    RoleForm,
    SignInForm,
    TrainingForm,
    TwoFactorCodeForm,
    TwoFactorEnrolForm,
)
from accounts.lockout import sign_in_refused_for_address
from accounts.middleware import two_factor_not_required
from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.selectors import (
    ROLES_GRANTABLE_BY_USER_ADMIN,
    invitation_by_token,
    invitation_pending_for,
    invitations_pending,
    local_authorities_for_role,
    outbound_emails_given_up,
    recertification_due_on,
    recertification_is_due,
    roles_grantable,
    user_admin_may_change,
    user_has_two_factor,
    user_holds_role_beyond_user_admin,
    user_is_locked_out,
    user_managed_by,
    users_managed_by,
)
from accounts.services import session_key_rotated
from audit.actor import Actor

BACKUP_CODES_SESSION_KEY = "accounts_backup_codes"


def _signed_in_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _safe_next(request: HttpRequest, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse(default)


def _two_factor_complete(request: HttpRequest, device: Any) -> None:
    """Mark the session verified by `device`, under a new session key: the session has
    gained privileges, so any key seen before this moment stops working."""
    user = _signed_in_user(request)
    previous = request.session.session_key
    request.session.cycle_key()
    session_key_rotated(session=request.session, user=user, previous_key=previous)
    otp_login(request, device)


# --- Signing in and out ----------------------------------------------------------------------


@method_decorator([login_not_required, two_factor_not_required], name="dispatch")
class SignInView(auth_views.LoginView):
    """The password step. django-axes counts failures (AuthenticationForm passes the request
    to authenticate()); the code step follows."""

    form_class = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Too many failures from this address, to any accounts: refused before any password
        # is checked, for the cool-off (accounts.lockout).
        if sign_in_refused_for_address(request=request):
            minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
            context = {"address_refused": True, "cooloff_minutes": minutes}
            return render(request, "registration/locked_out.html", context, status=429)
        return super().post(request, *args, **kwargs)

    def get_success_url(self) -> str:
        target = "accounts:two_factor_verify"
        if not user_has_two_factor(user=_signed_in_user(self.request)):
            target = "accounts:two_factor_enrol"
        return f"{reverse(target)}?{urlencode({'next': self.get_redirect_url() or reverse('home')})}"


@method_decorator(two_factor_not_required, name="dispatch")
class SignOutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


@never_cache
@two_factor_not_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The code step: a code from the user's authenticator, or one backup code."""
    user = _signed_in_user(request)
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(_safe_next(request))
    if not user_has_two_factor(user=user):
        return redirect("accounts:two_factor_enrol")
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, method, throttled = _device_matching(user=user, code=form.cleaned_data["code"])
        services.two_factor_attempt_record(
            by=Actor.from_request(request, user=user), succeeded=device is not None, method=method
        )
        if device is not None:
            _two_factor_complete(request, device)
            if method == "backup_code":
                messages.info(request, "You used a backup code. Each backup code works only once.")
            return redirect(_safe_next(request))
        if throttled:
            form.add_error("code", "There have been several wrong codes. Wait a few seconds, then try again")
        else:
            form.add_error(
                "code", "The security code is not correct, or has run out. Enter the code your app shows now"
            )
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _safe_next(request)})


def _device_matching(*, user: User, code: str) -> tuple[Any, str, bool]:
    """The device that accepts the code, the kind of code, and whether django-otp's
    throttling (a delay that doubles with each wrong code) refused to check it."""
    method = "authenticator" if code.isdigit() and len(code) == 6 else "backup_code"
    model: Any = TOTPDevice if method == "authenticator" else StaticDevice
    throttled = False
    for device in model.objects.filter(user=user, confirmed=True):
        allowed, _ = device.verify_is_allowed()
        throttled = throttled or not allowed
        if allowed and device.verify_token(code):
            return device, method, False
    return None, method, throttled


@never_cache
@two_factor_not_required
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the key), then prove it works
    with a code. Only for a user who has none: a lost device is reset by a user admin."""
    user = _signed_in_user(request)
    if user_has_two_factor(user=user):
        return redirect("accounts:two_factor_verify")
    device = services.two_factor_device_pending(user=user)
    form = TwoFactorEnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = services.two_factor_enrol(
            by=Actor.from_request(request, user=user), device=device, token=form.cleaned_data["code"]
        )
        if codes is not None:
            _two_factor_complete(request, device)
            request.session[BACKUP_CODES_SESSION_KEY] = codes
            return redirect(f"{reverse('accounts:two_factor_backup_codes')}?{urlencode({'next': _safe_next(request)})}")
        form.add_error("code", "The code is not correct. Check your app and enter the code it shows now")
    return render(
        request,
        "registration/two_factor_enrol.html",
        {
            "form": form,
            "qr_svg": _qr_svg(device.config_url),
            "secret": _grouped_key(device),
            "next": _safe_next(request),
        },
    )


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = str(image.to_string(encoding="unicode"))
    # Generated from our own otpauth URL, never from user input.
    return mark_safe(svg)  # noqa: S308


def _grouped_key(device: Any) -> str:
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@never_cache
def two_factor_backup_codes(request: HttpRequest) -> HttpResponse:
    """The backup codes, shown once, straight after setting up the authenticator."""
    codes = request.session.pop(BACKUP_CODES_SESSION_KEY, None)
    if not codes:
        return redirect(_safe_next(request))
    return render(request, "registration/two_factor_backup_codes.html", {"codes": codes, "next": _safe_next(request)})


@never_cache
@login_not_required
@two_factor_not_required
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link: choose a password, then set up two-factor."""
    invitation = invitation_by_token(token=token)
    if invitation is None or not invitation.is_usable() or not invitation.user.is_active:
        return render(request, "registration/invitation_unusable.html", status=410 if invitation else 404)
    form = NewPasswordForm(request.POST or None, user=invitation.user)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                by=Actor.from_request(request, user=None),
                invitation=invitation,
                password=form.cleaned_data["new_password1"],
            )
        except ValidationError:
            return render(request, "registration/invitation_unusable.html", status=410)
        login(request, user, backend="accounts.backends.PeopleOnlyBackend")
        return redirect("accounts:two_factor_enrol")
    return render(request, "registration/invitation_accept.html", {"form": form, "invited": invitation.user})


@never_cache
def password_change(request: HttpRequest) -> HttpResponse:
    user = _signed_in_user(request)
    form = PasswordChangeForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        services.user_password_change(
            by=Actor.from_request(request, user=user), password=form.cleaned_data["new_password1"]
        )
        # Every session has ended, this one too: sign in again with the new password.
        request.session.flush()
        messages.success(request, "Your password has been changed. Sign in with your new password.")
        return redirect("accounts:login")
    return render(request, "registration/password_change.html", {"form": form})


def your_details(request: HttpRequest) -> HttpResponse:
    """The user's own details they may record themselves: their home postcode."""
    user = _signed_in_user(request)
    form = HomePostcodeForm(request.POST or None, initial={"home_postcode": user.home_postcode})
    if request.method == "POST" and form.is_valid():
        services.user_home_postcode_set(
            by=Actor.from_request(request, user=user), home_postcode=form.cleaned_data["home_postcode"]
        )
        messages.success(request, "Your details have been saved")
        return redirect("accounts:your_details")
    return render(request, "accounts/your_details.html", {"form": form})


@require_POST
def session_keep_alive(request: HttpRequest) -> HttpResponse:
    """The "stay signed in" button: the request itself counts as activity."""
    if request.headers.get("Accept", "").startswith("application/json"):
        return HttpResponse(status=204)
    return redirect(_safe_next(request))


# --- User management for local authority user admins -------------------------------------


def _user_admin(request: HttpRequest) -> User:
    """The signed-in user, who must be a local authority user admin; others get 404, as if
    the pages did not exist."""
    user = _signed_in_user(request)
    if not local_authorities_for_role(user=user, role=Role.LA_USER_ADMIN).exists():
        raise Http404
    return user


def _managed_user(request: HttpRequest, user_id: int) -> tuple[User, User]:
    admin = _user_admin(request)
    user = user_managed_by(admin=admin, user_id=user_id)
    if user is None:
        raise Http404
    return admin, user


@never_cache
def user_list(request: HttpRequest) -> HttpResponse:
    admin = _user_admin(request)
    rows = [
        {
            "user": user,
            "due_on": recertification_due_on(user=user),
            "due": user.is_active and recertification_is_due(user=user),
        }
        for user in users_managed_by(admin=admin)
    ]
    due = [row for row in rows if row["due"]]
    return render(request, "accounts/user_list.html", {"rows": rows, "due": due})


@never_cache
def user_invite(request: HttpRequest) -> HttpResponse:
    admin = _user_admin(request)
    organisations = Organisation.objects.filter(
        local_authority__in=local_authorities_for_role(user=admin, role=Role.LA_USER_ADMIN)
    ).select_related("local_authority")
    form = InviteForm(request.POST or None, organisations=organisations, roles=list(ROLES_GRANTABLE_BY_USER_ADMIN))
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_invite(
                by=Actor.from_request(request, user=admin),
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                organisation=form.cleaned_data["organisation"],
                roles=form.chosen_roles(),
                job_title=form.cleaned_data["job_title"],
                phone=form.cleaned_data["phone"],
                training_completed_on=form.cleaned_data["training_completed_on"],
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Invitation sent to {user.email}. The link works once, for 72 hours.")
            return redirect("accounts:user_detail", user_id=user.pk)
    return render(request, "accounts/user_invite.html", {"form": form})


@never_cache
def invitation_list(request: HttpRequest) -> HttpResponse:
    """The admin's pending invitations with their expiry, each with a resend button."""
    admin = _user_admin(request)
    now = timezone.now()
    rows = [
        {
            "invitation": invitation,
            "expired": not invitation.is_usable(now=now),
            "may_resend": user_admin_may_change(admin=admin, user=invitation.user),
        }
        for invitation in invitations_pending(admin=admin)
    ]
    context = {"rows": rows, "invitation_hours": settings.ACCOUNTS_INVITATION_HOURS}
    return render(request, "accounts/invitation_list.html", context)


@require_POST
def invitation_resend(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """A new link in place of a pending one; the old link stops working."""
    admin = _user_admin(request)
    invitation = invitation_pending_for(admin=admin, invitation_id=invitation_id)
    if invitation is None:
        raise Http404
    try:
        services.invitation_resend(by=Actor.from_request(request, user=admin), invitation=invitation)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        hours = settings.ACCOUNTS_INVITATION_HOURS
        messages.success(
            request,
            f"A new link has been sent to {invitation.user.email}. The old link no longer works; "
            f"the new one works once, for {hours} hours.",
        )
    return redirect("accounts:invitation_list")


@never_cache
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    admin, user = _managed_user(request, user_id)
    grantable = roles_grantable(admin=admin, user=user)
    held = set(user.roles)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "subject": user,
            "is_self": admin.pk == user.pk,
            "reserved": user_holds_role_beyond_user_admin(user=user),
            "read_only": not user_admin_may_change(admin=admin, user=user),
            "roles_to_grant": [role for role in grantable if role not in held],
            "roles_to_revoke": [role for role in grantable if role in held],
            "other_roles": [role for role in user.roles if role not in grantable],
            "due_on": recertification_due_on(user=user),
            "due": recertification_is_due(user=user),
            "locked_out": user_is_locked_out(user=user),
            "has_two_factor": user_has_two_factor(user=user),
            "invitation": user.invitations.first(),
            "training_form": TrainingForm(prefix="training"),
            "expiry_form": ExpiryForm(prefix="expiry"),
        },
    )


def _back_to_user(request: HttpRequest, user: User, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("accounts:user_detail", user_id=user.pk)


@require_POST
def user_role_change(request: HttpRequest, user_id: int, change: str) -> HttpResponse:
    admin, user = _managed_user(request, user_id)
    form = RoleForm(request.POST, roles=roles_grantable(admin=admin, user=user))
    if not form.is_valid():
        # Also the answer to a user admin trying to change their own roles.
        raise PermissionDenied(form.errors["role"][0])
    role = Role(form.cleaned_data["role"])
    if change == "grant":
        services.user_role_grant(by=Actor.from_request(request, user=admin), user=user, role=role)
        return _back_to_user(request, user, f"{role.label} role given to {user.full_name}")
    services.user_role_revoke(by=Actor.from_request(request, user=admin), user=user, role=role)
    return _back_to_user(request, user, f"{role.label} role taken from {user.full_name}")


@never_cache
def user_training(request: HttpRequest, user_id: int) -> HttpResponse:
    admin, user = _managed_user(request, user_id)
    form = TrainingForm(request.POST or None, prefix="training")
    if request.method == "POST" and form.is_valid():
        try:
            services.user_training_record(
                by=Actor.from_request(request, user=admin), user=user, completed_on=form.cleaned_data["date"]
            )
        except ValidationError as error:
            form.add_error("date", error.messages)
        else:
            return _back_to_user(request, user, f"Training recorded for {user.full_name}")
    return render(request, "accounts/user_date.html", {"subject": user, "form": form, "action": "training"})


@never_cache
def user_expiry(request: HttpRequest, user_id: int) -> HttpResponse:
    admin, user = _managed_user(request, user_id)
    form = ExpiryForm(request.POST or None, prefix="expiry")
    if request.method == "POST" and form.is_valid():
        services.user_expiry_set(
            by=Actor.from_request(request, user=admin), user=user, expires_on=form.cleaned_data["date"]
        )
        return _back_to_user(request, user, f"Access expiry date saved for {user.full_name}")
    return render(request, "accounts/user_date.html", {"subject": user, "form": form, "action": "expiry"})


# The simple account actions: each is a confirmation page (GET) and a POST that calls one
# service. Their wording lives with them.
USER_ACTIONS: dict[str, dict[str, Any]] = {
    "deactivate": {
        "service": services.user_deactivate,
        "title": "Deactivate this account",
        "explain": "They are signed out everywhere at once and can no longer sign in.",
        "button": "Deactivate account",
        "done": "Account deactivated for {name}. They have been signed out everywhere.",
        "warning": True,
    },
    "recertify": {
        "service": services.user_recertify,
        "title": "Re-certify this account",
        "explain": "Confirm that this person still works with children at risk and still needs the register.",
        "button": "Re-certify",
        "done": "{name} is re-certified.",
        "warning": False,
    },
    "reset-two-factor": {
        "service": services.user_two_factor_reset,
        "title": "Reset two-factor authentication",
        "explain": (
            "Their authenticator app and backup codes stop working and they are signed out. At their next "
            "sign-in they set up a new authenticator. Check who is asking before you do this."
        ),
        "button": "Reset two-factor",
        "done": "Two-factor reset for {name}. They will set up a new authenticator when they next sign in.",
        "warning": True,
    },
    "unlock": {
        "service": services.user_unlock,
        "title": "Unlock this account",
        "explain": "The account was locked after 10 failed sign-in attempts. Check who is asking before you unlock it.",
        "button": "Unlock account",
        "done": "{name} can sign in again.",
        "warning": False,
    },
    "reinvite": {
        "service": None,
        "title": "Send a link to set a password",
        "explain": (
            "They get an email with a link to set a new password, for when they are new or have forgotten it. "
            "Any earlier link stops working. The new link works once, for 72 hours. Their two-factor app is kept."
        ),
        "button": "Send link",
        "done": "A link to set a password has been sent to {email}.",
        "warning": False,
    },
}


@never_cache
def user_action(request: HttpRequest, user_id: int, action: str) -> HttpResponse:
    admin, user = _managed_user(request, user_id)
    spec = USER_ACTIONS.get(action)
    if spec is None:
        raise Http404
    if admin.pk == user.pk:
        raise PermissionDenied("You cannot change your own account here: ask another user admin")
    if user_holds_role_beyond_user_admin(user=user):
        raise PermissionDenied("Only a system administrator can change this account")
    if request.method == "POST":
        try:
            if action == "reinvite":
                services.invitation_issue(by=Actor.from_request(request, user=admin), user=user)
            else:
                spec["service"](by=Actor.from_request(request, user=admin), user=user)
        except ValidationError as error:
            messages.error(request, error.messages[0])
            return redirect("accounts:user_detail", user_id=user.pk)
        return _back_to_user(request, user, spec["done"].format(name=user.full_name, email=user.email))
    return render(request, "accounts/user_action.html", {"subject": user, "spec": spec, "action": action})


# --- The email outbox, for the system administrator who operates the service -------------


# The newest given-up emails shown; the rest wait until these are dealt with.
OUTBOX_PAGE_SIZE = 200


def _system_administrator(request: HttpRequest) -> User:
    user = _signed_in_user(request)
    if not user.has_role(Role.SYSTEM_ADMINISTRATOR):
        raise PermissionDenied
    return user


@never_cache
def outbox_given_up(request: HttpRequest) -> HttpResponse:
    """Emails the outbox stopped trying to send, each with a button to send it again."""
    admin = _system_administrator(request)
    emails = outbound_emails_given_up(user=admin)
    context = {
        "emails": emails[:OUTBOX_PAGE_SIZE],
        "total": emails.count(),
        "page_size": OUTBOX_PAGE_SIZE,
        "max_attempts": settings.OUTBOX_MAX_ATTEMPTS,
    }
    return render(request, "accounts/outbox_given_up.html", context)


@require_POST
def outbox_send_again(request: HttpRequest, email_id: int) -> HttpResponse:
    admin = _system_administrator(request)
    email = outbound_emails_given_up(user=admin).filter(pk=email_id).first()
    if email is not None and services.outbound_email_requeue(by=Actor.from_request(request, user=admin), email=email):
        messages.success(request, f"The email to {email.to} is back in the queue and will be sent within a minute.")
    else:
        messages.info(request, "That email is no longer given up: it has been sent or put back in the queue already.")
    return redirect("accounts:outbox_given_up")
