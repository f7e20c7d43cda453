"""The demo accounts' second factor: one fixed, published TOTP key, so that a newcomer who
runs `make run` can sign in. Only ever given to @demo.test accounts."""

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

# Base32 JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP, the well-known example key, as hex. It is public:
# any demo account is as open as its published password.
DEMO_TOTP_KEY_HEX = "48656c6c6f21deadbeef48656c6c6f21deadbeef"
DEMO_TOTP_KEY_BASE32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DEMO_EMAIL_DOMAIN = "@demo.test"


def demo_authenticator_ensure(*, user: User) -> TOTPDevice:
    """Give a demo user the demo authenticator (once)."""
    if not user.email.endswith(DEMO_EMAIL_DOMAIN):
        raise ValueError("Only demo accounts get the published demo key")
    device = TOTPDevice.objects.filter(user=user, key=DEMO_TOTP_KEY_HEX).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Demo authenticator", key=DEMO_TOTP_KEY_HEX, confirmed=True)
    return device


def demo_code(*, email: str) -> str | None:
    """The code a demo user's authenticator shows now, or None for any other account."""
    if not email.lower().endswith(DEMO_EMAIL_DOMAIN):
        return None
    device = TOTPDevice.objects.filter(user__email=email.lower(), key=DEMO_TOTP_KEY_HEX, confirmed=True).first()
    if device is None:
        return None
    totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{totp.token():0{device.digits}d}"
