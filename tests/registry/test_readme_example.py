"""The README's API examples work as written against the demo data (issue 14 item 14):
the search, through a signed-in two-factor-verified session's cookies with its CSRF token,
finds the demo child it names; the case-management account command prints a token that
writes the record in the curl example. People have no tokens (issue 15, finding 2)."""

import datetime
import io
import re
import shlex
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import User
from registry.children.demo import seed_demo
from registry.models import Child

pytestmark = pytest.mark.django_db
README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_the_readme_search_example_through_a_verified_session_finds_the_named_demo_child(client):
    seed_demo(children=10, today=datetime.date(2026, 11, 23))
    assert "drf_create_token" not in README and "Token $TOKEN" not in README.split("case-management")[0]
    body = re.search(r"-d '(\{\"nhs_number\".*?\})'", README)
    assert body and '-b "sessionid=$SESSION; csrftoken=$CSRF" -H "X-CSRFToken: $CSRF"' in README
    client.force_login(User.objects.get(email="practitioner@demo.test"))  # password and code
    csrf = "c" * 32
    api = APIClient(enforce_csrf_checks=True)
    api.cookies[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
    api.cookies[settings.CSRF_COOKIE_NAME] = csrf
    refused = api.post("/api/v1/search/", body.group(1), content_type="application/json")
    assert refused.status_code == 403  # without the CSRF header, as a cross-site page would send it
    response = api.post("/api/v1/search/", body.group(1), content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert f"{result['given_names']} {result['family_name']}" == "Gail Ford"
    assert "Gail Ford (`DEMO-000004`, Westminster)" in README


def test_the_readme_case_management_token_command_and_curl_example_write_the_record():
    seed_demo(children=10, today=datetime.date(2026, 11, 23))
    command = re.search(r"TOKEN=\$\(\.venv/bin/python manage\.py (create_cms_account .*?) \| tail -n 1\)", README)
    put = re.search(r"curl -s -X PUT http://127\.0\.0\.1:8000(/api/v1/cms/\S+) .*?-d '(\{.*?\})'", README, re.S)
    assert command and put
    name, *arguments = shlex.split(command.group(1))
    out = io.StringIO()
    call_command(name, *arguments, stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.put(put.group(1), put.group(2), content_type="application/json", HTTP_IDEMPOTENCY_KEY="readme-1")
    assert response.status_code == 201, response.content
    child = Child.objects.get(register_id=response.json()["register_id"])
    assert (child.given_names, child.family_name, child.la_reference) == ("Kofi", "Adjo", "WCC-1")
