import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.roles import Role
from audit.models import AuditEvent
from tests.accounts.two_factor import authenticator_for, current_code
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"


def all_paths(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from all_paths(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and "<" not in route and "^" not in route:
            yield "/" + route


# Published for anyone to read before signing in (signposting/info_pages.py).
PUBLIC_PAGES = {"/sign-in/", "/accessibility/", "/privacy/", "/cookies/"}


def test_every_page_except_sign_in_and_the_published_pages_needs_a_login(client):
    paths = [path for path in all_paths() if not path.startswith("/django-admin/")]
    assert "/" in paths and set(paths) >= PUBLIC_PAGES
    for path in paths:
        if path.startswith("/health/"):
            continue  # load-balancer probes, public by design (docs/operations.md)
        response = client.get(path)
        if path in PUBLIC_PAGES:
            assert response.status_code == 200, path
        elif path.startswith("/api/"):
            # DRF authenticates API calls itself (session or token) and answers 401/403.
            assert response.status_code in (401, 403), path
        else:
            assert response.status_code in (302, 405), path
            if response.status_code == 302:
                assert response["Location"].startswith("/sign-in/"), path


def test_signing_in_takes_the_user_home_and_is_audited(client, westminster):
    user = UserFactory(email="sw@example.gov.uk", organisation__local_authority=westminster, roles=[Role.PRACTITIONER])
    device = authenticator_for(user)
    response = client.post("/sign-in/", {"username": "SW@example.gov.uk", "password": PASSWORD}, follow=True)
    assert "Enter your security code" in response.content.decode()
    response = client.post(response.request["PATH_INFO"], {"code": current_code(device), "next": "/"}, follow=True)
    assert response.status_code == 200
    assert user.full_name in response.content.decode()
    assert "Your training is recorded" in response.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_SUCCEEDED)
    assert event.actor == user
    assert event.request_id
    assert event.ip_address == "127.0.0.1"


def test_a_wrong_password_shows_the_error_summary_and_is_audited(client):
    user = UserFactory(email="sw@example.gov.uk")
    response = client.post("/sign-in/", {"username": "sw@example.gov.uk", "password": "wrong"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Enter a correct email address and password" in page
    assert "<title>Error:" in page
    assert AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED).subject_user_id == user.pk


def test_empty_fields_are_named_next_to_each_field(client):
    page = client.post("/sign-in/", {"username": "", "password": ""}).content.decode()
    assert "Enter your email address" in page
    assert "Enter your password" in page
    assert 'href="#id_username"' in page and 'href="#id_password"' in page


def test_an_untrained_practitioner_is_told_they_cannot_search_yet(client):
    user = UserFactory(training_completed_on=None, roles=[Role.PRACTITIONER])
    client.force_login(user)
    assert "You cannot search until your training is recorded" in client.get("/").content.decode()


def test_sign_out_is_a_post_and_ends_the_session(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/sign-out/").status_code == 405
    assert client.post("/sign-out/").status_code == 302
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGGED_OUT, actor=user).exists()


def test_pages_carry_the_security_headers(client):
    response = client.get("/sign-in/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'nonce-" in policy
    assert response["X-Request-ID"]


@pytest.mark.parametrize(
    ("role", "link", "label"),
    [
        (Role.PRACTITIONER, "/search/", "Search"),
        (Role.REGISTER_MANAGER, "/manage/children/", "Your register"),
        (Role.LA_USER_ADMIN, "/users/", "Users"),
        (Role.FEED_OPERATOR, "/feeds/", "Feeds"),
        (Role.AUDITOR, "/audit/", "Audit"),
    ],
)
def test_the_menu_offers_each_role_its_own_pages_and_no_others(client, westminster, role, link, label):
    client.force_login(UserFactory(organisation__local_authority=westminster, roles=[role]))
    menu = client.get("/").content.decode().split('id="navigation"')[1].split("</ul>")[0]
    assert f'href="{link}"' in menu and label in menu
    others = {"/search/", "/manage/children/", "/users/", "/feeds/", "/audit/"} - {link}
    assert not [other for other in others if f'href="{other}"' in menu]
