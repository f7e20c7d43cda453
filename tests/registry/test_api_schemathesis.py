"""Schemathesis drives every operation of the OpenAPI schema, as the WSGI app serves it (the
case-management API with a system account's token, the search with a practitioner's
session) and finds no server error (5xx): bad input is a 4xx
with a message. Examples are bounded so that the run stays well under a minute."""

import io
import os

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from signposting.wsgi import application
from tests.factories import LocalAuthorityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_transaction_open():
    """Django's test client does this for each request: schemathesis calls the WSGI app
    itself, and the end of a request would otherwise close the connection that holds the
    test's transaction (PostgreSQL then answers every later request with 503)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def practitioner_session(client):
    """Headers that carry a signed-in, two-factor-verified practitioner's session (the only
    way a person calls the search API) and a CSRF token, as a browser's script would."""
    from django.conf import settings as django_settings

    from accounts.roles import Role
    from tests.factories import UserFactory

    client.force_login(UserFactory(roles=[Role.PRACTITIONER]))
    csrf = "k" * 32
    cookies = {
        django_settings.SESSION_COOKIE_NAME: client.cookies[django_settings.SESSION_COOKIE_NAME].value,
        django_settings.CSRF_COOKIE_NAME: csrf,
    }
    return cookies, {"X-CSRFToken": csrf}


@pytest.fixture
def cms_token():
    authority = LocalAuthorityFactory(gss_code="E09000033", name="Westminster City Council")
    out = io.StringIO()
    call_command(
        "create_cms_account", local_authority=authority.gss_code, email="fuzz@example.gov.uk", name="Fuzz", stdout=out
    )
    return out.getvalue().strip().splitlines()[-1]


def _served_schema() -> dict:
    """The schema exactly as /api/v1/schema/ builds it. Built here, at collection, because
    the endpoint needs a signed-in caller and collection has no database; the test below
    checks that the endpoint serves the same operations."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


SERVED = _served_schema()
# Schemathesis's coverage phase (every boundary and negative value of every field, ~30 s of
# CPU) is left to a deeper run: SCHEMATHESIS_COVERAGE=1. Fuzzing runs every time.
CONFIG = schemathesis.Config.from_dict(
    {"phases": {"coverage": {"enabled": os.environ.get("SCHEMATHESIS_COVERAGE") == "1"}}}
)
schema = schemathesis.openapi.from_dict(SERVED, config=CONFIG).include(path_regex="^/api/v1/cms/")
schema.app = application
# The search is fuzzed as a trained practitioner would call it: its refusals, invalid
# criteria (NUL bytes included) and searches are all audited, and none may end in a 5xx.
search_schema = schemathesis.openapi.from_dict(SERVED, config=CONFIG).include(path_regex="^/api/v1/search/")
search_schema.app = application


def test_the_fuzzed_schema_is_the_one_served(client):
    from accounts.roles import Role
    from tests.factories import UserFactory

    client.force_login(UserFactory(roles=[Role.PRACTITIONER]))
    served = client.get("/api/v1/schema/?format=json")
    assert served.status_code == 200
    assert set(served.json()["paths"]) == set(SERVED["paths"])
    assert any(path.startswith("/api/v1/cms/") for path in SERVED["paths"])


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_operation_answers_with_a_server_error(case, cms_token):
    case.call_and_validate(headers={"Authorization": f"Token {cms_token}"}, checks=[not_a_server_error])


@search_schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_search_never_answers_with_a_server_error(case, practitioner_session):
    cookies, headers = practitioner_session
    # The WSGI client sends its own cookie jar: the session goes in the case's cookies.
    case.cookies = {**(case.cookies or {}), **cookies}
    response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
    # Signed in and verified: the fuzzed search reaches the view (no 401/403 from the session).
    assert response.status_code not in (401, 403), response.text
