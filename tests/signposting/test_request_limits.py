"""Request bodies are bounded before they are read, and oversized or malformed API bodies
answer 4xx with a message (issue 15, items 16 and 17)."""

import io
import json

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.roles import Role
from registry.models import BulkUpload
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, *args, **kwargs):
        raise AssertionError("the request body was read")

    readline = read


@pytest.fixture
def api():
    client = APIClient()
    token = Token.objects.create(user=UserFactory(roles=[Role.PRACTITIONER]))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_deeply_nested_json_on_the_search_api_answers_400_with_a_message(api):
    body = "[" * 100_000 + "]" * 100_000
    response = api.post("/api/v1/search/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_a_body_over_the_limit_on_the_search_api_answers_413_with_a_message(api):
    body = json.dumps({"reason": "assessment", "family_name": "x" * 3_000_000})
    response = api.post("/api/v1/search/", body, content_type="application/json")
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_an_api_body_too_big_found_while_reading_answers_413(api, monkeypatch):
    # The declared length passes the middleware (a client may send less than it declares,
    # or none); Django's own limit, raised while DRF reads, still answers 413, not 503.
    monkeypatch.setattr("signposting.middleware.request_body_limit_for", lambda request: 10**9)
    body = json.dumps({"reason": "assessment", "family_name": "x" * 3_000_000})
    response = api.post("/api/v1/search/", body, content_type="application/json")
    assert response.status_code == 413


def test_an_upload_over_the_limit_is_refused_from_its_length_before_the_body_is_read(client, westminster, settings):
    settings.BULK_UPLOAD_MAX_BYTES = 1024 * 1024
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    client.force_login(manager)
    response = client.post(
        reverse("registry:upload-new"),
        data=b"",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(2 * 1024 * 1024),
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "The file or form is too large" in page and "1 MB at most" in page
    assert not BulkUpload.objects.exists()


def test_an_upload_within_its_own_limit_is_not_held_to_the_form_limit(client, westminster, settings):
    # The bulk upload's limit (BULK_UPLOAD_MAX_BYTES) is larger than an ordinary form's.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    manager = UserFactory(organisation__local_authority=westminster, roles=[Role.REGISTER_MANAGER])
    client.force_login(manager)
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = b"not,the,import,format\n" + b"x" * 5000
    response = client.post(reverse("registry:upload-new"), {"file": SimpleUploadedFile("a.csv", content)})
    assert response.status_code == 200  # the form answers (about the columns), not a 413
    assert "must name the import columns" in response.content.decode()


def test_a_form_post_over_the_form_limit_is_refused_before_it_is_read(client):
    client.force_login(UserFactory(roles=[Role.PRACTITIONER]))
    response = client.post(
        "/search/",
        data=b"",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(3 * 1024 * 1024),
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 413
