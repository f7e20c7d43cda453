"""Issue 14 item 14: the README's API example works as written against the demo data: the
token command prints a token, and the NHS number finds the demo child it names."""

import datetime
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from registry.children.demo import seed_demo

pytestmark = pytest.mark.django_db
README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_the_readme_token_command_and_curl_example_find_the_named_demo_child():
    seed_demo(children=10, today=datetime.date(2026, 11, 23))
    command = re.search(r"manage\.py (drf_create_token) (\S+) \|", README)
    body = re.search(r"-d '(\{\"nhs_number\".*?\})'", README)
    assert command and body
    out = io.StringIO()
    call_command(command.group(1), command.group(2), stdout=out)
    token = out.getvalue().split()[2]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.post("/api/v1/search/", body.group(1), content_type="application/json")
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert f"{result['given_names']} {result['family_name']}" == "Gail Ford"
    assert "Gail Ford (`DEMO-000004`, Westminster)" in README
