import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.roles import Role
from accounts.selectors import local_authorities_for_role

pytestmark = pytest.mark.django_db


def test_create_user_bootstraps_a_scoped_administrator(monkeypatch, westminster, capsys):
    monkeypatch.setenv("NEW_PASSWORD", "a-long-and-uncommon-passphrase")
    call_command(
        "create_user",
        "--email=Admin@Westminster.gov.uk",
        "--full-name=Pat Admin",
        "--role=la_user_admin",
        "--role=register_manager",
        "--local-authority=e09000033",
        "--password-from-env=NEW_PASSWORD",
    )
    user = User.objects.get(email="admin@westminster.gov.uk")
    assert user.check_password("a-long-and-uncommon-passphrase")
    assert list(local_authorities_for_role(user=user, role=Role.LA_USER_ADMIN)) == [westminster]
    assert "Local authority user admin" in capsys.readouterr().out


def test_create_user_refuses_a_weak_password_and_an_unknown_authority(monkeypatch, westminster):
    monkeypatch.setenv("NEW_PASSWORD", "password")
    with pytest.raises(CommandError, match=r"too short|too common"):
        call_command("create_user", "--email=a@b.gov.uk", "--full-name=A", "--role=practitioner",
                     "--password-from-env=NEW_PASSWORD")  # fmt: skip
    monkeypatch.setenv("NEW_PASSWORD", "a-long-and-uncommon-passphrase")
    with pytest.raises(CommandError, match="No local authority"):
        call_command("create_user", "--email=a@b.gov.uk", "--full-name=A", "--role=register_manager",
                     "--local-authority=E09999999", "--password-from-env=NEW_PASSWORD")  # fmt: skip
    assert not User.objects.exists()
