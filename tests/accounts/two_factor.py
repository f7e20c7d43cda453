"""Second-factor helpers for tests that sign in through the real pages."""

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


def authenticator_for(user: User) -> TOTPDevice:
    """A confirmed authenticator app for `user`, as if they had set one up."""
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    """What the user's app shows now: computed from the device's key, as the app would."""
    totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{totp.token():0{device.digits}d}"


PASSWORD = "correct-horse-battery-staple"


def sign_in_through_the_pages(client, user: User, device: TOTPDevice, *, password: str = PASSWORD):
    """Password, then the code: the real sign-in, as a person does it. Returns the response
    to the code step (not followed)."""
    response = client.post("/sign-in/", {"username": user.email, "password": password})
    assert response.status_code == 302, "the password step failed"
    return client.post("/sign-in/code/", {"code": current_code(device), "next": "/"})
